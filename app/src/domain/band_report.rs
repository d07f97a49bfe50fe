//! Use by time-of-use band: how much of what each unit used fell in the tariff's peak,
//! shoulder, flat and valley hours. The energy analysis a commercial or industrial tenant asks
//! for ("move the ovens' pre-heat to the valley"), and the manager's view of how much of the
//! site's load the bands shift.
//!
//! Read from the hourly roll-ups: an hour's use is shared across the bands its minutes fall in
//! (a band starting at half past takes half the hour), as if used evenly through the hour,
//! exactly to the millionth with [`share_out`]. Each hour is set against the tariff version in
//! force at its start.

use super::{
    Utility,
    common_charges::share_out,
    csv,
    money::Minor,
    reports::{Days, quantity},
    tariff::{BandKind, Tariff},
};
use chrono::{Datelike, NaiveDateTime, Timelike};
use serde::{Deserialize, Serialize};

/// The bands in the order the report shows them.
pub const BANDS: [BandKind; 4] = BandKind::ALL;

/// Quantities in millionths of the meter's unit, one per band of [`BANDS`].
pub type ByBand = [i64; 4];

/// What `quantity_micro`, used in the local hour starting at `start`, puts in each band of
/// `tariff` (everything in flat without a tariff). Adds up to `quantity_micro` exactly.
pub fn split_hour(tariff: Option<&Tariff>, start: NaiveDateTime, quantity_micro: i64) -> ByBand {
    let mut split = [0; 4];
    let Some(tariff) = tariff else {
        split[band_index(BandKind::Flat)] = quantity_micro;
        return split;
    };
    let day = start.weekday();
    let first = (start.hour() * 60) as u16;
    let mut minutes = [0u64; 4];
    for minute in first..first + 60 {
        minutes[band_index(tariff.band_at(day, minute).0)] += 1;
    }
    // Sixty minutes weigh something, so the shares are always there.
    if let Some(shares) = share_out(Minor(quantity_micro), &minutes) {
        for (slot, share) in split.iter_mut().zip(shares) {
            *slot = share.0;
        }
    }
    split
}

fn band_index(band: BandKind) -> usize {
    BANDS.iter().position(|b| *b == band).unwrap_or(2)
}

/// Adds `more` into `sum`, band by band.
pub fn add(sum: &mut ByBand, more: &ByBand) {
    for (slot, value) in sum.iter_mut().zip(more) {
        *slot += value;
    }
}

/// One unit's use of one utility over the days, by band.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BandLine {
    pub unit_id: i64,
    pub building: String,
    pub unit: String,
    pub utility: Utility,
    pub by_band: ByBand,
}

impl BandLine {
    pub fn total(&self) -> i64 {
        self.by_band.iter().sum()
    }
}

/// The share of `by_band` in `band`, in whole per cent (rounded), `None` for no use at all.
pub fn percent(by_band: &ByBand, band: BandKind) -> Option<i64> {
    let total: i64 = by_band.iter().sum();
    (total > 0).then(|| {
        let part = i128::from(by_band[band_index(band)]) * 100;
        ((part * 2 + i128::from(total)) / (2 * i128::from(total))) as i64
    })
}

/// One utility's use across the site, by band.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BandTotal {
    pub utility: Utility,
    pub by_band: ByBand,
}

/// The site's use by band over some of its local days: a line per unit and utility.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BandReport {
    pub site_name: String,
    pub days: Days,
    /// By building, unit and utility.
    pub lines: Vec<BandLine>,
}

/// How many units the page names as the biggest users at peak.
pub const PEAK_USERS: usize = 10;

impl BandReport {
    /// Each utility's site total, in the order utilities are listed.
    pub fn totals(&self) -> Vec<BandTotal> {
        Utility::ALL
            .into_iter()
            .filter_map(|utility| {
                let mut by_band = [0; 4];
                let mut any = false;
                for line in self.lines.iter().filter(|l| l.utility == utility) {
                    add(&mut by_band, &line.by_band);
                    any = true;
                }
                any.then_some(BandTotal { utility, by_band })
            })
            .collect()
    }

    /// The units that used most of `utility` at peak, most first (at most [`PEAK_USERS`]).
    pub fn peak_users(&self, utility: Utility) -> Vec<&BandLine> {
        let peak = band_index(BandKind::Peak);
        let mut users: Vec<&BandLine> = self
            .lines
            .iter()
            .filter(|l| l.utility == utility && l.by_band[peak] > 0)
            .collect();
        users.sort_by(|a, b| {
            b.by_band[peak]
                .cmp(&a.by_band[peak])
                .then(a.unit.cmp(&b.unit))
        });
        users.truncate(PEAK_USERS);
        users
    }

