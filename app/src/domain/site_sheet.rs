//! The site model as a sheet: one line per meter (or per unit without a meter) with the unit's
//! building and the resident living there. Managers export it to check or edit the site in a
//! spreadsheet and import it to set a site up; the same columns go both ways.
//!
//! Reading a sheet here finds every mistake a line can make on its own or against the other
//! lines of the file; what the site already holds (a serial or an e-mail address in use) is
//! checked by the server against the database, in the transaction that would commit it.

use super::{
    Utility,
    csv::{Row, Table},
    email::Email,
    fleet::MeterSerial,
    messaging::PhoneNumber,
    site::Multiplier,
    tariff::Plan,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, hash_map::Entry};

/// The sheet's columns, in the order an export writes them.
pub const COLUMNS: [&str; 13] = [
    "building",
    "unit",
    "kind",
    "utility",
    "serial",
    "multiplier",
    "first_register",
    "transport",
    "resident_email",
    "resident_name",
    "resident_phone",
    "tariff_plan",
    "master_serial",
];

/// What a unit can be, as storage names it.
pub const UNIT_KINDS: [&str; 6] = [
    "flat",
    "dorm_room",
    "shop",
    "office",
    "factory",
    "common_area",
];

/// The most lines one import takes: a campus of several thousand rooms with three meters each.
pub const MAX_LINES: usize = 30_000;

/// One good line of an imported sheet.
#[derive(Clone, Debug, PartialEq)]
pub struct SheetLine {
    pub number: usize,
    pub building: String,
    pub unit: String,
    pub kind: &'static str,
    /// The unit's tariff plan, when the sheet has the column (blank: the standard tariff).
    pub plan: Option<Plan>,
    pub meter: Option<SheetMeter>,
    pub resident: Option<SheetResident>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SheetMeter {
    pub utility: Utility,
    pub serial: MeterSerial,
    pub multiplier: Multiplier,
    pub first_register: Decimal,
    /// `mqtt` or `simulator`.
    pub transport: &'static str,
    /// The meter that feeds this one (a building's bulk meter), by serial: a meter of the
    /// site or of the same sheet. `None` asks for no link.
    pub master: Option<MeterSerial>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SheetResident {
    pub email: Email,
    pub name: String,
    pub phone: Option<PhoneNumber>,
}

/// Where an import stands while it runs, for its page to show: the step and how far into it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub step: Step,
    pub done: usize,
    pub of: usize,
}

/// An import's steps, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Checking,
    Units,
    Meters,
    Residents,
    Accounts,
    Baselines,
    Finished,
}

impl Step {
    pub fn label(self) -> &'static str {
        match self {
            Step::Checking => "Checking every line against the site",
            Step::Units => "Adding buildings and units",
            Step::Meters => "Installing meters",
            Step::Residents => "Moving residents in",
            Step::Accounts => "Opening accounts",
            Step::Baselines => "Reading the first registers",
            Step::Finished => "Done",
        }
    }
}

impl Progress {
    pub fn new(step: Step, done: usize, of: usize) -> Self {
        Self { step, done, of }
    }

    /// How far the import is, 0 to 100: each step a sixth, split by what it has done.
    pub fn percent(&self) -> u32 {
        let steps = Step::Finished as u32;
        let within = if self.of == 0 {
            0.0
        } else {
            self.done.min(self.of) as f64 / self.of as f64
        };
        ((f64::from(self.step as u32) + within) * 100.0 / f64::from(steps)).round() as u32
    }
}

/// What a site holds, as its sheet page heads it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SheetSummary {
    pub site_name: String,
    pub buildings: i64,
    pub units: i64,
    /// Installed meters.
    pub meters: i64,
    /// People living there now.
    pub residents: i64,
    /// A fresh key for the import form, under which its progress is kept (set by the server).
    #[serde(default)]
    pub import_key: String,
}

/// A bad line and why; line 0 is the file itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub line: usize,
    pub reason: String,
}

impl Problem {
    pub fn new(line: usize, reason: impl Into<String>) -> Self {
        Problem {
            line,
            reason: reason.into(),
        }
    }
}

