//! Webhooks to a receiver on loopback that verifies signatures the documented way and fails
//! the first tries.

use super::support::{spawn_with, test_config};
use super::{demo_admin, key, post};
use axum::{Router, extract::State, http::HeaderMap, routing::post as route_post};
use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use server::{api::keys::NewKey, api::keys::Scope, webhooks::sign};
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Receiver {
    /// Each request: its signature header and body.
    seen: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    /// How many requests to fail before answering 200.
    fail_first: usize,
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: String) -> StatusCode {
    let mut seen = receiver.seen.lock().unwrap();
    seen.push((headers, body));
    if seen.len() <= receiver.fail_first {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::NO_CONTENT
    }
}

async fn start_receiver(fail_first: usize) -> (String, Receiver) {
    let receiver = Receiver {
        seen: Arc::default(),
        fail_first,
    };
    let router = Router::new()
        .route("/hooks", route_post(receive))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (format!("http://{addr}/hooks"), receiver)
}

#[tokio::test]
async fn webhooks_are_signed_retried_and_sent_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.webhooks_to_private = true;
    let app = spawn_with(config, dir).await;
    let (url, receiver) = start_receiver(2).await;

    // An admin subscribes through the console's server function; the secret is answered once.
    let admin = app
        .sign_in("admin@demo.example", server::demo::PASSWORD)
        .await;
    let manager = app
        .sign_in("manager@demo.example", server::demo::PASSWORD)
        .await;
    let refused = app
        .call(
            &manager,
            "subscribe_webhook",
            &[("url", url.as_str()), ("alarm_raised", "on")],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::FORBIDDEN,
        "managers cannot subscribe"
    );
    let subscribed = app
        .call(
            &admin,
            "subscribe_webhook",
            &[
                ("url", url.as_str()),
                ("alarm_raised", "on"),
                ("alarm_resolved", "on"),
            ],
        )
        .await;
    assert_eq!(subscribed.status, StatusCode::OK, "{}", subscribed.body);
    let secret = subscribed.json().as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let stored: String = server::on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT secret_sealed FROM webhook_subscriptions").fetch_one(pool).await
    })
    .unwrap();
    assert!(!stored.contains(&secret[6..]), "the secret is sealed");
    let nonsense = app
        .call(
            &admin,
            "subscribe_webhook",
            &[("url", "ftp://example.org"), ("alarm_raised", "on")],
        )
        .await;
    assert_eq!(nonsense.status, StatusCode::UNPROCESSABLE_ENTITY);

    // A gateway reports a gas leak: the alarm is raised and becomes one delivery.
    let key = key(
        &app,
        demo_admin(&app).await,
        NewKey::Organisation(vec![Scope::Readings, Scope::Write]),
    )
    .await;
    let serial: String = server::on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT serial FROM meters WHERE utility = 'gas' ORDER BY id LIMIT 1").fetch_one(pool).await
    })
    .unwrap();
    let reported = post(
        &app,
        &key,
        "/readings",
        json!({ "alarms": [
        { "serial": serial, "at": Utc::now(), "kind": "gas_leak", "detail": "sensor 3" }
    ] }),
        "leak-1",
    )
    .await;
    assert_eq!(reported.status, StatusCode::OK, "{:?}", reported.body);

    // Scanning again and again hands it out once; the background loop may have too.
    let now = Utc::now() + Duration::seconds(1);
    app.webhooks.scan(now).await.unwrap();
    app.webhooks.scan(now).await.unwrap();
    assert_eq!(
        app.count("SELECT COUNT(*) FROM webhook_deliveries").await,
        1
    );

    // Tried until the receiver takes it: 503, 503, then 204, each a later "now".
    for step in 0..6 {
        app.webhooks
            .deliver_due(now + Duration::minutes(step * 5))
            .await
            .unwrap();
        if receiver.seen.lock().unwrap().len() >= 3 {
            break;
        }
    }
    let seen = receiver.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "two failures, then delivered");
    for (headers, body) in &seen {
        let signature = headers[sign::HEADER].to_str().unwrap();
        assert!(sign::verify(
            &secret,
            signature,
            body.as_bytes(),
            Utc::now().timestamp()
        ));
        assert!(!sign::verify(
            "whsec_wrong",
            signature,
            body.as_bytes(),
            Utc::now().timestamp()
        ));
        assert_eq!(headers["prepaid-event"], "alarm.raised");
    }
    let event: Value = serde_json::from_str(&seen[0].1).unwrap();
    assert_eq!(event["type"], "alarm.raised");
    assert_eq!(event["data"]["kind"], "gas_leak");
    assert_eq!(seen[0].1, seen[2].1, "a retry sends the same event");
    app.webhooks
        .deliver_due(now + Duration::hours(6))
        .await
        .unwrap();
    assert_eq!(receiver.seen.lock().unwrap().len(), 3, "delivered once");

    // The admin sees the delivery with its three attempts; another organisation cannot.
    let webhook: i64 = app.count("SELECT id FROM webhook_subscriptions").await;
    let deliveries = app
        .call(
            &admin,
            "webhook_deliveries",
            &[("webhook", &webhook.to_string())],
        )
        .await;
    assert_eq!(deliveries.status, StatusCode::OK, "{}", deliveries.body);
    let deliveries = deliveries.json();
    assert_eq!(deliveries["deliveries"][0]["status"], "delivered");
    let attempts = deliveries["deliveries"][0]["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 3);
    assert_eq!(attempts[0]["status_code"], 503);
    assert_eq!(attempts[2]["status_code"], 204);
    let other = app
        .sign_in(super::support::OTHER_ADMIN, server::demo::PASSWORD)
        .await;
    let hidden = app
        .call(
            &other,
            "webhook_deliveries",
            &[("webhook", &webhook.to_string())],
        )
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    let page = app
        .get(&admin, &format!("/manage/integrations/webhooks/{webhook}"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("answered 503") && page.body.contains("delivered"));

    // Resolved through the API: an alarm.resolved event follows.
    let alarm: i64 = app
        .count("SELECT MAX(id) FROM alarms WHERE kind = 'gas_leak'")
        .await;
    let resolved = post(
        &app,
        &key,
        &format!("/alarms/{alarm}/resolve"),
        json!({ "note": "valve replaced" }),
        "resolve-1",
    )
    .await;
    assert_eq!(resolved.status, StatusCode::OK, "{:?}", resolved.body);
    assert_eq!(resolved.body["status"], "resolved");
    let later = Utc::now() + Duration::seconds(1);
    app.webhooks.scan(later).await.unwrap();
    app.webhooks.deliver_due(later).await.unwrap();
    let last: Value =
        serde_json::from_str(&receiver.seen.lock().unwrap().last().unwrap().1).unwrap();
    assert_eq!(last["type"], "alarm.resolved");

    // Stopped: nothing more is handed out.
    let stopped = app
        .call(
            &admin,
            "disable_webhook",
            &[("webhook", &webhook.to_string())],
        )
        .await;
    assert_eq!(stopped.status, StatusCode::OK, "{}", stopped.body);
    let before = app.count("SELECT COUNT(*) FROM webhook_deliveries").await;
    post(
        &app,
        &key,
        "/readings",
        json!({ "alarms": [
        { "serial": serial, "at": Utc::now(), "kind": "tamper" }
    ] }),
        "tamper-1",
    )
    .await;
    app.webhooks
        .scan(Utc::now() + Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(
        app.count("SELECT COUNT(*) FROM webhook_deliveries").await,
        before
    );
}

#[tokio::test]
async fn a_receiver_that_never_answers_well_is_given_up() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.webhooks_to_private = true;
    let app = spawn_with(config, dir).await;
    let (url, receiver) = start_receiver(usize::MAX).await;
    let (admin, org) = demo_admin(&app).await;
    app.webhooks
        .subscribe(org, admin, &url, &["alarm.raised".to_owned()])
        .await
        .unwrap();
    let key = key(
        &app,
        (admin, org),
        NewKey::Organisation(vec![Scope::Readings]),
    )
    .await;
    let serial: String = server::on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT serial FROM meters WHERE utility = 'water' ORDER BY id LIMIT 1").fetch_one(pool).await
    })
    .unwrap();
    post(
        &app,
        &key,
        "/readings",
        json!({ "alarms": [
        { "serial": serial, "at": Utc::now(), "kind": "water_flow" }
    ] }),
        "flow-1",
    )
    .await;
    let now = Utc::now() + Duration::seconds(1);
    app.webhooks.scan(now).await.unwrap();
    for hour in 0..40 {
        app.webhooks
            .deliver_due(now + Duration::hours(hour))
            .await
            .unwrap();
    }
    assert_eq!(
        receiver.seen.lock().unwrap().len(),
        server::webhooks::send::MAX_ATTEMPTS as usize
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'failed'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM webhook_attempts").await,
        server::webhooks::send::MAX_ATTEMPTS
    );
}
