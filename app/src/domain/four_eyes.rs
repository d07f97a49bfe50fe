//! Four eyes on money and prices: what one person asks for (a tariff version, an adjustment)
//! waits for a second person's decision. The one who asked may withdraw it, never approve it.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// What the second person (or the one who asked, withdrawing) decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    Approve,
    /// Refused by another, or withdrawn by the one who asked.
    Refuse,
}

impl FromStr for Decision {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw {
            "approve" => Ok(Self::Approve),
            "refuse" => Ok(Self::Refuse),
            _ => Err(format!("{raw:?} is not a decision: approve or refuse.")),
        }
    }
}

/// What a decision comes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Approved,
    Refused,
    Withdrawn,
}

impl Decision {
    /// The verdict of this decision by the one who asked (`own`) or by another; `None` when
    /// the one who asked tries to approve it.
    pub fn verdict(self, own: bool) -> Option<Verdict> {
        match (self, own) {
            (Decision::Approve, true) => None,
            (Decision::Approve, false) => Some(Verdict::Approved),
            (Decision::Refuse, true) => Some(Verdict::Withdrawn),
            (Decision::Refuse, false) => Some(Verdict::Refused),
        }
    }
}

/// Whether a decision on something already decided is the same one sent again by the same
/// person (a repeated form: answered as before) rather than a late change of mind.
pub fn repeated<S: PartialEq>(decided: S, wanted: S, decided_by: Option<i64>, actor: i64) -> bool {
    decided == wanted && decided_by == Some(actor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nobody_approves_what_they_asked_for() {
        assert_eq!(Decision::Approve.verdict(true), None);
        assert_eq!(Decision::Approve.verdict(false), Some(Verdict::Approved));
        assert_eq!(Decision::Refuse.verdict(true), Some(Verdict::Withdrawn));
        assert_eq!(Decision::Refuse.verdict(false), Some(Verdict::Refused));
        assert!(repeated("posted", "posted", Some(7), 7));
        assert!(!repeated("posted", "posted", Some(7), 8));
        assert!(!repeated("refused", "posted", Some(7), 7));
    }
}
