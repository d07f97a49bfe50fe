//! Reconciliation: a provider's settlement file set against the payments the ledger holds
//! for the same provider, listing every difference. Pure, so the rule is tested on its own:
//! a file that says exactly what the ledger says shows nothing; any line added, dropped or
//! changed shows up, naming the payment and the file's line.

use super::Minor;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One line of a settlement file: money the provider took for us (positive) or gave back
/// (negative: a refund or chargeback).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettlementLine {
    /// The line's number in the file, header included.
    pub number: usize,
    pub reference: String,
    pub amount: Minor,
}

/// Columns that name a payment, in the words providers' exports use.
const REFERENCE_COLUMNS: &[&str] = &[
    "reference",
    "source",
    "receipt no.",
    "receipt",
    "transaction id",
    "id",
];
const AMOUNT_COLUMNS: &[&str] = &["amount", "gross", "paid in"];
/// Line types that are not money from or back to a payer: the provider's own fees and its
/// transfers to the site's bank.
const NOT_PAYMENTS: &[&str] = &["fee", "stripe_fee", "payout", "transfer", "network_cost"];

/// Reads a settlement file: a header with a reference and an amount column (and optionally
/// a type), then one line per movement. Lines of other types (fees, payouts) are skipped and
/// counted. Any bad line refuses the whole file, naming the line.
pub fn parse_settlement(text: &str, digits: u32) -> Result<(Vec<SettlementLine>, u32), String> {
    let table = super::csv::Table::parse(text, "settlement file")?;
    let reference = table.column(REFERENCE_COLUMNS)?;
    let amount = table.column(AMOUNT_COLUMNS)?;
    let kind = table.optional_column(&["type", "reporting_category"]);
    let mut lines = Vec::new();
    let mut skipped = 0;
    for row in table.rows() {
        let row = row?;
        if let Some(kind) = kind
            && NOT_PAYMENTS.contains(&row.get(kind)?.to_lowercase().as_str())
        {
            skipped += 1;
            continue;
        }
        let amount = row.amount(amount, digits)?;
        let reference = row.get(reference)?;
        if reference.is_empty() {
            return Err(format!("Line {} has no reference.", row.number));
        }
        lines.push(SettlementLine {
            number: row.number,
            reference: reference.to_owned(),
            amount,
        });
    }
    Ok((lines, skipped))
}

/// A payment as the ledger holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerPayment {
    pub public_id: String,
    /// What a settlement line may call it: the checkout reference, the provider's id of the
    /// money, the ids of its refunds.
    pub references: Vec<String>,
    /// What the ledger credited for it (zero if nothing).
    pub credited: Minor,
    /// What went back: refunds and chargebacks.
    pub returned: Minor,
    /// Paid inside the period the file covers, so the file must list it.
    pub in_period: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DifferenceKind {
    /// The file lists money for a reference the ledger has no payment for.
    NotInLedger,
    /// The file lists money for a payment the ledger did not credit.
    NotCredited,
    /// The ledger credited a payment of the period the file does not list.
    NotInFile,
    /// Both list the payment, for different amounts.
    AmountDiffers,
    /// Both list the payment, but what went back differs.
    ReturnDiffers,
}

impl DifferenceKind {
    pub fn label(self) -> &'static str {
        match self {
            DifferenceKind::NotInLedger => "In the file, not in the ledger",
            DifferenceKind::NotCredited => "In the file, not credited",
            DifferenceKind::NotInFile => "In the ledger, not in the file",
            DifferenceKind::AmountDiffers => "Amounts differ",
            DifferenceKind::ReturnDiffers => "Refunds differ",
        }
    }
}

/// One difference between the file and the ledger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    pub kind: DifferenceKind,
    /// The file's reference, or the payment's first one.
    pub reference: String,
    /// Our id of the payment, when the ledger has one.
    pub payment: Option<String>,
    pub file: Minor,
    pub ledger: Minor,
    /// The file's lines it concerns.
    pub lines: Vec<usize>,
}

/// The outcome: totals on each side and every difference.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reconciliation {
    pub lines: usize,
    pub matched: usize,
    /// The sum of the file's lines.
    pub file_total: Minor,
    /// What the ledger holds for the period: credited less returned.
    pub ledger_total: Minor,
    pub differences: Vec<Difference>,
}

/// What the file says about one payment.
#[derive(Default)]
struct Listed {
    charged: Minor,
    returned: Minor,
    lines: Vec<usize>,
}

