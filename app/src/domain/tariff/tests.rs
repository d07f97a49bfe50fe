//! Worked examples for each kind of tariff (with numbers a person can check by hand, DST
//! changes included) and property tests against a plain reference implementation.

use super::*;
use chrono_tz::{Africa::Nairobi, Europe::London};
use proptest::prelude::*;
use std::str::FromStr;

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn clock(s: &str) -> ClockTime {
    ClockTime::try_from(s.to_owned()).unwrap()
}

fn once(tariff: Tariff) -> Vec<Version> {
    vec![Version {
        effective_from: at("2020-01-01T00:00:00Z"),
        tariff,
    }]
}

fn usage_at(s: &str, used: &str) -> Usage {
    Usage {
        cycle_used: dec(used),
        ..Usage::starting_at(at(s), &Nairobi, 1)
    }
}

fn tiered() -> Tariff {
    Tariff {
        tiers: vec![
            Tier {
                up_to: Some(dec("50")),
                rate: dec("10"),
            },
            Tier {
                up_to: Some(dec("100")),
                rate: dec("15"),
            },
            Tier {
                up_to: None,
                rate: dec("20"),
            },
        ],
        ..Tariff::flat(Decimal::ZERO)
    }
}

fn band(kind: BandKind, days: Days, from: &str, to: &str, factor: &str) -> Band {
    Band {
        kind,
        days,
        from: clock(from),
        to: clock(to),
        factor: dec(factor),
    }
}

#[test]
fn flat_rate_with_tax() {
    let tariff = Tariff {
        tax_percent: dec("16"),
        ..Tariff::flat(dec("25.00"))
    };
    let mut usage = usage_at("2026-06-10T08:00:00Z", "0");
    let charge = price(
        &once(tariff),
        &Nairobi,
        at("2026-06-10T08:00:00Z"),
        at("2026-06-10T09:00:00Z"),
        dec("12.5"),
        &mut usage,
    )
    .unwrap();
    assert_eq!(charge.net, dec("312.5"));
    assert_eq!(charge.tax, dec("50"));
    assert_eq!(charge.gross(), dec("362.5"));
}

#[test]
fn tiered_blocks_continue_from_the_cycle_so_far() {
    // 40 used this cycle; 30 more: 10 at 10 (to 50), then 20 at 15.
    let mut usage = usage_at("2026-06-10T08:00:00Z", "40");
    let charge = price(
        &once(tiered()),
        &Nairobi,
        at("2026-06-10T08:00:00Z"),
        at("2026-06-10T09:00:00Z"),
        dec("30"),
        &mut usage,
    )
    .unwrap();
    assert_eq!(charge.net, dec("400"));
    assert_eq!(usage.cycle_used, dec("70"));
}

#[test]
fn blocks_reset_at_the_cycle_start_in_local_time() {
    // Nairobi is UTC+3: the July cycle starts at 2026-06-30T21:00Z. 48 units over 48 hours,
    // half each side; 60 used in June. June: 24 at 15 = 360. July: 24 at 10 = 240.
    let mut usage = usage_at("2026-06-20T00:00:00Z", "60");
    let charge = price(
        &once(tiered()),
        &Nairobi,
        at("2026-06-29T21:00:00Z"),
        at("2026-07-01T21:00:00Z"),
        dec("48"),
        &mut usage,
    )
    .unwrap();
    assert_eq!(charge.net, dec("600"));
    assert_eq!(usage.cycle_start, at("2026-06-30T21:00:00Z"));
    assert_eq!(usage.cycle_used, dec("24"));
}

fn time_of_use(rate: &str) -> Tariff {
    Tariff {
        bands: vec![
            band(BandKind::Peak, Days::Weekdays, "18:00", "22:00", "1.5"),
            band(BandKind::Valley, Days::All, "22:00", "06:00", "0.5"),
        ],
        ..Tariff::flat(dec(rate))
    }
}

#[test]
fn time_of_use_splits_at_the_band_edge() {
    // Monday 2026-06-15, 17:00-19:00 Nairobi (14:00-16:00Z): 1 unit flat at 20, 1 peak at 30.
    let mut usage = usage_at("2026-06-15T14:00:00Z", "0");
    let charge = price(
        &once(time_of_use("20")),
        &Nairobi,
        at("2026-06-15T14:00:00Z"),
        at("2026-06-15T16:00:00Z"),
        dec("2"),
        &mut usage,
    )
    .unwrap();
    assert_eq!(charge.net, dec("50"));
    assert_eq!(charge.in_band(BandKind::Peak), dec("1"));
    assert_eq!(charge.in_band(BandKind::Flat), dec("1"));
}

