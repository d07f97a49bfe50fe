//! The cash desk's shifts: whoever takes cash at a site (a cashier, a manager) closes their
//! shift by counting the drawer; the ledger says what it should hold (their cash top-ups since
//! their last close), and the difference is kept with the close, over or short, for the site's
//! managers to see. Pure, so the page and the server agree on every figure.

use super::{Minor, adjustments::RequestState, ids::AccountId, zone::SiteZone};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Longest note a cashier leaves with a close ("a 500 note torn, kept aside").
pub const NOTE_MAX: usize = 300;

/// A receipt for cash taken in the open shift.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftReceipt {
    pub number: i64,
    pub account: AccountId,
    pub unit: String,
    pub amount: Minor,
    pub issued_at: DateTime<Utc>,
    /// Why it was voided, if it was: its top-up reversed, the cash handed back.
    pub void: Option<String>,
}

/// The reason a cashier gives for voiding a receipt: trimmed, said, and short.
pub fn void_reason(raw: &str) -> Result<String, String> {
    let reason = raw.trim();
    if reason.is_empty() {
        return Err("Say why the receipt is void.".to_owned());
    }
    if reason.chars().count() > NOTE_MAX {
        return Err(format!("The reason is at most {NOTE_MAX} characters."));
    }
    Ok(reason.to_owned())
}

/// The caller's shift not yet closed: since their last close (or their first cash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenShift {
    /// The close this shift follows, sent back with the close so a repeat is seen as one.
    pub after: Option<i64>,
    pub since: Option<DateTime<Utc>>,
    pub receipts: Vec<ShiftReceipt>,
}

impl OpenShift {
    /// What the drawer should hold: the cash the ledger took in this shift and kept.
    pub fn expected(&self) -> Minor {
        Minor(
            self.receipts
                .iter()
                .filter(|r| r.void.is_none())
                .map(|r| r.amount.0)
                .sum(),
        )
    }

    /// How many of its receipts were voided.
    pub fn voided(&self) -> usize {
        self.receipts.iter().filter(|r| r.void.is_some()).count()
    }
}

/// A shift closed: what was expected, what was counted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosedShift {
    pub id: i64,
    pub cashier: String,
    pub opened_at: Option<DateTime<Utc>>,
    pub closed_at: DateTime<Utc>,
    pub receipts: i64,
    /// How many of `receipts` were void (kept, not expected in the drawer).
    pub voided: i64,
    pub expected: Minor,
    pub counted: Minor,
    pub note: String,
}

/// What a close comes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Count {
    Balanced,
    Over,
    Short,
}

impl ClosedShift {
    /// Counted less expected: positive when the drawer held more than the ledger says.
    pub fn difference(&self) -> Minor {
        Minor(self.counted.0 - self.expected.0)
    }

    pub fn count(&self) -> Count {
        match self.difference().0 {
            0 => Count::Balanced,
            d if d > 0 => Count::Over,
            _ => Count::Short,
        }
    }
}

impl Count {
    pub fn as_str(self) -> &'static str {
        match self {
            Count::Balanced => "balanced",
            Count::Over => "over",
            Count::Short => "short",
        }
    }
}

/// Cash above the site's limit, asked for by whoever took it and credited (as their receipt,
/// in their shift) only once another of the site's managers or an admin approves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashRequest {
    pub id: i64,
    pub account: AccountId,
    pub unit: String,
    pub amount: Minor,
    pub asked_by: String,
    pub asked_at: DateTime<Utc>,
    pub state: RequestState,
    pub decided_by: Option<String>,
    /// Asked for by the one looking: theirs to withdraw, never to approve.
    pub mine: bool,
}

/// Whether cash of `amount` waits for a second person at a site whose limit is `limit`
/// (zero: no limit).
pub fn needs_approval(amount: Minor, limit: Minor) -> bool {
    limit > Minor::ZERO && amount > limit
}

/// The cash desk page: the caller's open shift, and the closed shifts they may see (their
/// own; every cashier's for the site's managers).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CashDesk {
    pub site_name: String,
    pub currency: String,
    pub digits: u32,
    pub zone: SiteZone,
    pub open: OpenShift,
    pub closed: Vec<ClosedShift>,
    /// The closed shifts are everyone's, not only the caller's.
    pub everyone: bool,
    /// Cash above this waits for a second person's approval; zero for no limit.
    pub limit: Minor,
    /// The caller may change the limit (the organisation's admins).
    pub may_set_limit: bool,
    /// Large cash waiting (every cashier's for `everyone`, else the caller's), then the
    /// latest decided.
    pub requests: Vec<CashRequest>,
}

