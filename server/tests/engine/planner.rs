//! The resident's planner against a real database: the tariff in force, the cycle's position
//! and the days of use it reads are the ones rating kept, and its advice follows from them.

use super::fixture::{Backend, Fixture, at};
use app::domain::{
    Minor, Utility,
    planner::Advice,
    tariff::{Band, BandKind, ClockTime, Days, Tariff},
};
use chrono::Duration;
use rust_decimal::Decimal;
use server::engine::{rating::IncomingReading, setup::BillingMode};

#[tokio::test]
async fn the_planner_reads_the_tariff_cycle_and_days_rating_kept() {
    planner_reads(Fixture::new(2, 0, BillingMode::PerMeter).await).await;
}

#[tokio::test]
async fn the_planner_reads_them_on_postgresql_too() {
    if let Some(f) = Fixture::on(Backend::Postgres, 2, 0, BillingMode::PerMeter).await {
        planner_reads(f).await;
    }
}

#[tokio::test]
async fn a_wallet_for_several_utilities_has_no_planner() {
    let f = Fixture::new(1, 0, BillingMode::UnitWallet).await;
    let wallet = f.wallet_of(f.units[0].electricity).await;
    let now = at("2026-06-11T09:00:00Z");
    assert_eq!(f.engine.planner(wallet, now).await.unwrap(), None);
    f.finish().await;
}

/// What the household uses in each local hour: half a unit at night, three in the evening
/// peak, one otherwise; 29 a day.
fn use_in(hour: i64) -> Decimal {
    match hour {
        0..6 => Decimal::new(5, 1),
        18..22 => Decimal::from(3),
        _ => Decimal::ONE,
    }
}

async fn planner_reads(f: Fixture) {
    let evening_peak = Tariff {
        bands: vec![Band {
            kind: BandKind::Peak,
            days: Days::All,
            from: ClockTime::new(18, 0).unwrap(),
            to: ClockTime::new(22, 0).unwrap(),
            factor: Decimal::TWO,
        }],
        ..Tariff::flat(Decimal::TEN)
    };
    f.engine
        .set_tariff(
            f.site,
            Utility::Electricity,
            at("2026-05-01T00:00:00Z"),
            &evening_peak,
            None,
        )
        .await
        .unwrap();
    // A reading each hour from 23:00 on 31 May (Nairobi, UTC+3) to 23:00 on 10 June: the
    // reading at local hour h brings the hour before it and is kept under hour h, so each
    // hour of the roll-ups holds `use_in(h)`.
    let meter = f.units[0].electricity;
    let start = at("2026-05-31T20:00:00Z");
    let mut register = Decimal::from(500);
    let mut batch = Vec::new();
    for step in 0..=240_i64 {
        if step > 0 {
            register += use_in((23 + step) % 24);
        }
        batch.push(IncomingReading {
            meter,
            taken_at: start + Duration::hours(step),
            register,
        });
    }
    f.engine.rate(batch).await.unwrap();
    let wallet = f.wallet_of(meter).await;
    let now = at("2026-06-11T09:00:00Z");
    let planner = f
        .engine
        .planner(wallet, now)
        .await
        .unwrap()
        .expect("a planner");

    assert_eq!(planner.utility, Utility::Electricity);
    assert_eq!(planner.pricing.tariff, evening_peak, "the version in force");
    assert_eq!(
        planner.days_measured, 10,
        "1 to 10 June, not the empty weeks before"
    );
    assert_eq!(planner.pricing.daily_average, Some(Decimal::from(29)));
    // June's cycle so far: the reading at midnight on 1 June brought the last half unit of May.
    assert_eq!(planner.pricing.cycle_used, Decimal::new(2895, 1));
    assert_eq!(
        planner.balance,
        Minor(f.balance(wallet).await).to_decimal(2)
    );
    let [
        Advice::BaseLoad {
            per_hour, percent, ..
        },
        Advice::PeakShare {
            percent: peak,
            monthly_saving,
            ..
        },
    ] = planner.advice.as_slice()
    else {
        panic!("base load and peak advice, got {:?}", planner.advice);
    };
    assert_eq!((*per_hour, *percent), (Decimal::new(5, 1), 41)); // 12 of 29
    assert_eq!(*peak, 41); // 12 of 29 in the peak
    // Half of 12 a day for 30 days is 180 units: 3,600 at twice the rate, 1,800 at the base.
    assert_eq!(*monthly_saving, Decimal::from(1800));

    // A neighbour without readings: nothing measured, nothing to advise.
    let other = f.wallet_of(f.units[1].electricity).await;
    let quiet = f.engine.planner(other, now).await.unwrap().unwrap();
    assert_eq!(
        (quiet.days_measured, quiet.pricing.daily_average),
        (0, None)
    );
    assert!(quiet.advice.is_empty());
    f.finish().await;
}
