//! Readings rated and posted per second, beside the raw INSERT rate of the same reading rows:
//! `cargo bench -p server --bench rating [-- METERS ROUNDS INSTANCES]`. SQLite by default;
//! with `PREPAID_BENCH_POSTGRES_URL` (a role that may create databases) on a fresh PostgreSQL
//! database instead.
//!
//! A site of `METERS` meters (three per unit, every unit occupied, every wallet in credit)
//! under the demo's tariffs (electricity tiered with time-of-use bands, tax and a standing
//! charge); each round every meter sends one reading, 15 minutes after the last, and a round
//! is one batch. The first round (baselines) is not timed. The raw rate writes the same rows
//! into the same `readings` table of a fresh database, in the same batches, and nothing else.
//! The time rating took is split by phase (`prepaid_rating_seconds_total`): loading state,
//! pricing, and writing with the commit, whose rate alone is a ceiling for the engine.
//!
//! `INSTANCES` 2 (PostgreSQL only) opens the database twice, as two server instances do:
//! two engines with their own pools and in-process turns, sharing only the database and its
//! writer lock; each rates half the meters, concurrently.

use app::domain::{Minor, UnitId};
use chrono::{Duration, Utc};
use rust_decimal::Decimal;
use server::{
    Platform,
    config::{Config, Secret},
    demo,
    engine::{money::Source, rating::IncomingReading, setup::BillingMode},
    metrics::{self, RatingPhase},
    on_db, on_tx,
};
use std::time::Instant;
use support::{build_site, fresh_postgres, peak_memory_mb};

mod support;

fn main() {
    support::run(bench());
}

async fn bench() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let meters = args.first().copied().unwrap_or(6_000).max(3) / 3 * 3;
    let rounds = args.get(1).copied().unwrap_or(11).max(2);
    let instances = args.get(2).copied().unwrap_or(1).clamp(1, 2);
    let postgres = std::env::var("PREPAID_BENCH_POSTGRES_URL").ok();
    if instances > 1 && postgres.is_none() {
        panic!("two instances share a PostgreSQL database: set PREPAID_BENCH_POSTGRES_URL");
    }
    println!(
        "rating benchmark: {meters} meters, {rounds} rounds of one reading per meter, {} ({instances} instance{})",
        if postgres.is_some() {
            "PostgreSQL"
        } else {
            "SQLite, WAL"
        },
        if instances > 1 { "s" } else { "" }
    );

    let dir = tempfile::tempdir().expect("a temporary directory");
    let rated_url = database(&dir, postgres.as_deref(), "rated").await;
    let rated = rated_rate(&dir, &rated_url, meters, rounds, instances).await;
    let raw_url = database(&dir, postgres.as_deref(), "raw").await;
    let raw = raw_rate(&dir, &raw_url, meters, rounds).await;
    println!("rated and posted: {rated:>10.0} readings/s");
    println!("raw INSERT:       {raw:>10.0} readings/s");
    println!("ratio:            {:>10.1} x", raw / rated);
    if let Some(peak) = peak_memory_mb() {
        println!(
            "peak memory:      {peak:>10.0} MB (this process: the engines, their pools and the batches)"
        );
    }
}

/// A fresh database named `name`: a SQLite file, or a PostgreSQL database made for the run.
async fn database(dir: &tempfile::TempDir, postgres: Option<&str>, name: &str) -> String {
    match postgres {
        Some(admin_url) => fresh_postgres(admin_url, name).await,
        None => format!(
            "sqlite://{}",
            dir.path().join(format!("{name}.db")).display()
        ),
    }
}

fn config(dir: &std::path::Path, url: &str) -> Config {
    Config {
        data_dir: dir.to_path_buf(),
        database_url: Some(Secret::new(url)),
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

async fn rated_rate(
    dir: &tempfile::TempDir,
    url: &str,
    meters: usize,
    rounds: usize,
    instances: usize,
) -> f64 {
    let platform = Platform::open(config(dir.path(), url))
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
    // The second instance: its own pool and engine on the same database.
    let second = if instances > 1 {
        Some(
            Platform::open(config(dir.path(), url))
                .await
                .expect("opens"),
        )
    } else {
        None
    };
    let halves: Vec<&[i64]> = match second {
        Some(_) => {
            let (first, rest) = meter_ids.split_at(meter_ids.len() / 2);
            vec![first, rest]
        }
        None => vec![&meter_ids[..]],
    };
    let phases_before = RatingPhase::ALL.map(metrics::rating_seconds);
    let timer = Instant::now();
    let mut rated = 0;
    for r in 1..rounds {
        match &second {
            None => rated += engine.rate(round(halves[0], r)).await.unwrap().rated,
            Some(other) => {
                let (one, two) = tokio::join!(
                    engine.rate(round(halves[0], r)),
                    other.engine.rate(round(halves[1], r))
                );
                rated += one.unwrap().rated + two.unwrap().rated;
            }
        }
    }
    let seconds = timer.elapsed().as_secs_f64();
    let (_, differences) = server::ledger::reconcile(&platform.db).await.unwrap();
    assert!(
        differences.is_empty(),
        "the ledger reconciles after the run"
    );
    println!("  rated {rated} readings in {seconds:.2} s; ledger reconciles");
    // Where the time went (summed over the instances, which overlap): the write phase alone
    // bounds the rate however cheap loading and pricing become.
    let spent: Vec<f64> = RatingPhase::ALL
        .iter()
        .zip(phases_before)
        .map(|(phase, before)| metrics::rating_seconds(*phase) - before)
        .collect();
    println!(
        "  phases: load {:.2} s, price {:.2} s, write and commit {:.2} s; writes alone: {:.0} readings/s",
        spent[0],
        spent[1],
        spent[2],
        rated as f64 / spent[2]
    );
    rated as f64 / seconds
}

async fn raw_rate(dir: &tempfile::TempDir, url: &str, meters: usize, rounds: usize) -> f64 {
    let platform = Platform::open(config(dir.path(), url))
        .await
        .expect("opens");
    let (_, _, meter_ids) = build_site(&platform.db, meters / 3).await;
    let now = Utc::now();
    let timer = Instant::now();
    let mut written = 0;
    for r in 1..rounds {
        let batch = round(&meter_ids, r);
        let mut tx = platform.db.begin_write().await.unwrap();
        for chunk in batch.chunks(server::ledger::CHUNK) {
            on_tx!(&mut tx, conn => {
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
                insert.build().execute(&mut *conn).await.map(|_| ())
            })
            .unwrap();
        }
        tx.commit().await.unwrap();
        written += batch.len();
    }
    let seconds = timer.elapsed().as_secs_f64();
    println!("  raw: {written} rows in {seconds:.2} s");
    written as f64 / seconds
}
