//! Usage graphs against a real database: every bar adds up to the readings charged to the
//! account in that local hour, day or month, repeats add nothing, the building's median
//! household is the median of the others' own readings, and roll-ups rebuilt from the readings
//! are the same as those kept while rating.

use super::fixture::{Backend, Fixture, at};
use app::domain::usage::{Span, Usage, median};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc};
use rust_decimal::Decimal;
use server::{
    db::ReadingTime,
    engine::{rating::IncomingReading, setup::BillingMode},
    on_db,
};

#[tokio::test]
async fn graphs_add_up_to_the_readings_by_local_hour_day_and_month() {
    graphs_add_up(Fixture::new(7, 0, BillingMode::PerMeter).await, SMALL_BATCH).await;
}

#[tokio::test]
async fn graphs_add_up_on_postgresql_too() {
    if let Some(f) = Fixture::on(Backend::Postgres, 7, 0, BillingMode::PerMeter).await {
        graphs_add_up(f, SMALL_BATCH).await;
    }
}

/// All the readings in one batch: rating prices it in parts, each added to the roll-ups while
/// the next is priced, and a meter's hour is cut between two parts.
#[tokio::test]
async fn graphs_add_up_when_one_batch_is_priced_in_parts() {
    graphs_add_up(Fixture::new(7, 0, BillingMode::PerMeter).await, usize::MAX).await;
}

/// Readings per batch small enough for rating to price each batch at once.
const SMALL_BATCH: usize = 97;

/// What a bar should hold: the readings' quantities, and their costs each kept to a millionth
/// of a cent as the roll-ups keep them.
fn expected(
    rows: &[(DateTime<Utc>, Decimal, Decimal)],
    pick: impl Fn(DateTime<Utc>) -> Option<usize>,
    bars: usize,
) -> Vec<Usage> {
    let mut out = vec![Usage::default(); bars];
    for (at, quantity, cost) in rows {
        if let Some(bar) = pick(*at) {
            out[bar].quantity += quantity;
            out[bar].cost +=
                (cost * Decimal::from(100_000_000)).round() / Decimal::from(100_000_000);
        }
    }
    out
}

fn normal(bars: &[Usage]) -> Vec<(Decimal, Decimal)> {
    bars.iter()
        .map(|bar| (bar.quantity.normalize(), bar.cost.normalize()))
        .collect()
}

async fn charged(f: &Fixture, wallet: i64) -> Vec<(DateTime<Utc>, Decimal, Decimal)> {
    let rows: Vec<(ReadingTime, String, String, String)> = on_db!(&f.db, pool => {
        sqlx::query_as(
            "SELECT taken_at, quantity, net, tax FROM readings WHERE wallet_account_id = $1 AND status = 'rated'",
        )
        .bind(wallet)
        .fetch_all(pool)
        .await
    })
    .unwrap();
    rows.into_iter()
        .map(|(at, quantity, net, tax)| {
            let d = |s: &str| s.parse::<Decimal>().unwrap();
            (at.0, d(&quantity), d(&net) + d(&tax))
        })
        .collect()
}