/// A sheet read: its good lines, and a problem for every bad one.
#[derive(Debug, Default)]
pub struct Sheet {
    /// How many lines the file has after its header.
    pub rows: usize,
    pub lines: Vec<SheetLine>,
    pub problems: Vec<Problem>,
}

/// What an import would add (a dry run) or added (a commit); with problems, nothing was or
/// would be added.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ImportCheck {
    pub lines: usize,
    pub buildings: usize,
    pub units: usize,
    pub meters: usize,
    pub residents: usize,
    pub problems: Vec<Problem>,
    /// After a commit: each new MQTT meter's broker password, shown this once.
    pub broker_passwords: Vec<(String, String)>,
    pub committed: bool,
    /// After a commit: how many new residents were sent an invitation.
    pub invited: usize,
    /// Meters linked to the master meter that feeds them.
    #[serde(default)]
    pub links: usize,
}

impl ImportCheck {
    pub fn refused(problems: Vec<Problem>) -> Self {
        ImportCheck {
            problems,
            ..Self::default()
        }
    }
}

/// Reads a sheet by its header (any order, any case; `building` and `unit` are required, the
/// meter columns when a line has a utility, the resident columns when it has an e-mail).
pub fn read(text: &str) -> Sheet {
    let table = match Table::parse(text, "file") {
        Ok(table) => table,
        Err(reason) => return refused(reason),
    };
    let columns = match Columns::find(&table) {
        Ok(columns) => columns,
        Err(reason) => return refused(reason),
    };
    let mut sheet = Sheet::default();
    for (index, row) in table.rows().enumerate() {
        if index >= MAX_LINES {
            return refused(format!(
                "The file has more than {MAX_LINES} lines: split it in two."
            ));
        }
        sheet.rows += 1;
        match row.and_then(|row| columns.line(&row)) {
            Ok(line) => sheet.lines.push(line),
            Err(reason) => sheet.problems.push(Problem::new(index + 2, reason)),
        }
    }
    if sheet.lines.is_empty() && sheet.problems.is_empty() {
        return refused("The file has a header but no lines.".into());
    }
    sheet.problems.extend(conflicts(&sheet.lines));
    sheet.problems.sort_by_key(|problem| problem.line);
    sheet
}

fn refused(reason: String) -> Sheet {
    Sheet {
        problems: vec![Problem::new(0, reason)],
        ..Sheet::default()
    }
}

struct Columns {
    building: usize,
    unit: usize,
    kind: Option<usize>,
    utility: Option<usize>,
    serial: Option<usize>,
    multiplier: Option<usize>,
    first_register: Option<usize>,
    transport: Option<usize>,
    email: Option<usize>,
    name: Option<usize>,
    phone: Option<usize>,
    plan: Option<usize>,
    master: Option<usize>,
}

impl Columns {
    fn find(table: &Table<'_>) -> Result<Self, String> {
        Ok(Columns {
            building: table.column(&["building"])?,
            unit: table.column(&["unit"])?,
            kind: table.optional_column(&["kind"]),
            utility: table.optional_column(&["utility"]),
            serial: table.optional_column(&["serial"]),
            multiplier: table.optional_column(&["multiplier"]),
            first_register: table.optional_column(&["first_register"]),
            transport: table.optional_column(&["transport"]),
            email: table.optional_column(&["resident_email"]),
            name: table.optional_column(&["resident_name"]),
            phone: table.optional_column(&["resident_phone"]),
            plan: table.optional_column(&["tariff_plan"]),
            master: table.optional_column(&["master_serial"]),
        })
    }

