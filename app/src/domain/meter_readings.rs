//! A meter's readings as its staff and its resident read them: the newest on the meter's page,
//! and every one taken over some of the site's days as a CSV file, each with what it measured,
//! what it cost and why it was rejected or not charged. For settling a dispute over a bill, or
//! checking a meter.

use super::{
    csv,
    money::{exact_amount, exact_quantity},
    reports::Days,
    zone::SiteZone,
};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A reading as received and rated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReadingView {
    pub taken_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    /// The register as the meter reported it.
    pub register: String,
    /// `baseline`, `rated`, `late` or `rejected`.
    pub status: String,
    /// What was used since the reading before.
    pub quantity: Option<Decimal>,
    /// Its exact price before tax, and the tax on it, before the ledger rounds them.
    pub net: Option<Decimal>,
    pub tax: Option<Decimal>,
    /// Why it was rejected, or why what it measured was not charged.
    pub note: Option<String>,
}

impl ReadingView {
    /// What it measured for people to read, in the meter's unit: `1,250.5 m3`.
    pub fn used(&self, unit_of_measure: &str) -> Option<String> {
        self.quantity
            .map(|q| format!("{} {unit_of_measure}", exact_quantity(q)))
    }

    /// Its exact price with tax, for people to read: `9.7416 KES`.
    pub fn charged(&self, currency: &str, digits: u32) -> Option<String> {
        let price = self.net? + self.tax?;
        Some(format!("{} {currency}", exact_amount(price, digits)))
    }
}

/// A meter's readings taken over some of its site's days, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeterReadings {
    pub serial: String,
    pub unit_of_measure: String,
    pub currency: String,
    /// The site's clock, for the times in the file.
    pub zone: SiteZone,
    pub days: Days,
    pub readings: Vec<ReadingView>,
}

/// The most readings one file holds: a year of a reading every five minutes. More is asked for
/// in shorter spans rather than cut short without a word.
pub const MAX_READINGS: usize = 110_000;

pub const CSV_HEADER: [&str; 12] = [
    "meter",
    "taken (site time)",
    "taken (UTC)",
    "received (UTC)",
    "register",
    "status",
    "used",
    "measure",
    "price before tax",
    "tax",
    "currency",
    "note",
];

impl MeterReadings {
    /// The file: one line a reading, numbers plain and exact (no grouping, every place kept),
    /// so a spreadsheet adds them up to what the ledger was charged before rounding.
    pub fn csv(&self) -> String {
        let mut out = csv::line(&CSV_HEADER);
        let plain = |value: Option<Decimal>| value.map(|v| v.normalize().to_string());
        let utc = |at: DateTime<Utc>| at.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        for reading in &self.readings {
            let local = self.zone.local(reading.taken_at);
            out.push_str(&csv::line(&[
                self.serial.as_str(),
                &local.format("%Y-%m-%d %H:%M:%S").to_string(),
                &utc(reading.taken_at),
                &utc(reading.received_at),
                &reading.register,
                &reading.status,
                &plain(reading.quantity).unwrap_or_default(),
                &self.unit_of_measure,
                &plain(reading.net).unwrap_or_default(),
                &plain(reading.tax).unwrap_or_default(),
                &self.currency,
                reading.note.as_deref().unwrap_or_default(),
            ]));
        }
        out
    }

    /// The file's name: the meter and the days, `readings-WA-A101-2026-12-01-2026-12-31.csv`.
    pub fn file_name(&self) -> String {
        format!(
            "readings-{}-{}-{}.csv",
            self.serial, self.days.from, self.days.to
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn reading(status: &str, quantity: Option<&str>, price: Option<(&str, &str)>) -> ReadingView {
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 21, 30, 0).unwrap();
        ReadingView {
            taken_at: at,
            received_at: at + chrono::Duration::seconds(4),
            register: "1250.5".into(),
            status: status.into(),
            quantity: quantity.map(dec),
            net: price.map(|(net, _)| dec(net)),
            tax: price.map(|(_, tax)| dec(tax)),
            note: None,
        }
    }

    #[test]
    fn a_reading_shows_its_use_grouped_and_its_exact_price_with_tax() {
        let rated = reading("rated", Some("1234.500"), Some(("9.02", "0.7216")));
        assert_eq!(rated.used("m3").as_deref(), Some("1,234.5 m3"));
        assert_eq!(rated.charged("KES", 2).as_deref(), Some("9.7416 KES"));
        let baseline = reading("baseline", None, None);
        assert_eq!(baseline.used("m3"), None);
        assert_eq!(baseline.charged("KES", 2), None);
        let bulk = reading("rated", Some("3"), Some(("0", "0")));
        assert_eq!(bulk.charged("KES", 2).as_deref(), Some("0.00 KES"));
    }

    #[test]
    fn the_file_has_a_line_a_reading_on_the_site_clock_and_exact() {
        let mut rejected = reading("rejected", None, None);
        rejected.note = Some("register went backwards from 1300, then \"reset\"".into());
        let file = MeterReadings {
            serial: "GA-A101".into(),
            unit_of_measure: "m3".into(),
            currency: "KES".into(),
            // Nairobi, three hours ahead of UTC all year.
            zone: SiteZone::new("Africa/Nairobi".into(), vec![(i64::MIN, 3 * 3600)]),
            days: Days {
                from: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
                to: NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(),
            },
            readings: vec![
                reading("rated", Some("0.0460"), Some(("10.12", "0.8096"))),
                rejected,
            ],
        };
        let text = file.csv();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[0],
            "meter,taken (site time),taken (UTC),received (UTC),register,status,used,measure,price before tax,tax,currency,note"
        );
        assert_eq!(
            lines[1],
            "GA-A101,2026-12-02 00:30:00,2026-12-01T21:30:00Z,2026-12-01T21:30:04Z,1250.5,rated,0.046,m3,10.12,0.8096,KES,"
        );
        assert_eq!(
            lines[2],
            "GA-A101,2026-12-02 00:30:00,2026-12-01T21:30:00Z,2026-12-01T21:30:04Z,1250.5,rejected,,m3,,,KES,\"register went backwards from 1300, then \"\"reset\"\"\""
        );
        assert_eq!(
            file.file_name(),
            "readings-GA-A101-2026-12-01-2026-12-02.csv"
        );
    }
}
