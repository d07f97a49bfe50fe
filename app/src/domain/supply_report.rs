//! The warnings and cut-offs report: what a site's prepaid supply did over some of its local
//! days (low-balance warnings sent, supply cut off or restricted, supply back), counted from
//! the notice the engine queues at each change of an account's supply; the accounts cut most
//! often; and how many are cut now. Pure, so the page and the CSV download say the same.

use super::{csv, notices::Category, reports::Days};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Most accounts in the "cut most often" list.
pub const OFTEN_CUT_MAX: usize = 20;

/// What happened to an account's supply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SupplyEvent {
    /// Credit low, or few days left: the resident was warned.
    Warning,
    /// Supply cut off, restricted, or held at zero for a protected resident.
    CutOff,
    /// Supply back (or a valve armed for the resident to open).
    Reconnection,
}

impl SupplyEvent {
    /// The event a stored notice's kind records, if it is about supply.
    pub fn of_kind(kind: &str) -> Option<Self> {
        match Category::of_kind(kind)? {
            Category::LowBalance => Some(SupplyEvent::Warning),
            Category::CutOff => Some(SupplyEvent::CutOff),
            Category::Reconnection => Some(SupplyEvent::Reconnection),
            Category::Payments | Category::Alarms => None,
        }
    }
}

/// One change of an account's supply on one of the site's local days.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Happening {
    pub day: NaiveDate,
    pub account: i64,
    pub event: SupplyEvent,
}

/// A local day's counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplyDay {
    pub day: NaiveDate,
    pub warnings: usize,
    pub cut_offs: usize,
    pub reconnections: usize,
}

impl SupplyDay {
    fn count(&mut self, event: SupplyEvent) {
        match event {
            SupplyEvent::Warning => self.warnings += 1,
            SupplyEvent::CutOff => self.cut_offs += 1,
            SupplyEvent::Reconnection => self.reconnections += 1,
        }
    }
}

/// An account cut off more than once over the days.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OftenCut {
    pub account: i64,
    /// Where it is, as the engine names it ("Block A · A-101 · water").
    pub place: String,
    pub cut_offs: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplyReport {
    pub site_name: String,
    pub days: Days,
    /// Days with anything to count, oldest first.
    pub rows: Vec<SupplyDay>,
    /// The whole span's counts (its `day` is the first day).
    pub totals: SupplyDay,
    pub accounts_warned: usize,
    pub accounts_cut: usize,
    /// Cut off at least twice, most first, at most [`OFTEN_CUT_MAX`].
    pub often_cut: Vec<OftenCut>,
    /// Open accounts whose supply is cut off or restricted now.
    pub cut_now: usize,
}

impl SupplyReport {
    /// `places` names the accounts (those missing are named by number).
    pub fn new(
        site_name: String,
        days: Days,
        happenings: &[Happening],
        places: &HashMap<i64, String>,
        cut_now: usize,
    ) -> Self {
        let mut by_day: BTreeMap<NaiveDate, SupplyDay> = BTreeMap::new();
        let mut totals = SupplyDay {
            day: days.from,
            ..SupplyDay::default()
        };
        let mut warned = BTreeSet::new();
        for happening in happenings {
            by_day
                .entry(happening.day)
                .or_insert_with(|| SupplyDay {
                    day: happening.day,
                    ..SupplyDay::default()
                })
                .count(happening.event);
            totals.count(happening.event);
            if happening.event == SupplyEvent::Warning {
                warned.insert(happening.account);
            }
        }
        let cuts = cut_counts(happenings);
        let accounts_cut = cuts.len();
        let mut often_cut: Vec<OftenCut> = cuts
            .into_iter()
            .filter(|(_, count)| *count >= 2)
            .map(|(account, cut_offs)| OftenCut {
                account,
                place: places
                    .get(&account)
                    .cloned()
                    .unwrap_or_else(|| format!("account {account}")),
                cut_offs,
            })
            .collect();
        often_cut.sort_by(|a, b| {
            b.cut_offs
                .cmp(&a.cut_offs)
                .then_with(|| a.place.cmp(&b.place))
        });
        often_cut.truncate(OFTEN_CUT_MAX);
        SupplyReport {
            site_name,
            days,
            rows: by_day.into_values().collect(),
            totals,
            accounts_warned: warned.len(),
            accounts_cut,
            often_cut,
            cut_now,
        }
    }

    /// A line per day, then the span's totals.
    pub fn csv(&self) -> String {
        let line = |day: &str, counts: &SupplyDay| {
            csv::line(&[
                day.to_owned(),
                counts.warnings.to_string(),
                counts.cut_offs.to_string(),
                counts.reconnections.to_string(),
            ])
        };
        let mut out = csv::line(&["day", "warnings", "cut_offs", "reconnections"]);
        for row in &self.rows {
            out.push_str(&line(&row.day.to_string(), row));
        }
        out.push_str(&line(
            &format!("{} to {}", self.days.from, self.days.to),
            &self.totals,
        ));
        out
    }

    /// The busiest day's count of any one kind, for scaling bars (at least 1).
    pub fn busiest(&self) -> usize {
        self.rows
            .iter()
            .map(|row| row.warnings.max(row.cut_offs).max(row.reconnections))
            .max()
            .unwrap_or(1)
            .max(1)
    }
}

