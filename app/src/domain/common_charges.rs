//! Common charges: one bill for what the residents share (the stairwell's lights, the
//! garden's water, a bulk meter's losses) shared out across their accounts by a rule the
//! manager chooses. The shares add up to the bill to the last minor unit, and the split goes
//! to a second person as an adjustment request before anything is charged.

use super::{AccountId, Utility, money::Minor, reports::DaysAsked};
use serde::{Deserialize, Serialize};

/// How a common charge is shared out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareRule {
    /// The same share on every account.
    Equally,
    /// In proportion to what each account used of one utility over some days.
    ByUse,
}

impl ShareRule {
    pub fn as_str(self) -> &'static str {
        match self {
            ShareRule::Equally => "equally",
            ShareRule::ByUse => "by_use",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim() {
            "equally" | "" => Ok(ShareRule::Equally),
            "by_use" => Ok(ShareRule::ByUse),
            other => Err(format!(
                "{other:?} is not a way to share a charge: equally or by use."
            )),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ShareRule::Equally => "equally",
            ShareRule::ByUse => "by use",
        }
    }
}

/// How a charge is to be shared: the rule, and for "by use" the utility weighed and the
/// site's local days.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sharing {
    pub rule: ShareRule,
    pub measure: Option<Utility>,
    pub days: DaysAsked,
}

impl Sharing {
    /// From the form: the rule, the utility (empty: none) and the days (either may be empty).
    pub fn parse(rule: &str, measure: &str, from: &str, to: &str) -> Result<Self, String> {
        let measure = match measure.trim() {
            "" => None,
            raw => Some(raw.parse::<Utility>().map_err(|e| e.to_string())?),
        };
        Ok(Self {
            rule: ShareRule::parse(rule)?,
            measure,
            days: DaysAsked::parse(from, to)?,
        })
    }
}

/// Shares `total` out in proportion to `weights`, to the minor unit: each share is its exact
/// part rounded down, and the minor units left over go one each to the largest remainders
/// (the earlier account on a tie), so the shares add up to `total` and none is more than one
/// minor unit from its exact part. `None` when every weight is zero (nothing to share by).
pub fn share_out(total: Minor, weights: &[u64]) -> Option<Vec<Minor>> {
    let whole: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    if whole == 0 {
        return None;
    }
    let magnitude = u128::from(total.0.unsigned_abs());
    let mut shares: Vec<u128> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(u128, usize)> = Vec::with_capacity(weights.len());
    for (index, &weight) in weights.iter().enumerate() {
        let exact = magnitude * u128::from(weight);
        shares.push(exact / whole);
        remainders.push((exact % whole, index));
    }
    let left = magnitude - shares.iter().sum::<u128>();
    // Largest remainder first; the earlier account first among equals.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, index) in remainders.iter().take(left as usize) {
        shares[index] += 1;
    }
    let sign = total.0.signum();
    Some(
        shares
            .into_iter()
            // Each share is at most `magnitude`, which came from an i64.
            .map(|share| Minor(sign * share as i64))
            .collect(),
    )
}

/// One account's share, as the manager and the approver see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Share {
    pub account: AccountId,
    /// `Block A · A-101 · water`.
    pub label: String,
    /// What the account is weighed by: `12.5 m³` for by use, empty when shared equally.
    pub weight: String,
    /// The charge on the account, formatted with the site's currency: `-12.40 KES`.
    pub amount: String,
}

/// A shared charge asked for: the request waiting for approval and every account's share.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SharedCharge {
    pub request: i64,
    pub rule: ShareRule,
    /// The whole charge, formatted: `500.00 KES`.
    pub total: String,
    pub shares: Vec<Share>,
    /// Accounts found whose share came to nothing (no use, by use), so were left out.
    pub left_out: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_bill_shared_equally_gives_the_odd_cents_to_the_first() {
        let shares = share_out(Minor(1000), &[1, 1, 1]).unwrap();
        assert_eq!(shares, vec![Minor(334), Minor(333), Minor(333)]);
        let shares = share_out(Minor(-1000), &[1, 1, 1]).unwrap();
        assert_eq!(shares, vec![Minor(-334), Minor(-333), Minor(-333)]);
    }

    #[test]
    fn a_bill_shared_by_use_follows_the_use_and_nothing_is_shared_by_nothing() {
        let shares = share_out(Minor(10_000), &[3_000_000, 1_000_000, 0]).unwrap();
        assert_eq!(shares, vec![Minor(7_500), Minor(2_500), Minor(0)]);
        assert_eq!(share_out(Minor(500), &[0, 0]), None);
        assert_eq!(share_out(Minor(500), &[]), None);
    }

    #[test]
    fn rules_read_back() {
        for rule in [ShareRule::Equally, ShareRule::ByUse] {
            assert_eq!(ShareRule::parse(rule.as_str()), Ok(rule));
        }
        assert!(ShareRule::parse("by_area").is_err());
    }

    proptest! {
        /// However a bill is weighed, its shares add up to it exactly and each is within one
        /// minor unit of its exact part; an account that weighs nothing pays nothing.
        #[test]
        fn shares_add_up_to_the_bill(
            total in -1_000_000_000_000i64..1_000_000_000_000,
            weights in proptest::collection::vec(0u64..50_000_000_000, 1..60),
        ) {
            let whole: u128 = weights.iter().map(|&w| u128::from(w)).sum();
            match share_out(Minor(total), &weights) {
                None => prop_assert_eq!(whole, 0),
                Some(shares) => {
                    prop_assert_eq!(shares.len(), weights.len());
                    prop_assert_eq!(shares.iter().map(|s| s.0).sum::<i64>(), total);
                    for (share, &weight) in shares.iter().zip(&weights) {
                        let exact = i128::from(total) * i128::from(weight);
                        let diff = i128::from(share.0) * whole as i128 - exact;
                        prop_assert!(diff.abs() < whole as i128, "share {share:?} of weight {weight}");
                        if weight == 0 {
                            prop_assert_eq!(share.0, 0);
                        }
                    }
                }
            }
        }
    }
}
