//! Bulk meters and what is lost between them and the meters they feed: a building's water
//! main against the sum of its flats' meters, a site's incomer against its buildings'. What a
//! master measured and its sub-meters did not is a leak, a theft, a meter that under-reads or
//! a common use nobody meters. Pure, so the page and the CSV say the same.

use super::{Utility, csv, reports::Days, reports::quantity};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A loss above this share of what the master measured is flagged for a look: a pipe network
/// loses a few per cent; a tenth is a leak or a bypass.
pub const WORTH_A_LOOK_PERCENT: i64 = 10;

/// A meter as linking it to a master needs to know it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkEnd {
    pub id: i64,
    pub site: i64,
    pub utility: Utility,
    pub in_service: bool,
}

/// Whether `master` may feed `meter`: both in service on the same site, measuring the same
/// utility, and no loop (`above_master` is the chain of masters above `master`, nearest
/// first), since a loop would count a meter's use against itself.
pub fn check_master(meter: &LinkEnd, master: &LinkEnd, above_master: &[i64]) -> Result<(), String> {
    if meter.id == master.id {
        return Err("A meter cannot be its own master.".into());
    }
    if !master.in_service || !meter.in_service {
        return Err("Only meters in service are linked.".into());
    }
    if meter.site != master.site {
        return Err("The master meter is on the same site.".into());
    }
    if meter.utility != master.utility {
        return Err(format!(
            "The master meter measures {} as this one does.",
            meter.utility.label().to_lowercase()
        ));
    }
    if above_master.contains(&meter.id) {
        return Err(
            "That master is fed through this meter already: the link would be a loop.".into(),
        );
    }
    Ok(())
}

/// A meter that feeds others, and where it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MasterMeter {
    pub id: i64,
    pub serial: String,
    pub building: String,
    pub unit: String,
    pub utility: Utility,
}

/// What a master measured over the days against what the meters it feeds measured.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LossLine {
    pub master: MasterMeter,
    pub master_micro: i64,
    pub sub_meters: usize,
    pub subs_micro: i64,
}

/// What a line comes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finding {
    /// The master measured nothing: no share to speak of.
    Idle,
    /// A loss within [`WORTH_A_LOOK_PERCENT`].
    Within,
    /// More lost than that.
    Losing,
    /// The sub-meters measured more than their master: one of them, or the master, is wrong.
    OverRead,
}

impl Finding {
    pub fn as_str(self) -> &'static str {
        match self {
            Finding::Idle => "idle",
            Finding::Within => "within",
            Finding::Losing => "losing",
            Finding::OverRead => "over_read",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Finding::Idle => "No use measured",
            Finding::Within => "Within the usual",
            Finding::Losing => "Worth a look",
            Finding::OverRead => "Sub-meters read more than the master",
        }
    }
}

impl LossLine {
    /// What the master measured and its sub-meters did not (negative: they read more).
    pub fn loss_micro(&self) -> i64 {
        self.master_micro - self.subs_micro
    }

    /// The loss as a percentage of what the master measured, to one place.
    pub fn loss_percent(&self) -> Option<Decimal> {
        (self.master_micro != 0).then(|| {
            (Decimal::from(self.loss_micro()) * Decimal::ONE_HUNDRED
                / Decimal::from(self.master_micro))
            .round_dp(1)
        })
    }

    /// The share as the page and the CSV write it: always one place; empty when idle.
    pub fn loss_percent_text(&self) -> String {
        self.loss_percent()
            .map(|share| format!("{share:.1}"))
            .unwrap_or_default()
    }

    pub fn finding(&self) -> Finding {
        match self.loss_percent() {
            None => Finding::Idle,
            Some(share) if share < Decimal::ZERO => Finding::OverRead,
            Some(share) if share > Decimal::from(WORTH_A_LOOK_PERCENT) => Finding::Losing,
            Some(_) => Finding::Within,
        }
    }
}

/// A site's masters over some days.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LossReport {
    pub site_name: String,
    pub days: Days,
    pub lines: Vec<LossLine>,
}

/// A line per master: `links` are (sub-meter, its master) pairs, `used` what each meter
/// measured over the days (a meter missing from it measured nothing). A master's own master,
/// if any, counts it as one of its sub-meters: each line compares one level.
pub fn lines(
    masters: Vec<MasterMeter>,
    links: &[(i64, i64)],
    used: &HashMap<i64, i64>,
) -> Vec<LossLine> {
    let of = |meter: i64| used.get(&meter).copied().unwrap_or(0);
    masters
        .into_iter()
        .map(|master| {
            let subs: Vec<i64> = links
                .iter()
                .filter(|(_, feeder)| *feeder == master.id)
                .map(|(sub, _)| *sub)
                .collect();
            LossLine {
                master_micro: of(master.id),
                sub_meters: subs.len(),
                subs_micro: subs.iter().map(|sub| of(*sub)).sum(),
                master,
            }
        })
        .collect()
}

