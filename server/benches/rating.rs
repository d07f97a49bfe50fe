//! Readings rated and posted per second on SQLite, beside the raw INSERT rate of the same
//! reading rows: `cargo bench -p server --bench rating` (options after `--`: meters, rounds).
//!
//! A site of `meters` meters (three per unit, every unit occupied, every wallet in credit)
//! under the demo's tariffs (electricity tiered with time-of-use bands, tax and a standing
//! charge); each round every meter sends one reading, 15 minutes after the last, and a round
//! is one batch. The first round (baselines) is not timed. The raw rate writes the same rows
//! into the same `readings` table of a fresh database, in the same batches, and nothing else.

use app::domain::{Minor, UnitId};
use chrono::{Duration, Utc};
use rust_decimal::Decimal;
use server::{
    Platform,
    config::{Config, Secret},
    db::Db,
    demo,
    engine::{money::Source, rating::IncomingReading, setup::BillingMode},
    on_db,
};
use std::time::Instant;
use support::build_site;

mod support;

#[tokio::main]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let meters = args.first().copied().unwrap_or(6_000).max(3) / 3 * 3;
    let rounds = args.get(1).copied().unwrap_or(11).max(2);
    println!(
        "rating benchmark: {meters} meters, {rounds} rounds of one reading per meter (SQLite, WAL)"
    );

    let dir = tempfile::tempdir().expect("a temporary directory");
    let rated = rated_rate(&dir, meters, rounds).await;
    let raw = raw_rate(&dir, meters, rounds).await;
    println!("rated and posted: {rated:>10.0} readings/s");
    println!("raw INSERT:       {raw:>10.0} readings/s");
    println!("ratio:            {:>10.1} x", raw / rated);
}

fn config(dir: &std::path::Path, name: &str) -> Config {
    Config {
        data_dir: dir.to_path_buf(),
        database_url: Some(Secret::new(format!(
            "sqlite://{}",
            dir.join(name).display()
        ))),
        ..Config::default()
    }
}

/// One reading per meter per round, 15 minutes apart, 0.01 to 0.5 units each.
fn round(meter_ids: &[i64], round: usize) -> Vec<IncomingReading> {
    let start = Utc::now() - Duration::days(30);
    meter_ids
        .iter()
        .map(|&meter| {
            let step = Decimal::new(1 + (meter % 50), 2);
            IncomingReading {
                meter,
                taken_at: start + Duration::minutes(15 * round as i64),
                register: step * Decimal::from(round as i64),
            }
        })
        .collect()
}

async fn rated_rate(dir: &tempfile::TempDir, meters: usize, rounds: usize) -> f64 {
    let platform = Platform::open(config(dir.path(), "rated.db"))
        .await
        .expect("opens");
    let engine = platform.engine.clone();
    let (site, units, meter_ids) = build_site(&platform.db, meters / 3).await;
    engine
        .set_policy(site, BillingMode::PerMeter, &Default::default())
        .await
        .unwrap();
    for (utility, tariff) in demo::demo_tariffs() {
        engine
            .set_tariff(
                site,
                utility,
                Utc::now() - Duration::days(400),
                &tariff,
                None,
            )
            .await
            .unwrap();
    }
    let setup = Instant::now();
    for unit in &units {
        engine.move_in(UnitId(*unit)).await.unwrap();
    }
    let wallets: Vec<i64> = on_db!(&platform.db, pool => {
        sqlx::query_scalar("SELECT account_id FROM wallets WHERE unit_id IS NOT NULL").fetch_all(pool).await
    })
    .unwrap();
    for wallet in &wallets {
        let source = Source::Provider {
            provider: "bench".into(),
            reference: format!("w{wallet}"),
        };
        engine
            .top_up(*wallet, Minor(10_000_000), source, None)
            .await
            .unwrap();
    }
    println!(
        "  set-up: {} wallets opened and topped up in {:.1} s",
        wallets.len(),
        setup.elapsed().as_secs_f64()
    );
    engine.rate(round(&meter_ids, 0)).await.unwrap();
    let timer = Instant::now();
    let mut rated = 0;
    for r in 1..rounds {
        let report = engine.rate(round(&meter_ids, r)).await.unwrap();
        rated += report.rated;
    }
    let seconds = timer.elapsed().as_secs_f64();
    let (_, differences) = server::ledger::reconcile(&platform.db).await.unwrap();
    assert!(
        differences.is_empty(),
        "the ledger reconciles after the run"
    );
    println!("  rated {rated} readings in {seconds:.2} s; ledger reconciles");
    rated as f64 / seconds
}

async fn raw_rate(dir: &tempfile::TempDir, meters: usize, rounds: usize) -> f64 {
    let platform = Platform::open(config(dir.path(), "raw.db"))
        .await
        .expect("opens");
    let (_, _, meter_ids) = build_site(&platform.db, meters / 3).await;
    let now = Utc::now();
    let timer = Instant::now();
    let mut written = 0;
    for r in 1..rounds {
        let batch = round(&meter_ids, r);
        let Db::Sqlite(pool) = &platform.db else {
            unreachable!("SQLite")
        };
        let mut tx = pool.begin().await.unwrap();
        for chunk in batch.chunks(server::ledger::CHUNK) {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO readings (meter_id, taken_at, register, received_at, status, quantity, net, tax, \
                 wallet_account_id, transaction_id, note) ",
            );
            insert.push_values(chunk, |mut row, reading| {
                row.push_bind(reading.meter)
                    .push_bind(reading.taken_at)
                    .push_bind(reading.register.to_string())
                    .push_bind(now)
                    .push_bind("rated")
                    .push_bind("0.25")
                    .push_bind("3.1")
                    .push_bind("0.496")
                    .push_bind(None::<i64>)
                    .push_bind(None::<i64>)
                    .push_bind(None::<String>);
            });
            insert.build().execute(&mut *tx).await.unwrap();
        }
        tx.commit().await.unwrap();
        written += batch.len();
    }
    let seconds = timer.elapsed().as_secs_f64();
    println!("  raw: {written} rows in {seconds:.2} s");
    written as f64 / seconds
}
