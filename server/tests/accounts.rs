//! Prepaid accounts over HTTP: who sees which account, and money forms that are safe to send
//! twice. Against the real server on loopback, with the demo data.

mod support;

use reqwest::StatusCode;
use server::{demo, on_db};
use support::{OTHER_ADMIN, TestApp, spawn_app};

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
    let after = app
        .call(&manager, "account", &[("account", &account)])
        .await
        .json();
    assert_eq!(
        after["account"]["balance_minor"].as_i64().unwrap(),
        before_minor + 125_050
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