    fn line(&self, row: &Row) -> Result<SheetLine, String> {
        let field = |column: Option<usize>| -> Result<&str, String> {
            column.map_or(Ok(""), |column| row.get(column).or(Ok("")))
        };
        let building = named(row.get(self.building)?, "building")?;
        let unit = named(row.get(self.unit)?, "unit")?;
        let kind = match field(self.kind)? {
            "" => "flat",
            raw => UNIT_KINDS
                .into_iter()
                .find(|kind| kind.eq_ignore_ascii_case(raw))
                .ok_or_else(|| {
                    format!("{raw:?} is not a kind of unit ({}).", UNIT_KINDS.join(", "))
                })?,
        };
        let plan = match self.plan {
            Some(column) => Some(
                Plan::parse(row.get(column).unwrap_or(""))
                    .map_err(|error| format!("tariff_plan: {error}"))?,
            ),
            None => None,
        };
        let meter = match field(self.utility)? {
            "" if field(self.serial)?.is_empty() && !field(self.master)?.is_empty() => {
                return Err("The line names a master_serial but no meter.".into());
            }
            "" if field(self.serial)?.is_empty() => None,
            "" => return Err("The meter has a serial but no utility.".into()),
            utility => Some(SheetMeter {
                utility: utility
                    .to_lowercase()
                    .parse()
                    .map_err(|_| format!("{utility:?} is not electricity, water or gas."))?,
                serial: MeterSerial::parse(field(self.serial)?)?,
                multiplier: match field(self.multiplier)? {
                    "" => Multiplier::ONE,
                    raw => {
                        Multiplier::parse(raw).map_err(|error| capitalised(&error.to_string()))?
                    }
                },
                first_register: match field(self.first_register)? {
                    "" => Decimal::ZERO,
                    raw => raw
                        .parse::<Decimal>()
                        .ok()
                        .filter(|value| *value >= Decimal::ZERO)
                        .ok_or_else(|| {
                            format!("The first register {raw:?} is not a number of 0 or more.")
                        })?,
                },
                transport: match field(self.transport)?.to_lowercase().as_str() {
                    "" | "mqtt" => "mqtt",
                    "simulator" => "simulator",
                    other => {
                        return Err(format!("{other:?} is not a transport (mqtt or simulator)."));
                    }
                },
                master: match field(self.master)? {
                    "" => None,
                    raw => Some(
                        MeterSerial::parse(raw)
                            .map_err(|error| format!("master_serial: {error}"))?,
                    ),
                },
            }),
        };
        let resident = match field(self.email)? {
            "" if field(self.name)?.is_empty() => None,
            "" => return Err("The resident has a name but no e-mail address.".into()),
            email => Some(SheetResident {
                email: Email::parse(email).map_err(|error| format!("{email:?}: {error}"))?,
                name: named(field(self.name)?, "resident_name")?,
                phone: match field(self.phone)? {
                    "" => None,
                    raw => Some(PhoneNumber::parse(raw).map_err(|error| error.to_string())?),
                },
            }),
        };
        Ok(SheetLine {
            number: row.number,
            building,
            unit,
            kind,
            plan,
            meter,
            resident,
        })
    }
}

/// A name of 1 to 120 characters.
pub fn named(raw: &str, column: &str) -> Result<String, String> {
    match raw.chars().count() {
        0 => Err(format!("The {column} column is empty.")),
        1..=120 => Ok(raw.to_owned()),
        _ => Err(format!("The {column} is longer than 120 characters.")),
    }
}

/// An error text as a sentence: capitalised, with a full stop.
pub(crate) fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect::<String>() + "."
    })
}

