//! What the pages show: plain data sent from the server functions to the browser.

use super::{
    access::Role,
    ids::{BuildingId, MeterId, SiteId, UnitId},
    site::Utility,
};
use serde::{Deserialize, Serialize};

/// The signed-in person, as the page header needs them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Me {
    pub display_name: String,
    pub email: String,
    pub is_staff: bool,
    pub must_change_password: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeterView {
    pub id: MeterId,
    pub utility: Utility,
    pub serial: String,
    pub unit_of_measure: String,
    pub multiplier: String,
}

/// A unit a resident lives in, with where it is and its meters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResidentUnit {
    pub id: UnitId,
    pub name: String,
    pub building: String,
    pub site: String,
    pub meters: Vec<MeterView>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResidentHome {
    pub units: Vec<ResidentUnit>,
    /// Staff may live on a site too; their home page also links to the manager console.
    pub staff: bool,
}

/// A site as listed in the manager console, with its counts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SiteSummary {
    pub id: SiteId,
    pub name: String,
    pub time_zone: String,
    pub currency: String,
    pub locale: String,
    pub buildings: i64,
    pub units: i64,
    pub meters: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnitRow {
    pub id: UnitId,
    pub name: String,
    pub occupants: Vec<String>,
    pub meters: Vec<MeterView>,
}

impl UnitRow {
    /// The manager's unit filter: a case-insensitive match on the unit's name, an occupant's
    /// name or a meter serial. An empty query matches everything.
    pub fn matches(&self, query: &str) -> bool {
        let query = query.trim().to_lowercase();
        query.is_empty()
            || self.name.to_lowercase().contains(&query)
            || self
                .occupants
                .iter()
                .any(|name| name.to_lowercase().contains(&query))
            || self
                .meters
                .iter()
                .any(|meter| meter.serial.to_lowercase().contains(&query))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BuildingView {
    pub id: BuildingId,
    pub name: String,
    pub units: Vec<UnitRow>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UtilityCount {
    pub utility: Utility,
    pub meters: i64,
}

/// Everything the manager's site page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SiteOverview {
    pub site: SiteSummary,
    pub buildings: Vec<BuildingView>,
    pub meters_by_utility: Vec<UtilityCount>,
    /// Roles the caller may hand out on this site (drives the "add a person" form).
    pub grantable: Vec<Role>,
    pub may_add_residents: bool,
}

/// The answer to creating an account: the initial password is shown once, to the person who
/// created the account, and must be changed at first sign-in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreatedAccount {
    pub email: String,
    pub initial_password: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(name: &str, occupant: &str, serial: &str) -> UnitRow {
        UnitRow {
            id: UnitId(1),
            name: name.into(),
            occupants: vec![occupant.into()],
            meters: vec![MeterView {
                id: MeterId(1),
                utility: Utility::Water,
                serial: serial.into(),
                unit_of_measure: "m3".into(),
                multiplier: "1".into(),
            }],
        }
    }

    #[test]
    fn the_unit_filter_matches_name_occupant_and_serial_ignoring_case() {
        let row = unit("A-101", "Grace Hopper", "WAT-0042");
        assert!(row.matches(""));
        assert!(row.matches("a-10"));
        assert!(row.matches("hopper"));
        assert!(row.matches("wat-0042"));
        assert!(!row.matches("B-"));
    }
}