/// Sets the file against the ledger.
pub fn reconcile(lines: &[SettlementLine], payments: &[LedgerPayment]) -> Reconciliation {
    let mut by_reference: BTreeMap<&str, usize> = BTreeMap::new();
    for (index, payment) in payments.iter().enumerate() {
        for reference in &payment.references {
            by_reference.entry(reference.as_str()).or_insert(index);
        }
    }
    let mut report = Reconciliation {
        lines: lines.len(),
        file_total: lines.iter().fold(Minor::ZERO, |sum, l| sum + l.amount),
        ledger_total: payments
            .iter()
            .filter(|p| p.in_period)
            .fold(Minor::ZERO, |sum, p| sum + p.credited - p.returned),
        ..Reconciliation::default()
    };
    let mut listed: BTreeMap<usize, Listed> = BTreeMap::new();
    for line in lines {
        match by_reference.get(line.reference.as_str()) {
            Some(&index) => {
                report.matched += 1;
                let entry = listed.entry(index).or_default();
                if line.amount >= Minor::ZERO {
                    entry.charged = entry.charged + line.amount;
                } else {
                    entry.returned = entry.returned - line.amount;
                }
                entry.lines.push(line.number);
            }
            None => report.differences.push(Difference {
                kind: DifferenceKind::NotInLedger,
                reference: line.reference.clone(),
                payment: None,
                file: line.amount,
                ledger: Minor::ZERO,
                lines: vec![line.number],
            }),
        }
    }
    for (index, payment) in payments.iter().enumerate() {
        let difference = |kind, file, ledger, lines: &[usize]| Difference {
            kind,
            reference: payment.references.first().cloned().unwrap_or_default(),
            payment: Some(payment.public_id.clone()),
            file,
            ledger,
            lines: lines.to_vec(),
        };
        let Some(file) = listed.get(&index) else {
            if payment.in_period && payment.credited > Minor::ZERO {
                report.differences.push(difference(
                    DifferenceKind::NotInFile,
                    Minor::ZERO,
                    payment.credited,
                    &[],
                ));
            }
            continue;
        };
        if file.charged != payment.credited {
            let kind = if payment.credited == Minor::ZERO {
                DifferenceKind::NotCredited
            } else {
                DifferenceKind::AmountDiffers
            };
            report.differences.push(difference(
                kind,
                file.charged,
                payment.credited,
                &file.lines,
            ));
        }
        if file.returned != payment.returned {
            report.differences.push(difference(
                DifferenceKind::ReturnDiffers,
                -file.returned,
                -payment.returned,
                &file.lines,
            ));
        }
    }
    report
}

/// The report a manager sees.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReconciliationReport {
    pub provider: super::payments::ProviderKind,
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    pub currency: String,
    pub digits: u32,
    /// Lines of other types (fees, payouts), not compared.
    pub skipped: u32,
    pub outcome: Reconciliation,
}

