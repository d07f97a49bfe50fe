//! Adjustments on four eyes over HTTP: asked for by a manager on one account or on every
//! account a search finds, posted only when a second person approves, never by the one who
//! asked; refused and withdrawn requests post nothing; a form or a decision sent twice acts
//! once. Against the real server on loopback, with the demo data.

use crate::support;

use app::domain::UnitId;
use reqwest::StatusCode;
use serde_json::Value;
use server::{demo, on_db};
use support::{OTHER_ADMIN, TestApp, Visitor, spawn_app};

async fn balance(app: &TestApp, account: i64) -> i64 {
    app.count(&format!(
        "SELECT balance_minor FROM accounts WHERE id = {account}"
    ))
    .await
}

async fn decide(
    app: &TestApp,
    who: &Visitor,
    site: &str,
    request: &str,
    decision: &str,
) -> support::Answer {
    app.call(
        who,
        "decide_adjustment",
        &[("site", site), ("request", request), ("decision", decision)],
    )
    .await
}

fn id(answer: &support::Answer) -> String {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.json().as_i64().expect("a request id").to_string()
}

#[tokio::test]
async fn an_adjustment_is_posted_only_when_a_second_person_approves_it() {
    let app = spawn_app().await;
    let site = app.site_id(demo::SITE).await.to_string();
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let admin = app.sign_in(demo::ADMIN, demo::PASSWORD).await;
    let account = app.wallet("A-105", "electricity").await;
    let before = balance(&app, account).await;
    let form = [
        ("account", account.to_string()),
        ("amount", "-20".to_owned()),
        ("reason", "meter misread in May".to_owned()),
        ("nonce", "adjust-form-0001".to_owned()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let request = id(&app.call(&manager, "adjust", &form).await);
    assert_eq!(balance(&app, account).await, before, "asking posts nothing");
    // The same form again asks nothing new.
    assert_eq!(id(&app.call(&manager, "adjust", &form).await), request);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM adjustment_requests").await,
        1
    );
    // Another amount or reason from the same page (its form drawn once) is a request of its
    // own, not the first one's number for something never asked; then withdrawn.
    for (amount, reason) in [
        ("-25", "meter misread in May"),
        ("-20", "meter misread in June"),
    ] {
        let other = [
            ("account", account.to_string()),
            ("amount", amount.to_owned()),
            ("reason", reason.to_owned()),
            ("nonce", "adjust-form-0001".to_owned()),
        ];
        let other: Vec<(&str, &str)> = other.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let asked = id(&app.call(&manager, "adjust", &other).await);
        assert_ne!(asked, request);
        let withdrawn = decide(&app, &manager, &site, &asked, "refuse").await;
        assert_eq!(withdrawn.json(), "withdrawn", "{}", withdrawn.body);
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM adjustment_requests WHERE state = 'pending'")
            .await,
        1
    );

    // The one who asked may not approve it.
    let own = decide(&app, &manager, &site, &request, "approve").await;
    assert_eq!(own.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", own.body);
    assert!(own.body.contains("second person"), "{}", own.body);
    assert_eq!(balance(&app, account).await, before);

    let book = app
        .call(&admin, "adjustment_book", &[("site", &site)])
        .await
        .json();
    assert_eq!(book["waiting"].as_array().unwrap().len(), 1);
    assert_eq!(book["waiting"][0]["requested_by"], "Moses Manager");
    assert_eq!(book["waiting"][0]["mine"], false);

    let approved = decide(&app, &admin, &site, &request, "approve").await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    assert_eq!(approved.json(), "posted");
    assert_eq!(balance(&app, account).await, before - 2000);
    // Approving again is an answer, not a second posting; refusing now is too late.
    assert_eq!(
        decide(&app, &admin, &site, &request, "approve")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(balance(&app, account).await, before - 2000);
    let late = decide(&app, &admin, &site, &request, "refuse").await;
    assert_eq!(
        late.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        late.body
    );

    let (_, differences) = server::ledger::reconcile(&app.db).await.unwrap();
    assert!(differences.is_empty(), "{differences:?}");
    // Three asked (two withdrawn), one approved and posted.
    for (action, times) in [
        ("adjustment_requested", 3),
        ("adjustment_approved", 1),
        ("adjustment", 1),
    ] {
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM audit_log WHERE action = '{action}'"
            ))
            .await,
            times,
            "{action}"
        );
    }
}

