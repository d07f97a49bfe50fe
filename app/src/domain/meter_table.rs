//! The site's meters as the fleet console lists them: each meter's link, relay or valve,
//! battery and last reading, judged against the site's rules (meter health), filtered and a
//! page at a time. Pure, so the page, its health counts and the CSV download agree.

use super::{Utility, csv, fleet::FleetRules, zone::SiteZone};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Rows on one page.
pub const PAGE_SIZE: usize = 100;
/// Below this a battery meter needs a visit soon.
pub const LOW_BATTERY_PCT: i32 = 20;
/// Below this (dBm) uplinks start to fail: worth moving the antenna before they do.
pub const WEAK_SIGNAL_DBM: i32 = -105;
/// A meter online but with no reading for this long is counting nothing we are told of.
pub fn quiet_after() -> Duration {
    Duration::hours(24)
}

/// One installed meter and what it last told us.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeterLine {
    pub id: i64,
    pub building: String,
    pub unit: String,
    pub serial: String,
    pub utility: Utility,
    pub transport: String,
    pub sleeps: bool,
    pub online: bool,
    /// What we last asked of the relay or valve, and what the meter last said it is.
    pub relay_wanted: String,
    pub relay_reported: Option<String>,
    pub battery_pct: Option<i32>,
    pub signal_dbm: Option<i32>,
    pub clock_offset_s: Option<i64>,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub last_reading_at: Option<DateTime<Utc>>,
    pub last_register: Option<String>,
    /// Alarms not yet resolved.
    pub open_alarms: i64,
    /// Commands not yet answered (held, pending or sent).
    pub waiting_commands: i64,
}

/// Something about a meter that wants a person's attention.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Problem {
    Offline,
    LowBattery,
    WeakSignal,
    ClockDrift,
    /// The relay or valve is not where we asked it to be.
    RelayDisagrees,
    /// Online, but no reading for a day.
    NoReadings,
    Alarms,
    CommandsWaiting,
}

impl Problem {
    pub const ALL: [Problem; 8] = [
        Problem::Offline,
        Problem::LowBattery,
        Problem::WeakSignal,
        Problem::ClockDrift,
        Problem::RelayDisagrees,
        Problem::NoReadings,
        Problem::Alarms,
        Problem::CommandsWaiting,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Problem::Offline => "offline",
            Problem::LowBattery => "low_battery",
            Problem::WeakSignal => "weak_signal",
            Problem::ClockDrift => "clock_drift",
            Problem::RelayDisagrees => "relay_disagrees",
            Problem::NoReadings => "no_readings",
            Problem::Alarms => "alarms",
            Problem::CommandsWaiting => "commands_waiting",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Problem::Offline => "Offline",
            Problem::LowBattery => "Battery low",
            Problem::WeakSignal => "Weak signal",
            Problem::ClockDrift => "Clock wrong",
            Problem::RelayDisagrees => "Relay or valve not as asked",
            Problem::NoReadings => "No reading for a day",
            Problem::Alarms => "Open alarms",
            Problem::CommandsWaiting => "Commands waiting",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|problem| problem.as_str() == raw)
    }
}

impl MeterLine {
    /// Whether the meter has this problem now, by the site's rules.
    pub fn has(&self, problem: Problem, rules: &FleetRules, now: DateTime<Utc>) -> bool {
        match problem {
            Problem::Offline => !self.online,
            Problem::LowBattery => self.battery_pct.is_some_and(|pct| pct < LOW_BATTERY_PCT),
            Problem::WeakSignal => self.signal_dbm.is_some_and(|dbm| dbm < WEAK_SIGNAL_DBM),
            Problem::ClockDrift => self
                .clock_offset_s
                .is_some_and(|offset| rules.clock_drifts(offset)),
            Problem::RelayDisagrees => self
                .relay_reported
                .as_deref()
                .is_some_and(|reported| reported != self.relay_wanted),
            // An offline meter already says why it sends nothing.
            Problem::NoReadings => {
                self.online
                    && self
                        .last_reading_at
                        .is_none_or(|at| now - at > quiet_after())
            }
            Problem::Alarms => self.open_alarms > 0,
            Problem::CommandsWaiting => self.waiting_commands > 0,
        }
    }

    pub fn problems(&self, rules: &FleetRules, now: DateTime<Utc>) -> Vec<Problem> {
        Problem::ALL
            .into_iter()
            .filter(|problem| self.has(*problem, rules, now))
            .collect()
    }

    fn mentions(&self, words: &str) -> bool {
        words.split_whitespace().all(|word| {
            let word = word.to_lowercase();
            [&self.serial, &self.unit, &self.building]
                .iter()
                .any(|field| field.to_lowercase().contains(&word))
        })
    }
}

