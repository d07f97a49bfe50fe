//! The consumption report: what each unit used of each utility over some days of a site, and
//! what it cost, added up by building and site, its top consumers, and its CSV. Pure, so the
//! page and the CSV download say the same.

use super::{Minor, Utility, csv};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// How many days after its first day a report's last day may be.
pub const MAX_DAYS: i64 = 400;

/// Micro-units per unit of quantity, as the roll-ups keep them.
const MICRO: u32 = 6;

/// Local days of a site, both included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Days {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// The days a report is asked for, each possibly left out (as a form sends them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaysAsked {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl DaysAsked {
    /// From the page's or the download's query: `YYYY-MM-DD` each, or empty.
    pub fn parse(from: &str, to: &str) -> Result<Self, String> {
        let day = |raw: &str, what: &str| {
            let raw = raw.trim();
            if raw.is_empty() {
                return Ok(None);
            }
            NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| format!("The {what} day is a date such as 2026-11-30."))
        };
        Ok(Self {
            from: day(from, "first")?,
            to: day(to, "last")?,
        })
    }

    /// The days meant, `today` being the site's: no `from` is the first of the month of the
    /// last day, no `to` is today.
    pub fn resolve(self, today: NaiveDate) -> Result<Days, String> {
        use chrono::Datelike;
        let to = self.to.unwrap_or(today);
        let from = self.from.unwrap_or_else(|| to.with_day(1).unwrap_or(to));
        if to < from {
            return Err("The last day comes on or after the first.".into());
        }
        // The REST API's documented rule: the last day at most this many days after the first.
        if (to - from).num_days() > MAX_DAYS {
            return Err(format!(
                "The last day is at most {MAX_DAYS} days after the first."
            ));
        }
        Ok(Days { from, to })
    }
}

/// One unit's use of one utility.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumptionLine {
    pub unit_id: i64,
    pub building: String,
    pub unit: String,
    pub utility: Utility,
    pub quantity_micro: i64,
    /// Rounded once, from the roll-ups' micro-units.
    pub cost: Minor,
}

/// A site's consumption over some days, a line per unit and utility with any use.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumptionReport {
    pub site_name: String,
    pub currency: String,
    pub digits: u32,
    pub days: Days,
    pub lines: Vec<ConsumptionLine>,
}

/// A sum over some lines: a building's or the site's use of one utility.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Total {
    pub building: Option<String>,
    pub utility: Utility,
    pub units: usize,
    pub quantity_micro: i64,
    pub cost: Minor,
}

/// A quantity of micro-units as people read it: at most three places, no trailing zeros.
pub fn quantity(micro: i64) -> String {
    Decimal::new(micro, MICRO)
        .round_dp(3)
        .normalize()
        .to_string()
}

/// [`quantity`] for a page, its thousands grouped as every amount on the pages is
/// (`13,315.81`); files keep the plain number.
pub fn quantity_shown(micro: i64) -> String {
    super::money::group_thousands(&quantity(micro))
}

impl ConsumptionReport {
    /// The site's total of each utility used, in the order utilities are listed.
    pub fn site_totals(&self) -> Vec<Total> {
        self.totals(false)
    }

    /// Each building's total of each utility, by building name.
    pub fn building_totals(&self) -> Vec<Total> {
        self.totals(true)
    }

    fn totals(&self, by_building: bool) -> Vec<Total> {
        let mut totals: Vec<Total> = Vec::new();
        for line in &self.lines {
            let building = by_building.then(|| line.building.clone());
            match totals
                .iter_mut()
                .find(|t| t.utility == line.utility && t.building == building)
            {
                Some(total) => {
                    total.units += 1;
                    total.quantity_micro += line.quantity_micro;
                    total.cost = total.cost + line.cost;
                }
                None => totals.push(Total {
                    building,
                    utility: line.utility,
                    units: 1,
                    quantity_micro: line.quantity_micro,
                    cost: line.cost,
                }),
            }
        }
        totals.sort_by(|a, b| {
            (a.building.as_deref(), a.utility.as_str())
                .cmp(&(b.building.as_deref(), b.utility.as_str()))
        });
        totals
    }

    /// The `n` units that used the most of `utility`, most first (ties by building and unit).
    pub fn top(&self, utility: Utility, n: usize) -> Vec<&ConsumptionLine> {
        let mut lines: Vec<&ConsumptionLine> =
            self.lines.iter().filter(|l| l.utility == utility).collect();
        lines.sort_by(|a, b| {
            b.quantity_micro
                .cmp(&a.quantity_micro)
                .then_with(|| (&a.building, &a.unit).cmp(&(&b.building, &b.unit)))
        });
        lines.truncate(n);
        lines
    }