#[tokio::test]
async fn every_account_a_search_finds_is_adjusted_in_one_request() {
    let app = spawn_app().await;
    let site = app.site_id(demo::SITE).await.to_string();
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let admin = app.sign_in(demo::ADMIN, demo::PASSWORD).await;
    let water: Vec<i64> = on_db!(&app.db, pool => {
        sqlx::query_scalar(
            "SELECT w.account_id FROM wallets w JOIN accounts a ON a.id = w.account_id JOIN units u ON u.id = w.unit_id \
             JOIN buildings b ON b.id = u.building_id WHERE b.name = 'Block B' AND a.utility = 'water' \
             AND w.closed_at IS NULL ORDER BY w.account_id",
        )
        .fetch_all(pool)
        .await
    })
    .unwrap();
    assert!(water.len() > 10);
    let mut before = Vec::new();
    for account in &water {
        before.push(balance(&app, *account).await);
    }
    let expected = water.len().to_string();
    let ask = |expected: String, nonce: &'static str| {
        let (app, manager, site) = (&app, &manager, site.clone());
        async move {
            app.call(
                manager,
                "adjust_found_accounts",
                &[
                    ("site", site.as_str()),
                    ("building", "Block B"),
                    ("utility", "water"),
                    ("amount", "100"),
                    ("reason", "water cut for two days in March"),
                    ("nonce", nonce),
                    ("expected", expected.as_str()),
                ],
            )
            .await
        }
    };
    // A count that is not what the search finds now asks nothing.
    let stale = ask("3".to_owned(), "batch-form-0001").await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM adjustment_requests").await,
        0
    );
    let request = id(&ask(expected.clone(), "batch-form-0002").await);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM adjustment_request_accounts WHERE request_id = {request}"
        ))
        .await,
        water.len() as i64
    );

    // One resident moves out while the request waits: their account is left out.
    let (unit, person): (i64, i64) = on_db!(&app.db, pool => {
        sqlx::query_as(
            "SELECT o.unit_id, o.user_id FROM wallets w JOIN occupancies o ON o.id = w.occupancy_id WHERE w.account_id = $1",
        )
        .bind(water[0])
        .fetch_one(pool)
        .await
    })
    .unwrap();
    app.engine
        .move_out(UnitId(unit), person, Vec::new(), None, None)
        .await
        .unwrap();

    let approved = decide(&app, &admin, &site, &request, "approve").await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    for (account, was) in water.iter().zip(&before).skip(1) {
        assert_eq!(
            balance(&app, *account).await,
            was + 10_000,
            "account {account}"
        );
    }
    let book = app
        .call(&manager, "adjustment_book", &[("site", &site)])
        .await
        .json();
    let decided: &Value = &book["decided"][0];
    assert_eq!(decided["state"], "posted");
    assert_eq!(decided["decided_by"], "Amina Admin");
    let posted = decided["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["posted"] == true)
        .count();
    assert_eq!(posted, water.len() - 1);
    let (_, differences) = server::ledger::reconcile(&app.db).await.unwrap();
    assert!(differences.is_empty(), "{differences:?}");
}

#[tokio::test]
async fn refused_and_withdrawn_requests_post_nothing() {
    let app = spawn_app().await;
    let site = app.site_id(demo::SITE).await.to_string();
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let admin = app.sign_in(demo::ADMIN, demo::PASSWORD).await;
    let account = app.wallet("B-203", "gas").await;
    let before = balance(&app, account).await;
    let ask = |nonce: &'static str| {
        let (app, manager, account) = (&app, &manager, account.to_string());
        async move {
            id(&app
                .call(
                    manager,
                    "adjust",
                    &[
                        ("account", account.as_str()),
                        ("amount", "500"),
                        ("reason", "goodwill"),
                        ("nonce", nonce),
                    ],
                )
                .await)
        }
    };
    let withdrawn = ask("withdraw-form-01").await;
    let answer = decide(&app, &manager, &site, &withdrawn, "refuse").await;
    assert_eq!(answer.json(), "withdrawn");
    let refused = ask("refuse-form-0001").await;
    let answer = decide(&app, &admin, &site, &refused, "refuse").await;
    assert_eq!(answer.json(), "refused");
    // Decided is decided: approving either now changes nothing.
    for request in [&withdrawn, &refused] {
        let late = decide(&app, &admin, &site, request, "approve").await;
        assert_eq!(
            late.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            late.body
        );
    }
    assert_eq!(balance(&app, account).await, before);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM ledger_transactions WHERE kind = 'adjustment'")
            .await,
        0
    );
}

