//! A tenant's monthly statement: what an account held when one of its site's local months
//! began, every movement in the month (usage summed per day), what each of its meters used,
//! and what it held when the month ended. Pure, so the printed page, its totals and the CSV
//! download say the same.

use super::{
    Minor, Utility, csv,
    reports::quantity,
    usage::month_title,
    views::{AccountView, LineKind, StatementLine},
};
use crate::domain::i18n::Locale;
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

/// One of a site's local months.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Month {
    first: NaiveDate,
}

impl Month {
    /// The month a day falls in.
    pub fn of(day: NaiveDate) -> Month {
        Month {
            first: day.with_day(1).unwrap_or(day),
        }
    }

    /// From a form or a link: `YYYY-MM`, or empty for "the current month".
    pub fn parse(raw: &str) -> Result<Option<Month>, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        NaiveDate::parse_from_str(&format!("{raw}-01"), "%Y-%m-%d")
            .ok()
            .filter(|_| raw.len() == 7)
            .map(|first| Some(Month { first }))
            .ok_or_else(|| "The month is written as a year and a month, such as 2026-11.".into())
    }

    /// The month asked, or the current one; a month that has not begun is refused.
    pub fn resolve(asked: Option<Month>, today: NaiveDate) -> Result<Month, String> {
        let current = Month::of(today);
        match asked {
            Some(month) if month > current => Err("That month has not begun yet.".into()),
            Some(month) => Ok(month),
            None => Ok(current),
        }
    }

    pub fn first_day(self) -> NaiveDate {
        self.first
    }

    /// The first day of the month after: where this one ends.
    pub fn end(self) -> NaiveDate {
        self.first
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(NaiveDate::MAX)
    }

    pub fn last_day(self) -> NaiveDate {
        self.end().pred_opt().unwrap_or(self.first)
    }

    pub fn previous(self) -> Month {
        Month::of(self.first.pred_opt().unwrap_or(self.first))
    }

    pub fn next(self) -> Month {
        Month { first: self.end() }
    }

    /// For links and forms (`2026-11`).
    pub fn anchor(self) -> String {
        self.first.format("%Y-%m").to_string()
    }

    pub fn title_in(self, locale: Locale) -> String {
        month_title(self.first.year(), self.first.month0() as usize, locale)
    }
}

/// What one of the account's meters used in the month, from the usage roll-ups.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeterUse {
    pub serial: String,
    pub utility: Utility,
    pub unit_of_measure: String,
    pub quantity_micro: i64,
    /// Net and tax, rounded once for the line: the ledger's daily lines are what was charged.
    pub cost_minor: i64,
}

impl MeterUse {
    pub fn quantity(&self) -> String {
        quantity(self.quantity_micro)
    }
}

/// The month's movements by kind, in minor units (charges negative).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// What the meters used, and the standing charges.
    pub usage: i64,
    /// Top-ups, refunds to the account, credits.
    pub money_in: i64,
    /// Fees, debts recovered, adjustments down.
    pub other: i64,
}

impl Totals {
    pub fn of(lines: &[StatementLine]) -> Totals {
        lines.iter().fold(Totals::default(), |mut totals, line| {
            let sum = match LineKind::of(line) {
                LineKind::Usage => &mut totals.usage,
                LineKind::MoneyIn => &mut totals.money_in,
                LineKind::All | LineKind::OtherCharges => &mut totals.other,
            };
            *sum += line.amount_minor;
            totals
        })
    }

    pub fn net(self) -> i64 {
        self.usage + self.money_in + self.other
    }
}

/// A tenant's statement for one month, as the engine found it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MonthStatement {
    pub account: AccountView,
    pub site_name: String,
    pub month: Month,
    /// The currency's decimal places.
    pub digits: u32,
    /// The balance when the month began (site time), and when it ended or, for the current
    /// month, when the statement was drawn.
    pub opening_minor: i64,
    pub closing_minor: i64,
    /// Oldest first; usage summed per local day.
    pub lines: Vec<StatementLine>,
    pub meters: Vec<MeterUse>,
    /// When the statement was drawn, on the site's clock.
    pub issued: NaiveDateTime,
    /// The month is not over: the closing balance is the balance so far.
    pub to_date: bool,
}

