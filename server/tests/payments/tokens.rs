//! Token meters end to end: a real server on loopback with a real SQLite file, payments through
//! the sandbox provider's callback, and for STS a fake vending service on loopback. Tokens made
//! by the server are typed into an OpenPAYGO device decoder, as the meter would.

use super::{balance, count, opening_balance, start, wallet};
use crate::support::{TestApp, Visitor, spawn_app, spawn_with, test_config};
use axum::{Json, Router, extract::State, http::HeaderMap, http::StatusCode, routing::post};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use server::{
    config::{Secret, StsVendingConfig},
    db::ReadingTime,
    demo,
    engine::rating::IncomingReading,
    on_db,
    tokens::{
        KeySource, Provision, VendorKind,
        openpaygo::{Accepted, Command, DeviceSecret, Format, TokenError, decode},
    },
};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

async fn meter_of(app: &TestApp, account: i64) -> i64 {
    on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT meter_id FROM wallets WHERE account_id = $1")
            .bind(account)
            .fetch_one(pool)
            .await
    })
    .unwrap()
}

/// Pays `amount` through the sandbox, its callback delivered `times` times.
async fn pay(
    app: &TestApp,
    resident: &Visitor,
    account: i64,
    amount: &str,
    times: usize,
) -> String {
    let started = start(app, resident, account, amount, "sandbox", "").await;
    let id = started["public_id"].as_str().unwrap().to_owned();
    for _ in 0..times {
        let paid = app
            .call(
                &Visitor::default(),
                "sandbox_decide",
                &[("payment", &id), ("pay", "true")],
            )
            .await;
        assert_eq!(paid.status, StatusCode::OK, "{}", paid.body);
    }
    id
}

/// Makes a meter a keypad meter with a generated key, in steps of 0.1.
async fn provision(app: &TestApp, meter: i64, vendor: VendorKind) -> server::tokens::Provisioned {
    app.tokens
        .provision(
            meter,
            Provision {
                vendor,
                key: KeySource::Generate,
                format: Format::default(),
                value_step: "0.1".parse().unwrap(),
            },
            None,
        )
        .await
        .unwrap()
}

type TokenRow = (
    String,
    String,
    String,
    i64,
    i64,
    Option<String>,
    Option<i64>,
);

async fn tokens(app: &TestApp, meter: i64) -> Vec<TokenRow> {
    on_db!(&app.db, pool => {
        sqlx::query_as(
            "SELECT public_id, status, units, token_value, amount_minor, digits, token_count \
             FROM meter_tokens WHERE meter_id = $1 ORDER BY id",
        )
        .bind(meter)
        .fetch_all(pool)
        .await
    })
    .unwrap()
}

