//! The collections report: the money a site received over some of its local days, by day and
//! by how it came (each payment provider, cash at the desk), from the receipts every top-up
//! issues; and what its residents owe now (accounts below zero, debts, emergency credit in
//! use). Pure, so the page and the CSV download say the same.

use super::{Minor, csv, reports::Days};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How cash at the desk is named among the providers.
pub const CASH: &str = "cash";

/// One receipt: the site's local day it was issued on, how the money came, how much.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub day: NaiveDate,
    pub source: String,
    pub amount: Minor,
}

impl Receipt {
    /// How a top-up's ledger key names its source: `payment:{provider}:{reference}` or
    /// `cash:{wallet}:{nonce}`.
    pub fn source_of(key: &str) -> Option<&str> {
        match key.split(':').collect::<Vec<_>>().as_slice() {
            ["payment", provider, ..] if !provider.is_empty() => Some(provider),
            [CASH, ..] => Some(CASH),
            _ => None,
        }
    }
}

/// What a site's residents owe now, each kind as how many accounts and how much in all.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owed {
    /// Prepaid accounts below zero (standing charges and usage past zero, where allowed).
    pub below_zero: Owing,
    /// Debts carried from move-outs and arrears, repaid by a share of each top-up.
    pub debts: Owing,
    /// Emergency credit taken and not yet repaid.
    pub emergency: Owing,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owing {
    pub accounts: usize,
    /// What they owe, as a positive amount.
    pub amount: Minor,
}

/// One local day's receipts, an amount per source (in the report's `sources` order).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionDay {
    pub day: NaiveDate,
    pub amounts: Vec<Minor>,
    pub receipts: usize,
    pub total: Minor,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionsReport {
    pub site_name: String,
    pub currency: String,
    pub digits: u32,
    pub days: Days,
    /// Every source with a receipt over the days, cash last.
    pub sources: Vec<String>,
    /// Days with a receipt, oldest first.
    pub rows: Vec<CollectionDay>,
    /// Each source's total, in `sources` order.
    pub totals: Vec<Minor>,
    pub receipts: usize,
    pub total: Minor,
    pub owed: Owed,
}