impl MonthStatement {
    pub fn money(&self, minor: i64) -> String {
        Minor(minor).format(self.digits)
    }

    pub fn totals(&self) -> Totals {
        Totals::of(&self.lines)
    }

    /// The lines take the opening balance to the closing one. The engine reads the two
    /// balances apart from the lines, so this holds only if no movement was lost or doubled.
    pub fn balances(&self) -> bool {
        self.opening_minor + self.totals().net() == self.closing_minor
    }

    /// The balance after each line.
    pub fn running(&self) -> Vec<i64> {
        self.lines
            .iter()
            .scan(self.opening_minor, |balance, line| {
                *balance += line.amount_minor;
                Some(*balance)
            })
            .collect()
    }

    /// Every line with the balance after it, between the opening and closing balances.
    pub fn csv(&self) -> String {
        let currency = self.account.currency.as_str();
        let mut out = String::from("date,kind,description,amount,balance,currency,receipt\n");
        let first = self.month.first_day().to_string();
        let opening = self.money(self.opening_minor);
        out.push_str(&csv::line(&[
            &first,
            "opening",
            "Opening balance",
            "",
            &opening,
            currency,
            "",
        ]));
        for (line, balance) in self.lines.iter().zip(self.running()) {
            out.push_str(&csv::line(&[
                &line.day,
                &line.kind,
                &line.description,
                &line.amount,
                &self.money(balance),
                currency,
                line.receipt.as_deref().unwrap_or_default(),
            ]));
        }
        let last = if self.to_date {
            self.issued.date()
        } else {
            self.month.last_day()
        };
        out.push_str(&csv::line(&[
            &last.to_string(),
            "closing",
            "Closing balance",
            "",
            &self.money(self.closing_minor),
            currency,
            "",
        ]));
        out
    }

    /// The download's file name: `statement-<account>-<month>.csv`.
    pub fn file_name(&self) -> String {
        format!(
            "statement-{}-{}.csv",
            self.account.number,
            self.month.anchor()
        )
    }
}

/// Most statements one batch draws: a building of a large campus. A site beyond it is
/// printed a building at a time.
pub const BATCH_MAX: usize = 200;

/// Every tenant's statement for one month, of a site or one of its buildings, to print at once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatementBatch {
    pub site_name: String,
    /// The site's buildings, to choose from.
    pub buildings: Vec<String>,
    /// The building asked for; every building when `None`.
    pub building: Option<String>,
    pub month: Month,
    pub currency: String,
    pub digits: u32,
    /// Each account open at some time in the month, in building and unit order.
    pub statements: Vec<MonthStatement>,
    /// Accounts beyond [`BATCH_MAX`], not drawn.
    pub left_out: usize,
}

impl StatementBatch {
    /// The batch's totals: the sum of every statement's opening and closing balances.
    pub fn balances(&self) -> (i64, i64) {
        self.statements.iter().fold((0, 0), |(open, close), s| {
            (open + s.opening_minor, close + s.closing_minor)
        })
    }