/// Lines that are fine alone but contradict an earlier line of the same file.
fn conflicts(lines: &[SheetLine]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut serials: HashMap<&str, usize> = HashMap::new();
    let mut kinds: HashMap<(&str, &str), (&str, usize)> = HashMap::new();
    let mut plans: HashMap<(&str, &str), (&Plan, usize)> = HashMap::new();
    let mut meters: HashMap<(&str, &str, Utility), usize> = HashMap::new();
    let mut residents: HashMap<(&str, &str), (&str, usize)> = HashMap::new();
    let mut homes: HashMap<&str, ((&str, &str), usize)> = HashMap::new();
    for line in lines {
        let unit = (line.building.as_str(), line.unit.as_str());
        match kinds.entry(unit) {
            Entry::Occupied(first) if first.get().0 != line.kind => problems.push(Problem::new(
                line.number,
                format!(
                    "Line {} gave this unit the kind {}.",
                    first.get().1,
                    first.get().0
                ),
            )),
            Entry::Occupied(_) => {}
            Entry::Vacant(slot) => {
                slot.insert((line.kind, line.number));
            }
        }
        if let Some(plan) = &line.plan {
            match plans.entry(unit) {
                Entry::Occupied(first) if first.get().0 != plan => problems.push(Problem::new(
                    line.number,
                    format!(
                        "Line {} put this unit on the {} plan.",
                        first.get().1,
                        first.get().0
                    ),
                )),
                Entry::Occupied(_) => {}
                Entry::Vacant(slot) => {
                    slot.insert((plan, line.number));
                }
            }
        }
        if let Some(meter) = &line.meter {
            if let Some(first) = serials.insert(meter.serial.as_str(), line.number) {
                problems.push(Problem::new(
                    line.number,
                    format!("Serial {} is on line {first} too.", meter.serial),
                ));
            } else if let Some(first) = meters.insert((unit.0, unit.1, meter.utility), line.number)
            {
                problems.push(Problem::new(
                    line.number,
                    format!(
                        "Line {first} gave this unit its {} meter already.",
                        meter.utility.as_str()
                    ),
                ));
            }
        }
        if let Some(resident) = &line.resident {
            let email = resident.email.as_str();
            match residents.entry(unit) {
                Entry::Occupied(first) if first.get().0 != email => problems.push(Problem::new(
                    line.number,
                    format!("Line {} gave this unit another resident.", first.get().1),
                )),
                Entry::Occupied(_) => {}
                Entry::Vacant(slot) => {
                    slot.insert((email, line.number));
                }
            }
            match homes.entry(email) {
                Entry::Occupied(first) if first.get().0 != unit => problems.push(Problem::new(
                    line.number,
                    format!("Line {} moves {email} into another unit.", first.get().1),
                )),
                Entry::Occupied(_) => {}
                Entry::Vacant(slot) => {
                    slot.insert((unit, line.number));
                }
            }
        }
    }
    problems
}

/// A meter as an exported line writes it, each field as the sheet reads it back.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExportedMeter<'a> {
    pub utility: &'a str,
    pub serial: &'a str,
    pub multiplier: &'a str,
    pub register: &'a str,
    pub transport: &'a str,
    /// The serial of the meter feeding it; empty for none.
    pub master: &'a str,
}