impl CashDesk {
    pub fn money(&self, minor: Minor) -> String {
        format!("{} {}", minor.grouped(self.digits), self.currency)
    }
}

/// A close as its form sends it, parsed at the edge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShiftClose {
    pub after: Option<i64>,
    pub counted: Minor,
    pub note: String,
}

impl ShiftClose {
    /// `after` is the close the page's shift followed ("" for a first shift); `counted` what
    /// the drawer holds (zero allowed: a shift with no cash still closes).
    pub fn parse(after: &str, counted: &str, note: &str, digits: u32) -> Result<Self, String> {
        let after = match after.trim() {
            "" => None,
            raw => Some(
                raw.parse()
                    .map_err(|_| "That shift is not known.".to_owned())?,
            ),
        };
        let counted = super::money::zero_or_more(counted, digits)
            .map_err(|error| format!("Counted cash: {error}"))?;
        let note = note.trim().to_owned();
        if note.chars().count() > NOTE_MAX {
            return Err(format!("The note is at most {NOTE_MAX} characters."));
        }
        Ok(ShiftClose {
            after,
            counted,
            note,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shift(expected: i64, counted: i64) -> ClosedShift {
        ClosedShift {
            id: 1,
            cashier: "Carol Cashier".into(),
            opened_at: None,
            closed_at: DateTime::<Utc>::UNIX_EPOCH,
            receipts: 2,
            voided: 0,
            expected: Minor(expected),
            counted: Minor(counted),
            note: String::new(),
        }
    }

    #[test]
    fn cash_waits_only_above_a_limit_the_site_set() {
        assert!(!needs_approval(Minor(1_000_000), Minor::ZERO));
        assert!(!needs_approval(Minor(500_000), Minor(500_000)));
        assert!(needs_approval(Minor(500_001), Minor(500_000)));
    }

    #[test]
    fn a_close_is_balanced_over_or_short_by_the_difference() {
        assert_eq!(shift(50_000, 50_000).count(), Count::Balanced);
        assert_eq!(shift(50_000, 50_500).difference(), Minor(500));
        assert_eq!(shift(50_000, 50_500).count(), Count::Over);
        assert_eq!(shift(50_000, 49_000).count(), Count::Short);
    }

    #[test]
    fn a_close_takes_what_was_counted_even_nothing() {
        let close = ShiftClose::parse("7", " 1,250.50 ", " torn note ", 2).unwrap();
        assert_eq!(close.after, Some(7));
        assert_eq!(close.counted, Minor(125_050));
        assert_eq!(close.note, "torn note");
        assert_eq!(
            ShiftClose::parse("", "0", "", 2).unwrap().counted,
            Minor::ZERO
        );
        assert!(ShiftClose::parse("", "-5", "", 2).is_err());
        assert!(ShiftClose::parse("", "12.345", "", 2).is_err());
        assert!(ShiftClose::parse("", "lots", "", 2).is_err());
        assert!(ShiftClose::parse("x", "10", "", 2).is_err());
        assert!(ShiftClose::parse("", "10", &"n".repeat(NOTE_MAX + 1), 2).is_err());
    }

    #[test]
    fn the_drawer_should_hold_every_receipt_of_the_shift() {
        let receipt = |number, amount, void: Option<&str>| ShiftReceipt {
            number,
            account: AccountId(3),
            unit: "A-101".into(),
            amount: Minor(amount),
            issued_at: DateTime::<Utc>::UNIX_EPOCH,
            void: void.map(str::to_owned),
        };
        let mut open = OpenShift {
            after: None,
            since: None,
            receipts: vec![receipt(1, 20_000, None), receipt(2, 5_050, None)],
        };
        assert_eq!(open.expected(), Minor(25_050));
        // A voided receipt is kept in the shift, not in the drawer.
        open.receipts.push(receipt(3, 1_000, Some("wrong account")));
        assert_eq!(open.expected(), Minor(25_050));
        assert_eq!(open.voided(), 1);
        assert_eq!(void_reason("  wrong flat "), Ok("wrong flat".to_owned()));
        assert!(void_reason(" ").is_err());
        assert!(void_reason(&"r".repeat(NOTE_MAX + 1)).is_err());
    }
}