#[tokio::test]
async fn a_paid_top_up_on_a_keypad_meter_yields_one_token_the_device_accepts() {
    let app = spawn_app().await;
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let account = wallet(&app, "A-101", "electricity").await;
    let meter = meter_of(&app, account).await;
    let provisioned = provision(&app, meter, VendorKind::OpenPaygo).await;
    let key = DeviceSecret::parse_key(provisioned.key_hex.as_deref().unwrap()).unwrap();
    let device = DeviceSecret::new(key, provisioned.starting_code.unwrap()).unwrap();
    // The key is stored sealed, never as given.
    let stored: String = on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT sealed_key FROM token_meters WHERE meter_id = $1")
            .bind(meter)
            .fetch_one(pool)
            .await
    })
    .unwrap();
    assert!(!stored.contains(provisioned.key_hex.as_deref().unwrap()));
    let audit = count(
        &app,
        &format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'token_meter_provisioned' \
             AND subject_id = '{meter}' AND after_json NOT LIKE '%{}%'",
            provisioned.key_hex.as_deref().unwrap()
        ),
    )
    .await;
    assert_eq!(audit, 1, "provisioning is audited without the key");
    let commands_before = count(
        &app,
        &format!("SELECT COUNT(*) FROM meter_commands WHERE meter_id = {meter}"),
    )
    .await;

    let before = opening_balance(&app, account).await;
    // The provider says "paid" three times: one top-up, one sale, one token.
    let payment = pay(&app, &resident, account, "250", 3).await;
    app.tokens.issue_pending(chrono::Utc::now()).await.unwrap();
    let sold = tokens(&app, meter).await;
    assert_eq!(sold.len(), 1, "{sold:?}");
    let (public_id, status, units, value, amount, digits, token_count) = sold[0].clone();
    assert_eq!(status, "issued");
    assert_eq!(token_count, Some(2));
    let value = u32::try_from(value).unwrap();
    assert_eq!(
        units.parse::<Decimal>().unwrap(),
        Decimal::new(i64::from(value), 1),
        "the token carries exactly the units sold"
    );
    // The wallet paid exactly the sale's price and keeps what did not make a whole step.
    assert!(amount > 0 && amount <= before + 25_000);
    assert_eq!(balance(&app, account).await, before + 25_000 - amount);
    let sales = count(
        &app,
        "SELECT COUNT(*) FROM ledger_transactions WHERE kind = 'token_sale'",
    )
    .await;
    assert_eq!(sales, 1);
    // The device takes the token once, for exactly the value sold.
    let digits = digits.unwrap();
    assert_eq!(digits.len(), 9);
    assert_eq!(
        decode(&device, &digits, 0, &[]),
        Ok(Accepted {
            command: Command::AddCredit(value),
            count: 2
        })
    );
    assert_eq!(
        decode(&device, &digits, 2, &[2]),
        Err(TokenError::AlreadyUsed)
    );
    // Another meter's decoder refuses it.
    let other = DeviceSecret::new([9; 16], provisioned.starting_code.unwrap()).unwrap();
    assert!(decode(&other, &digits, 0, &[]).is_err());

    // The callback again, later: the same token, not a new one.
    pay_again(&app, &payment).await;
    app.tokens.issue_pending(chrono::Utc::now()).await.unwrap();
    assert_eq!(tokens(&app, meter).await, sold);
    let shown = app.tokens.of_payment(&payment).await.unwrap().unwrap();
    assert_eq!(shown.public_id, public_id);
    assert_eq!(shown.digits.as_deref(), Some(grouped(&digits).as_str()));
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM notifications WHERE kind = 'token_issued'"
        )
        .await,
        1
    );
    // Resending tells the resident again; the token stays the same.
    app.tokens.resend(&public_id).await.unwrap();
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM notifications WHERE kind = 'token_issued'"
        )
        .await,
        2
    );

    // The next top-up takes the next count; the device accepts it after the first.
    pay(&app, &resident, account, "100", 1).await;
    app.tokens.issue_pending(chrono::Utc::now()).await.unwrap();
    let both = tokens(&app, meter).await;
    assert_eq!(both.len(), 2);
    assert_eq!(both[1].6, Some(4));
    let second = decode(&device, both[1].5.as_deref().unwrap(), 2, &[2]).unwrap();
    assert_eq!(second.count, 4);

    // The wallet sits near zero, yet the platform neither warns nor cuts: the meter holds the
    // credit and switches itself.
    let state: String = on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT supply_state FROM wallets WHERE account_id = $1")
            .bind(account)
            .fetch_one(pool)
            .await
    })
    .unwrap();
    assert_eq!(state, "on");
    assert_eq!(
        count(
            &app,
            &format!("SELECT COUNT(*) FROM meter_commands WHERE meter_id = {meter}")
        )
        .await,
        commands_before
    );

    // What the meter reports is recorded and shown, never charged again.
    let charged_before = balance(&app, account).await;
    let last: Option<(Option<ReadingTime>, Option<String>)> = on_db!(&app.db, pool => {
        sqlx::query_as("SELECT last_reading_at, last_register FROM meter_states WHERE meter_id = $1")
            .bind(meter)
            .fetch_optional(pool)
            .await
    })
    .unwrap();
    let (last_at, register) = match last {
        Some((Some(ReadingTime(at)), Some(register))) => (at, register.parse::<Decimal>().unwrap()),
        _ => {
            // No reading yet: a first one sets where the register starts.
            let at = chrono::Utc::now() - chrono::Duration::hours(1);
            let baseline = IncomingReading {
                meter,
                taken_at: at,
                register: Decimal::from(100),
            };
            app.engine.rate(vec![baseline]).await.unwrap();
            (at, Decimal::from(100))
        }
    };
    let report = app
        .engine
        .rate(vec![IncomingReading {
            meter,
            taken_at: last_at + chrono::Duration::minutes(30),
            register: register + Decimal::new(35, 1),
        }])
        .await
        .unwrap();
    assert_eq!(report.rated, 1);
    assert_eq!(report.charged, 0);
    assert_eq!(balance(&app, account).await, charged_before);
    let (quantity, transaction): (Option<String>, Option<i64>) = on_db!(&app.db, pool => {
        sqlx::query_as("SELECT quantity, transaction_id FROM readings WHERE meter_id = $1 ORDER BY taken_at DESC LIMIT 1")
            .bind(meter)
            .fetch_one(pool)
            .await
    })
    .unwrap();
    assert_eq!(
        quantity.unwrap().parse::<Decimal>().unwrap(),
        Decimal::new(35, 1)
    );
    assert_eq!(transaction, None);

    let (_, differences) = server::ledger::reconcile(&app.db).await.unwrap();
    assert!(differences.is_empty(), "{differences:?}");
}