/// One exported line: the unit, its meter (if any), its resident (if any) and its tariff plan
/// (empty for the standard one), in [`COLUMNS`] order, as a CSV line.
pub fn export_line(
    building: &str,
    unit: &str,
    kind: &str,
    meter: Option<ExportedMeter<'_>>,
    resident: Option<(&str, &str, Option<&str>)>,
    plan: &str,
) -> String {
    let ExportedMeter {
        utility,
        serial,
        multiplier,
        register,
        transport,
        master,
    } = meter.unwrap_or_default();
    let (email, name, phone) = resident.unwrap_or_default();
    super::csv::line(&[
        building,
        unit,
        kind,
        utility,
        serial,
        multiplier,
        register,
        transport,
        email,
        name,
        phone.unwrap_or_default(),
        plan,
        master,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "building,unit,kind,utility,serial,multiplier,first_register,transport,resident_email,resident_name,resident_phone\n";

    fn reasons(text: &str) -> Vec<(usize, String)> {
        read(text)
            .problems
            .into_iter()
            .map(|p| (p.line, p.reason))
            .collect()
    }

    #[test]
    fn a_good_sheet_reads_every_line() {
        let sheet = read(&format!(
            "{HEADER}Block A,A1,flat,electricity,E-1,1,12.5,mqtt,ann@example.org,Ann,+254700000001\n\
             Block A,A1,flat,water,W-1,,,simulator,ann@example.org,Ann,\n\
             Block A,A2,shop,,,,,,,,\n"
        ));
        assert!(sheet.problems.is_empty(), "{:?}", sheet.problems);
        assert_eq!(sheet.lines.len(), 3);
        let first = &sheet.lines[0];
        assert_eq!(first.number, 2);
        let meter = first.meter.as_ref().unwrap();
        assert_eq!(
            (meter.utility, meter.serial.as_str()),
            (Utility::Electricity, "E-1")
        );
        assert_eq!(meter.first_register, Decimal::new(125, 1));
        assert_eq!(
            sheet.lines[1].meter.as_ref().unwrap().transport,
            "simulator"
        );
        assert_eq!(sheet.lines[2].kind, "shop");
        assert!(sheet.lines[2].meter.is_none() && sheet.lines[2].resident.is_none());
    }

    #[test]
    fn every_bad_line_is_named_with_its_reason() {
        let problems = reasons(&format!(
            "{HEADER}Block A,A1,palace,electricity,E-1,1,0,mqtt,,,\n\
             Block A,A2,flat,steam,E-2,1,0,mqtt,,,\n\
             Block A,A3,flat,water,W 3,1,0,mqtt,,,\n\
             Block A,A4,flat,gas,G-4,1,-2,mqtt,,,\n\
             Block A,A5,flat,gas,G-5,1,0,mqtt,not-an-address,Bo,\n\
             ,A6,flat,,,,,,,,\n\
             Block A,A7,flat,gas,G-7,0,0,mqtt,,,\n"
        ));
        let lines: Vec<usize> = problems.iter().map(|p| p.0).collect();
        assert_eq!(lines, vec![2, 3, 4, 5, 6, 7, 8], "{problems:?}");
        assert!(problems[0].1.contains("palace"));
        assert!(problems[1].1.contains("steam"));
        assert!(problems[2].1.contains("serial"));
        assert!(problems[3].1.contains("first register"));
        assert!(problems[4].1.contains("not-an-address"));
        assert!(problems[5].1.contains("building"));
        assert!(problems[6].1.contains("multiplier"));
    }

    #[test]
    fn lines_that_contradict_each_other_are_named() {
        let problems = reasons(&format!(
            "{HEADER}Block A,A1,flat,electricity,E-1,1,0,mqtt,ann@example.org,Ann,\n\
             Block A,A2,flat,electricity,E-1,1,0,mqtt,,,\n\
             Block A,A1,shop,water,W-1,1,0,mqtt,,,\n\
             Block A,A1,flat,electricity,E-9,1,0,mqtt,,,\n\
             Block A,A1,flat,gas,G-1,1,0,mqtt,bob@example.org,Bob,\n\
             Block A,A3,flat,gas,G-3,1,0,mqtt,ann@example.org,Ann,\n"
        ));
        assert_eq!(
            problems,
            vec![
                (3, "Serial E-1 is on line 2 too.".to_owned()),
                (4, "Line 2 gave this unit the kind flat.".to_owned()),
                (
                    5,
                    "Line 2 gave this unit its electricity meter already.".to_owned()
                ),
                (6, "Line 2 gave this unit another resident.".to_owned()),
                (
                    7,
                    "Line 2 moves ann@example.org into another unit.".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn a_file_without_its_columns_or_lines_is_refused_as_a_whole() {
        assert_eq!(reasons("")[0], (0, "The file is empty.".to_owned()));
        assert_eq!(
            reasons("unit,utility\nA1,water\n")[0],
            (0, "The file has no \"building\" column.".to_owned())
        );
        assert_eq!(
            reasons("building,unit\n")[0],
            (0, "The file has a header but no lines.".to_owned())
        );
    }

    #[test]
    fn progress_runs_from_nothing_to_all_in_step_order() {
        assert_eq!(Progress::new(Step::Checking, 0, 0).percent(), 0);
        assert_eq!(Progress::new(Step::Units, 0, 10).percent(), 17);
        assert_eq!(Progress::new(Step::Meters, 5, 10).percent(), 42);
        assert_eq!(
            Progress::new(Step::Meters, 50, 10).percent(),
            50,
            "never past the step"
        );
        assert_eq!(Progress::new(Step::Finished, 0, 0).percent(), 100);
        let mut last = 0;
        for step in [
            Step::Checking,
            Step::Units,
            Step::Meters,
            Step::Residents,
            Step::Accounts,
            Step::Baselines,
            Step::Finished,
        ] {
            for done in 0..=4 {
                let now = Progress::new(step, done, 4).percent();
                assert!(now >= last, "{step:?} {done}");
                last = now;
            }
        }
    }

    #[test]
    fn a_tariff_plan_is_read_when_the_column_is_there() {
        let header = format!("{},tariff_plan\n", HEADER.trim_end());
        let sheet = read(&format!(
            "{header}Block A,A1,shop,electricity,E-1,1,0,mqtt,,,,Shops\n\
             Block A,A1,shop,water,W-1,1,0,mqtt,,,,Shops\n\
             Block A,A2,flat,,,,,,,,,\n\
             Block A,A2,flat,gas,G-2,1,0,mqtt,,,,Staff\n"
        ));
        assert_eq!(sheet.lines[0].plan.as_ref().map(Plan::label), Some("Shops"));
        assert_eq!(
            sheet.lines[2].plan,
            Some(Plan::standard()),
            "blank: the standard"
        );
        assert_eq!(
            sheet
                .problems
                .iter()
                .map(|p| (p.line, p.reason.as_str()))
                .collect::<Vec<_>>(),
            vec![(5, "Line 4 put this unit on the Standard plan.")]
        );
        // Without the column, a line says nothing about plans.
        assert_eq!(
            read(&format!("{HEADER}Block A,A1,flat,,,,,,,,\n")).lines[0].plan,
            None
        );
        let long = "p".repeat(41);
        let refused = reasons(&format!("{header}Block A,A1,flat,,,,,,,,,{long}\n"));
        assert!(refused[0].1.starts_with("tariff_plan:"), "{refused:?}");
    }

    #[test]
    fn an_exported_line_reads_back_as_the_same_unit() {
        let text = format!(
            "{}\n{}",
            COLUMNS.join(","),
            export_line(
                "Block, A",
                "=A1",
                "dorm_room",
                Some(ExportedMeter {
                    utility: "gas",
                    serial: "G-1",
                    multiplier: "1",
                    register: "3.5",
                    transport: "simulator",
                    master: "G-BULK",
                }),
                Some(("ann@example.org", "Ann \"Mo\"", None)),
                "Staff flats",
            )
        );
        let sheet = read(&text);
        assert!(sheet.problems.is_empty(), "{:?}", sheet.problems);
        let line = &sheet.lines[0];
        assert_eq!(
            (line.building.as_str(), line.unit.as_str()),
            ("Block, A", "'=A1")
        );
        assert_eq!(line.resident.as_ref().unwrap().name, "Ann \"Mo\"");
        assert_eq!(line.plan.as_ref().map(Plan::label), Some("Staff flats"));
        let meter = line.meter.as_ref().unwrap();
        assert_eq!(meter.first_register, Decimal::new(35, 1));
        assert_eq!(
            meter.master.as_ref().map(MeterSerial::as_str),
            Some("G-BULK")
        );
    }

    #[test]
    fn a_master_serial_is_read_with_its_meter() {
        let header = format!("{},master_serial\n", HEADER.trim_end());
        let sheet = read(&format!(
            "{header}Block A,A1,flat,water,W-1,,,,,,,W-BULK\nBlock A,A2,flat,water,W-2,,,,,,,\n"
        ));
        assert!(sheet.problems.is_empty(), "{:?}", sheet.problems);
        let master = |n: usize| sheet.lines[n].meter.as_ref().unwrap().master.clone();
        assert_eq!(master(0).as_ref().map(MeterSerial::as_str), Some("W-BULK"));
        assert_eq!(master(1), None);
        let refused = reasons(&format!(
            "{header}Block A,A1,flat,,,,,,,,,W-BULK\nBlock A,A2,flat,water,W-2,,,,,,,W BULK\n"
        ));
        assert_eq!(refused.len(), 2, "{refused:?}");
        assert!(refused[0].1.contains("no meter"), "{refused:?}");
        assert!(refused[1].1.starts_with("master_serial:"), "{refused:?}");
    }
}