async fn graphs_add_up(f: Fixture, per_batch: usize) {
    // Everyone moved in during May; readings every 20 minutes for three days of June, each
    // household using its own amount, varying through the day.
    on_db!(&f.db, pool => {
        sqlx::query("UPDATE wallets SET opened_at = $1")
            .bind(at("2026-05-01T00:00:00Z"))
            .execute(pool)
            .await
            .map(|_| ())
    })
    .unwrap();
    let start = at("2026-06-01T00:00:00Z");
    let mut batch = Vec::new();
    for (index, unit) in f.units.iter().enumerate() {
        let mut register = Decimal::from(1000);
        for step in 0..3 * 72 {
            batch.push(IncomingReading {
                meter: unit.electricity,
                taken_at: start + Duration::minutes(20 * step),
                register,
            });
            register += Decimal::new((index as i64 + 1) * 25 + step % 7, 2);
        }
    }
    for chunk in batch.chunks(per_batch) {
        f.engine.rate(chunk.to_vec()).await.unwrap();
    }
    let again = f.engine.rate(batch.clone()).await.unwrap();
    assert_eq!(again.rated, 0, "repeats are not charged, nor added up");

    let nairobi = chrono_tz::Africa::Nairobi;
    let local = |at: DateTime<Utc>| at.with_timezone(&nairobi);
    let now = at("2026-06-20T12:00:00Z");
    let wallet = f.wallet_of(f.units[0].electricity).await;
    let rows = charged(&f, wallet).await;
    assert_eq!(rows.len(), 3 * 72 - 1);

    // 2 June, hour by hour of Nairobi's clock; 1 June (from 03:00 local) before it.
    let june_2 = NaiveDate::from_ymd_opt(2026, 6, 2).unwrap();
    let day = f
        .engine
        .usage_chart(wallet, Span::Day, Some(june_2), now)
        .await
        .unwrap();
    let in_day = |date: NaiveDate| {
        move |at: DateTime<Utc>| {
            let at = local(at);
            (at.date_naive() == date).then_some(at.hour() as usize)
        }
    };
    assert_eq!(
        normal(&day.current),
        normal(&expected(&rows, in_day(june_2), 24))
    );
    let june_1 = in_day(june_2.pred_opt().unwrap());
    assert_eq!(normal(&day.previous), normal(&expected(&rows, june_1, 24)));
    assert!(
        day.previous[..3].iter().all(|bar| bar.quantity.is_zero()),
        "nothing before 03:00"
    );
    assert_eq!(day.utility, Some(app::domain::Utility::Electricity));
    assert_eq!(day.since, None);
    assert!(day.has_next);

    // June, day by day; the whole of it is every reading.
    let month = f
        .engine
        .usage_chart(wallet, Span::Month, Some(june_2), now)
        .await
        .unwrap();
    let in_june = |at: DateTime<Utc>| Some(local(at).day0() as usize);
    assert_eq!(
        normal(&month.current),
        normal(&expected(&rows, in_june, 30))
    );
    let all: Decimal = rows.iter().map(|(_, quantity, _)| quantity).sum();
    assert_eq!(month.total().quantity, all);
    assert!(month.previous.iter().all(|bar| *bar == Usage::default()));
    assert!(!month.has_next, "July has not begun on 20 June");

    // The year, month by month.
    let year = f
        .engine
        .usage_chart(wallet, Span::Year, Some(june_2), now)
        .await
        .unwrap();
    assert_eq!(year.current[5], month.total());
    assert_eq!(year.total(), month.total());

    // The median of the six other households' own June.
    let mut others = Vec::new();
    for unit in &f.units[1..] {
        let theirs = charged(&f, f.wallet_of(unit.electricity).await).await;
        others.push(
            theirs
                .iter()
                .map(|(_, quantity, _)| *quantity)
                .sum::<Decimal>(),
        );
    }
    assert_eq!(month.households, 6);
    assert_eq!(
        month.median.map(|median| median.quantity),
        median(&mut others)
    );

    // Every rated reading is in each roll-up once, whichever part of a batch priced it.
    let quantities: Vec<String> = on_db!(&f.db, pool => {
        sqlx::query_scalar("SELECT quantity FROM readings WHERE status = 'rated'")
            .fetch_all(pool)
            .await
    })
    .unwrap();
    let micro: Decimal = quantities
        .iter()
        .map(|quantity| quantity.parse::<Decimal>().unwrap() * Decimal::from(1_000_000))
        .sum();
    for table in ["usage_hourly", "usage_daily"] {
        let sums: (i64, i64) = on_db!(&f.db, pool => {
            sqlx::query_as(&format!(
                "SELECT CAST(SUM(readings) AS BIGINT), CAST(SUM(quantity_micro) AS BIGINT) FROM {table}"
            ))
            .fetch_one(pool)
            .await
        })
        .unwrap();
        assert_eq!(
            (sums.0, Decimal::from(sums.1)),
            (quantities.len() as i64, micro),
            "{table}"
        );
    }

    // Rebuilt from the readings alone, the roll-ups are the same.
    on_db!(&f.db, pool => {
        sqlx::query("DELETE FROM usage_hourly").execute(pool).await?;
        sqlx::query("DELETE FROM usage_daily").execute(pool).await.map(|_| ())
    })
    .unwrap();
    assert!(f.engine.backfill_usage().await.unwrap() >= rows.len() as u64);
    let rebuilt = f
        .engine
        .usage_chart(wallet, Span::Day, Some(june_2), now)
        .await
        .unwrap();
    assert_eq!(rebuilt, day);
    assert_eq!(f.engine.backfill_usage().await.unwrap(), 0, "only once");
    f.finish().await;
}
