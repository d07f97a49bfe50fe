//! Web push notifications encrypted (RFC 8291, aes128gcm), signed (VAPID, RFC 8292) and sent
//! per second to a push service on loopback: `cargo bench -p server --bench push [-- N]`.
//!
//! The demo's data on SQLite; `N` browsers subscribed (spread over the demo's residents, each
//! with its own endpoint); one payment notice queued for each. The notifier's own delivery
//! rounds (claim a hundred, encrypt and send them concurrently, record each outcome) run until
//! every delivery is sent. The push service answers 201 at once and keeps nothing, so the
//! figure is the platform's side: claiming, encrypting, signing, HTTP and recording.

use axum::{Router, http::StatusCode, routing::post};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::Utc;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use server::{
    Platform,
    config::{Config, Secret},
    demo, on_db,
};
use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};

// For the runtime the server runs on (`support::run`).
mod support;

fn main() {
    support::run(bench());
}

async fn bench() {
    let count = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(5_000);
    println!("push benchmark: {count} notices to {count} browsers, SQLite");

    let received = Arc::new(AtomicU64::new(0));
    let service = {
        let received = received.clone();
        Router::new().route(
            "/push/{id}",
            post(move || {
                let received = received.clone();
                async move {
                    received.fetch_add(1, Ordering::Relaxed);
                    StatusCode::CREATED
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let service_addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, service).await });

    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        database_url: Some(Secret::new(format!(
            "sqlite://{}",
            dir.path().join("push.db").display()
        ))),
        ..Config::default()
    };
    config.push.services = vec!["127.0.0.1".into()];
    config.push.allow_http = true;
    config.push.subject = Some("mailto:operator@bench.example".into());
    let platform = Platform::open(config).await.unwrap();
    demo::seed(&platform.db).await.unwrap();
    demo::seed_engine(&platform.engine).await.unwrap();
    // What the demo queued goes first, so only the benchmark's notices are timed.
    platform.engine.run_jobs(Utc::now()).await.unwrap();
    platform.notifier.run_once(Utc::now()).await.unwrap();

    // One browser key pair serves every subscription: encryption still runs per message
    // (a fresh ephemeral key and salt each), which is what costs.
    let browser = p256::SecretKey::from_slice(&[7_u8; 32]).unwrap();
    let p256dh = URL_SAFE_NO_PAD.encode(browser.public_key().to_encoded_point(false).as_bytes());
    let auth = URL_SAFE_NO_PAD.encode([9_u8; 16]);
    let now = Utc::now();
    on_db!(&platform.db, pool => {
        let wallets: Vec<(i64, i64, i64)> = sqlx::query_as(
            "SELECT w.account_id, a.site_id, o.user_id FROM wallets w JOIN accounts a ON a.id = w.account_id \
             JOIN occupancies o ON o.unit_id = w.unit_id AND o.ends_at IS NULL WHERE w.closed_at IS NULL",
        )
        .fetch_all(pool)
        .await?;
        let mut tx = pool.begin().await?;
        for n in 0..count {
            let (wallet, site, user) = wallets[n % wallets.len()];
            let subscription: i64 = sqlx::query_scalar(
                "INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(user)
            .bind(format!("http://{service_addr}/push/{n}"))
            .bind(&p256dh)
            .bind(&auth)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            let body = serde_json::json!({ "payment": format!("pay_bench{n}"), "amount_minor": 50_000,
                "currency": "KES", "receipt": format!("R-{n}"), "balance_minor": 120_000 });
            let notice: i64 = sqlx::query_scalar(
                "INSERT INTO notifications (site_id, wallet_account_id, audience, kind, body, dedupe_key, status, created_at) \
                 VALUES ($1, $2, 'resident', 'payment_received', $3, $4, 'sent', $5) RETURNING id",
            )
            .bind(site)
            .bind(wallet)
            .bind(body.to_string())
            .bind(format!("bench:{n}"))
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO notification_deliveries (notification_id, channel, subscription_id, user_id, next_attempt_at, created_at) \
                 VALUES ($1, 'push', $2, $3, $4, $4)",
            )
            .bind(notice)
            .bind(subscription)
            .bind(user)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    })
    .unwrap();

    let timer = Instant::now();
    let mut sent = 0;
    while sent < count {
        let report = platform.notifier.run_once(Utc::now()).await.unwrap();
        if report.sent == 0 && report.retried + report.failed + report.gone > 0 {
            panic!("deliveries failed: {report:?}");
        }
        sent += report.sent as usize;
    }
    let seconds = timer.elapsed().as_secs_f64();
    assert_eq!(
        received.load(Ordering::Relaxed) as usize,
        count,
        "the push service received every notice once"
    );
    println!("  {count} pushes encrypted, signed, sent and recorded in {seconds:.2} s");
    println!("pushes:           {:>10.0} /s", count as f64 / seconds);
}