impl LossReport {
    /// A line per master with every figure the page shows.
    pub fn csv(&self) -> String {
        let mut out = csv::line(&[
            "building",
            "unit",
            "master meter",
            "utility",
            "measure",
            "master used",
            "sub-meters",
            "sub-meters used",
            "loss",
            "loss %",
            "finding",
            "from",
            "to",
        ]);
        let (from, to) = (self.days.from.to_string(), self.days.to.to_string());
        for line in &self.lines {
            let master = &line.master;
            out.push_str(&csv::line(&[
                master.building.as_str(),
                &master.unit,
                &master.serial,
                master.utility.as_str(),
                master.utility.default_unit_of_measure(),
                &quantity(line.master_micro),
                &line.sub_meters.to_string(),
                &quantity(line.subs_micro),
                &quantity(line.loss_micro()),
                &line.loss_percent_text(),
                line.finding().as_str(),
                &from,
                &to,
            ]));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn end(id: i64, site: i64, utility: Utility) -> LinkEnd {
        LinkEnd {
            id,
            site,
            utility,
            in_service: true,
        }
    }

    fn master(id: i64) -> MasterMeter {
        MasterMeter {
            id,
            serial: format!("WA-BULK-{id}"),
            building: "Block A".into(),
            unit: "A-plant".into(),
            utility: Utility::Water,
        }
    }

    #[test]
    fn a_master_is_another_meter_of_the_site_measuring_the_same_and_never_a_loop() {
        let water = end(1, 7, Utility::Water);
        assert_eq!(
            check_master(&water, &end(2, 7, Utility::Water), &[]),
            Ok(())
        );
        assert!(check_master(&water, &water, &[]).is_err());
        assert!(check_master(&water, &end(2, 8, Utility::Water), &[]).is_err());
        let gas = check_master(&water, &end(2, 7, Utility::Gas), &[]).unwrap_err();
        assert!(gas.contains("water"), "{gas}");
        // Meter 2 is fed by 3, which is fed by 1: feeding 1 from 2 would close a loop.
        assert!(check_master(&water, &end(2, 7, Utility::Water), &[3, 1]).is_err());
        let removed = LinkEnd {
            in_service: false,
            ..end(2, 7, Utility::Water)
        };
        assert!(check_master(&water, &removed, &[]).is_err());
    }

    #[test]
    fn each_master_is_set_against_its_own_sub_meters() {
        // 10 feeds 1 and 2 and, a level down, 20 feeds 3; 10 also feeds 20.
        let links = [(1, 10), (2, 10), (3, 20), (20, 10)];
        let used = HashMap::from([(10, 1_000), (1, 300), (2, 200), (20, 400), (3, 450)]);
        let lines = lines(vec![master(10), master(20)], &links, &used);
        assert_eq!((lines[0].sub_meters, lines[0].subs_micro), (3, 900));
        assert_eq!(lines[0].loss_micro(), 100);
        assert_eq!(lines[0].loss_percent(), Some(Decimal::from(10)));
        assert_eq!(lines[0].finding(), Finding::Within);
        assert_eq!((lines[1].sub_meters, lines[1].loss_micro()), (1, -50));
        assert_eq!(lines[1].finding(), Finding::OverRead);
    }

    #[test]
    fn the_csv_has_a_line_per_master_with_its_finding() {
        let used = HashMap::from([(10, 2_000_000), (1, 1_500_000)]);
        let report = LossReport {
            site_name: "Riverside".into(),
            days: Days {
                from: "2026-11-01".parse().unwrap(),
                to: "2026-11-30".parse().unwrap(),
            },
            lines: lines(vec![master(10), master(11)], &[(1, 10)], &used),
        };
        let text = report.csv();
        let rows: Vec<&str> = text.lines().collect();
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[1],
            "Block A,A-plant,WA-BULK-10,water,m3,2,1,1.5,0.5,25.0,losing,2026-11-01,2026-11-30"
        );
        assert!(
            rows[2].ends_with(",0,0,0,0,,idle,2026-11-01,2026-11-30"),
            "{}",
            rows[2]
        );
    }

    proptest! {
        /// However meters are arranged under masters, every master's loss is what it measured
        /// less its sub-meters, and the losses of a tree add up to its root's use less its
        /// leaves'.
        #[test]
        fn losses_of_a_tree_add_up(uses in proptest::collection::vec(0_i64..1_000_000, 2..12), seed in any::<u64>()) {
            // Meter i > 0 is fed by some meter before it: a tree rooted at 0.
            let links: Vec<(i64, i64)> = (1..uses.len() as i64)
                .map(|i| (i, (seed.wrapping_mul(i as u64 + 7) % i as u64) as i64))
                .collect();
            let used: HashMap<i64, i64> = uses.iter().enumerate().map(|(i, u)| (i as i64, *u)).collect();
            let feeders: Vec<i64> = (0..uses.len() as i64).filter(|m| links.iter().any(|l| l.1 == *m)).collect();
            let report = lines(feeders.iter().map(|m| master(*m)).collect(), &links, &used);
            let leaves: i64 = (0..uses.len() as i64).filter(|m| !feeders.contains(m)).map(|m| used[&m]).sum();
            let losses: i64 = report.iter().map(LossLine::loss_micro).sum();
            prop_assert_eq!(losses, used[&0] - leaves);
        }
    }
}