    /// The report as CSV: a line per unit and utility, then the totals of each building and
    /// of the site, so a spreadsheet needs no formulas to agree with the page.
    pub fn csv(&self) -> String {
        let cost = |minor: Minor| minor.format(self.digits);
        let mut out = csv::line(&[
            "building",
            "unit",
            "utility",
            "quantity",
            "measure",
            &format!("cost ({})", self.currency),
            "from",
            "to",
        ]);
        let (from, to) = (self.days.from.to_string(), self.days.to.to_string());
        let mut row = |building: &str, unit: &str, utility: Utility, micro: i64, minor: Minor| {
            out.push_str(&csv::line(&[
                building,
                unit,
                utility.as_str(),
                &quantity(micro),
                utility.default_unit_of_measure(),
                &cost(minor),
                &from,
                &to,
            ]));
        };
        for line in &self.lines {
            row(
                &line.building,
                &line.unit,
                line.utility,
                line.quantity_micro,
                line.cost,
            );
        }
        for total in self.building_totals().iter().chain(&self.site_totals()) {
            let building = total.building.as_deref().unwrap_or("(site)");
            row(
                building,
                "(total)",
                total.utility,
                total.quantity_micro,
                total.cost,
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_groups_a_quantitys_thousands_and_a_file_does_not() {
        assert_eq!(quantity(13_315_810_000), "13315.81");
        assert_eq!(quantity_shown(13_315_810_000), "13,315.81");
        assert_eq!(quantity_shown(-1_234_500_000), "-1,234.5");
        assert_eq!(quantity_shown(999_999_000), "999.999");
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn line(
        building: &str,
        unit: &str,
        utility: Utility,
        micro: i64,
        cost: i64,
    ) -> ConsumptionLine {
        ConsumptionLine {
            unit_id: 0,
            building: building.into(),
            unit: unit.into(),
            utility,
            quantity_micro: micro,
            cost: Minor(cost),
        }
    }

    fn report() -> ConsumptionReport {
        ConsumptionReport {
            site_name: "Riverside".into(),
            currency: "KES".into(),
            digits: 2,
            days: Days {
                from: day("2026-11-01"),
                to: day("2026-11-30"),
            },
            lines: vec![
                line("Block A", "A-101", Utility::Electricity, 12_500_000, 30_000),
                line("Block A", "A-102", Utility::Electricity, 40_250_000, 96_600),
                line("Block A", "A-101", Utility::Water, 3_000_000, 12_000),
                line("Block B", "B-101", Utility::Electricity, 7_000_000, 16_800),
            ],
        }
    }

    #[test]
    fn days_default_to_this_month_and_refuse_nonsense() {
        let today = day("2026-11-29");
        let resolve =
            |from: &str, to: &str| DaysAsked::parse(from, to).and_then(|d| d.resolve(today));
        assert_eq!(
            resolve("", "").unwrap(),
            Days {
                from: day("2026-11-01"),
                to: today
            }
        );
        assert_eq!(resolve("", "2026-02-10").unwrap().from, day("2026-02-01"));
        assert_eq!(
            resolve("2026-01-01", "2026-01-01").unwrap().to,
            day("2026-01-01")
        );
        assert!(resolve("2026-11-30", "2026-11-01").is_err());
        assert!(resolve("30/11/2026", "").is_err());
        assert!(resolve("2025-01-01", "2026-11-01").is_err());
        assert!(resolve("2025-10-26", "2026-11-29").is_ok());
    }

    #[test]
    fn totals_add_up_by_building_and_site() {
        let report = report();
        let site = report.site_totals();
        assert_eq!(site.len(), 2);
        let electricity = site
            .iter()
            .find(|t| t.utility == Utility::Electricity)
            .unwrap();
        assert_eq!(
            (
                electricity.units,
                electricity.quantity_micro,
                electricity.cost
            ),
            (3, 59_750_000, Minor(143_400))
        );
        let buildings = report.building_totals();
        assert_eq!(buildings.len(), 3);
        assert_eq!(buildings[0].building.as_deref(), Some("Block A"));
        let sum: i64 = buildings.iter().map(|t| t.cost.0).sum();
        assert_eq!(sum, report.lines.iter().map(|l| l.cost.0).sum::<i64>());
    }

    #[test]
    fn the_top_consumers_come_first() {
        let report = report();
        let top: Vec<&str> = report
            .top(Utility::Electricity, 2)
            .iter()
            .map(|l| l.unit.as_str())
            .collect();
        assert_eq!(top, ["A-102", "A-101"]);
        assert!(report.top(Utility::Gas, 5).is_empty());
    }

    #[test]
    fn the_csv_has_every_line_and_the_totals() {
        let csv = report().csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "building,unit,utility,quantity,measure,cost (KES),from,to"
        );
        assert_eq!(
            lines[2],
            "Block A,A-102,electricity,40.25,kWh,966.00,2026-11-01,2026-11-30"
        );
        assert_eq!(lines.len(), 1 + 4 + 3 + 2);
        assert_eq!(
            lines[9],
            "(site),(total),water,3,m3,120.00,2026-11-01,2026-11-30"
        );
    }
}
