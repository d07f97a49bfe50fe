//! How long the console's big reads take on a large site: `cargo bench -p server --bench
//! console [-- UNITS DAYS]` (10,000 units and 365 days by default). SQLite by default; with
//! `PREPAID_BENCH_POSTGRES_URL` (a role that may create databases) on a fresh PostgreSQL
//! database instead.
//!
//! A site of `UNITS` occupied units with three meters and three open accounts each, and `DAYS`
//! days of daily roll-ups per account written directly (what a year of hourly readings leaves
//! behind; rating them would take hours). Timed, each the median of five runs after one warm-up:
//! the accounts table (`AccountsPort::of_site`, every open account of the site with its balance,
//! state and days left), the accounts page (that read, then one search ordered by days left cut
//! to a page of a hundred) and the consumption report (`Engine::consumption`, one statement over
//! the daily roll-ups) for the last 30 days and for the whole span; and the fleet's meters page
//! (`Fleet::meter_list`, every meter with its status, then one problem's page of a hundred).
//! Last, with 30 days of hourly roll-ups per account added (720 a meter), the use by
//! time-of-use band over those 30 days (`Engine::bands`, every hourly roll-up of the site's
//! meters shared across the bands), timed once, with the process's peak memory before and
//! after it.

use app::{
    domain::{
        SiteId, UnitId,
        account_table::{AccountQuery, QueryFields},
        fleet::FleetRules,
        meter_table::{MeterFields, MeterQuery},
        reports::DaysAsked,
    },
    ports::AccountsPort,
};
use chrono::{Duration, Utc};
use server::{
    Platform,
    db::{Db, ReadingTime},
    demo, on_db,
};
use std::time::{Duration as Elapsed, Instant};
use support::{build_site, open_platform, peak_memory_mb};

mod support;

fn main() {
    support::run(bench());
}

async fn bench() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let units = args.first().copied().unwrap_or(10_000).max(1);
    let days = args.get(1).copied().unwrap_or(365).clamp(31, 400) as i64;
    let postgres = std::env::var("PREPAID_BENCH_POSTGRES_URL").ok();
    println!(
        "console benchmark: {units} units, {days} days of daily roll-ups per account, {}",
        if postgres.is_some() {
            "PostgreSQL"
        } else {
            "SQLite, WAL"
        }
    );
    let dir = tempfile::tempdir().expect("a temporary directory");
    let platform = open_platform(dir.path(), "console").await;
    let engine = platform.engine.clone();

    let setup = Instant::now();
    let (site, unit_ids, _) = build_site(&platform.db, units).await;
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
    for unit in &unit_ids {
        engine.move_in(UnitId(*unit)).await.unwrap();
    }
    let rows = seed_rollups(&platform.db, days).await;
    println!(
        "  set-up: {} accounts, {rows} daily roll-ups in {:.0} s",
        unit_ids.len() * 3,
        setup.elapsed().as_secs_f64()
    );

    let (table, shown) =
        median(|| async { AccountsPort::of_site(&engine, site).await.unwrap().len() }).await;
    println!(
        "accounts table:            {:>8.1} ms ({shown} accounts)",
        ms(table)
    );
    // What the accounts page answers: the same read, then one search's page of a hundred.
    let fields = QueryFields {
        sort: "days_left".into(),
        page: "2".into(),
        ..QueryFields::default()
    };
    let query = AccountQuery::parse(&fields).unwrap();
    let (paged, matching) = median(|| async {
        let accounts = AccountsPort::of_site(&engine, site).await.unwrap();
        query.page_of(accounts).matching
    })
    .await;
    println!(
        "accounts page by days left:{:>8.1} ms (page 2 of {matching} accounts)",
        ms(paged)
    );
    // The fleet's meters page: every meter with its status, judged by the site's rules, one
    // problem's page of a hundred.
    let statuses = seed_statuses(&platform.db).await;
    let rules = FleetRules::default();
    let meter_query = MeterQuery::parse(&MeterFields {
        problem: "low_battery".into(),
        ..MeterFields::default()
    })
    .unwrap();
    let (meters_took, (meters, low)) = median(|| async {
        let list = platform.fleet.meter_list(site.0).await.unwrap();
        let count = list.meters.len();
        let page = meter_query.page_of(list.meters, &rules, list.read_at);
        (count, page.matching)
    })
    .await;
    println!(
        "meters page, low battery:  {:>8.1} ms ({meters} meters, {statuses} statuses, {low} found)",
        ms(meters_took)
    );
    for (label, span) in [("last 30 days", 30), ("whole span", days)] {
        let (took, lines) = median(|| async { report(&platform, site, span).await }).await;
        println!(
            "consumption, {label:<12}: {:>8.1} ms ({lines} lines)",
            ms(took)
        );
    }
    if let Some(peak) = peak_memory_mb() {
        println!("peak memory:               {peak:>8.0} MB (this process)");
    }

    let seeding = Instant::now();
    let hours = seed_hours(&platform.db, 30).await;
    println!(
        "  set-up: {hours} hourly roll-ups in {:.0} s",
        seeding.elapsed().as_secs_f64()
    );
    let today = Utc::now().date_naive();
    let asked = DaysAsked::parse(
        &(today - Duration::days(29)).to_string(),
        &today.to_string(),
    )
    .unwrap();
    // Once: at this size a run takes long enough to time alone, and a second would only add
    // to the peak the first set.
    let timer = Instant::now();
    let bands = engine.bands(site, asked).await.unwrap();
    println!(
        "use by band, 30 days:      {:>8.1} ms ({} lines)",
        ms(timer.elapsed()),
        bands.lines.len()
    );
    if let Some(peak) = peak_memory_mb() {
        println!("peak memory:               {peak:>8.0} MB (this process)");
    }
}