#[test]
fn weekend_evenings_are_not_peak() {
    // Saturday 2026-06-20, 18:00-20:00 Nairobi: all flat.
    let mut usage = usage_at("2026-06-20T15:00:00Z", "0");
    let charge = price(
        &once(time_of_use("20")),
        &Nairobi,
        at("2026-06-20T15:00:00Z"),
        at("2026-06-20T17:00:00Z"),
        dec("2"),
        &mut usage,
    )
    .unwrap();
    assert_eq!(charge.net, dec("40"));
}

fn london_night() -> Tariff {
    Tariff {
        bands: vec![band(BandKind::Valley, Days::All, "00:00", "07:00", "0.5")],
        ..Tariff::flat(dec("10"))
    }
}

#[test]
fn spring_forward_shortens_the_night_band() {
    // London, 29 March 2026: 01:00 GMT becomes 02:00 BST. 23:00Z to 07:00Z, 8 units evenly.
    // Local 23:00-00:00 flat (1 h), 00:00 GMT to 07:00 BST valley (6 real hours), 07:00-08:00
    // BST flat (1 h): 6 x 5 + 2 x 10 = 50. A clock-naive rule would give 7 valley hours.
    let mut usage = Usage::starting_at(at("2026-03-28T23:00:00Z"), &London, 1);
    let charge = price(
        &once(london_night()),
        &London,
        at("2026-03-28T23:00:00Z"),
        at("2026-03-29T07:00:00Z"),
        dec("8"),
        &mut usage,
    )
    .unwrap();
    assert_eq!(charge.in_band(BandKind::Valley), dec("6"));
    assert_eq!(charge.net, dec("50"));
}

#[test]
fn fall_back_lengthens_the_night_band() {
    // London, 25 October 2026: 02:00 BST becomes 01:00 GMT. 22:00Z to 08:00Z, 10 units.
    // 00:00 BST (23:00Z) to 07:00 GMT (07:00Z) is 8 real hours of valley: 8 x 5 + 2 x 10 = 60.
    let mut usage = Usage::starting_at(at("2026-10-24T22:00:00Z"), &London, 1);
    let charge = price(
        &once(london_night()),
        &London,
        at("2026-10-24T22:00:00Z"),
        at("2026-10-25T08:00:00Z"),
        dec("10"),
        &mut usage,
    )
    .unwrap();
    assert_eq!(charge.in_band(BandKind::Valley), dec("8"));
    assert_eq!(charge.net, dec("60"));
}

#[test]
fn a_package_allowance_comes_before_the_tiers() {
    // 100 units included; 90 used; 30 more: 10 free, then 20 from the first tier at 10.
    let tariff = Tariff {
        package: Some(Package {
            fee: dec("1000"),
            included: Some(dec("100")),
        }),
        ..tiered()
    };
    let mut usage = usage_at("2026-06-10T08:00:00Z", "90");
    let charge = price(
        &once(tariff),
        &Nairobi,
        at("2026-06-10T08:00:00Z"),
        at("2026-06-10T09:00:00Z"),
        dec("30"),
        &mut usage,
    )
    .unwrap();
    assert_eq!(charge.net, dec("200"));
}

#[test]
fn an_unlimited_package_prices_use_at_nothing() {
    let tariff = Tariff {
        package: Some(Package {
            fee: dec("1000"),
            included: None,
        }),
        ..tiered()
    };
    let mut usage = usage_at("2026-06-10T08:00:00Z", "0");
    let charge = price(
        &once(tariff),
        &Nairobi,
        at("2026-06-10T08:00:00Z"),
        at("2026-06-10T09:00:00Z"),
        dec("500"),
        &mut usage,
    )
    .unwrap();
    assert_eq!(charge.net, Decimal::ZERO);
}

#[test]
fn demand_charge_follows_the_cycle_peak() {
    // 500 per kW of peak. Half-hours of 5, 4 and 6 kWh: 10 kW (5000), 8 kW (nothing), 12 kW (+1000).
    let tariff = Tariff {
        demand_charge_per_kw: dec("500"),
        ..Tariff::flat(Decimal::ZERO)
    };
    let versions = once(tariff);
    let mut usage = usage_at("2026-06-10T08:00:00Z", "0");
    let times = [
        "2026-06-10T08:00:00Z",
        "2026-06-10T08:30:00Z",
        "2026-06-10T09:00:00Z",
        "2026-06-10T09:30:00Z",
    ];
    let charges: Vec<Decimal> = [dec("5"), dec("4"), dec("6")]
        .iter()
        .enumerate()
        .map(|(i, q)| {
            price(
                &versions,
                &Nairobi,
                at(times[i]),
                at(times[i + 1]),
                *q,
                &mut usage,
            )
            .unwrap()
            .net
        })
        .collect();
    assert_eq!(charges, vec![dec("5000"), dec("0"), dec("1000")]);
}

