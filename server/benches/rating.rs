//! Readings rated and posted per second, beside the raw INSERT rate of the same reading rows:
//! `cargo bench -p server --bench rating [-- METERS ROUNDS INSTANCES PER_METER]`. SQLite by
//! default; with `PREPAID_BENCH_POSTGRES_URL` (a role that may create databases) on a fresh
//! PostgreSQL database instead.
//!
//! A site of `METERS` meters (three per unit, every unit occupied, every wallet in credit)
//! under the demo's tariffs (electricity tiered with time-of-use bands, tax and a standing
//! charge); each round every meter sends `PER_METER` readings (1 by default), 15 minutes
//! apart, and a round is one batch. More than one is a backlog caught up: meters that stored
//! their readings while the broker or the server was away. The first round (baselines) is not
//! timed. The raw rate writes the same rows into the same `readings` table of a fresh
//! database, in the same batches, and nothing else.
//! The time rating took is split by phase (`prepaid_rating_seconds_total`): loading state,
//! pricing, and writing with the commit, whose rate alone is a ceiling for the engine.
//! After the timed rounds the last one is sent again, as a broker redelivers after a
//! reconnection, and timed on its own: every reading must be found stored and none charged.
//!
//! On SQLite the run ends with SQLite alone writing one more reading per meter into the rated
//! database: the same rows rating writes (ledger lines and balances, readings, both roll-ups,
//! meter and wallet state), each table in one `INSERT … SELECT` or `UPDATE` inside SQLite, so
//! no Rust, no sqlx and no reads of state are in the time. No rating of that shape can be
//! faster on the machine.
//!
//! With `PREPAID_BENCH_TOP_UP_BETWEEN=1` one wallet is topped up between rounds, inside the
//! timed loop: a write other than rating's, after which a batch cannot use the state the one
//! before it held and loads every meter's and wallet's again. With
//! `PREPAID_BENCH_SIGN_IN_BETWEEN=1` a resident signs in between rounds instead (a session
//! written, as on every sign-in): a write that leaves rating's state as it was.
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
    db::ReadingTime,
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
    let per_meter = args.get(3).copied().unwrap_or(1).max(1);
    let postgres = std::env::var("PREPAID_BENCH_POSTGRES_URL").ok();
    if instances > 1 && postgres.is_none() {
        panic!("two instances share a PostgreSQL database: set PREPAID_BENCH_POSTGRES_URL");
    }
    println!(
        "rating benchmark: {meters} meters, {rounds} rounds of {per_meter} reading{} per meter, {} ({instances} instance{})",
        if per_meter > 1 { "s" } else { "" },
        if postgres.is_some() {
            "PostgreSQL"
        } else {
            "SQLite, WAL"
        },
        if instances > 1 { "s" } else { "" }
    );

    let dir = tempfile::tempdir().expect("a temporary directory");
    let rated_url = database(&dir, postgres.as_deref(), "rated").await;
    let shape = Shape {
        rounds,
        per_meter,
        start: Utc::now() - Duration::days(30),
    };
    let (rated, platform) = rated_rate(&dir, &rated_url, meters, shape, instances).await;
    let alone = match postgres {
        None => Some(sqlite_alone(&platform.db).await),
        Some(_) => None,
    };
    platform.db.close().await;
    let raw_url = database(&dir, postgres.as_deref(), "raw").await;
    let raw = raw_rate(&dir, &raw_url, meters, shape).await;
    println!("rated and posted: {rated:>10.0} readings/s");
    println!("raw INSERT:       {raw:>10.0} readings/s");
    println!("ratio:            {:>10.1} x", raw / rated);
    if let Some(alone) = alone {
        println!("SQLite alone:     {alone:>10.0} readings/s (one more per meter, the same rows)");
    }
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

/// How the readings come: `rounds` batches (the first untimed) of `per_meter` each, from
/// `start` on.
#[derive(Clone, Copy)]
struct Shape {
    rounds: usize,
    per_meter: usize,
    start: chrono::DateTime<Utc>,
}

/// The readings of round `round`: `per_meter` per meter, 15 minutes apart, 0.01 to 0.5 units
/// each.
fn round(meter_ids: &[i64], round: usize, shape: Shape) -> Vec<IncomingReading> {
    let Shape {
        per_meter, start, ..
    } = shape;
    let steps = round * per_meter..(round + 1) * per_meter;
    meter_ids
        .iter()
        .flat_map(|&meter| {
            let step = Decimal::new(1 + (meter % 50), 2);
            steps.clone().map(move |n| IncomingReading {
                meter,
                taken_at: start + Duration::minutes(15 * n as i64),
                register: step * Decimal::from(n as i64),
            })
        })
        .collect()
}