/// How many times each account was cut off.
fn cut_counts(happenings: &[Happening]) -> HashMap<i64, usize> {
    let mut cuts = HashMap::new();
    for happening in happenings {
        if happening.event == SupplyEvent::CutOff {
            *cuts.entry(happening.account).or_default() += 1;
        }
    }
    cuts
}

/// The accounts cut off at least twice: those the report names.
pub fn often_cut_accounts(happenings: &[Happening]) -> Vec<i64> {
    cut_counts(happenings)
        .into_iter()
        .filter(|(_, count)| *count >= 2)
        .map(|(account, _)| account)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(n: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, n).unwrap()
    }

    fn days() -> Days {
        Days {
            from: day(1),
            to: day(30),
        }
    }

    fn happened(d: u32, account: i64, event: SupplyEvent) -> Happening {
        Happening {
            day: day(d),
            account,
            event,
        }
    }

    #[test]
    fn notice_kinds_name_supply_events_and_nothing_else() {
        assert_eq!(
            SupplyEvent::of_kind("low_balance_20"),
            Some(SupplyEvent::Warning)
        );
        assert_eq!(
            SupplyEvent::of_kind("few_days_left"),
            Some(SupplyEvent::Warning)
        );
        for kind in ["cut_off", "restricted", "protected_at_zero"] {
            assert_eq!(SupplyEvent::of_kind(kind), Some(SupplyEvent::CutOff));
        }
        for kind in ["reconnected", "armed"] {
            assert_eq!(SupplyEvent::of_kind(kind), Some(SupplyEvent::Reconnection));
        }
        for kind in ["payment_received", "alarm_gas_leak", "site_notice", "what"] {
            assert_eq!(SupplyEvent::of_kind(kind), None, "{kind}");
        }
    }

    #[test]
    fn days_accounts_and_the_often_cut_are_counted() {
        use SupplyEvent::*;
        let happenings = [
            happened(3, 7, Warning),
            happened(3, 7, CutOff),
            happened(4, 7, Reconnection),
            happened(9, 7, CutOff),
            happened(9, 8, Warning),
            happened(9, 9, CutOff),
            happened(3, 8, Warning),
        ];
        let places = HashMap::from([(7, "Block A · A-101 · water".to_owned())]);
        let report = SupplyReport::new("Site".into(), days(), &happenings, &places, 2);
        let per_day: Vec<_> = report
            .rows
            .iter()
            .map(|r| (r.day, r.warnings, r.cut_offs, r.reconnections))
            .collect();
        assert_eq!(
            per_day,
            [(day(3), 2, 1, 0), (day(4), 0, 0, 1), (day(9), 1, 2, 0)]
        );
        assert_eq!(
            (
                report.totals.warnings,
                report.totals.cut_offs,
                report.totals.reconnections
            ),
            (3, 3, 1)
        );
        assert_eq!((report.accounts_warned, report.accounts_cut), (2, 2));
        assert_eq!(
            report.often_cut,
            [OftenCut {
                account: 7,
                place: "Block A · A-101 · water".into(),
                cut_offs: 2
            }]
        );
        assert_eq!(report.busiest(), 2);
        let csv = report.csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "day,warnings,cut_offs,reconnections");
        assert_eq!(lines[1], "2026-11-03,2,1,0");
        assert_eq!(lines[4], "2026-11-01 to 2026-11-30,3,3,1");
    }

    #[test]
    fn a_quiet_span_has_no_rows_and_bars_still_scale() {
        let report = SupplyReport::new("Site".into(), days(), &[], &HashMap::new(), 0);
        assert!(report.rows.is_empty() && report.often_cut.is_empty());
        assert_eq!(report.busiest(), 1);
        assert_eq!(report.csv().lines().count(), 2);
    }

    proptest! {
        /// Every happening is counted once: the days add up to the totals, and the totals to
        /// the happenings, however they are ordered.
        #[test]
        fn days_add_up_to_the_totals(
            raw in proptest::collection::vec((1_u32..29, 1_i64..40, 0_usize..3), 0..300),
        ) {
            let events = [SupplyEvent::Warning, SupplyEvent::CutOff, SupplyEvent::Reconnection];
            let happenings: Vec<Happening> = raw
                .iter()
                .map(|(d, account, e)| happened(*d, *account, events[*e]))
                .collect();
            let report = SupplyReport::new("Site".into(), days(), &happenings, &HashMap::new(), 0);
            let mut reversed = happenings.clone();
            reversed.reverse();
            let again = SupplyReport::new("Site".into(), days(), &reversed, &HashMap::new(), 0);
            prop_assert_eq!(&report, &again);
            let sum = |f: fn(&SupplyDay) -> usize| report.rows.iter().map(f).sum::<usize>();
            prop_assert_eq!(sum(|r| r.warnings), report.totals.warnings);
            prop_assert_eq!(sum(|r| r.cut_offs), report.totals.cut_offs);
            prop_assert_eq!(sum(|r| r.reconnections), report.totals.reconnections);
            prop_assert_eq!(
                report.totals.warnings + report.totals.cut_offs + report.totals.reconnections,
                happenings.len()
            );
            prop_assert!(report.often_cut.iter().all(|o| o.cut_offs >= 2));
            prop_assert!(report.often_cut.len() <= OFTEN_CUT_MAX);
        }
    }
}
