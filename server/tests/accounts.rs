//! Prepaid accounts over HTTP: who sees which account, and money forms that are safe to send
//! twice. Against the real server on loopback, with the demo data.

use crate::support;

use app::domain::Minor;
use reqwest::StatusCode;
use server::{demo, engine::money::Source, on_db};
use support::{OTHER_ADMIN, TestApp, Visitor, spawn_app};

/// The account paying for a unit's meter of one utility.
async fn account_of(app: &TestApp, unit: &str, utility: &str) -> String {
    let id: i64 = on_db!(&app.db, pool => {
        sqlx::query_scalar(
            "SELECT w.account_id FROM wallets w JOIN meters m ON m.id = w.meter_id JOIN units u ON u.id = m.unit_id \
             WHERE u.name = $1 AND m.utility = $2 AND w.closed_at IS NULL",
        )
        .bind(unit)
        .bind(utility)
        .fetch_one(pool)
        .await
    })
    .unwrap();
    id.to_string()
}

#[tokio::test]
async fn residents_see_their_own_accounts_and_nobody_else_s() {
    let app = spawn_app().await;
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let mine = app.call(&resident, "my_accounts", &[]).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    let mine = mine.json();
    assert_eq!(mine.as_array().unwrap().len(), 3);
    assert!(
        mine.as_array()
            .unwrap()
            .iter()
            .all(|a| a["unit"] == "A-101")
    );

    let own = account_of(&app, "A-101", "electricity").await;
    let detail = app.call(&resident, "account", &[("account", &own)]).await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.body);
    assert_eq!(detail.json()["may_take_cash"], false);
    let neighbour = account_of(&app, "A-102", "electricity").await;
    assert_eq!(
        app.call(&resident, "account", &[("account", &neighbour)])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.call(&resident, "account", &[("account", "999999")])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let site = app.site_id(demo::SITE).await.to_string();
    assert_eq!(
        app.call(&resident, "site_accounts", &[("site", &site)])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

/// A balance on the resident's home (the card the account page shows too) is written for
/// people, its thousands grouped; the exact minor units stay in `data-balance` for scripts.
#[tokio::test]
async fn a_residents_balance_shows_its_thousands_grouped() {
    let app = spawn_app().await;
    let gas = app.wallet("A-101", "gas").await;
    let big = Source::Provider {
        provider: "sandbox".into(),
        reference: "grouped-balance-1".into(),
    };
    app.engine
        .top_up(gas, Minor(1_000_000), big, None)
        .await
        .unwrap();
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let mine = app.call(&resident, "my_accounts", &[]).await.json();
    let balance = mine
        .as_array()
        .unwrap()
        .iter()
        .find(|account| account["id"] == gas)
        .expect("the gas account")["balance"]
        .as_str()
        .unwrap()
        .to_owned();
    // Between 10,000 and 999,999.99 shillings after the top-up: one comma.
    let (whole, cents) = balance.split_once('.').unwrap();
    assert!((5..=6).contains(&whole.len()), "{balance}");
    let grouped = format!(
        "{},{}.{cents}",
        &whole[..whole.len() - 3],
        &whole[whole.len() - 3..]
    );

    let home = app.call(&resident, "live_home", &[]).await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    let home = home.json().as_str().unwrap().to_owned();
    assert!(
        home.contains(&format!(">{grouped}</span>")),
        "{grouped} in {home}"
    );
    assert!(!home.contains(&format!(">{balance}<")), "{home}");
}

#[tokio::test]
async fn managers_list_their_site_s_accounts_and_other_organisations_cannot() {
    let app = spawn_app().await;
    let site = app.site_id(demo::SITE).await.to_string();
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let list = app
        .call(&manager, "site_accounts", &[("site", &site)])
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert_eq!(list.json().as_array().unwrap().len(), 72 * 3);
    let other = app.sign_in(OTHER_ADMIN, demo::PASSWORD).await;
    assert_eq!(
        app.call(&other, "site_accounts", &[("site", &site)])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let account = account_of(&app, "A-101", "water").await;
    assert_eq!(
        app.call(&other, "account", &[("account", &account)])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn cash_at_the_desk_is_credited_once_however_often_the_form_is_sent() {
    let app = spawn_app().await;
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let account = account_of(&app, "B-203", "gas").await;
    let before = app
        .call(&manager, "account", &[("account", &account)])
        .await
        .json();
    let before_minor = before["account"]["balance_minor"].as_i64().unwrap();
    let nonce = before["form_nonce"].as_str().unwrap().to_owned();
    let form = [
        ("account", account.as_str()),
        ("amount", "1,250.50"),
        ("nonce", nonce.as_str()),
    ];
    let first = app.call(&manager, "cash_top_up", &form).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.json()["repeated"], false);
    assert!(first.json()["number"].as_str().unwrap().starts_with('R'));
    let again = app.call(&manager, "cash_top_up", &form).await;
    assert_eq!(again.json()["repeated"], true);
    assert_eq!(again.json()["number"], first.json()["number"]);
    // Other cash taken from the same page (its form drawn once) is a receipt of its own: the
    // first one's number for it would leave that cash unrecorded in the drawer.
    let more = app
        .call(
            &manager,
            "cash_top_up",
            &[
                ("account", account.as_str()),
                ("amount", "200"),
                ("nonce", nonce.as_str()),
            ],
        )
        .await;
    assert_eq!(more.status, StatusCode::OK, "{}", more.body);
    assert_eq!(more.json()["repeated"], false);
    assert_ne!(more.json()["number"], first.json()["number"]);
    let after = app
        .call(&manager, "account", &[("account", &account)])
        .await
        .json();
    assert_eq!(
        after["account"]["balance_minor"].as_i64().unwrap(),
        before_minor + 125_050 + 20_000
    );

    let bad = app
        .call(
            &manager,
            "cash_top_up",
            &[
                ("account", &account),
                ("amount", "12.345"),
                ("nonce", "another-form-1"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    let resident = app.sign_in("b203@demo.example", demo::PASSWORD).await;
    let forged = app
        .call(
            &resident,
            "cash_top_up",
            &[
                ("account", &account),
                ("amount", "100"),
                ("nonce", "resident-form-1"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(
        app.audit_actions()
            .await
            .contains(&"cash_top_up".to_owned())
    );
    let (_, differences) = server::ledger::reconcile(&app.db).await.unwrap();
    assert!(differences.is_empty());
}

#[tokio::test]
async fn adjustments_need_a_manager_and_a_reason() {
    let app = spawn_app().await;
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let account = account_of(&app, "A-105", "electricity").await;
    let nonce = "adjust-form-0001";
    let no_reason = app
        .call(
            &manager,
            "adjust",
            &[
                ("account", &account),
                ("amount", "-20"),
                ("reason", " "),
                ("nonce", nonce),
            ],
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    let ok = app
        .call(
            &manager,
            "adjust",
            &[
                ("account", &account),
                ("amount", "-20"),
                ("reason", "meter misread in May"),
                ("nonce", nonce),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let resident = app.sign_in("a105@demo.example", demo::PASSWORD).await;
    let forged = app
        .call(
            &resident,
            "adjust",
            &[
                ("account", &account),
                ("amount", "500"),
                ("reason", "gift"),
                ("nonce", "resident-form-2"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_resident_takes_emergency_credit_once_when_credit_runs_out() {
    let app = spawn_app().await;
    // The demo leaves every ninth account without an opening top-up.
    let empty: (i64, String) = on_db!(&app.db, pool => {
        sqlx::query_as(
            "SELECT w.account_id, u.email FROM wallets w JOIN accounts a ON a.id = w.account_id \
             JOIN occupancies o ON o.id = w.occupancy_id JOIN users u ON u.id = o.user_id \
             WHERE a.balance_minor = 0 AND w.unit_id IS NOT NULL ORDER BY w.account_id LIMIT 1",
        )
        .fetch_one(pool)
        .await
    })
    .unwrap();
    let (account, email) = (empty.0.to_string(), empty.1);
    let resident = app.sign_in(&email, demo::PASSWORD).await;
    let taken = app
        .call(&resident, "emergency_credit", &[("account", &account)])
        .await;
    assert_eq!(taken.status, StatusCode::OK, "{}", taken.body);
    assert_eq!(taken.json(), "200.00");
    let twice = app
        .call(&resident, "emergency_credit", &[("account", &account)])
        .await;
    assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY);
    let detail = app
        .call(&resident, "account", &[("account", &account)])
        .await
        .json();
    assert_eq!(detail["account"]["emergency_owed"], "200.00");
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let not_theirs = app
        .call(&manager, "emergency_credit", &[("account", &account)])
        .await;
    assert_eq!(
        not_theirs.status,
        StatusCode::FORBIDDEN,
        "the resident's choice, not staff's"
    );
}

#[tokio::test]
async fn what_a_balance_caused_is_visible_on_the_account() {
    use app::domain::{SiteId, supply::SupplyPolicy};
    use server::engine::{rating::IncomingReading, setup::BillingMode};
    let app = spawn_app().await;
    // No friendly hours, so running out cuts whatever the time of day.
    let site = SiteId(app.site_id(demo::SITE).await);
    let policy = SupplyPolicy {
        friendly_from: None,
        friendly_to: None,
        friendly_weekends: false,
        ..SupplyPolicy::default()
    };
    app.engine
        .set_policy(site, BillingMode::PerMeter, &policy)
        .await
        .unwrap();
    let account = account_of(&app, "A-109", "electricity").await;
    let meter: i64 = on_db!(&app.db, pool => sqlx::query_scalar("SELECT meter_id FROM wallets WHERE account_id = $1").bind(account.parse::<i64>().unwrap()).fetch_one(pool).await).unwrap();
    // After the move-in (the demo seeded it just now): earlier readings are the landlord's.
    let start = chrono::Utc::now() + chrono::Duration::minutes(1);
    let reading = |minutes: i64, register: &str| IncomingReading {
        meter,
        taken_at: start + chrono::Duration::minutes(minutes),
        register: register.parse().unwrap(),
    };
    // Far more than any opening top-up: the account runs out and is cut.
    app.engine
        .rate(vec![reading(0, "0"), reading(60, "5000")])
        .await
        .unwrap();
    let resident = app.sign_in("a109@demo.example", demo::PASSWORD).await;
    let detail = app
        .call(&resident, "account", &[("account", &account)])
        .await
        .json();
    assert_eq!(detail["account"]["state"], "cut", "{detail}");
    assert_eq!(detail["commands"][0]["command"], "close", "{detail}");
    assert_eq!(detail["commands"][0]["meter"], "EL-A109");
    assert!(
        detail["notices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "cut_off"),
        "{detail}"
    );
}

#[tokio::test]
async fn the_accounts_table_filters_orders_and_pages_and_downloads_the_same_rows() {
    let app = spawn_app().await;
    let site = app.site_id(demo::SITE).await.to_string();
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let table = |fields: Vec<(&'static str, &'static str)>| {
        let (app, manager, site) = (&app, &manager, site.clone());
        async move {
            let mut form = vec![("site", site.as_str())];
            form.extend(fields);
            let answer = app.call(manager, "account_table", &form).await;
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
            answer.json()
        }
    };

    // Unfiltered: every open account, lowest balance first, a hundred to a page.
    let first = table(vec![]).await;
    assert_eq!(first["total"], 72 * 3);
    assert_eq!(first["matching"], 72 * 3);
    assert_eq!(
        (first["page"].as_u64(), first["pages"].as_u64()),
        (Some(1), Some(3))
    );
    let balances: Vec<i64> = first["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["balance_minor"].as_i64().unwrap())
        .collect();
    assert_eq!(balances.len(), 100);
    assert!(balances.is_sorted(), "{balances:?}");
    assert_eq!(
        first["buildings"],
        serde_json::json!(["Block A", "Block B"])
    );
    let last = table(vec![("page", "3")]).await;
    assert_eq!(last["rows"].as_array().unwrap().len(), 72 * 3 - 200);

    // One building's water, highest balance first.
    let water = table(vec![
        ("building", "Block A"),
        ("utility", "water"),
        ("sort", "balance"),
        ("order", "desc"),
    ])
    .await;
    let rows = water["rows"].as_array().unwrap();
    assert!(!rows.is_empty());
    assert_eq!(water["matching"].as_u64().unwrap() as usize, rows.len());
    assert!(
        rows.iter()
            .all(|row| row["building"] == "Block A" && row["utility"] == "water")
    );
    let balances: Vec<i64> = rows
        .iter()
        .map(|row| row["balance_minor"].as_i64().unwrap())
        .collect();
    assert!(balances.is_sorted_by(|a, b| a >= b), "{balances:?}");

    // The download holds the same accounts in the same order, every page at once.
    let csv = app
        .get(
            &manager,
            &format!(
                "/manage/sites/{site}/accounts.csv?building=Block%20A&utility=water&sort=balance&order=desc"
            ),
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    let lines: Vec<&str> = csv.body.lines().collect();
    assert!(lines[0].starts_with("account,building,unit,utility,resident,balance"));
    let numbers: Vec<&str> = lines[1..]
        .iter()
        .map(|line| line.split(',').next().unwrap())
        .collect();
    let shown: Vec<&str> = rows
        .iter()
        .map(|row| row["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, shown);
    let everything = app
        .get(&manager, &format!("/manage/sites/{site}/accounts.csv"))
        .await;
    assert_eq!(everything.body.lines().count(), 72 * 3 + 1);

    // A unit's name finds its accounts.
    let found = table(vec![("words", "a-101")]).await;
    assert_eq!(found["matching"], 3);

    // A field that means nothing is refused, saying what was typed, by the page and the download.
    let form = [("site", site.as_str()), ("sort", "colour")];
    let refused = app.call(&manager, "account_table", &form).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("colour"), "{}", refused.body);
    let refused = app
        .get(
            &manager,
            &format!("/manage/sites/{site}/accounts.csv?state=sleepy"),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("sleepy"), "{}", refused.body);
}

#[tokio::test]
async fn only_the_site_s_staff_search_its_accounts() {
    let app = spawn_app().await;
    let site = app.site_id(demo::SITE).await.to_string();
    let csv = format!("/manage/sites/{site}/accounts.csv");
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let other = app.sign_in(OTHER_ADMIN, demo::PASSWORD).await;
    for who in [&resident, &other] {
        let answer = app
            .call(who, "account_table", &[("site", site.as_str())])
            .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
        assert_eq!(app.get(who, &csv).await.status, StatusCode::FORBIDDEN);
    }
    // A bad field from a stranger is refused as a stranger: nothing about the site shows.
    let form = [("site", site.as_str()), ("sort", "colour")];
    assert_eq!(
        app.call(&other, "account_table", &form).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get(&Visitor::default(), &csv).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_notice_reaches_each_home_the_search_finds_once() {
    let app = spawn_app().await;
    let site = app.site_id(demo::SITE).await.to_string();
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let search = [("site", site.as_str()), ("building", "Block A")];
    let table = app.call(&manager, "account_table", &search).await;
    assert_eq!(table.status, StatusCode::OK, "{}", table.body);
    let (matching, nonce) = {
        let page = table.json();
        (
            page["matching"].as_u64().unwrap().to_string(),
            page["form_nonce"].as_str().unwrap().to_owned(),
        )
    };
    assert_eq!(table.json()["may_notify"], true);
    // Block A's homes have an account per utility: each home is told once.
    let homes = app
        .count(
            "SELECT COUNT(DISTINCT w.occupancy_id) FROM wallets w JOIN units u ON u.id = w.unit_id \
             JOIN buildings b ON b.id = u.building_id WHERE b.name = 'Block A' AND w.closed_at IS NULL",
        )
        .await;
    assert!(homes > 10 && (homes as u64) < matching.parse::<u64>().unwrap());
    let notices = "SELECT COUNT(*) FROM notifications WHERE kind = 'site_notice'";
    let send = |heading: &'static str, text: &'static str, expected: String| {
        let (app, manager, nonce) = (&app, &manager, nonce.clone());
        let mut form: Vec<(&str, String)> =
            search.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        form.extend([
            ("heading", heading.to_owned()),
            ("text", text.to_owned()),
            ("nonce", nonce),
            ("expected", expected),
        ]);
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.call(manager, "notify_found_accounts", &form).await
        }
    };

    // A count the search no longer finds, and words that are not a notice, send nothing.
    let stale = send("Water off", "Tuesday 9 to 12.", "1".to_owned()).await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    let blank = send(" ", "Tuesday 9 to 12.", matching.clone()).await;
    assert_eq!(
        blank.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        blank.body
    );
    assert_eq!(app.count(notices).await, 0);
    // A form the page never gave (its nonce missing) is refused, and sends nothing.
    let mut forged: Vec<(&str, &str)> = search.to_vec();
    forged.extend([
        ("heading", "Water off"),
        ("text", "Tuesday 9 to 12."),
        ("nonce", ""),
        ("expected", matching.as_str()),
    ]);
    let forged = app.call(&manager, "notify_found_accounts", &forged).await;
    assert_eq!(
        forged.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        forged.body
    );
    assert!(forged.body.contains("out of date"), "{}", forged.body);
    assert_eq!(app.count(notices).await, 0);

    let sent = send(
        "Water off on Tuesday",
        "From 9 to 12, for the new pump.",
        matching.clone(),
    )
    .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    assert_eq!(sent.json(), homes);
    assert_eq!(app.count(notices).await, homes);
    // The same form again (a double click, a retry) queues nothing more.
    let again = send(
        "Water off on Tuesday",
        "From 9 to 12, for the new pump.",
        matching.clone(),
    )
    .await;
    assert_eq!(again.json(), homes);
    assert_eq!(app.count(notices).await, homes);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'site_notice_sent'")
            .await,
        1
    );
    // Another notice from the same page is another notice.
    send("Pump fitted", "Water is back on.", matching.clone()).await;
    assert_eq!(app.count(notices).await, 2 * homes);

    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let inbox = app.call(&resident, "my_notices", &[]).await.json();
    let titles: Vec<&str> = inbox
        .as_array()
        .unwrap()
        .iter()
        .filter(|line| line["kind"] == "site_notice")
        .map(|line| line["message"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Pump fitted", "Water off on Tuesday"]);
    let elsewhere = app.sign_in("b203@demo.example", demo::PASSWORD).await;
    let inbox = app.call(&elsewhere, "my_notices", &[]).await.json();
    assert!(
        inbox
            .as_array()
            .unwrap()
            .iter()
            .all(|line| line["kind"] != "site_notice"),
        "{inbox}"
    );
}

#[tokio::test]
async fn only_the_site_s_managers_and_admins_send_notices() {
    let app = spawn_app().await;
    app.add_staff("operator@demo.example", "operator").await;
    let site = app.site_id(demo::SITE).await.to_string();
    let operator = app.sign_in("operator@demo.example", demo::PASSWORD).await;
    let table = app
        .call(&operator, "account_table", &[("site", site.as_str())])
        .await;
    assert_eq!(table.status, StatusCode::OK, "{}", table.body);
    assert_eq!(table.json()["may_notify"], false);
    let matching = table.json()["matching"].to_string();
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let other = app.sign_in(OTHER_ADMIN, demo::PASSWORD).await;
    for who in [&operator, &resident, &other, &Visitor::default()] {
        let answer = app
            .call(
                who,
                "notify_found_accounts",
                &[
                    ("site", site.as_str()),
                    ("heading", "Not yours"),
                    ("text", "to send"),
                    ("nonce", "a-nonce-of-16-ch"),
                    ("expected", matching.as_str()),
                ],
            )
            .await;
        assert!(
            answer.status.is_client_error(),
            "{}: {}",
            answer.status,
            answer.body
        );
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM notifications WHERE kind = 'site_notice'")
            .await,
        0
    );
}