#[test]
fn an_interval_spanning_a_tariff_change_is_split_at_the_change() {
    let versions = vec![
        Version {
            effective_from: at("2020-01-01T00:00:00Z"),
            tariff: Tariff::flat(dec("10")),
        },
        Version {
            effective_from: at("2026-06-10T12:00:00Z"),
            tariff: Tariff::flat(dec("12")),
        },
    ];
    let mut usage = usage_at("2026-06-10T10:00:00Z", "0");
    let charge = price(
        &versions,
        &Nairobi,
        at("2026-06-10T10:00:00Z"),
        at("2026-06-10T14:00:00Z"),
        dec("4"),
        &mut usage,
    )
    .unwrap();
    assert_eq!(charge.net, dec("44"));
}

#[test]
fn bad_tariffs_are_refused_with_a_reason() {
    let mut unlimited_first = tiered();
    unlimited_first.tiers[0].up_to = None;
    assert_eq!(unlimited_first.check(), Err(TariffError::UnlimitedTier(1)));
    let mut descending = tiered();
    descending.tiers[1].up_to = Some(dec("40"));
    assert_eq!(descending.check(), Err(TariffError::TierOrder(2)));
    assert_eq!(
        Tariff {
            tax_percent: dec("120"),
            ..tiered()
        }
        .check(),
        Err(TariffError::Tax)
    );
    assert_eq!(
        Tariff {
            cycle_start_day: 31,
            ..tiered()
        }
        .check(),
        Err(TariffError::CycleDay)
    );
    assert!(ClockTime::try_from("25:00".to_owned()).is_err());
    // An hour whose minutes do not fit the type is refused, not an overflow.
    assert!(ClockTime::try_from("3422:00".to_owned()).is_err());
    assert!(tiered().check().is_ok());
    assert_eq!(String::from(clock("07:05")), "07:05");
}

#[test]
fn previews_and_their_inverse_agree() {
    let tariff = Tariff {
        tax_percent: dec("16"),
        ..tiered()
    };
    let charge = preview(&tariff, Decimal::ZERO, dec("70"), None);
    assert_eq!(charge.net, dec("800")); // 50 x 10 + 20 x 15
    assert_eq!(
        units_for(&tariff, Decimal::ZERO, charge.gross()),
        Some(dec("70"))
    );
    // Forty units into the cycle, ten more fill the first block and ten start the second.
    let later = preview(&tariff, dec("40"), dec("20"), None);
    assert_eq!(later.net, dec("250"));
    assert_eq!(
        units_for(&tariff, dec("40"), later.gross()),
        Some(dec("20"))
    );
}

// ---- Property tests -------------------------------------------------------------------------

/// A tariff of up to three tiers and up to three bands on whole minutes.
fn any_tariff() -> impl Strategy<Value = Tariff> {
    let tiers = proptest::collection::vec((1_u32..200, 0_u32..5000), 0..3);
    let bands = proptest::collection::vec(
        (0_usize..3, 0_u16..1440, 1_u16..1439, 0_u32..30, 0_usize..3),
        0..3,
    );
    (tiers, 0_u32..5000, bands).prop_map(|(tiers, last_rate, bands)| {
        let mut end = 0;
        let mut list: Vec<Tier> = tiers
            .into_iter()
            .map(|(width, rate)| {
                end += width;
                Tier {
                    up_to: Some(Decimal::from(end)),
                    rate: Decimal::new(i64::from(rate), 2),
                }
            })
            .collect();
        list.push(Tier {
            up_to: None,
            rate: Decimal::new(i64::from(last_rate), 2),
        });
        let bands = bands
            .into_iter()
            .map(|(kind, from, length, factor, days)| Band {
                kind: [BandKind::Peak, BandKind::Valley, BandKind::Shoulder][kind],
                days: [Days::All, Days::Weekdays, Days::Weekends][days],
                from: ClockTime(from),
                to: ClockTime((from + length) % 1440),
                factor: Decimal::new(i64::from(factor), 1),
            })
            .collect();
        Tariff {
            tiers: list,
            bands,
            ..Tariff::flat(Decimal::ZERO)
        }
    })
}