async fn pay_again(app: &TestApp, payment: &str) {
    let paid = app
        .call(
            &Visitor::default(),
            "sandbox_decide",
            &[("payment", payment), ("pay", "true")],
        )
        .await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.body);
}

fn grouped(digits: &str) -> String {
    app::domain::tokens::grouped(digits)
}

/// A vending service on loopback: tokens by idempotency key, a bearer key, and a first
/// answer of 503 to make the platform ask again.
#[derive(Clone, Default)]
struct Vending {
    issued: Arc<Mutex<HashMap<String, String>>>,
    requests: Arc<Mutex<Vec<(String, Value)>>>,
}

async fn vend(
    State(vending): State<Vending>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let first = {
        let mut requests = vending.requests.lock().unwrap();
        requests.push((key.clone(), body.clone()));
        requests.len() == 1
    };
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer sts-test-key") {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "unknown API key" })),
        );
    }
    if body["meter"] == "NO-SUCH-METER" {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "error": "unknown meter" })),
        );
    }
    if first {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "error": "busy" })),
        );
    }
    let mut issued = vending.issued.lock().unwrap();
    let next = issued.len() as u64 + 1;
    let token = issued
        .entry(key)
        .or_insert_with(|| format!("{:020}", 12_345_678_901_234_567_000 + next))
        .clone();
    (StatusCode::OK, Json(json!({ "token": token })))
}

#[tokio::test]
async fn sts_tokens_come_from_the_vending_service_once_even_when_it_is_asked_twice() {
    let vending = Vending::default();
    let router = Router::new()
        .route("/v1/tokens", post(vend))
        .with_state(vending.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.sts_vending = Some(StsVendingConfig {
        url,
        key: Secret::new("sts-test-key"),
    });
    let app = spawn_with(config, dir).await;
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let account = wallet(&app, "A-101", "electricity").await;
    let meter = meter_of(&app, account).await;
    let provisioned = provision(&app, meter, VendorKind::Sts).await;
    assert!(
        provisioned.key_hex.is_none(),
        "STS keys stay with the vending service"
    );

    let before = opening_balance(&app, account).await;
    pay(&app, &resident, account, "250", 2).await;
    let sold = tokens(&app, meter).await;
    assert_eq!(sold.len(), 1);
    assert!(
        balance(&app, account).await < before + 25_000,
        "the sale is posted at once"
    );
    // The service is busy at first: the token waits and is asked for again after the wait
    // (the server's own worker may be asking too: both use the same reference).
    for minutes in 1..=10 {
        let later = chrono::Utc::now() + chrono::Duration::minutes(minutes);
        app.tokens.issue_pending(later).await.unwrap();
        if tokens(&app, meter).await[0].1 == "issued" {
            break;
        }
    }
    let issued = tokens(&app, meter).await;
    assert_eq!(issued[0].1, "issued", "{issued:?}");
    let digits = issued[0].5.clone().unwrap();
    assert_eq!(digits.len(), 20);
    let requests = vending.requests.lock().unwrap().clone();
    assert!(requests.len() >= 2, "{requests:?}");
    assert!(requests.iter().all(|(key, _)| key == &issued[0].0));
    assert_eq!(requests[0].1["meter"], json!(serial(&app, meter).await));
    assert_eq!(requests[0].1["kind"], "credit");
    assert_eq!(
        requests[0].1["units"]
            .as_str()
            .unwrap()
            .parse::<Decimal>()
            .unwrap(),
        issued[0].2.parse::<Decimal>().unwrap()
    );
    assert_eq!(vending.issued.lock().unwrap().len(), 1);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM notifications WHERE kind = 'token_issued'"
        )
        .await,
        1
    );

    // An engineering token the service refuses is failed with its reason, not retried.
    on_db!(&app.db, pool => {
        sqlx::query("UPDATE meters SET serial = 'NO-SUCH-METER' WHERE id = $1")
            .bind(meter)
            .execute(pool)
            .await
            .map(|_| ())
    })
    .unwrap();
    let refused = app
        .tokens
        .order(meter, server::tokens::Order::CounterSync, None)
        .await
        .unwrap();
    app.tokens.issue_pending(chrono::Utc::now()).await.unwrap();
    let lines = app.tokens.of_meter(meter).await.unwrap();
    let line = lines.iter().find(|l| l.public_id == refused).unwrap();
    assert_eq!(line.status, "failed");
    assert!(
        line.failure.as_deref().unwrap().contains("unknown meter"),
        "{line:?}"
    );
}