async fn rated_rate(
    dir: &tempfile::TempDir,
    url: &str,
    meters: usize,
    shape: Shape,
    instances: usize,
) -> (f64, Platform) {
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
    engine.rate(round(&meter_ids, 0, shape)).await.unwrap();
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
    let (held_before, loaded_before) = metrics::rating_meter_counts();
    let top_up_between = std::env::var("PREPAID_BENCH_TOP_UP_BETWEEN").is_ok_and(|v| v == "1");
    let sign_in_between = std::env::var("PREPAID_BENCH_SIGN_IN_BETWEEN").is_ok_and(|v| v == "1");
    let timer = Instant::now();
    let mut rated = 0;
    for r in 1..shape.rounds {
        if sign_in_between {
            sign_in(&platform.sessions, r).await;
        }
        if top_up_between {
            let source = Source::Provider {
                provider: "bench".into(),
                reference: format!("between-{r}"),
            };
            engine
                .top_up(wallets[r % wallets.len()], Minor(1_000), source, None)
                .await
                .unwrap();
        }
        match &second {
            None => rated += engine.rate(round(halves[0], r, shape)).await.unwrap().rated,
            Some(other) => {
                let (one, two) = tokio::join!(
                    engine.rate(round(halves[0], r, shape)),
                    other.engine.rate(round(halves[1], r, shape))
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
    let (held, loaded) = metrics::rating_meter_counts();
    println!(
        "  meters' state held from the batch before: {}, loaded: {}",
        held - held_before,
        loaded - loaded_before
    );
    replay_last_round(&engine, &meter_ids, shape).await;
    (rated as f64 / seconds, platform)
}

/// A session written, as a resident's signing in writes one (the `n`th of the run).
async fn sign_in(sessions: &server::auth::sessions::Sessions, n: usize) {
    use tower_sessions::{SessionStore, cookie::time::OffsetDateTime, session::Record};
    let mut record = Record {
        id: Default::default(),
        data: [("signed_in".to_owned(), serde_json::Value::from(n))].into(),
        expiry_date: OffsetDateTime::now_utc() + tower_sessions::cookie::time::Duration::hours(1),
    };
    sessions.create(&mut record).await.expect("a session saved");
}

/// The last round sent again, as a broker redelivers a backlog after a reconnection: every
/// reading is found stored, none is charged, and its rate is that of looking them up.
async fn replay_last_round(engine: &server::engine::Engine, meter_ids: &[i64], shape: Shape) {
    let again = round(meter_ids, shape.rounds - 1, shape);
    let timer = Instant::now();
    let report = engine.rate(again.clone()).await.unwrap();
    let seconds = timer.elapsed().as_secs_f64();
    assert_eq!(
        (report.duplicates, report.rated, report.charged),
        (again.len(), 0, 0),
        "a replayed round changes nothing"
    );
    println!(
        "  replayed: the last round's {} readings again in {seconds:.2} s ({:.0}/s), all duplicates",
        again.len(),
        again.len() as f64 / seconds
    );
}

async fn raw_rate(dir: &tempfile::TempDir, url: &str, meters: usize, shape: Shape) -> f64 {
    let platform = Platform::open(config(dir.path(), url))
        .await
        .expect("opens");
    let (_, _, meter_ids) = build_site(&platform.db, meters / 3).await;
    let now = Utc::now();
    let timer = Instant::now();
    let mut written = 0;
    for r in 1..shape.rounds {
        let batch = round(&meter_ids, r, shape);
        let mut tx = platform.db.begin_write().await.unwrap();
        for chunk in batch.chunks(server::ledger::CHUNK) {
            on_tx!(&mut tx, conn => {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO readings (meter_id, taken_at, register, received_at, status, quantity, net, tax, \
                     wallet_account_id, transaction_id, note) ",
                );
                insert.push_values(chunk, |mut row, reading| {
                    row.push_bind(reading.meter)
                        .push_bind(ReadingTime(reading.taken_at))
                        .push_bind(reading.register.to_string())
                        .push_bind(ReadingTime(now))
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

/// The wallets that pay for one meter each (aliased `w`): the ones `ALONE` charges. A macro,
/// so that each statement below can name it inside one string literal.
macro_rules! own_wallets {
    () => {
        "w.meter_id IS NOT NULL AND w.closed_at IS NULL"
    };
}

/// One more reading per meter, 15 minutes after its last, written by SQLite alone: every row
/// rating writes for it, each table in one statement. The amounts are placeholders; the
/// ledger still balances (each wallet pays 1, the site's first revenue account receives it).
const ALONE: [&str; 9] = [
    concat!(
        "INSERT INTO ledger_transactions (site_id, idempotency_key, kind, memo, posted_at) \
         SELECT DISTINCT w.site_id, 'alone:' || w.site_id, 'usage', 'SQLite alone', \
         strftime('%Y-%m-%dT%H:%M:%f000000+00:00', 'now') FROM wallets w WHERE ",
        own_wallets!()
    ),
    concat!(
        "INSERT INTO ledger_entries (transaction_id, account_id, amount_minor) \
         SELECT t.id, w.account_id, -1 FROM wallets w \
         JOIN ledger_transactions t ON t.idempotency_key = 'alone:' || w.site_id WHERE ",
        own_wallets!(),
        " ORDER BY w.account_id"
    ),
    concat!(
        "INSERT INTO ledger_entries (transaction_id, account_id, amount_minor) \
         SELECT t.id, (SELECT a.id FROM accounts a WHERE a.site_id = t.site_id AND a.kind = 'revenue' \
         ORDER BY a.id LIMIT 1), (SELECT count(*) FROM wallets w WHERE w.site_id = t.site_id AND ",
        own_wallets!(),
        ") FROM ledger_transactions t \
         WHERE t.idempotency_key >= 'alone:' AND t.idempotency_key < 'alone;'"
    ),
    "UPDATE accounts SET balance_minor = balance_minor + e.amount_minor FROM ledger_entries e \
     JOIN ledger_transactions t ON t.id = e.transaction_id \
     WHERE t.idempotency_key >= 'alone:' AND t.idempotency_key < 'alone;' AND accounts.id = e.account_id",
    concat!(
        "INSERT INTO readings (meter_id, taken_at, register, received_at, status, quantity, net, tax, \
         wallet_account_id, transaction_id, note) \
         SELECT s.meter_id, s.last_reading_at + 900000000, \
         s.last_register, CAST(strftime('%s', 'now') AS INTEGER) * 1000000, 'rated', '0.05', '0.7', \
         '0.112', w.account_id, t.id, NULL FROM wallets w JOIN meter_states s ON s.meter_id = w.meter_id \
         JOIN ledger_transactions t ON t.idempotency_key = 'alone:' || w.site_id WHERE ",
        own_wallets!(),
        " ORDER BY s.meter_id ON CONFLICT (meter_id, taken_at) DO NOTHING"
    ),
    // `WHERE` and `ORDER BY` before `ON CONFLICT` keep SQLite from reading it as a join's `ON`.
    concat!(
        "INSERT INTO usage_hourly (wallet_account_id, meter_id, hour_start, quantity_micro, cost_micro, readings) \
         SELECT w.account_id, s.meter_id, (s.last_reading_at + 900000000) / 3600000000 * 3600000000, \
         50000, 812000, 1 FROM wallets w JOIN meter_states s ON s.meter_id = w.meter_id WHERE ",
        own_wallets!(),
        " ORDER BY w.account_id \
         ON CONFLICT (wallet_account_id, meter_id, hour_start) DO UPDATE SET \
         quantity_micro = usage_hourly.quantity_micro + excluded.quantity_micro, \
         cost_micro = usage_hourly.cost_micro + excluded.cost_micro, readings = usage_hourly.readings + excluded.readings"
    ),
    concat!(
        "INSERT INTO usage_daily (wallet_account_id, meter_id, day, quantity_micro, cost_micro, readings) \
         SELECT w.account_id, s.meter_id, date((s.last_reading_at + 900000000) / 1000000, 'unixepoch'), 50000, 812000, 1 \
         FROM wallets w JOIN meter_states s ON s.meter_id = w.meter_id WHERE ",
        own_wallets!(),
        " ORDER BY w.account_id \
         ON CONFLICT (wallet_account_id, meter_id, day) DO UPDATE SET \
         quantity_micro = usage_daily.quantity_micro + excluded.quantity_micro, \
         cost_micro = usage_daily.cost_micro + excluded.cost_micro, readings = usage_daily.readings + excluded.readings"
    ),
    // Every column rating's upsert writes, written again.
    concat!(
        "UPDATE meter_states SET last_reading_at = last_reading_at + 900000000, \
         last_register = last_register, cycle_start = cycle_start, cycle_used = cycle_used, \
         max_demand = max_demand WHERE meter_id IN (SELECT w.meter_id FROM wallets w WHERE ",
        own_wallets!(),
        ")"
    ),
    concat!(
        "UPDATE wallets AS w SET carry_net = '0.001', carry_tax = '0.0002', daily_spend = daily_spend, \
         spent_at = strftime('%Y-%m-%dT%H:%M:%f000000+00:00', 'now') WHERE ",
        own_wallets!()
    ),
];

/// Readings per second SQLite alone writes the rows of one more reading per meter, with the
/// commit, on the rated database (see the module's documentation); the ledger still reconciles.
async fn sqlite_alone(db: &server::db::Db) -> f64 {
    let readings: i64 = on_db!(db, pool => {
        sqlx::query_scalar(concat!(
            "SELECT count(*) FROM wallets w JOIN meter_states s ON s.meter_id = w.meter_id WHERE ",
            own_wallets!()
        ))
        .fetch_one(pool)
        .await
    })
    .unwrap();
    let timer = Instant::now();
    let mut tx = db.begin_write().await.unwrap();
    for statement in ALONE {
        on_tx!(&mut tx, conn => sqlx::query(statement).execute(&mut *conn).await.map(|_| ()))
            .unwrap();
    }
    tx.commit().await.unwrap();
    let seconds = timer.elapsed().as_secs_f64();
    let (_, differences) = server::ledger::reconcile(db).await.unwrap();
    assert!(
        differences.is_empty(),
        "the ledger reconciles after SQLite alone"
    );
    println!("  SQLite alone: {readings} readings in {seconds:.2} s");
    readings as f64 / seconds
}