/// The raw fields of the meters form, each possibly empty (or missing from an address).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MeterFields {
    pub utility: String,
    pub problem: String,
    pub words: String,
    pub page: String,
}

/// Which meters a viewer asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeterQuery {
    pub utility: Option<Utility>,
    pub problem: Option<Problem>,
    /// Words found in the serial, the unit or the building.
    pub words: String,
    /// From 1; a page past the last shows the last.
    pub page: usize,
}

impl MeterQuery {
    /// Reads the form; an empty field means "any" (or the first page).
    pub fn parse(fields: &MeterFields) -> Result<Self, String> {
        let utility = match fields.utility.trim() {
            "" => None,
            raw => Some(
                raw.parse::<Utility>()
                    .map_err(|_| format!("Unknown utility “{raw}”."))?,
            ),
        };
        let problem = match fields.problem.trim() {
            "" => None,
            raw => Some(Problem::parse(raw).ok_or_else(|| format!("Unknown problem “{raw}”."))?),
        };
        let words = fields.words.trim();
        if words.chars().count() > 100 {
            return Err("Search with at most 100 characters.".into());
        }
        let page = match fields.page.trim() {
            "" => 1,
            raw => raw
                .parse::<usize>()
                .ok()
                .filter(|page| *page >= 1)
                .ok_or_else(|| format!("Page “{raw}” is not a page number."))?,
        };
        Ok(MeterQuery {
            utility,
            problem,
            words: words.to_owned(),
            page,
        })
    }

    /// The query back as form fields, for the links to other pages and the CSV.
    pub fn fields(&self) -> MeterFields {
        MeterFields {
            utility: self.utility.map(Utility::as_str).unwrap_or("").to_owned(),
            problem: self.problem.map(Problem::as_str).unwrap_or("").to_owned(),
            words: self.words.clone(),
            page: self.page.to_string(),
        }
    }

    pub fn admits(&self, meter: &MeterLine, rules: &FleetRules, now: DateTime<Utc>) -> bool {
        self.utility.is_none_or(|utility| meter.utility == utility)
            && self
                .problem
                .is_none_or(|problem| meter.has(problem, rules, now))
            && meter.mentions(&self.words)
    }

    /// Every meter asked for, as the site is laid out: what the CSV download holds.
    pub fn select(
        &self,
        mut meters: Vec<MeterLine>,
        rules: &FleetRules,
        now: DateTime<Utc>,
    ) -> Vec<MeterLine> {
        meters.retain(|meter| self.admits(meter, rules, now));
        meters.sort_by(|a, b| {
            (&a.building, &a.unit, a.utility.as_str(), &a.serial).cmp(&(
                &b.building,
                &b.unit,
                b.utility.as_str(),
                &b.serial,
            ))
        });
        meters
    }

    /// The page asked for, with the health of every meter of the site (not only those found).
    pub fn page_of(
        &self,
        meters: Vec<MeterLine>,
        rules: &FleetRules,
        now: DateTime<Utc>,
    ) -> MeterPage {
        let health = Health::of(&meters, rules, now);
        let selected = self.select(meters, rules, now);
        let matching = selected.len();
        let pages = matching.div_ceil(PAGE_SIZE).max(1);
        let page = self.page.clamp(1, pages);
        let rows = selected
            .into_iter()
            .skip((page - 1) * PAGE_SIZE)
            .map(|meter| {
                let problems = meter.problems(rules, now);
                (meter, problems)
            })
            .take(PAGE_SIZE)
            .collect();
        MeterPage {
            rows,
            matching,
            page,
            pages,
            health,
        }
    }
}

/// How many of the site's meters have each problem.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub meters: usize,
    /// Meters with no problem at all.
    pub healthy: usize,
    /// (problem, meters with it), in [`Problem::ALL`]'s order.
    pub counts: Vec<(Problem, usize)>,
}

impl Health {
    pub fn of(meters: &[MeterLine], rules: &FleetRules, now: DateTime<Utc>) -> Health {
        let counts = Problem::ALL
            .into_iter()
            .map(|problem| {
                let with = meters.iter().filter(|m| m.has(problem, rules, now)).count();
                (problem, with)
            })
            .collect();
        let healthy = meters
            .iter()
            .filter(|m| m.problems(rules, now).is_empty())
            .count();
        Health {
            meters: meters.len(),
            healthy,
            counts,
        }
    }

    /// A share of the site's meters in whole per cent, for the bars.
    pub fn percent(&self, count: usize) -> usize {
        (count * 100).checked_div(self.meters).unwrap_or(0)
    }
}

/// One page of the meters table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeterPage {
    /// Each meter with its problems.
    pub rows: Vec<(MeterLine, Vec<Problem>)>,
    pub matching: usize,
    pub page: usize,
    pub pages: usize,
    pub health: Health,
}

