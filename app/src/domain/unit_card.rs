//! One unit on its own page (`/manage/units/:id`): where it is, what it is, its meters, its
//! open accounts and who lives there; and the corrections a manager makes to it, parsed at
//! the edge. A resident's sign-in details (e-mail address and mobile number, each signs in
//! alone) are corrected only until they choose their own password: after that a change
//! would hand their account to whoever holds the new address.

use super::{
    Email, SiteId, UnitId, UserId, Utility,
    ids::AccountId,
    messaging::PhoneNumber,
    site_sheet::{UNIT_KINDS, named},
    supply::SupplyState,
    tariff::Plan,
    views::MeterView,
};
use serde::{Deserialize, Serialize};

/// Longest name of a person, as the console's "add a person" takes it.
pub const PERSON_NAME_MAX: usize = 100;

/// The unit's page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnitCard {
    pub id: UnitId,
    pub site: SiteId,
    pub site_name: String,
    pub building: String,
    pub name: String,
    pub kind: String,
    pub meters: Vec<MeterView>,
    pub accounts: Vec<UnitAccount>,
    pub residents: Vec<ResidentLine>,
    /// The viewer may correct the unit and its residents' details.
    #[serde(default)]
    pub may_edit: bool,
    /// The tariff plan that charges the unit.
    #[serde(default)]
    pub plan: Plan,
    /// The plans the viewer may put the unit on: empty unless they may change its tariff.
    #[serde(default)]
    pub plans: Vec<Plan>,
}

/// One of the unit's open prepaid accounts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnitAccount {
    pub id: AccountId,
    /// `None` for a wallet that pays for every utility of the unit.
    pub utility: Option<Utility>,
    pub balance: String,
    pub balance_minor: i64,
    pub currency: String,
    pub state: SupplyState,
}

/// Someone who lives in the unit now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResidentLine {
    pub id: UserId,
    pub display_name: String,
    pub email: String,
    pub phone: Option<String>,
    /// The day they moved in, on the site's clock.
    pub since: chrono::NaiveDate,
    /// They chose their own password: their e-mail address and number are theirs to keep.
    pub settled: bool,
}

/// What a unit is called and what kind it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitEdit {
    pub name: String,
    pub kind: &'static str,
}

/// A building's name as the site page's "add a building" form gives it.
pub fn building_name(raw: &str) -> Result<String, String> {
    named(raw.trim(), "building name")
}

impl UnitEdit {
    pub fn parse(name: &str, kind: &str) -> Result<Self, String> {
        let name = named(name.trim(), "unit name")?;
        let kind = UNIT_KINDS
            .into_iter()
            .find(|known| *known == kind.trim())
            .ok_or_else(|| format!("A unit is one of: {}.", UNIT_KINDS.join(", ")))?;
        Ok(UnitEdit { name, kind })
    }
}

/// A resident's details as a manager corrects them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResidentEdit {
    pub display_name: String,
    /// Empty clears the number.
    pub phone: Option<PhoneNumber>,
    pub email: Email,
}

impl ResidentEdit {
    pub fn parse(display_name: &str, phone: &str, email: &str) -> Result<Self, String> {
        let display_name = display_name.trim();
        if display_name.is_empty() || display_name.chars().count() > PERSON_NAME_MAX {
            return Err(format!(
                "Enter the person's name (at most {PERSON_NAME_MAX} characters)."
            ));
        }
        let phone = match phone.trim() {
            "" => None,
            raw => Some(PhoneNumber::parse(raw).map_err(|e| e.to_string())?),
        };
        let email = Email::parse(email).map_err(|e| e.to_string())?;
        Ok(ResidentEdit {
            display_name: display_name.to_owned(),
            phone,
            email,
        })
    }

    /// What the edit changes of `now`: the names of the fields, for the audit log (which
    /// keeps what changed, not the personal data itself). Refused when it would change the
    /// sign-in details of someone who chose their own password.
    pub fn changes(&self, now: &ResidentLine) -> Result<Vec<&'static str>, String> {
        let mut changed = Vec::new();
        if self.display_name != now.display_name {
            changed.push("display_name");
        }
        let phone = self.phone.as_ref().map(PhoneNumber::as_str);
        let contact = [
            ("email", self.email.as_str() != now.email),
            ("phone", phone != now.phone.as_deref()),
        ];
        for (field, differs) in contact {
            if differs && now.settled {
                return Err(format!(
                    "{} has chosen their own password: their e-mail address and mobile number \
                     sign them in, so only they may change them.",
                    now.display_name
                ));
            }
            if differs {
                changed.push(field);
            }
        }
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resident(settled: bool) -> ResidentLine {
        ResidentLine {
            id: UserId(5),
            display_name: "Amina Odhiambo".into(),
            email: "amina@example.org".into(),
            phone: Some("+254712345678".into()),
            since: "2026-09-01".parse().unwrap(),
            settled,
        }
    }

    #[test]
    fn units_take_a_name_and_a_known_kind() {
        assert_eq!(
            UnitEdit::parse("  A-101 ", "shop"),
            Ok(UnitEdit {
                name: "A-101".into(),
                kind: "shop"
            })
        );
        assert!(UnitEdit::parse("", "flat").is_err());
        assert!(UnitEdit::parse(&"x".repeat(121), "flat").is_err());
        assert!(
            UnitEdit::parse("A-101", "castle")
                .unwrap_err()
                .contains("dorm_room")
        );
    }

    #[test]
    fn buildings_take_a_trimmed_name() {
        assert_eq!(building_name("  Block C "), Ok("Block C".into()));
        assert!(building_name("   ").is_err());
        assert!(building_name(&"B".repeat(121)).is_err());
    }

    #[test]
    fn residents_details_parse_and_name_what_changed() {
        let same =
            ResidentEdit::parse("Amina Odhiambo", "+254 712 345 678", "AMINA@example.org").unwrap();
        assert_eq!(same.changes(&resident(true)), Ok(vec![]));
        let renamed =
            ResidentEdit::parse("Amina O.", "+254712345678", "amina@example.org").unwrap();
        assert_eq!(renamed.changes(&resident(true)), Ok(vec!["display_name"]));
        let moved = ResidentEdit::parse("Amina O.", "", "amina@example.net").unwrap();
        assert_eq!(
            moved.changes(&resident(false)),
            Ok(vec!["display_name", "email", "phone"])
        );
        assert!(
            moved
                .changes(&resident(true))
                .unwrap_err()
                .contains("only they may change them")
        );
        assert!(ResidentEdit::parse(" ", "", "a@example.org").is_err());
        assert!(ResidentEdit::parse("Amina", "0712", "a@example.org").is_err());
        assert!(ResidentEdit::parse("Amina", "", "not an address").is_err());
    }
}