/// One roll-up per open account and hour for the last `days` days, as [`seed_rollups`] does
/// per day, written hour after hour as rating writes them.
async fn seed_hours(db: &Db, days: i64) -> i64 {
    let first = Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        - Duration::days(days - 1);
    // The hour column is an integer of microseconds on SQLite and a TIMESTAMPTZ on PostgreSQL
    // (see `ReadingTime`).
    let hour = match db {
        Db::Sqlite { .. } => "$2 + n.i * 3600000000",
        Db::Postgres(_) => "CAST($2 AS TIMESTAMPTZ) + n.i * INTERVAL '1 hour'",
    };
    let sql = format!(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $1) \
         INSERT INTO usage_hourly (wallet_account_id, meter_id, hour_start, quantity_micro, cost_micro, readings) \
         SELECT w.account_id, w.meter_id, {hour}, (1 + (w.account_id + n.i) % 7) * 100000, \
                (1 + (w.account_id + n.i) % 7) * 1500000000, 4 \
         FROM n CROSS JOIN wallets w WHERE w.closed_at IS NULL AND w.meter_id IS NOT NULL"
    );
    on_db!(db, pool => {
        sqlx::query(&sql)
            .bind(days * 24)
            .bind(ReadingTime(first))
            .execute(pool)
            .await
            .map(|done| done.rows_affected() as i64)
    })
    .expect("the hourly roll-ups")
}

async fn report(platform: &Platform, site: SiteId, days: i64) -> usize {
    let today = Utc::now().date_naive();
    let from = (today - Duration::days(days - 1)).to_string();
    let asked = DaysAsked::parse(&from, &today.to_string()).unwrap();
    let report = platform.engine.consumption(site, asked).await.unwrap();
    report.lines.len()
}

/// One roll-up per open account and day, for `days` days up to today: a few units a day with a
/// cost to match, varied by account so sums and the top users mean something.
async fn seed_rollups(db: &Db, days: i64) -> i64 {
    let first = (Utc::now() - Duration::days(days - 1)).date_naive();
    // The day column is text on SQLite and a DATE on PostgreSQL: each adds days its own way.
    let day = match db {
        Db::Sqlite { .. } => "date($2, '+' || n.i || ' days')",
        Db::Postgres(_) => "CAST($2 AS DATE) + n.i",
    };
    let sql = format!(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $1) \
         INSERT INTO usage_daily (wallet_account_id, meter_id, day, quantity_micro, cost_micro, readings) \
         SELECT w.account_id, w.meter_id, {day}, (1 + w.account_id % 7) * 1000000, \
                (1 + w.account_id % 7) * 15000000000, 96 \
         FROM wallets w CROSS JOIN n WHERE w.closed_at IS NULL AND w.meter_id IS NOT NULL"
    );
    on_db!(db, pool => {
        sqlx::query(&sql)
            .bind(days)
            .bind(first)
            .execute(pool)
            .await
            .map(|done| done.rows_affected() as i64)
    })
    .expect("the roll-ups")
}

/// A status for every meter, as the fleet keeps them: one in ten with a low battery.
async fn seed_statuses(db: &Db) -> i64 {
    on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO meter_status (meter_id, last_seen_at, online, signal_dbm, battery_pct, relay_reported, clock_offset_s) \
             SELECT id, $1, TRUE, -70, CASE WHEN id % 10 = 0 THEN 10 ELSE 90 END, 'open', 0 FROM meters",
        )
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(|done| done.rows_affected() as i64)
    })
    .expect("the statuses")
}

/// The median of five timed runs of `run`, after one untimed warm-up, and what it returned.
async fn median<F, Fut, T>(run: F) -> (Elapsed, T)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut answer = run().await;
    let mut times = Vec::new();
    for _ in 0..5 {
        let timer = Instant::now();
        answer = run().await;
        times.push(timer.elapsed());
    }
    times.sort();
    (times[2], answer)
}

fn ms(took: Elapsed) -> f64 {
    took.as_secs_f64() * 1000.0
}
