//! Web Push against the real server on loopback with a real SQLite file, and a push service on
//! loopback that checks each message's VAPID signature and decrypts it as a browser would.

use crate::support;

mod service;

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::json;
use server::demo;
use service::{Browser, PushService, check_vapid};
use support::{TestApp, Visitor, spawn_with, test_config};

const RESIDENT: &str = "a101@demo.example";

/// The server, sending push messages only to the test push service on loopback; on the
/// given database, or a fresh SQLite file.
async fn spawn_pushing_on(database: Option<String>) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    if let Some(url) = database {
        config.database_url = Some(server::config::Secret::new(url));
    }
    config.push.services = vec!["127.0.0.1".into()];
    config.push.allow_http = true;
    config.push.subject = Some("mailto:operator@demo.example".into());
    let app = spawn_with(config, dir).await;
    // What the demo and the first periodic jobs queued is handed out before any browser
    // subscribes, so each test sees only the notices it causes.
    app.engine.run_jobs(Utc::now()).await.unwrap();
    app.notifier.run_once(Utc::now()).await.unwrap();
    app
}

async fn spawn_pushing() -> TestApp {
    spawn_pushing_on(None).await
}

async fn subscribe(app: &TestApp, who: &Visitor, browser: &Browser, endpoint: &str) {
    let answer = app
        .call(
            who,
            "subscribe_push",
            &[
                ("endpoint", endpoint),
                ("p256dh", &browser.p256dh()),
                ("auth", &browser.auth()),
                ("label", "Test browser"),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
}

/// A top-up through the sandbox, paid: the engine queues a `payment_received` notice.
async fn pay(app: &TestApp, who: &Visitor, account: i64, amount: &str) -> String {
    let started = app
        .call(
            who,
            "start_payment",
            &[
                ("account", &account.to_string()),
                ("amount", amount),
                ("provider", "sandbox"),
            ],
        )
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let id = started.json()["public_id"].as_str().unwrap().to_owned();
    let paid = app
        .call(
            &Visitor::default(),
            "sandbox_decide",
            &[("payment", &id), ("pay", "true")],
        )
        .await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.body);
    id
}

async fn vapid_key(app: &TestApp, who: &Visitor) -> String {
    let settings = app.call(who, "notification_settings", &[]).await;
    assert_eq!(settings.status, StatusCode::OK, "{}", settings.body);
    settings.json()["vapid_public_key"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_payment_reaches_the_residents_browser_signed_and_encrypted_for_it_alone() {
    let push = PushService::start().await;
    let app = spawn_pushing().await;
    let resident = app.sign_in(RESIDENT, demo::PASSWORD).await;
    let browser = Browser::new(1);
    subscribe(&app, &resident, &browser, &push.endpoint("phone")).await;
    // Another resident's browser hears nothing of it.
    let neighbour = app.sign_in("a102@demo.example", demo::PASSWORD).await;
    subscribe(
        &app,
        &neighbour,
        &Browser::new(2),
        &push.endpoint("neighbour"),
    )
    .await;

    let account = app.wallet("A-101", "electricity").await;
    let payment = pay(&app, &resident, account, "250").await;

    push.wait_for("phone", 1).await;
    app.notifier.run_once(Utc::now()).await.unwrap();
    app.settled().await;
    // The receipt, and whatever else the payment caused (a reconnection if A-101 was cut).
    let received = push.received("phone");
    let sent = "SELECT COUNT(*) FROM notification_deliveries WHERE status = 'sent'";
    assert_eq!(
        received.len() as i64,
        app.count(sent).await,
        "each sent once"
    );
    let key = vapid_key(&app, &resident).await;
    let origin = format!("http://{}", push.addr);
    let mut receipt = None;
    for message in &received {
        assert_eq!(message.headers["content-encoding"], "aes128gcm");
        assert_eq!(message.headers["ttl"], "86400");
        let claims = check_vapid(&message.headers, &key, &origin);
        assert_eq!(claims["sub"], "mailto:operator@demo.example");
        let notice = browser.decrypt(&message.body);
        if notice["kind"] == "payment_received" {
            assert!(
                message.headers.get("topic").is_none(),
                "a receipt replaces nothing"
            );
            receipt = Some((message.clone(), notice));
        }
    }
    let (message, notice) = receipt.expect("the receipt was pushed");
    assert_eq!(notice["title"], "Payment received");
    assert_eq!(notice["url"], format!("/payments/{payment}"));
    let body = notice["body"].as_str().unwrap().to_owned();
    assert!(body.starts_with("KES 250.00 received, receipt "), "{body}");

    // Nobody else's browser can read it, and the neighbour's heard nothing.
    let stranger = Browser::new(3);
    let opened = std::panic::catch_unwind(|| stranger.decrypt(&message.body));
    assert!(
        opened.is_err(),
        "only the subscribed browser's keys open it"
    );
    assert!(push.received("neighbour").is_empty());

    // In-app, the same words.
    let inbox = app.call(&resident, "my_notices", &[]).await.json();
    let listed = inbox
        .as_array()
        .unwrap()
        .iter()
        .find(|line| line["kind"] == "payment_received")
        .expect("the receipt in the in-app list");
    assert_eq!(listed["message"]["body"], body.as_str());
}

#[tokio::test]
async fn quiet_hours_hold_balance_notices_the_newest_replaces_the_older_and_safety_alarms_go_at_once()
 {
    quiet_hours(spawn_pushing().await).await;
}

#[tokio::test]
async fn quiet_hours_and_replacement_on_postgresql_too() {
    let Some(url) = support::fresh_postgres("push").await else {
        return;
    };
    quiet_hours(spawn_pushing_on(Some(url)).await).await;
}

async fn quiet_hours(app: TestApp) {
    let push = PushService::start().await;
    let resident = app.sign_in(RESIDENT, demo::PASSWORD).await;
    let browser = Browser::new(4);
    subscribe(&app, &resident, &browser, &push.endpoint("tablet")).await;

    // Quiet from an hour ago to an hour from now, Nairobi time; notices in Kiswahili.
    let nairobi = chrono_tz::Africa::Nairobi;
    let local = Utc::now().with_timezone(&nairobi);
    let hhmm = |at: chrono::DateTime<chrono_tz::Tz>| at.format("%H:%M").to_string();
    let saved = app
        .call(
            &resident,
            "save_notification_settings",
            &[
                ("low_balance", "on"),
                ("cut_off", "on"),
                ("reconnection", "on"),
                ("payments", "on"),
                ("alarms", "on"),
                ("quiet_from", &hhmm(local - Duration::hours(1))),
                ("quiet_to", &hhmm(local + Duration::hours(1))),
                ("locale", "sw"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);

    let account = app.wallet("A-101", "electricity").await;
    app.queue_notice(
        account,
        "low_balance_1",
        json!({ "account": account, "balance_minor": 20_000 }),
        "t:1",
    )
    .await;
    app.notifier.run_once(Utc::now()).await.unwrap();
    app.queue_notice(
        account,
        "low_balance_2",
        json!({ "account": account, "balance_minor": 5_000 }),
        "t:2",
    )
    .await;
    app.queue_notice(
        account,
        "alarm_gas_leak",
        json!({ "alarm": 9, "kind": "gas_leak" }),
        "t:3",
    )
    .await;
    app.notifier.run_once(Utc::now()).await.unwrap();

    // The gas leak does not wait.
    let received = push.wait_for("tablet", 1).await;
    let alarm = browser.decrypt(&received[0].body);
    assert_eq!(alarm["title"], "Gesi inavuja");
    assert_eq!(received[0].headers["urgency"], "high");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM notification_deliveries WHERE status = 'replaced'")
            .await,
        1
    );
    assert_eq!(push.received("tablet").len(), 1, "balance notices wait");
    app.settled().await;

    // When the quiet hours are over, the newer balance notice goes, and only it.
    let report = app
        .notifier
        .run_once(Utc::now() + Duration::minutes(61))
        .await
        .unwrap();
    assert_eq!(report.sent, 1, "{report:?}");
    let received = push.wait_for("tablet", 2).await;
    assert_eq!(received[1].headers["topic"], format!("balance-{account}"));
    let low = browser.decrypt(&received[1].body);
    assert_eq!(low["title"], "Salio lako liko chini");
    assert!(low["body"].as_str().unwrap().contains("KES 50.00"), "{low}");

    // The in-app list words an alarm's detail in their language, its time on the site's clock
    // (Nairobi, UTC+3) as their pages write times.
    let detail = "nothing heard since 2026-12-06 03:00 UTC";
    let offline = json!({ "account": account, "alarm": 10, "detail": detail });
    app.queue_notice(account, "alarm_offline", offline, "t:4")
        .await;
    let inbox = app.call(&resident, "my_notices", &[]).await.json();
    assert_eq!(inbox[0]["kind"], "alarm_offline");
    let body = inbox[0]["message"]["body"].as_str().unwrap();
    assert!(
        body.ends_with(" (hakuna kilichosikika tangu 06/12/2026 06:00)"),
        "{body}"
    );
}

#[tokio::test]
async fn gone_subscriptions_are_deleted_busy_services_retried_and_muted_kinds_not_sent() {
    let push = PushService::start().await;
    let app = spawn_pushing().await;
    let resident = app.sign_in(RESIDENT, demo::PASSWORD).await;
    let (old, busy) = (Browser::new(5), Browser::new(6));
    subscribe(&app, &resident, &old, &push.endpoint("old")).await;
    subscribe(&app, &resident, &busy, &push.endpoint("busy")).await;
    push.script("old", &[410]);
    push.script("busy", &[503]);

    let account = app.wallet("A-101", "electricity").await;
    app.queue_notice(
        account,
        "cut_off",
        json!({ "account": account, "balance_minor": 0 }),
        "g:1",
    )
    .await;
    app.notifier.run_once(Utc::now()).await.unwrap();
    push.wait_for("old", 1).await;
    push.wait_for("busy", 1).await;
    app.settled().await;
    let subscriptions = "SELECT COUNT(*) FROM push_subscriptions";
    assert_eq!(app.count(subscriptions).await, 1, "the gone one is deleted");
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM notification_deliveries WHERE status = 'queued' AND attempts = 1"
        )
        .await,
        1,
        "the busy one waits for another try"
    );

    let report = app
        .notifier
        .run_once(Utc::now() + Duration::minutes(5))
        .await
        .unwrap();
    assert_eq!(report.sent, 1, "{report:?}");
    let received = push.wait_for("busy", 2).await;
    assert_eq!(busy.decrypt(&received[1].body)["title"], "Supply cut off");
    assert_eq!(push.received("old").len(), 1);

    // Payments muted: the receipt is in the in-app list but no device hears of it.
    let saved = app
        .call(
            &resident,
            "save_notification_settings",
            &[
                ("low_balance", "on"),
                ("cut_off", "on"),
                ("quiet_from", ""),
                ("quiet_to", ""),
                ("locale", ""),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    pay(&app, &resident, account, "300").await;
    app.notifier.run_once(Utc::now()).await.unwrap();
    assert_eq!(
        app.count("SELECT COUNT(*) FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id \
             WHERE n.kind = 'payment_received'"
        )
        .await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM notifications WHERE kind = 'payment_received' AND status = 'queued'").await,
        0,
        "handed out, to nobody"
    );
    let inbox = app.call(&resident, "my_notices", &[]).await.json();
    assert_eq!(inbox[0]["kind"], "payment_received");
    assert_eq!(push.received("busy").len(), 2);
}

#[tokio::test]
async fn only_listed_push_services_are_accepted_and_signing_out_forgets_the_browser() {
    let push = PushService::start().await;
    let app = spawn_pushing().await;
    let resident = app.sign_in(RESIDENT, demo::PASSWORD).await;
    let browser = Browser::new(7);
    for endpoint in [
        "http://10.0.0.1/push/x",
        "http://localhost:9/push/x",
        "file:///etc/passwd",
    ] {
        let refused = app
            .call(
                &resident,
                "subscribe_push",
                &[
                    ("endpoint", endpoint),
                    ("p256dh", &browser.p256dh()),
                    ("auth", &browser.auth()),
                    ("label", ""),
                ],
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{endpoint}: {}",
            refused.body
        );
    }
    let bad_keys = app
        .call(
            &resident,
            "subscribe_push",
            &[
                ("endpoint", &push.endpoint("x")),
                ("p256dh", "AAAA"),
                ("auth", &browser.auth()),
                ("label", ""),
            ],
        )
        .await;
    assert_eq!(
        bad_keys.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        bad_keys.body
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM push_subscriptions").await,
        0
    );
    let stranger = app
        .call(
            &Visitor::default(),
            "subscribe_push",
            &[
                ("endpoint", &push.endpoint("x")),
                ("p256dh", &browser.p256dh()),
                ("auth", &browser.auth()),
                ("label", ""),
            ],
        )
        .await;
    assert_eq!(stranger.status, StatusCode::UNAUTHORIZED);

    subscribe(&app, &resident, &browser, &push.endpoint("shared-pc")).await;
    let settings = app
        .call(&resident, "notification_settings", &[])
        .await
        .json();
    assert_eq!(settings["devices"][0]["label"], "Test browser");
    assert_eq!(settings["zone"]["name"], "Africa/Nairobi");

    // Someone else cannot remove it; signing out on that browser does, and clears its caches.
    let neighbour = app.sign_in("a102@demo.example", demo::PASSWORD).await;
    let taken = app
        .call(
            &neighbour,
            "unsubscribe_push",
            &[("endpoint", &push.endpoint("shared-pc"))],
        )
        .await;
    assert_eq!(taken.status, StatusCode::OK);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM push_subscriptions").await,
        1
    );
    let signed_out = app.call(&resident, "sign_out", &[]).await;
    assert_eq!(
        signed_out.headers["clear-site-data"], "\"cache\", \"storage\"",
        "{:?}",
        signed_out.headers
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM push_subscriptions").await,
        0
    );
}