    pub fn money(&self, minor: i64) -> String {
        Minor(minor).format(self.digits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(raw: &str) -> NaiveDate {
        raw.parse().unwrap()
    }

    fn line(day: &str, kind: &str, amount_minor: i64) -> StatementLine {
        StatementLine {
            transaction: 1,
            posted_at: chrono::DateTime::UNIX_EPOCH,
            day: day.into(),
            kind: kind.into(),
            description: kind.replace('_', " "),
            amount: Minor(amount_minor).format(2),
            amount_minor,
            receipt: None,
        }
    }

    fn statement(opening: i64, lines: Vec<StatementLine>, closing: i64) -> MonthStatement {
        MonthStatement {
            account: crate::domain::account_table::tests::account(7, "Block A", "A-101", None),
            site_name: "Riverside".into(),
            month: Month::of(day("2026-11-01")),
            digits: 2,
            opening_minor: opening,
            closing_minor: closing,
            lines,
            meters: Vec::new(),
            issued: day("2026-12-02").and_hms_opt(9, 0, 0).unwrap(),
            to_date: false,
        }
    }

    #[test]
    fn months_parse_from_forms_and_refuse_the_future() {
        assert_eq!(Month::parse(" "), Ok(None));
        let november = Month::parse("2026-11").unwrap().unwrap();
        assert_eq!(november.first_day(), day("2026-11-01"));
        assert_eq!(november.last_day(), day("2026-11-30"));
        assert_eq!(november.next().anchor(), "2026-12");
        assert_eq!(november.previous().anchor(), "2026-10");
        assert_eq!(Month::of(day("2026-12-31")).next().anchor(), "2027-01");
        assert_eq!(Month::of(day("2024-02-10")).last_day(), day("2024-02-29"));
        for bad in ["2026-13", "2026-1", "november", "2026-11-01"] {
            assert!(Month::parse(bad).is_err(), "{bad}");
        }
        let today = day("2026-12-02");
        assert_eq!(Month::resolve(None, today).unwrap().anchor(), "2026-12");
        assert_eq!(Month::resolve(Some(november), today), Ok(november));
        assert!(Month::resolve(Some(Month::of(day("2027-01-01"))), today).is_err());
        assert_eq!(november.title_in(Locale::En), "November 2026");
        assert_eq!(november.title_in(Locale::Zh), "2026年11月");
    }

    #[test]
    fn the_csv_runs_from_the_opening_balance_to_the_closing_one() {
        let statement = statement(
            1_000,
            vec![
                line("2026-11-01", "usage", -250),
                line("2026-11-02", "top_up", 5_000),
                line("2026-11-03", "fee", -100),
            ],
            5_650,
        );
        assert!(statement.balances());
        assert_eq!(
            statement.totals(),
            Totals {
                usage: -250,
                money_in: 5_000,
                other: -100
            }
        );
        let csv = statement.csv();
        let rows: Vec<&str> = csv.lines().collect();
        assert_eq!(
            rows[0],
            "date,kind,description,amount,balance,currency,receipt"
        );
        assert_eq!(rows[1], "2026-11-01,opening,Opening balance,,10.00,KES,");
        assert_eq!(rows[3], "2026-11-02,top_up,top up,50.00,57.50,KES,");
        assert_eq!(rows[5], "2026-11-30,closing,Closing balance,,56.50,KES,");
        assert!(!self::statement(0, vec![line("2026-11-01", "usage", -1)], 0).balances());
    }

    proptest! {
        /// However the month's movements fall, the totals by kind add up to them, and the
        /// running balance ends where the opening balance and the movements take it.
        #[test]
        fn totals_and_running_balance_agree(
            opening in -1_000_000_i64..1_000_000,
            moves in prop::collection::vec((0_usize..4, -100_000_i64..100_000), 0..40),
        ) {
            const KINDS: [&str; 4] = ["usage", "periodic", "top_up", "adjustment"];
            let lines: Vec<StatementLine> = moves
                .iter()
                .map(|(kind, amount)| line("2026-11-05", KINDS[*kind], *amount))
                .collect();
            let net: i64 = moves.iter().map(|(_, amount)| amount).sum();
            let statement = statement(opening, lines, opening + net);
            prop_assert!(statement.balances());
            prop_assert_eq!(statement.totals().net(), net);
            prop_assert_eq!(statement.running().last().copied().unwrap_or(opening), opening + net);
            prop_assert!(statement.totals().money_in >= 0);
        }
    }
}