impl ReconciliationReport {
    /// The differences as CSV, to keep or send on.
    pub fn csv(&self) -> String {
        let mut out =
            String::from("difference,reference,payment,file_amount,ledger_amount,lines\n");
        for d in &self.outcome.differences {
            let lines: Vec<String> = d.lines.iter().map(usize::to_string).collect();
            let fields = [
                d.kind.label().to_owned(),
                d.reference.clone(),
                d.payment.clone().unwrap_or_default(),
                d.file.format(self.digits),
                d.ledger.format(self.digits),
                lines.join(" "),
            ];
            out.push_str(&super::csv::line(&fields));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn paid(id: &str, reference: &str, credited: i64, returned: i64) -> LedgerPayment {
        LedgerPayment {
            public_id: id.into(),
            references: vec![reference.into(), format!("{reference}-money")],
            credited: Minor(credited),
            returned: Minor(returned),
            in_period: true,
        }
    }

    fn line(number: usize, reference: &str, amount: i64) -> SettlementLine {
        SettlementLine {
            number,
            reference: reference.into(),
            amount: Minor(amount),
        }
    }

    #[test]
    fn settlement_files_of_different_providers_read() {
        let stripe = "id,Type,Source,Amount,Fee,Net\n\
                      txn_1,charge,pi_1,150.00,4.65,145.35\n\
                      txn_2,stripe_fee,,-1.00,0,-1.00\n\
                      txn_3,refund,re_1,-50.00,0,-50.00\n\
                      txn_4,payout,po_1,-200.00,0,-200.00\n";
        let (lines, skipped) = parse_settlement(stripe, 2).unwrap();
        assert_eq!(skipped, 2);
        assert_eq!(
            lines,
            vec![line(2, "pi_1", 15_000), line(4, "re_1", -5_000)],
            "Stripe's \"Source\" names the payment; its own \"id\" names the balance line"
        );
        let mpesa = "Receipt No.,Completion Time,Details,Paid In,Withdrawn\n\
                     RKT1,2026-11-02 10:00,Pay Bill from 2547...,\"1,000.00\",\n";
        assert_eq!(
            parse_settlement(mpesa, 2).unwrap().0,
            vec![line(2, "RKT1", 100_000)]
        );
        assert!(
            parse_settlement("reference,amount\n,5\n", 2)
                .unwrap_err()
                .contains("Line 2")
        );
        assert!(
            parse_settlement("when,amount\nx,5\n", 2)
                .unwrap_err()
                .contains("reference")
        );
    }

    #[test]
    fn a_file_matching_the_ledger_shows_no_difference() {
        let payments = [
            paid("p1", "cs_1", 15_000, 5_000),
            paid("p2", "cs_2", 900, 0),
        ];
        let file = [
            line(2, "cs_1", 15_000),
            line(3, "cs_1-money", -5_000),
            line(4, "cs_2-money", 500),
            line(5, "cs_2", 400),
        ];
        let report = reconcile(&file, &payments);
        assert_eq!(report.differences, vec![]);
        assert_eq!(report.matched, 4);
        assert_eq!(report.file_total, Minor(10_900));
        assert_eq!(report.ledger_total, Minor(10_900));
    }

    #[test]
    fn every_kind_of_difference_is_listed() {
        let failed = paid("p3", "cs_3", 0, 0);
        let mut old = paid("p4", "cs_4", 100, 0);
        old.in_period = false;
        let payments = [
            paid("p1", "cs_1", 15_000, 0),
            paid("p2", "cs_2", 900, 0),
            failed,
            old,
            paid("p5", "cs_5", 700, 200),
        ];
        let file = [
            line(2, "cs_1", 14_000),
            line(3, "cs_3", 300),
            line(4, "cs_9", 50),
            line(5, "cs_5", 700),
        ];
        let report = reconcile(&file, &payments);
        let kinds: Vec<(DifferenceKind, Option<&str>, Vec<usize>)> = report
            .differences
            .iter()
            .map(|d| (d.kind, d.payment.as_deref(), d.lines.clone()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (DifferenceKind::NotInLedger, None, vec![4]),
                (DifferenceKind::AmountDiffers, Some("p1"), vec![2]),
                (DifferenceKind::NotInFile, Some("p2"), vec![]),
                (DifferenceKind::NotCredited, Some("p3"), vec![3]),
                (DifferenceKind::ReturnDiffers, Some("p5"), vec![5]),
            ],
            "p4 was paid before the period, so the file need not list it"
        );
        assert_eq!(report.differences[1].file, Minor(14_000));
        assert_eq!(report.differences[1].ledger, Minor(15_000));
    }

    /// Payments with distinct references: credited, some partly returned.
    fn ledger() -> impl Strategy<Value = Vec<LedgerPayment>> {
        prop::collection::vec((1i64..100_000, 0i64..100, any::<bool>()), 1..30).prop_map(|rows| {
            rows.into_iter()
                .enumerate()
                .map(|(i, (credited, percent_back, back))| {
                    let returned = if back {
                        credited * percent_back / 100
                    } else {
                        0
                    };
                    paid(&format!("p{i}"), &format!("cs_{i}"), credited, returned)
                })
                .collect()
        })
    }

    /// The file the provider would send for this ledger: each charge in one or two lines,
    /// each return as a line, under either of the payment's references, in any order.
    fn faithful_file(payments: &[LedgerPayment], seed: u64) -> Vec<SettlementLine> {
        let mut lines = Vec::new();
        let mut next = seed;
        let mut roll = || {
            next = next
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            next >> 33
        };
        for p in payments {
            let name = |roll: u64| p.references[(roll % 2) as usize].clone();
            let first = Minor((roll() as i64) % (p.credited.0 + 1));
            for part in [first, p.credited - first] {
                if part > Minor::ZERO {
                    lines.push((roll(), name(roll()), part));
                }
            }
            if p.returned > Minor::ZERO {
                lines.push((roll(), name(roll()), -p.returned));
            }
        }
        lines.sort();
        lines
            .into_iter()
            .enumerate()
            .map(|(i, (_, reference, amount))| SettlementLine {
                number: i + 2,
                reference,
                amount,
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1_000))]

        #[test]
        fn a_faithful_file_shows_nothing_and_any_change_to_it_shows(
            payments in ledger(),
            seed in any::<u64>(),
            pick in any::<prop::sample::Index>(),
            change in 1i64..1_000,
        ) {
            let file = faithful_file(&payments, seed);
            let report = reconcile(&file, &payments);
            prop_assert_eq!(&report.differences, &vec![]);
            prop_assert_eq!(report.file_total, report.ledger_total);

            // A line dropped: its payment differs, nothing else does.
            let dropped = pick.index(file.len());
            let mut shorter = file.clone();
            let gone = shorter.remove(dropped);
            let owner = payments.iter().find(|p| p.references.contains(&gone.reference)).unwrap();
            let report = reconcile(&shorter, &payments);
            prop_assert_eq!(report.differences.len(), 1);
            prop_assert_eq!(report.differences[0].payment.as_deref(), Some(owner.public_id.as_str()));

            // A line's amount changed: the same.
            let mut changed = file.clone();
            let away_from_zero = if gone.amount < Minor::ZERO { -Minor(change) } else { Minor(change) };
            changed[dropped].amount = changed[dropped].amount + away_from_zero;
            let report = reconcile(&changed, &payments);
            prop_assert_eq!(report.differences.len(), 1);
            prop_assert!(report.differences[0].lines.contains(&gone.number));

            // A line no payment owns: listed alone.
            let mut longer = file;
            longer.push(line(9_999, "cs_unknown", change));
            let report = reconcile(&longer, &payments);
            prop_assert_eq!(report.differences.len(), 1);
            prop_assert_eq!(report.differences[0].kind, DifferenceKind::NotInLedger);
        }
    }
}
