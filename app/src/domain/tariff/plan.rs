//! Tariff plans: a site charges every unit by its standard tariff unless the unit is put on a
//! named plan (commercial tenants, staff flats, a factory on a demand tariff). A plan holds
//! versions for the utilities it prices differently; for the others its units pay the standard
//! tariff, so a plan never leaves a meter without a price.

use super::Version;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Which of a site's tariffs charges a unit: the standard one, or a named plan. Storage writes
/// the standard plan as the empty string.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Plan(String);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanError(String);

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PlanError {}

impl Plan {
    pub const MAX_CHARS: usize = 40;
    /// What the console calls the plan every unit starts on.
    pub const STANDARD_LABEL: &'static str = "Standard";

    pub fn standard() -> Self {
        Self::default()
    }

    /// A plan's name as typed: blank or "standard" (any case) is the standard plan; other
    /// names are trimmed, at most [`Self::MAX_CHARS`] characters, with no control characters.
    pub fn parse(raw: &str) -> Result<Self, PlanError> {
        let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() || name.eq_ignore_ascii_case(Self::STANDARD_LABEL) {
            return Ok(Self::standard());
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(PlanError(format!(
                "Keep a plan's name under {} characters.",
                Self::MAX_CHARS
            )));
        }
        if name.chars().any(char::is_control) {
            return Err(PlanError(
                "A plan's name is letters, numbers and spaces.".to_owned(),
            ));
        }
        Ok(Self(name))
    }

    pub fn is_standard(&self) -> bool {
        self.0.is_empty()
    }

    /// How storage writes it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// How people read it.
    pub fn label(&self) -> &str {
        if self.is_standard() {
            Self::STANDARD_LABEL
        } else {
            &self.0
        }
    }
}

impl TryFrom<String> for Plan {
    type Error = PlanError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<Plan> for String {
    fn from(plan: Plan) -> Self {
        plan.0
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The versions that price a plan's units, oldest first: the standard versions that start
/// before the plan's first, then the plan's own. A unit put on a plan whose first version is
/// still to come pays the standard tariff until then.
pub fn on_plan(standard: &[Version], plan: Vec<Version>) -> Vec<Version> {
    let Some(first) = plan.first().map(|version| version.effective_from) else {
        return standard.to_vec();
    };
    standard
        .iter()
        .filter(|version| version.effective_from < first)
        .cloned()
        .chain(plan)
        .collect()
}

/// One of a site's plans, with how many of its units it charges.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanUse {
    pub plan: Plan,
    pub units: usize,
}

/// What putting units on a plan did: units already on it are left as they were.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanMove {
    pub plan: Plan,
    pub moved: usize,
    pub unchanged: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_and_standard_are_the_standard_plan() {
        for raw in ["", "  ", "Standard", "standard", " STANDARD "] {
            assert!(Plan::parse(raw).unwrap().is_standard(), "{raw:?}");
        }
        assert_eq!(Plan::standard().label(), "Standard");
        assert_eq!(Plan::standard().as_str(), "");
    }

    #[test]
    fn names_are_trimmed_and_checked() {
        let plan = Plan::parse("  Commercial   tenants ").unwrap();
        assert_eq!(plan.as_str(), "Commercial tenants");
        assert_eq!(plan.label(), "Commercial tenants");
        assert!(Plan::parse(&"x".repeat(41)).is_err());
        assert!(Plan::parse(&"x".repeat(40)).is_ok());
        assert!(Plan::parse("bad\u{7}name").is_err());
    }

    #[test]
    fn a_plan_starts_where_its_first_version_does() {
        use crate::domain::tariff::{Tariff, version_at};
        use chrono::{TimeZone, Utc};
        use rust_decimal::Decimal;
        let at = |day| Utc.with_ymd_and_hms(2027, 1, day, 0, 0, 0).unwrap();
        let version = |day, rate| Version {
            effective_from: at(day),
            tariff: Tariff::flat(Decimal::new(rate, 2)),
        };
        let standard = vec![version(1, 10), version(10, 12), version(20, 14)];
        let plan = on_plan(&standard, vec![version(15, 50)]);
        let rate = |day| version_at(&plan, at(day)).unwrap().tariff.tiers[0].rate;
        assert_eq!(rate(5), Decimal::new(10, 2));
        assert_eq!(rate(12), Decimal::new(12, 2));
        assert_eq!(rate(15), Decimal::new(50, 2));
        // The standard tariff's later versions do not reach the plan's units.
        assert_eq!(rate(25), Decimal::new(50, 2));
        assert_eq!(on_plan(&standard, Vec::new()), standard);
        assert_eq!(on_plan(&[], vec![version(15, 50)]).len(), 1);
    }

    #[test]
    fn serde_checks_what_it_reads() {
        let plan: Plan = serde_json::from_str("\"Staff\"").unwrap();
        assert_eq!(plan.label(), "Staff");
        assert_eq!(serde_json::to_string(&Plan::standard()).unwrap(), "\"\"");
        assert!(serde_json::from_str::<Plan>(&format!("\"{}\"", "y".repeat(50))).is_err());
    }
}
