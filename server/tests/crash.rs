//! Crash safety: the real `prepaid` binary, killed with SIGKILL in the middle of a load of
//! readings (the HTTP API) and M-Pesa paybill callbacks, ten times at different moments, on one
//! SQLite database. After each restart every answered reading and payment is there exactly
//! once, and at the end, with every callback delivered again (as providers retry those they
//! got no answer to), each payment counts once and the ledger reconciles.

use crate::support;

use serde_json::json;
use server::{
    Platform,
    api::keys::{ApiKeys, NewKey},
    demo, on_db,
};
use std::{
    collections::BTreeSet,
    path::Path,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

const ROUNDS: u64 = 10;
const METERS: usize = 20;

struct Setup {
    key: String,
    c2b_path: String,
    serials: Vec<String>,
}

/// The demo, M-Pesa paybill on its site, and an API key for readings: made in-process on the
/// database the binary will use.
async fn set_up(dir: &Path) -> Setup {
    let platform = Platform::open(support::sqlite_config(dir)).await.unwrap();
    demo::seed(&platform.db).await.unwrap();
    demo::seed_engine(&platform.engine).await.unwrap();
    let (site, org, admin): (i64, i64, i64) = on_db!(&platform.db, pool => {
        sqlx::query_as(
            "SELECT s.id, s.organisation_id, u.id FROM sites s JOIN users u ON u.organisation_id = s.organisation_id \
             WHERE s.name = $1 AND u.email = $2",
        )
        .bind(demo::SITE)
        .bind(demo::ADMIN)
        .fetch_one(pool)
        .await
    })
    .unwrap();
    platform
        .payments
        .configure(
            site,
            app::domain::payments::ProviderKind::Mpesa,
            true,
            json!({ "base_url": "http://127.0.0.1:9", "short_code": "174379" }),
            json!({ "consumer_key": "ck", "consumer_secret": "cs", "passkey": "pk" }),
        )
        .await
        .unwrap();
    let key = ApiKeys::new(platform.db.clone())
        .create(org, admin, "crash test", NewKey::Gateway { site })
        .await
        .unwrap()
        .secret;
    let token = platform.payments.url_token(&format!("c2b:{site}"));
    let serials: Vec<String> = on_db!(&platform.db, pool => {
        sqlx::query_scalar(
            "SELECT m.serial FROM wallets w JOIN meters m ON m.id = w.meter_id \
             WHERE w.closed_at IS NULL AND m.utility = 'electricity' ORDER BY m.id LIMIT $1",
        )
        .bind(METERS as i64)
        .fetch_all(pool)
        .await
    })
    .unwrap();
    platform.db.close().await;
    Setup {
        key,
        c2b_path: format!("/hooks/mpesa/c2b/{site}/{token}"),
        serials,
    }
}

fn start(dir: &Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_prepaid"))
        .arg("serve")
        .env("PREPAID_DATA_DIR", dir)
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.join("test.db").display()),
        )
        .env("PREPAID_LISTEN", format!("127.0.0.1:{port}"))
        .env("PREPAID_SIMULATOR", "false")
        .env("PREPAID_LOG", "error")
        .env("PREPAID_CALLBACKS_PER_MINUTE", "1000000")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts")
}

/// What the load sent, and which of it the server answered.
#[derive(Clone, Default)]
struct Ledger {
    sent_payments: BTreeSet<String>,
    answered_payments: BTreeSet<String>,
    answered_readings: BTreeSet<(String, i64)>,
}

fn c2b(id: &str, serial: &str) -> String {
    json!({ "TransactionType": "Pay Bill", "TransID": id, "TransTime": "20261201101010",
        "TransAmount": "10.00", "BusinessShortCode": "174379", "BillRefNumber": serial,
        "MSISDN": "2547XXXXX" })
    .to_string()
}

/// Sends readings and callbacks until the server stops answering.
async fn load(
    client: reqwest::Client,
    base: String,
    setup: Arc<Setup>,
    round: u64,
    seen: Arc<Mutex<Ledger>>,
) {
    let payments = {
        let (client, base, setup, seen) =
            (client.clone(), base.clone(), setup.clone(), seen.clone());
        tokio::spawn(async move {
            for n in 0.. {
                let id = format!("R{round}P{n}");
                let serial = &setup.serials[n % setup.serials.len()];
                seen.lock().unwrap().sent_payments.insert(id.clone());
                let answer = client
                    .post(format!("{base}{}", setup.c2b_path))
                    .header("content-type", "application/json")
                    .body(c2b(&id, serial))
                    .send()
                    .await;
                match answer {
                    Ok(answer) if answer.status().is_success() => {
                        seen.lock().unwrap().answered_payments.insert(id);
                    }
                    Ok(answer) => panic!("callback {id} refused: {}", answer.status()),
                    Err(_) => return,
                }
            }
        })
    };
    // Each batch: one reading per meter, a minute after the last, registers rising.
    let start = chrono::Utc::now() - chrono::Duration::days(30)
        + chrono::Duration::hours(round as i64 * 24);
    for batch in 0_i64.. {
        let taken_at = start + chrono::Duration::minutes(batch);
        let stamp = taken_at.timestamp();
        let readings: Vec<_> = setup
            .serials
            .iter()
            .map(|serial| {
                json!({ "serial": serial, "taken_at": taken_at,
                    "register": format!("{}.{}", 100_000 + round * 10_000 + batch as u64 / 10, batch % 10) })
            })
            .collect();
        let answer = client
            .post(format!("{base}/api/v1/readings"))
            .bearer_auth(&setup.key)
            .header("idempotency-key", format!("r{round}-{batch}"))
            .json(&json!({ "readings": readings }))
            .send()
            .await;
        match answer {
            Ok(answer) if answer.status().is_success() => {
                let mut seen = seen.lock().unwrap();
                for serial in &setup.serials {
                    seen.answered_readings.insert((serial.clone(), stamp));
                }
            }
            Ok(answer) => panic!(
                "readings refused: {} {}",
                answer.status(),
                answer.text().await.unwrap_or_default()
            ),
            Err(_) => break,
        }
    }
    let _ = payments.await;
}