/// Every installed meter of a site, as the engine reads them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeterList {
    pub site_name: String,
    pub zone: SiteZone,
    pub meters: Vec<MeterLine>,
    /// When they were read: their problems are judged at this instant (the server's clock,
    /// which the browser's code never asks for).
    pub read_at: DateTime<Utc>,
}

/// A site's meters page: the page asked for, on the site's clock.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SiteMeters {
    pub site: super::SiteId,
    pub site_name: String,
    pub zone: SiteZone,
    pub query: MeterQuery,
    pub page: MeterPage,
}

pub const CSV_HEADER: [&str; 16] = [
    "meter_id",
    "building",
    "unit",
    "utility",
    "serial",
    "transport",
    "online",
    "relay_wanted",
    "relay_reported",
    "battery_pct",
    "signal_dbm",
    "clock_offset_s",
    "last_seen_local",
    "last_reading_local",
    "last_register",
    "problems",
];

/// One meter as a CSV line (times on the site's clock), in [`CSV_HEADER`]'s columns.
pub fn csv_line(
    meter: &MeterLine,
    zone: &SiteZone,
    rules: &FleetRules,
    now: DateTime<Utc>,
) -> String {
    let local = |at: Option<DateTime<Utc>>| {
        at.map(|at| zone.local(at).format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default()
    };
    let number = |value: Option<i64>| value.map(|n| n.to_string()).unwrap_or_default();
    let problems: Vec<&str> = meter
        .problems(rules, now)
        .into_iter()
        .map(Problem::as_str)
        .collect();
    csv::line(&[
        meter.id.to_string(),
        meter.building.clone(),
        meter.unit.clone(),
        meter.utility.as_str().to_owned(),
        meter.serial.clone(),
        meter.transport.clone(),
        if meter.online { "yes" } else { "no" }.to_owned(),
        meter.relay_wanted.clone(),
        meter.relay_reported.clone().unwrap_or_default(),
        number(meter.battery_pct.map(i64::from)),
        number(meter.signal_dbm.map(i64::from)),
        number(meter.clock_offset_s),
        local(meter.last_seen_at),
        local(meter.last_reading_at),
        meter.last_register.clone().unwrap_or_default(),
        problems.join(" "),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 2, 12, 0, 0).unwrap()
    }

    fn meter(building: &str, unit: &str, serial: &str) -> MeterLine {
        MeterLine {
            id: 1,
            building: building.into(),
            unit: unit.into(),
            serial: serial.into(),
            utility: Utility::Electricity,
            transport: "simulator".into(),
            sleeps: false,
            online: true,
            relay_wanted: "open".into(),
            relay_reported: Some("open".into()),
            battery_pct: None,
            signal_dbm: Some(-80),
            clock_offset_s: Some(0),
            last_seen_at: Some(now() - Duration::minutes(5)),
            last_reading_at: Some(now() - Duration::minutes(5)),
            last_register: Some("100".into()),
            open_alarms: 0,
            waiting_commands: 0,
        }
    }

    #[test]
    fn a_meter_that_reports_as_asked_is_healthy() {
        let rules = FleetRules::default();
        assert!(meter("A", "A-1", "E1").problems(&rules, now()).is_empty());
    }

    #[test]
    fn each_problem_is_found_from_what_the_meter_said() {
        let rules = FleetRules::default();
        type Spoil = fn(&mut MeterLine);
        let cases: [(Problem, Spoil); 8] = [
            (Problem::Offline, |m| m.online = false),
            (Problem::LowBattery, |m| m.battery_pct = Some(19)),
            (Problem::WeakSignal, |m| m.signal_dbm = Some(-110)),
            (Problem::ClockDrift, |m| m.clock_offset_s = Some(3_600)),
            (Problem::RelayDisagrees, |m| {
                m.relay_wanted = "closed".into()
            }),
            (Problem::NoReadings, |m| {
                m.last_reading_at = Some(now() - Duration::hours(25))
            }),
            (Problem::Alarms, |m| m.open_alarms = 1),
            (Problem::CommandsWaiting, |m| m.waiting_commands = 2),
        ];
        for (problem, spoil) in cases {
            let mut line = meter("A", "A-1", "E1");
            spoil(&mut line);
            assert_eq!(line.problems(&rules, now()), vec![problem], "{problem:?}");
        }
    }

    #[test]
    fn thresholds_are_not_problems_themselves() {
        let rules = FleetRules::default();
        let mut line = meter("A", "A-1", "E1");
        line.battery_pct = Some(LOW_BATTERY_PCT);
        line.signal_dbm = Some(WEAK_SIGNAL_DBM);
        line.last_reading_at = Some(now() - quiet_after());
        assert!(line.problems(&rules, now()).is_empty());
    }

    #[test]
    fn an_offline_meter_is_not_also_silent_and_one_never_read_is() {
        let rules = FleetRules::default();
        let mut line = meter("A", "A-1", "E1");
        line.last_reading_at = None;
        assert_eq!(line.problems(&rules, now()), vec![Problem::NoReadings]);
        line.online = false;
        assert_eq!(line.problems(&rules, now()), vec![Problem::Offline]);
    }

    #[test]
    fn the_form_parses_and_goes_back_to_the_same_fields() {
        let fields = MeterFields {
            utility: "water".into(),
            problem: "low_battery".into(),
            words: " B-4 ".into(),
            page: "2".into(),
        };
        let query = MeterQuery::parse(&fields).unwrap();
        assert_eq!(query.utility, Some(Utility::Water));
        assert_eq!(query.problem, Some(Problem::LowBattery));
        assert_eq!(MeterQuery::parse(&query.fields()).unwrap(), query);
        for bad in [
            MeterFields {
                utility: "steam".into(),
                ..MeterFields::default()
            },
            MeterFields {
                problem: "sad".into(),
                ..MeterFields::default()
            },
            MeterFields {
                page: "0".into(),
                ..MeterFields::default()
            },
        ] {
            assert!(MeterQuery::parse(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_page_holds_the_meters_found_in_site_order_and_health_counts_them_all() {
        let rules = FleetRules::default();
        let mut offline = meter("B", "B-2", "E2");
        offline.online = false;
        let mut low = meter("A", "A-9", "W9");
        low.utility = Utility::Water;
        low.battery_pct = Some(5);
        let meters = vec![offline, meter("A", "A-1", "E1"), low];
        let query = MeterQuery::parse(&MeterFields {
            words: "a-".into(),
            ..MeterFields::default()
        })
        .unwrap();
        let page = query.page_of(meters, &rules, now());
        let serials: Vec<_> = page.rows.iter().map(|(m, _)| m.serial.as_str()).collect();
        assert_eq!(serials, ["E1", "W9"]);
        assert_eq!(page.rows[1].1, vec![Problem::LowBattery]);
        assert_eq!((page.health.meters, page.health.healthy), (3, 1));
        let count = |wanted| {
            page.health
                .counts
                .iter()
                .find(|(problem, _)| *problem == wanted)
                .map(|(_, n)| *n)
        };
        assert_eq!(count(Problem::Offline), Some(1));
        assert_eq!(count(Problem::LowBattery), Some(1));
        assert_eq!(count(Problem::Alarms), Some(0));
        assert_eq!(page.health.percent(1), 33);
    }

    #[test]
    fn the_csv_line_has_a_field_for_every_column() {
        let rules = FleetRules::default();
        let mut line = meter("A, east", "A-1", "E1");
        line.battery_pct = Some(3);
        let text = csv_line(&line, &SiteZone::utc(), &rules, now());
        assert!(text.ends_with('\n'), "a line of its own");
        let fields = csv::split(text.trim_end()).unwrap();
        assert_eq!(fields.len(), CSV_HEADER.len());
        assert_eq!(fields[1], "A, east");
        assert_eq!(fields[9], "3");
        assert_eq!(fields[12], "2026-12-02 11:55");
        assert_eq!(fields[15], "low_battery");
    }

    proptest! {
        /// However the meters are filtered, a meter is on exactly one page or on none, and
        /// the health counts do not depend on the filter.
        #[test]
        fn pages_split_what_is_found_without_loss(
            count in 0_usize..260,
            offline_every in 1_usize..7,
            problem in proptest::option::of(0_usize..Problem::ALL.len()),
        ) {
            let rules = FleetRules::default();
            let meters: Vec<MeterLine> = (0..count).map(|n| {
                let mut line = meter("A", &format!("A-{n:03}"), &format!("E{n:03}"));
                line.id = n as i64;
                line.online = n % offline_every != 0;
                line
            }).collect();
            let fields = MeterFields {
                problem: problem.map(|p| Problem::ALL[p].as_str().to_owned()).unwrap_or_default(),
                ..MeterFields::default()
            };
            let query = MeterQuery::parse(&fields).unwrap();
            let found = query.select(meters.clone(), &rules, now()).len();
            let first = query.page_of(meters.clone(), &rules, now());
            let mut seen = Vec::new();
            for page in 1..=first.pages {
                let query = MeterQuery { page, ..query.clone() };
                let page = query.page_of(meters.clone(), &rules, now());
                prop_assert_eq!(&page.health, &first.health);
                seen.extend(page.rows.into_iter().map(|(m, _)| m.id));
            }
            let mut unique = seen.clone();
            unique.dedup();
            prop_assert_eq!(unique.len(), seen.len());
            prop_assert_eq!(seen.len(), found);
        }
    }
}