#[tokio::test]
async fn only_the_site_s_managers_and_admins_ask_and_decide() {
    let app = spawn_app().await;
    let site = app.site_id(demo::SITE).await.to_string();
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let account = app.wallet("A-101", "water").await.to_string();
    let request = id(&app
        .call(
            &manager,
            "adjust",
            &[
                ("account", account.as_str()),
                ("amount", "5"),
                ("reason", "rounding"),
                ("nonce", "access-form-0001"),
            ],
        )
        .await);
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let other = app.sign_in(OTHER_ADMIN, demo::PASSWORD).await;
    for who in [&resident, &other, &Visitor::default()] {
        for (function, form) in [
            ("adjustment_book", vec![("site", site.as_str())]),
            (
                "decide_adjustment",
                vec![
                    ("site", site.as_str()),
                    ("request", request.as_str()),
                    ("decision", "approve"),
                ],
            ),
            (
                "adjust_found_accounts",
                vec![
                    ("site", site.as_str()),
                    ("amount", "5"),
                    ("reason", "x"),
                    ("nonce", "access-form-0002"),
                    ("expected", "216"),
                ],
            ),
        ] {
            let answer = app.call(who, function, &form).await;
            assert!(
                matches!(
                    answer.status,
                    StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED
                ),
                "{function}: {} {}",
                answer.status,
                answer.body
            );
        }
    }
    // A request of another site is not found through this one.
    let elsewhere = decide(&app, &other, "999999", &request, "approve").await;
    assert_eq!(elsewhere.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM adjustment_requests WHERE state = 'pending'")
            .await,
        1
    );
}

/// The open water accounts of Block B, as a search of the accounts table finds them.
async fn block_b_water(app: &TestApp) -> Vec<i64> {
    on_db!(&app.db, pool => {
        sqlx::query_scalar(
            "SELECT w.account_id FROM wallets w JOIN accounts a ON a.id = w.account_id JOIN units u ON u.id = w.unit_id \
             JOIN buildings b ON b.id = u.building_id WHERE b.name = 'Block B' AND a.utility = 'water' \
             AND w.closed_at IS NULL ORDER BY w.account_id",
        )
        .fetch_all(pool)
        .await
    })
    .unwrap()
}

/// What a day's roll-up says `account` used through its meter, written directly: a day long
/// past, so nothing else the demo rated counts.
async fn used_on(app: &TestApp, account: i64, day: &str, micro: i64) {
    let day = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap();
    on_db!(&app.db, pool => {
        sqlx::query(
            "INSERT INTO usage_daily (wallet_account_id, meter_id, day, quantity_micro, cost_micro, readings) \
             SELECT account_id, meter_id, $2, $3, 0, 1 FROM wallets WHERE account_id = $1",
        )
        .bind(account)
        .bind(day)
        .bind(micro)
        .execute(pool)
        .await
        .map(|_| ())
    })
    .unwrap();
}

async fn shares_of(app: &TestApp, request: i64) -> Vec<(i64, i64)> {
    on_db!(&app.db, pool => {
        sqlx::query_as(
            "SELECT wallet_account_id, amount_minor FROM adjustment_request_accounts \
             WHERE request_id = $1 ORDER BY wallet_account_id",
        )
        .bind(request)
        .fetch_all(pool)
        .await
    })
    .unwrap()
}