impl CollectionsReport {
    pub fn new(
        (site_name, currency, digits): (String, String, u32),
        days: Days,
        receipts: &[Receipt],
        owed: Owed,
    ) -> Self {
        let mut sources: Vec<String> = receipts
            .iter()
            .map(|receipt| receipt.source.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        sources.sort_by_key(|source| (source == CASH, source.clone()));
        let column = |source: &str| sources.iter().position(|s| s == source);
        let mut by_day: BTreeMap<NaiveDate, CollectionDay> = BTreeMap::new();
        let mut totals = vec![Minor::ZERO; sources.len()];
        for receipt in receipts {
            let Some(column) = column(&receipt.source) else {
                continue;
            };
            let row = by_day.entry(receipt.day).or_insert_with(|| CollectionDay {
                day: receipt.day,
                amounts: vec![Minor::ZERO; sources.len()],
                receipts: 0,
                total: Minor::ZERO,
            });
            row.amounts[column] = row.amounts[column] + receipt.amount;
            row.receipts += 1;
            row.total = row.total + receipt.amount;
            totals[column] = totals[column] + receipt.amount;
        }
        let total = totals.iter().fold(Minor::ZERO, |sum, &t| sum + t);
        CollectionsReport {
            site_name,
            currency,
            digits,
            days,
            sources,
            rows: by_day.into_values().collect(),
            totals,
            receipts: receipts.len(),
            total,
            owed,
        }
    }

    /// The report as CSV: a line per day and source with receipts, then each source's total
    /// and the whole, so a spreadsheet needs no formulas to agree with the page.
    pub fn csv(&self) -> String {
        let money = |minor: Minor| minor.format(self.digits);
        let mut out = csv::line(&["day", "source", &format!("amount ({})", self.currency)]);
        for row in &self.rows {
            for (source, amount) in self.sources.iter().zip(&row.amounts) {
                if *amount != Minor::ZERO {
                    out.push_str(&csv::line(&[&row.day.to_string(), source, &money(*amount)]));
                }
            }
        }
        let span = format!("{} to {}", self.days.from, self.days.to);
        for (source, total) in self.sources.iter().zip(&self.totals) {
            out.push_str(&csv::line(&[&span, source, &money(*total)]));
        }
        out.push_str(&csv::line(&[&span, "(all)", &money(self.total)]));
        out
    }
}

/// A source as the page names it.
pub fn source_label(source: &str) -> String {
    match source {
        CASH => "Cash at the desk".to_owned(),
        "mpesa" => "M-Pesa".to_owned(),
        other => {
            let mut chars = other.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    fn receipt(d: u32, source: &str, amount: i64) -> Receipt {
        Receipt {
            day: day(d),
            source: source.to_owned(),
            amount: Minor(amount),
        }
    }

    fn report(receipts: &[Receipt]) -> CollectionsReport {
        CollectionsReport::new(
            ("Riverside".into(), "KES".into(), 2),
            Days {
                from: day(1),
                to: day(30),
            },
            receipts,
            Owed::default(),
        )
    }

    #[test]
    fn receipts_add_up_by_day_and_source_with_cash_last() {
        let report = report(&[
            receipt(3, "sandbox", 1_000),
            receipt(2, CASH, 500),
            receipt(3, CASH, 250),
            receipt(3, "mpesa", 2_000),
            receipt(3, "sandbox", 100),
        ]);
        assert_eq!(report.sources, ["mpesa", "sandbox", CASH]);
        assert_eq!(report.rows.len(), 2);
        assert_eq!(report.rows[0].day, day(2));
        assert_eq!(report.rows[0].amounts, [Minor(0), Minor(0), Minor(500)]);
        assert_eq!(
            report.rows[1].amounts,
            [Minor(2_000), Minor(1_100), Minor(250)]
        );
        assert_eq!(report.rows[1].receipts, 4);
        assert_eq!(report.totals, [Minor(2_000), Minor(1_100), Minor(750)]);
        assert_eq!(report.total, Minor(3_850));
        assert_eq!(
            report.csv(),
            "day,source,amount (KES)\n\
             2026-11-02,cash,5.00\n\
             2026-11-03,mpesa,20.00\n\
             2026-11-03,sandbox,11.00\n\
             2026-11-03,cash,2.50\n\
             2026-11-01 to 2026-11-30,mpesa,20.00\n\
             2026-11-01 to 2026-11-30,sandbox,11.00\n\
             2026-11-01 to 2026-11-30,cash,7.50\n\
             2026-11-01 to 2026-11-30,(all),38.50\n"
        );
    }

    #[test]
    fn a_ledger_key_names_its_source() {
        assert_eq!(Receipt::source_of("payment:stripe:pi_123"), Some("stripe"));
        assert_eq!(Receipt::source_of("cash:42:abcdefgh"), Some(CASH));
        assert_eq!(Receipt::source_of("adjust-request:1:2"), None);
        assert_eq!(Receipt::source_of("payment::x"), None);
        assert_eq!(source_label("paystack"), "Paystack");
        assert_eq!(source_label(CASH), "Cash at the desk");
    }

    proptest! {
        /// No receipt is lost or counted twice: the days, the sources and the whole agree.
        #[test]
        fn every_receipt_is_counted_once(
            receipts in proptest::collection::vec((1u32..=30, 0usize..4, 1i64..1_000_000), 0..200),
        ) {
            let names = ["sandbox", "mpesa", "stripe", CASH];
            let receipts: Vec<Receipt> = receipts
                .into_iter()
                .map(|(d, s, a)| receipt(d, names[s], a))
                .collect();
            let report = report(&receipts);
            let sum: i64 = receipts.iter().map(|r| r.amount.0).sum();
            prop_assert_eq!(report.total, Minor(sum));
            prop_assert_eq!(report.rows.iter().map(|r| r.total.0).sum::<i64>(), sum);
            prop_assert_eq!(report.totals.iter().map(|t| t.0).sum::<i64>(), sum);
            prop_assert_eq!(report.rows.iter().map(|r| r.receipts).sum::<usize>(), receipts.len());
            for row in &report.rows {
                prop_assert_eq!(row.amounts.iter().map(|a| a.0).sum::<i64>(), row.total.0);
            }
            prop_assert!(report.rows.windows(2).all(|w| w[0].day < w[1].day));
        }
    }
}
