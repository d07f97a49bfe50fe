use super::*;
use crate::domain::i18n::Locale;
use crate::domain::tariff::{Band, Days, Tier};
use std::str::FromStr;

fn dec(raw: &str) -> Decimal {
    Decimal::from_str(raw).unwrap()
}

fn clock(raw: &str) -> ClockTime {
    ClockTime::try_from(raw.to_owned()).unwrap()
}

/// 50 units at 10, then 15, with 16 % tax and a standing charge of 2 a day.
fn tiered() -> Tariff {
    Tariff {
        tiers: vec![
            Tier {
                up_to: Some(dec("50")),
                rate: dec("10"),
            },
            Tier {
                up_to: None,
                rate: dec("15"),
            },
        ],
        standing_charge_per_day: dec("2"),
        tax_percent: dec("16"),
        ..Tariff::flat(Decimal::ZERO)
    }
}

/// A flat 20 a unit with a peak band from 18:00 to 22:00 at 1.5 and a valley at 0.5 by night.
fn time_of_use() -> Tariff {
    Tariff {
        bands: vec![
            Band {
                kind: BandKind::Peak,
                days: Days::All,
                from: clock("18:00"),
                to: clock("22:00"),
                factor: dec("1.5"),
            },
            Band {
                kind: BandKind::Valley,
                days: Days::All,
                from: clock("23:00"),
                to: clock("06:00"),
                factor: dec("0.5"),
            },
        ],
        ..Tariff::flat(dec("20"))
    }
}

fn planner(tariff: Tariff, daily: Option<&str>) -> Pricing {
    Pricing {
        unit_of_measure: "kWh".into(),
        currency: "KES".into(),
        digits: 2,
        tariff,
        cycle_used: dec("40"),
        daily_average: daily.map(dec),
    }
}

/// `count` days with `night` in every hour from 00:00 to 06:00 and `day` in the others.
fn days(count: usize, night: &str, day: &str) -> Vec<[Decimal; 24]> {
    let mut hours = [dec(day); 24];
    for hour in hours.iter_mut().take(6) {
        *hour = dec(night);
    }
    vec![hours; count]
}

fn monday() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 2).unwrap()
}

#[test]
fn a_preview_continues_the_cycles_blocks() {
    let planner = planner(tiered(), None);
    // 10 more at 10 fill the first block, 10 at 15 start the second: 250 net, 290 with tax.
    assert_eq!(planner.cost_of(dec("20"), None), dec("290"));
    assert_eq!(planner.buys(dec("290")), Some(dec("20")));
}

#[test]
fn a_top_up_lasts_its_share_of_a_priced_month() {
    let planner = planner(tiered(), Some("2"));
    // A month of 2 a day is 60 units: 50 x 10 + 10 x 15 = 650, 754 with tax, 25.1333 a day,
    // plus the standing charge of 2.32 with tax: 27.4533 a day.
    assert_eq!(planner.days_lasting(dec("274.53")), Some(dec("10.0")));
    assert_eq!(planner.days_lasting(Decimal::ZERO), None);
    assert_eq!(self::planner(tiered(), None).days_lasting(dec("100")), None);
}

#[test]
fn the_bands_offered_are_the_tariffs_and_flat() {
    assert_eq!(
        planner(time_of_use(), None).bands(),
        vec![BandKind::Peak, BandKind::Flat, BandKind::Valley]
    );
    assert!(planner(tiered(), None).bands().is_empty());
}

#[test]
fn no_advice_from_less_than_a_week_or_no_use() {
    assert!(advise(&tiered(), monday(), &days(6, "1", "1")).is_empty());
    assert!(advise(&tiered(), monday(), &days(10, "0", "0")).is_empty());
}

#[test]
fn a_household_that_never_switches_off_hears_about_its_base_load() {
    // 0.5 every night hour and 1 by day: 21 a day, of which 12 (57 %) is the base.
    let advice = advise(&tiered(), monday(), &days(7, "0.5", "1"));
    let Some(Advice::BaseLoad {
        per_hour, percent, ..
    }) = advice.first()
    else {
        panic!("expected base-load advice, got {advice:?}");
    };
    assert_eq!((*per_hour, *percent), (dec("0.5"), 57));
    // A quiet night is no news.
    assert!(advise(&tiered(), monday(), &days(7, "0.05", "1")).is_empty());
}

#[test]
fn a_week_well_above_the_weeks_before_is_named() {
    let mut history = days(21, "0", "1");
    history.extend(days(7, "0", "1.5"));
    let advice = advise(&tiered(), monday(), &history);
    assert!(
        matches!(advice.as_slice(), [Advice::Trend { percent: 50, .. }]),
        "{advice:?}"
    );
    let text = advice[0].text(Locale::En, "kWh", "KES", 2);
    assert!(text.contains("50% more"), "{text}");

    let mut history = days(21, "0", "2");
    history.extend(days(7, "0", "1"));
    let advice = advise(&tiered(), monday(), &history);
    assert!(
        matches!(advice.as_slice(), [Advice::Trend { percent: -50, .. }]),
        "{advice:?}"
    );
    assert!(
        advice[0]
            .text(Locale::En, "kWh", "KES", 2)
            .contains("50% less")
    );
}

#[test]
fn evening_heavy_use_under_time_of_use_is_priced() {
    // Quiet nights, 1 an hour from 06:00 to 18:00 and 2 an hour in the four peak hours:
    // 8 of 20 a day in the peak.
    let mut hours = [Decimal::ZERO; 24];
    for hour in hours.iter_mut().take(18).skip(6) {
        *hour = Decimal::ONE;
    }
    for hour in hours.iter_mut().take(22).skip(18) {
        *hour = dec("2");
    }
    let advice = advise(&time_of_use(), monday(), &vec![hours; 7]);
    let Some(Advice::PeakShare {
        percent,
        monthly_saving,
        ..
    }) = advice.first()
    else {
        panic!("expected peak advice, got {advice:?}");
    };
    assert_eq!(*percent, 40);
    // Half of 8 a day for 30 days is 120 units: at 20 x 1.5 = 3600, at 20 x 0.5 = 1200.
    assert_eq!(*monthly_saving, dec("2400"));
    let text = advice[0].text(Locale::En, "kWh", "KES", 2);
    assert!(text.contains("18:00–22:00"), "{text}");
    assert!(text.contains("KES 2,400.00"), "{text}");
}