#[tokio::test]
async fn a_common_charge_is_shared_to_the_cent_and_charged_on_approval() {
    let app = spawn_app().await;
    let site = app.site_id(demo::SITE).await.to_string();
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let admin = app.sign_in(demo::ADMIN, demo::PASSWORD).await;
    let water = block_b_water(&app).await;
    let found = water.len().to_string();
    let share = |fields: Vec<(&'static str, &'static str)>, nonce: &'static str| {
        let (app, manager, site, found) = (&app, &manager, site.clone(), found.clone());
        async move {
            let mut form = vec![
                ("site", site.as_str()),
                ("building", "Block B"),
                ("utility", "water"),
                ("reason", "water for the gardens, March"),
                ("nonce", nonce),
                ("expected", found.as_str()),
            ];
            form.extend(fields);
            app.call(manager, "share_found_accounts", &form).await
        }
    };

    // Equally: 100.01 across every account, the odd cent to the first.
    let equally = share(
        vec![("amount", "100.01"), ("rule", "equally")],
        "share-form-0001",
    )
    .await;
    assert_eq!(equally.status, StatusCode::OK, "{}", equally.body);
    let answer = equally.json();
    let request = answer["request"].as_i64().unwrap();
    assert_eq!(answer["shares"].as_array().unwrap().len(), water.len());
    let shares = shares_of(&app, request).await;
    assert_eq!(shares.len(), water.len());
    assert_eq!(shares.iter().map(|(_, s)| s).sum::<i64>(), -10_001);
    let (least, most) = (
        shares.iter().map(|(_, s)| *s).min().unwrap(),
        shares.iter().map(|(_, s)| *s).max().unwrap(),
    );
    assert!(most - least <= 1, "{shares:?}");
    // The same form again asks nothing new.
    let again = share(
        vec![("amount", "100.01"), ("rule", "equally")],
        "share-form-0001",
    )
    .await;
    assert_eq!(again.json()["request"].as_i64(), Some(request));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM adjustment_requests").await,
        1
    );

    // By use: two accounts used water over those days, three parts to one; the rest pay nothing.
    // Sent from the same page as the first (its form drawn once): another charge is another
    // request, not the first one's answer.
    used_on(&app, water[0], "2020-01-15", 3_000_000).await;
    used_on(&app, water[1], "2020-01-20", 1_000_000).await;
    // A third account's meter feeds the first two's (a shop's, say): the 10 m3 it measured
    // are theirs and weigh nothing.
    let linked = on_db!(&app.db, pool => {
        sqlx::query(
            "UPDATE meters SET master_meter_id = (SELECT meter_id FROM wallets WHERE account_id = $1) \
             WHERE id IN (SELECT meter_id FROM wallets WHERE account_id IN ($2, $3))",
        )
        .bind(water[2])
        .bind(water[0])
        .bind(water[1])
        .execute(pool)
        .await
        .map(|done| done.rows_affected())
    })
    .unwrap();
    assert_eq!(linked, 2);
    used_on(&app, water[2], "2020-01-18", 10_000_000).await;
    let by_use = [
        ("amount", "40"),
        ("rule", "by_use"),
        ("measure", "water"),
        ("from", "2020-01-01"),
        ("to", "2020-01-31"),
    ];
    let answer = share(by_use.to_vec(), "share-form-0001").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let answer = answer.json();
    assert_eq!(answer["left_out"].as_u64(), Some(water.len() as u64 - 2));
    assert_eq!(answer["shares"][0]["weight"], "3 m3");
    let by_use_request = answer["request"].as_i64().unwrap();
    assert_ne!(by_use_request, request);
    assert_eq!(
        shares_of(&app, by_use_request).await,
        vec![(water[0], -3_000), (water[1], -1_000)]
    );

    // Nothing used at all over the days asked, a charge of nothing, a rule that does not
    // read: refused, and nothing asked.
    for (fields, nonce, says) in [
        (
            vec![
                ("amount", "40"),
                ("rule", "by_use"),
                ("measure", "water"),
                ("from", "2019-01-01"),
                ("to", "2019-01-02"),
            ],
            "share-form-0003",
            "used any",
        ),
        (
            vec![("amount", "0"), ("rule", "equally")],
            "share-form-0004",
            "more than zero",
        ),
        (
            vec![("amount", "40"), ("rule", "by_area")],
            "share-form-0005",
            "not a way",
        ),
    ] {
        let refused = share(fields, nonce).await;
        assert!(
            refused.status.is_client_error(),
            "{says}: {}",
            refused.status
        );
        assert!(refused.body.contains(says), "{}", refused.body);
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM adjustment_requests").await,
        2
    );

    // Approved by a second person, each account is charged its own share, once.
    let before: Vec<i64> = {
        let mut before = Vec::new();
        for account in &water[..3] {
            before.push(balance(&app, *account).await);
        }
        before
    };
    let book = app
        .call(&admin, "adjustment_book", &[("site", &site)])
        .await
        .json();
    let waiting = book["waiting"].as_array().unwrap();
    let shown = waiting.iter().find(|r| r["id"] == by_use_request).unwrap();
    assert_eq!(shown["share_rule"], "by_use");
    assert_eq!(shown["accounts"].as_array().unwrap().len(), 2);
    let approved = decide(&app, &admin, &site, &by_use_request.to_string(), "approve").await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    assert_eq!(balance(&app, water[0]).await, before[0] - 3_000);
    assert_eq!(balance(&app, water[1]).await, before[1] - 1_000);
    assert_eq!(balance(&app, water[2]).await, before[2]);
    decide(&app, &admin, &site, &by_use_request.to_string(), "approve").await;
    assert_eq!(balance(&app, water[0]).await, before[0] - 3_000);
    let (_, differences) = server::ledger::reconcile(&app.db).await.unwrap();
    assert!(differences.is_empty(), "{differences:?}");

    // Nobody but the site's managers and admins shares a charge.
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let other = app.sign_in(OTHER_ADMIN, demo::PASSWORD).await;
    app.add_staff("operator@demo.example", "operator").await;
    let operator = app.sign_in("operator@demo.example", demo::PASSWORD).await;
    for who in [&resident, &other, &operator, &Visitor::default()] {
        let form = [
            ("site", site.as_str()),
            ("amount", "5"),
            ("reason", "x"),
            ("nonce", "share-form-0006"),
            ("expected", "1"),
        ];
        let answer = app.call(who, "share_found_accounts", &form).await;
        assert!(
            matches!(
                answer.status,
                StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED
            ),
            "{} {}",
            answer.status,
            answer.body
        );
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM adjustment_requests").await,
        2
    );
}
