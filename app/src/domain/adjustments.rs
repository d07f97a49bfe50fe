//! Adjustments on four eyes: a manager asks for one amount and reason on one account or on a
//! batch chosen in the accounts table; a second person (another manager of the site or an
//! admin) approves, and only then is each account's adjustment posted. The one who asked may
//! withdraw their request but never approve it.

use super::{AccountId, common_charges::ShareRule};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

/// The most accounts one request adjusts: a large hall's every account.
pub const MAX_ACCOUNTS: usize = 5_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    Pending,
    Posted,
    Refused,
    Withdrawn,
}

impl RequestState {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestState::Pending => "pending",
            RequestState::Posted => "posted",
            RequestState::Refused => "refused",
            RequestState::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            RequestState::Pending,
            RequestState::Posted,
            RequestState::Refused,
            RequestState::Withdrawn,
        ]
        .into_iter()
        .find(|state| state.as_str() == raw)
    }

    /// Where a verdict on a waiting request leaves it.
    pub fn after(verdict: super::four_eyes::Verdict) -> Self {
        use super::four_eyes::Verdict;
        match verdict {
            Verdict::Approved => RequestState::Posted,
            Verdict::Refused => RequestState::Refused,
            Verdict::Withdrawn => RequestState::Withdrawn,
        }
    }

    /// A decision wanting `wanted` on a request in this state: `Ok(None)` while it waits (decide
    /// it), `Ok(Some(self))` for the same decision sent again by the same person (answer as
    /// before), and a refusal for a late change of mind.
    pub fn decided_again(
        self,
        wanted: RequestState,
        decided_by: Option<i64>,
        actor: i64,
    ) -> Result<Option<RequestState>, String> {
        if self == RequestState::Pending {
            Ok(None)
        } else if super::four_eyes::repeated(self, wanted, decided_by, actor) {
            Ok(Some(self))
        } else {
            Err(format!(
                "This request is no longer waiting: {}.",
                self.label().to_lowercase()
            ))
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RequestState::Pending => "Waiting for approval",
            RequestState::Posted => "Approved and posted",
            RequestState::Refused => "Refused",
            RequestState::Withdrawn => "Withdrawn",
        }
    }
}

/// One account of a request, and whether the approval posted to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestedAccount {
    pub id: AccountId,
    /// `Block A · A-101 · water`.
    pub label: String,
    pub posted: bool,
    /// The account's own share of a common charge, formatted; `None` when every account of
    /// the request gets its amount.
    pub share: Option<String>,
}

/// One request as the approvals page shows it; times on the site's clock.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestView {
    pub id: i64,
    /// Signed and formatted with the site's currency: `-20.00 KES`.
    pub amount: String,
    pub amount_minor: i64,
    pub reason: String,
    pub requested_by: String,
    pub requested_at: NaiveDateTime,
    pub state: RequestState,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub accounts: Vec<RequestedAccount>,
    /// The viewer asked for it: they may withdraw it, not approve it.
    pub mine: bool,
    /// A common charge shared out by this rule: `amount` is the whole, each account has its
    /// share.
    pub share_rule: Option<ShareRule>,
}

/// A site's adjustment requests: every one waiting, and the latest decided.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestBook {
    pub site_name: String,
    /// The site's time zone, for the times shown.
    pub zone: String,
    pub waiting: Vec<RequestView>,
    pub decided: Vec<RequestView>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_read_back() {
        for state in [
            RequestState::Pending,
            RequestState::Posted,
            RequestState::Refused,
            RequestState::Withdrawn,
        ] {
            assert_eq!(RequestState::parse(state.as_str()), Some(state));
        }
        assert_eq!(RequestState::parse("maybe"), None);
    }
}