/// The plain reference: minute by minute, look up the band from the local clock, walk the
/// tiers one minute's consumption at a time. No boundary arithmetic at all.
fn reference<Tz: TimeZone>(
    tariff: &Tariff,
    tz: &Tz,
    from: DateTime<Utc>,
    minutes: i64,
    per_minute: Decimal,
    used: Decimal,
) -> Decimal {
    let mut used = used;
    let mut net = Decimal::ZERO;
    for i in 0..minutes {
        let local = (from + Duration::minutes(i))
            .with_timezone(tz)
            .naive_local();
        let minute = (local.hour() * 60 + local.minute()) as u16;
        let factor = tariff
            .bands
            .iter()
            .find(|b| b.covers(local.weekday(), minute))
            .map_or(Decimal::ONE, |b| b.factor);
        let mut left = per_minute;
        while left > Decimal::ZERO {
            let tier = tariff
                .tiers
                .iter()
                .find(|t| t.up_to.is_none_or(|end| used < end))
                .unwrap();
            let take = tier.up_to.map_or(left, |end| left.min(end - used));
            net += take * tier.rate * factor;
            used += take;
            left -= take;
        }
    }
    net
}

/// Starts inside a month (no cycle change within three days) near both 2026 London DST changes.
fn any_start() -> impl Strategy<Value = DateTime<Utc>> {
    (
        prop_oneof![
            Just("2026-03-27T00:00:00Z"),
            Just("2026-10-23T00:00:00Z"),
            Just("2026-06-10T00:00:00Z")
        ],
        0_i64..2880,
    )
        .prop_map(|(day, minute)| at(day) + Duration::minutes(minute))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// The browser's preview is the charging code: cutting what is previewed in two (the first
    /// part moving the blocks on for the second) never changes what it costs.
    #[test]
    fn previews_split_anywhere_cost_the_same(
        tariff in any_tariff(),
        used in 0_u32..300,
        first in 0_u32..200_000,
        second in 0_u32..200_000,
    ) {
        let (used, first, second) =
            (Decimal::from(used), Decimal::new(first.into(), 3), Decimal::new(second.into(), 3));
        let whole = preview(&tariff, used, first + second, None);
        let parts = preview(&tariff, used, first, None).net
            + preview(&tariff, used + first, second, None).net;
        prop_assert_eq!(whole.net, parts);
    }

    #[test]
    fn tiered_and_time_of_use_charges_equal_the_reference(
        tariff in any_tariff(),
        from in any_start(),
        minutes in 1_i64..1440,
        per_minute_thousandths in 0_i64..3000,
        used in 0_u32..300,
        london in any::<bool>(),
    ) {
        let per_minute = Decimal::new(per_minute_thousandths, 3);
        let quantity = per_minute * Decimal::from(minutes);
        let to = from + Duration::minutes(minutes);
        let versions = once(tariff.clone());
        let (charged, expected) = if london {
            let mut usage = Usage { cycle_used: Decimal::from(used), ..Usage::starting_at(from, &London, 1) };
            (price(&versions, &London, from, to, quantity, &mut usage).unwrap().net,
             reference(&tariff, &London, from, minutes, per_minute, Decimal::from(used)))
        } else {
            let mut usage = Usage { cycle_used: Decimal::from(used), ..Usage::starting_at(from, &Nairobi, 1) };
            (price(&versions, &Nairobi, from, to, quantity, &mut usage).unwrap().net,
             reference(&tariff, &Nairobi, from, minutes, per_minute, Decimal::from(used)))
        };
        prop_assert_eq!(charged, expected);
    }

    /// Splitting a reading at any minute, with the register the even spread implies there,
    /// never changes what the whole costs.
    #[test]
    fn splitting_a_reading_never_changes_what_it_costs(
        tariff in any_tariff(),
        from in any_start(),
        minutes in 2_i64..2880,
        split_at in 1_i64..2880,
        per_minute_thousandths in 0_i64..3000,
    ) {
        let split_at = 1 + split_at % (minutes - 1);
        let per_minute = Decimal::new(per_minute_thousandths, 3);
        let to = from + Duration::minutes(minutes);
        let middle = from + Duration::minutes(split_at);
        let versions = once(tariff);
        let mut whole_usage = Usage::starting_at(from, &London, 1);
        let whole = price(&versions, &London, from, to, per_minute * Decimal::from(minutes), &mut whole_usage).unwrap();
        let mut split_usage = Usage::starting_at(from, &London, 1);
        let first = price(&versions, &London, from, middle, per_minute * Decimal::from(split_at), &mut split_usage).unwrap();
        let second = price(&versions, &London, middle, to, per_minute * Decimal::from(minutes - split_at), &mut split_usage).unwrap();
        prop_assert_eq!(whole.net, first.net + second.net);
        prop_assert_eq!(whole.quantity, first.quantity + second.quantity);
        prop_assert_eq!(whole_usage, split_usage);
    }
}