async fn check_nothing_lost_or_doubled(dir: &Path, seen: &Ledger) {
    let db = server::db::Db::connect(&format!("sqlite://{}", dir.join("test.db").display()))
        .await
        .unwrap();
    let paid: Vec<(String, i64)> = on_db!(&db, pool => {
        sqlx::query_as("SELECT provider_reference, COUNT(*) FROM payments WHERE provider = 'mpesa' GROUP BY provider_reference")
            .fetch_all(pool).await
    })
    .unwrap();
    for (reference, count) in &paid {
        assert_eq!(*count, 1, "payment {reference} counted {count} times");
        assert!(
            seen.sent_payments.contains(reference),
            "{reference} never sent"
        );
    }
    let paid: BTreeSet<String> = paid.into_iter().map(|(reference, _)| reference).collect();
    let lost: Vec<_> = seen.answered_payments.difference(&paid).collect();
    assert!(lost.is_empty(), "answered payments lost: {lost:?}");
    let readings: BTreeSet<(String, i64)> = on_db!(&db, pool => {
        sqlx::query_as::<_, (String, server::db::ReadingTime)>(
            "SELECT m.serial, r.taken_at FROM readings r JOIN meters m ON m.id = r.meter_id",
        )
        .fetch_all(pool)
        .await
    })
    .unwrap()
    .into_iter()
    .map(|(serial, at)| (serial, at.0.timestamp()))
    .collect();
    let lost: Vec<_> = seen
        .answered_readings
        .difference(&readings)
        .take(5)
        .collect();
    assert!(lost.is_empty(), "answered readings lost: {lost:?}");
    let (_, differences) = server::ledger::reconcile(&db).await.unwrap();
    assert!(differences.is_empty(), "{differences:?}");
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_ten_times_mid_load_it_loses_nothing_and_counts_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let setup = Arc::new(set_up(dir.path()).await);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let seen = Arc::new(Mutex::new(Ledger::default()));
    for round in 0..ROUNDS {
        let port = support::free_port();
        let base = format!("http://127.0.0.1:{port}");
        let mut server = start(dir.path(), port);
        support::wait_ready(&client, &base).await;
        let loading = tokio::spawn(load(
            client.clone(),
            base.clone(),
            setup.clone(),
            round,
            seen.clone(),
        ));
        // A different moment each round, from just started to well into the load.
        tokio::time::sleep(Duration::from_millis(150 + round * 137)).await;
        server.kill().expect("SIGKILL");
        server.wait().unwrap();
        loading.await.unwrap();
        let snapshot = seen.lock().unwrap().clone();
        check_nothing_lost_or_doubled(dir.path(), &snapshot).await;
    }
    let answered = seen.lock().unwrap().answered_payments.len();
    assert!(answered > 0, "the load reached the server");

    // Providers deliver again what got no answer (and sometimes what did): every payment
    // then counts once.
    let port = support::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start(dir.path(), port);
    support::wait_ready(&client, &base).await;
    let sent: Vec<String> = seen.lock().unwrap().sent_payments.iter().cloned().collect();
    for (n, id) in sent.iter().enumerate() {
        let serial = &setup.serials[n % setup.serials.len()];
        let answer = client
            .post(format!("{base}{}", setup.c2b_path))
            .header("content-type", "application/json")
            .body(c2b(id, serial))
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_success());
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let all = Ledger {
        sent_payments: sent.iter().cloned().collect(),
        answered_payments: sent.iter().cloned().collect(),
        answered_readings: seen.lock().unwrap().answered_readings.clone(),
    };
    check_nothing_lost_or_doubled(dir.path(), &all).await;
    eprintln!(
        "{ROUNDS} kills: {answered} payments answered before a kill, {} sent, {} readings answered",
        sent.len(),
        all.answered_readings.len()
    );

    // The operator's own check, as the README gives it.
    let reconcile = Command::new(env!("CARGO_BIN_EXE_prepaid"))
        .arg("reconcile")
        .env("PREPAID_DATA_DIR", dir.path())
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.path().join("test.db").display()),
        )
        .env("PREPAID_LOG", "error")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&reconcile.stdout);
    assert!(reconcile.status.success(), "{out}");
    assert!(out.contains("0 difference(s)"), "{out}");
}