async fn serial(app: &TestApp, meter: i64) -> String {
    on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT serial FROM meters WHERE id = $1")
            .bind(meter)
            .fetch_one(pool)
            .await
    })
    .unwrap()
}

/// The server functions in front of tokens: each caller sees and does only what they may,
/// and money-moving engineering tokens need a second manager.
#[tokio::test]
async fn tokens_are_shown_and_ordered_only_by_those_who_may() {
    let app = spawn_app().await;
    let owner = app
        .sign_in(&demo::resident_email(demo::KEYPAD_UNIT), demo::PASSWORD)
        .await;
    let neighbour = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let admin = app.sign_in(demo::ADMIN, demo::PASSWORD).await;
    let stranger = app
        .sign_in(crate::support::OTHER_ADMIN, demo::PASSWORD)
        .await;
    let account = wallet(&app, demo::KEYPAD_UNIT, "electricity").await;
    let meter = meter_of(&app, account).await.to_string();
    let account = account.to_string();

    // A top-up by the resident: the payment's page carries the token once it is issued.
    let payment = pay(&app, &owner, account.parse().unwrap(), "500", 1).await;
    app.tokens.issue_pending(chrono::Utc::now()).await.unwrap();
    let page = app
        .call(
            &Visitor::default(),
            "payment_page",
            &[("payment", &payment)],
        )
        .await
        .json();
    assert_eq!(page["token"]["status"], "issued", "{page}");
    let digits = page["token"]["digits"].as_str().unwrap().to_owned();
    assert_eq!(
        digits.replace(' ', "").len(),
        12,
        "the demo's meter takes extended tokens"
    );
    assert!(page["token"]["units"].as_str().unwrap().ends_with(" kWh"));
    let token = page["token"]["public_id"].as_str().unwrap().to_owned();
    // The resident's cards (home page, account page) show the latest token too.
    let cards = app.call(&owner, "my_accounts", &[]).await.json();
    let card = cards
        .as_array()
        .unwrap()
        .iter()
        .find(|card| card["id"].as_i64().map(|id| id.to_string()) == Some(account.clone()))
        .unwrap();
    assert_eq!(card["last_token"], json!(digits));

    // The resident's own tokens; nobody else's.
    let mine = app
        .call(&owner, "account_tokens", &[("account", &account)])
        .await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    assert_eq!(mine.json()[0]["digits"], json!(digits));
    for outsider in [&neighbour, &stranger] {
        let refused = app
            .call(outsider, "account_tokens", &[("account", &account)])
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let refused = app
            .call(
                outsider,
                "resend_token",
                &[("account", &account), ("token", &token)],
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
    }
    let resent = app
        .call(
            &owner,
            "resend_token",
            &[("account", &account), ("token", &token)],
        )
        .await;
    assert_eq!(resent.status, StatusCode::OK, "{}", resent.body);
    // The site's manager may send it again from the account's page too.
    let by_staff = app
        .call(
            &manager,
            "resend_token",
            &[("account", &account), ("token", &token)],
        )
        .await;
    assert_eq!(by_staff.status, StatusCode::OK, "{}", by_staff.body);
    // A token of another account cannot be resent through this one.
    let own_account = wallet(&app, "A-101", "electricity").await.to_string();
    let crossed = app
        .call(
            &neighbour,
            "resend_token",
            &[("account", &own_account), ("token", &token)],
        )
        .await;
    assert_eq!(crossed.status, StatusCode::NOT_FOUND, "{}", crossed.body);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM notifications WHERE kind = 'token_issued'"
        )
        .await,
        3
    );

    // The meter's set-up and history: its staff only.
    let seen = app
        .call(&manager, "meter_tokens", &[("meter", &meter)])
        .await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
    assert_eq!(seen.json()["setup"]["vendor"], "openpaygo");
    for outsider in [&owner, &stranger] {
        let refused = app
            .call(outsider, "meter_tokens", &[("meter", &meter)])
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    }

    // Setting credit waits for a second manager; the one who asked cannot approve it.
    let ordered = app
        .call(
            &manager,
            "order_token",
            &[("meter", &meter), ("kind", "set_credit"), ("value", "50")],
        )
        .await;
    assert_eq!(ordered.status, StatusCode::OK, "{}", ordered.body);
    let set = ordered.json().as_str().unwrap().to_owned();
    app.tokens.issue_pending(chrono::Utc::now()).await.unwrap();
    let status = |app: &TestApp, token: String| {
        let db = app.db.clone();
        async move {
            on_db!(&db, pool => {
                sqlx::query_scalar::<_, String>("SELECT status FROM meter_tokens WHERE public_id = $1")
                    .bind(&token)
                    .fetch_one(pool)
                    .await
            })
            .unwrap()
        }
    };
    assert_eq!(status(&app, set.clone()).await, "awaiting_approval");
    let own = app
        .call(
            &manager,
            "approve_token",
            &[("meter", &meter), ("token", &set)],
        )
        .await;
    assert_eq!(own.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", own.body);
    for outsider in [&owner, &stranger] {
        let refused = app
            .call(
                outsider,
                "approve_token",
                &[("meter", &meter), ("token", &set)],
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let refused = app
            .call(
                outsider,
                "order_token",
                &[("meter", &meter), ("kind", "counter_sync"), ("value", "")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
    }
    let approved = app
        .call(
            &admin,
            "approve_token",
            &[("meter", &meter), ("token", &set)],
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    app.tokens.issue_pending(chrono::Utc::now()).await.unwrap();
    assert_eq!(status(&app, set).await, "issued");
    // Nonsense is refused with a reason, and changes nothing.
    let before = count(&app, "SELECT COUNT(*) FROM meter_tokens").await;
    for (kind, value) in [
        ("credit", "5"),
        ("set_credit", ""),
        ("melt", ""),
        ("set_credit", "-1"),
    ] {
        let refused = app
            .call(
                &manager,
                "order_token",
                &[("meter", &meter), ("kind", kind), ("value", value)],
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{kind} {value}: {}",
            refused.body
        );
    }
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM meter_tokens").await,
        before
    );

    // Provisioning another meter: managers only; a generated key is answered once.
    let other_meter = meter_of(&app, wallet(&app, "A-101", "water").await)
        .await
        .to_string();
    let fields = [
        ("meter", other_meter.as_str()),
        ("vendor", "openpaygo"),
        ("key", ""),
        ("starting_code", ""),
        ("value_step", "0.01"),
    ];
    for outsider in [&owner, &stranger] {
        let refused = app.call(outsider, "provision_token_meter", &fields).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
    }
    let bad = app
        .call(
            &manager,
            "provision_token_meter",
            &[
                ("meter", other_meter.as_str()),
                ("vendor", "openpaygo"),
                ("key", "not-a-key"),
                ("starting_code", "1"),
                ("value_step", "0.01"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    let made = app.call(&manager, "provision_token_meter", &fields).await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let key = made.json()["key_hex"].as_str().unwrap().to_owned();
    assert_eq!(key.len(), 32);
    let later = app
        .call(&manager, "meter_tokens", &[("meter", &other_meter)])
        .await;
    assert!(!later.body.contains(&key), "the key is never shown again");
}

#[tokio::test]
async fn a_meter_page_shows_a_token_table_only_once_there_are_tokens() {
    let app = spawn_app().await;
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let owner = app
        .sign_in(&demo::resident_email(demo::KEYPAD_UNIT), demo::PASSWORD)
        .await;
    let account = wallet(&app, demo::KEYPAD_UNIT, "electricity").await;
    let keypad = meter_of(&app, account).await;
    let network = meter_of(&app, wallet(&app, "A-101", "electricity").await).await;
    let table = "<table class=\"tokens\"";
    let none_yet = "No tokens made for this meter yet.";

    // A meter switched through the network: the panel says so, with no empty table under it.
    let page = app.get(&manager, &format!("/meters/{network}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("Make it a keypad meter to sell it credit as tokens.")
    );
    assert!(!page.body.contains(table) && !page.body.contains(none_yet));

    // A keypad meter that has sold nothing yet says that, in words.
    let page = app.get(&manager, &format!("/meters/{keypad}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(none_yet), "{}", page.body);
    assert!(!page.body.contains(table));

    // Its first token fills the table.
    pay(&app, &owner, account, "500", 1).await;
    app.tokens.issue_pending(chrono::Utc::now()).await.unwrap();
    let made = tokens(&app, keypad).await;
    assert_eq!(made.len(), 1);
    let row = format!("<tr data-token=\"{}\" data-status=\"issued\"", made[0].0);
    let page = app.get(&manager, &format!("/meters/{keypad}")).await;
    assert!(page.body.contains(table) && page.body.contains(&row));
    assert!(!page.body.contains(none_yet));
}

/// Orders a counter-sync token, which needs no second person.
async fn counter_sync(app: &TestApp, by: &Visitor, meter: &str) -> crate::support::Answer {
    app.call(
        by,
        "order_token",
        &[("meter", meter), ("kind", "counter_sync"), ("value", "")],
    )
    .await
}

#[tokio::test]
async fn a_meter_out_of_service_keeps_its_tokens_and_takes_no_new_set_up() {
    let app = spawn_app().await;
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let keypad = meter_of(&app, wallet(&app, demo::KEYPAD_UNIT, "electricity").await).await;
    let keypad_id = keypad.to_string();
    let ordered = counter_sync(&app, &manager, &keypad_id).await;
    assert_eq!(ordered.status, StatusCode::OK, "{}", ordered.body);
    // The register it last sent, if it sent any: its final reading charges nothing more.
    let register: String = on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT last_register FROM meter_states WHERE meter_id = $1")
            .bind(keypad)
            .fetch_optional(pool)
            .await
    })
    .unwrap()
    .flatten()
    .unwrap_or_else(|| "0".to_owned());
    let replaced = app
        .call(
            &manager,
            "replace_meter",
            &[
                ("meter", &keypad_id),
                ("final_register", &register),
                ("serial", "EL-KEYPAD-NEW"),
                ("utility", "electricity"),
                ("first_register", "0"),
                ("transport", "simulator"),
            ],
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);

    // Its page keeps the token made and offers no set-up or engineering token.
    let page = app.get(&manager, &format!("/meters/{keypad}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("<table class=\"tokens\""),
        "{}",
        page.body
    );
    for form in ["Give it a new key", "Make token"] {
        assert!(!page.body.contains(form), "{form} offered out of service");
    }
    // Asked anyway, the engine says why and changes nothing.
    let made = "SELECT COUNT(*) FROM meter_tokens";
    let before = app.count(made).await;
    let order = counter_sync(&app, &manager, &keypad_id).await;
    let set_up = app
        .call(
            &manager,
            "provision_token_meter",
            &[
                ("meter", &keypad_id),
                ("vendor", "openpaygo"),
                ("key", ""),
                ("starting_code", ""),
                ("value_step", "0.1"),
            ],
        )
        .await;
    for refused in [order, set_up] {
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.body
        );
        assert!(
            refused.body.contains("This meter is out of service."),
            "{}",
            refused.body
        );
    }
    assert_eq!(app.count(made).await, before);
}