    /// Every line with its quantities by band and the peak's share, then each utility's site
    /// total (building and unit left empty).
    pub fn csv(&self) -> String {
        let mut out = csv::line(&[
            "building",
            "unit",
            "utility",
            "peak",
            "shoulder",
            "flat",
            "valley",
            "total",
            "peak_percent",
        ]);
        let row = |building: &str, unit: &str, utility: Utility, by_band: &ByBand| {
            let mut fields = vec![
                building.to_owned(),
                unit.to_owned(),
                utility.as_str().to_owned(),
            ];
            fields.extend(by_band.iter().map(|micro| quantity(*micro)));
            fields.push(quantity(by_band.iter().sum()));
            fields.push(
                percent(by_band, BandKind::Peak)
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
            );
            csv::line(&fields)
        };
        for line in &self.lines {
            out.push_str(&row(
                &line.building,
                &line.unit,
                line.utility,
                &line.by_band,
            ));
        }
        for total in self.totals() {
            out.push_str(&row("", "", total.utility, &total.by_band));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::tariff::{Band, ClockTime, Days as BandDays};
    use chrono::NaiveDate;
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    /// Peak 07:30 to 10:00 on weekdays, valley 23:00 to 06:00 every day.
    fn time_of_use() -> Tariff {
        let mut tariff = Tariff::flat(Decimal::from(20));
        let band = |kind, days, from: (u16, u16), to: (u16, u16)| Band {
            kind,
            days,
            from: ClockTime::new(from.0, from.1).unwrap(),
            to: ClockTime::new(to.0, to.1).unwrap(),
            factor: Decimal::ONE,
        };
        tariff.bands = vec![
            band(BandKind::Peak, BandDays::Weekdays, (7, 30), (10, 0)),
            band(BandKind::Valley, BandDays::All, (23, 0), (6, 0)),
        ];
        tariff
    }

    fn at(day: u32, hour: u32) -> NaiveDateTime {
        // 2026-11-30 is a Monday.
        NaiveDate::from_ymd_opt(2026, 11, day)
            .unwrap()
            .and_hms_opt(hour, 0, 0)
            .unwrap()
    }

    #[test]
    fn an_hour_is_shared_by_the_minutes_each_band_holds() {
        let tariff = time_of_use();
        // Monday 07:00: half flat, half peak (the odd millionth to the first band).
        assert_eq!(
            split_hour(Some(&tariff), at(30, 7), 1_000_001),
            [500_001, 0, 500_000, 0]
        );
        // Monday 08:00: all peak; Sunday 08:00: no peak at weekends.
        assert_eq!(split_hour(Some(&tariff), at(30, 8), 60), [60, 0, 0, 0]);
        assert_eq!(split_hour(Some(&tariff), at(29, 8), 60), [0, 0, 60, 0]);
        // Across midnight the valley holds.
        assert_eq!(split_hour(Some(&tariff), at(30, 0), 7), [0, 0, 0, 7]);
        // No tariff: all of it flat.
        assert_eq!(split_hour(None, at(30, 8), 9), [0, 0, 9, 0]);
    }

    #[test]
    fn the_report_adds_up_by_utility_names_peak_users_and_writes_its_csv() {
        let line = |unit: &str, utility, by_band| BandLine {
            unit_id: 1,
            building: "Block A".into(),
            unit: unit.into(),
            utility,
            by_band,
        };
        let report = BandReport {
            site_name: "Riverside".into(),
            days: Days {
                from: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
                to: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
            },
            lines: vec![
                line(
                    "A-101",
                    Utility::Electricity,
                    [1_000_000, 0, 2_000_000, 1_000_000],
                ),
                line("A-102", Utility::Electricity, [3_000_000, 0, 0, 1_000_000]),
                line("A-101", Utility::Water, [0, 0, 500_000, 0]),
            ],
        };
        let totals = report.totals();
        assert_eq!(totals.len(), 2);
        assert_eq!(totals[0].by_band, [4_000_000, 0, 2_000_000, 2_000_000]);
        assert_eq!(percent(&totals[0].by_band, BandKind::Peak), Some(50));
        assert_eq!(percent(&[0; 4], BandKind::Peak), None);
        let peak: Vec<&str> = report
            .peak_users(Utility::Electricity)
            .iter()
            .map(|l| l.unit.as_str())
            .collect();
        assert_eq!(peak, ["A-102", "A-101"]);
        assert!(report.peak_users(Utility::Water).is_empty());
        let csv = report.csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "building,unit,utility,peak,shoulder,flat,valley,total,peak_percent"
        );
        assert_eq!(lines[1], "Block A,A-101,electricity,1,0,2,1,4,25");
        assert_eq!(lines[4], ",,electricity,4,0,2,2,8,50");
        assert_eq!(lines.len(), 6);
    }

    proptest! {
        /// However the bands fall, an hour's use is shared out without a millionth lost.
        #[test]
        fn an_hour_s_use_is_never_lost_to_the_bands(
            day in 1u32..=30,
            hour in 0u32..24,
            micro in 0i64..10_000_000_000,
        ) {
            let split = split_hour(Some(&time_of_use()), at(day, hour), micro);
            prop_assert_eq!(split.iter().sum::<i64>(), micro);
            prop_assert!(split.iter().all(|part| *part >= 0));
        }
    }
}
