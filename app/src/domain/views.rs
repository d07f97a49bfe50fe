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

/// A prepaid account as residents and staff see it. Amounts are formatted in the site's
/// currency on the server; `balance_minor` is there for sorting and colouring.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountView {
    pub id: super::ids::AccountId,
    pub number: String,
    pub site: SiteId,
    pub unit: String,
    pub building: String,
    /// `None` for a unit wallet that pays for every utility of the unit.
    pub utility: Option<Utility>,
    pub currency: String,
    pub balance: String,
    pub balance_minor: i64,
    pub state: super::supply::SupplyState,
    pub days_left: Option<String>,
    pub last_reading_at: Option<chrono::DateTime<chrono::Utc>>,
    pub allowance: Option<String>,
    pub emergency_owed: Option<String>,
    /// Emergency credit the resident could take now, formatted; `None` if not available.
    pub emergency_available: Option<String>,
    pub safety_hold: Option<String>,
    pub vulnerable: bool,
    pub occupant: Option<String>,
}

impl AccountView {
    pub fn title(&self) -> String {
        let what = self.utility.map_or("All utilities", Utility::label);
        format!("{what} · {}", self.unit)
    }
}

/// One line of an account's statement. Usage charges are summed per local day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatementLine {
    pub transaction: i64,
    pub posted_at: chrono::DateTime<chrono::Utc>,
    /// The site-local date, for usage days.
    pub day: String,
    pub kind: String,
    pub description: String,
    pub amount: String,
    pub amount_minor: i64,
    pub receipt: Option<String>,
}

/// A notice the engine queued for the resident or the managers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NoticeLine {
    pub at: chrono::DateTime<chrono::Utc>,
    pub kind: String,
    pub audience: String,
    pub status: String,
}

impl NoticeLine {
    /// What the notice says, in words.
    pub fn label(&self) -> String {
        match self.kind.strip_prefix("low_balance_") {
            Some(level) => format!("Low balance warning (level {level})"),
            None => match self.kind.as_str() {
                "few_days_left" => "Few days of credit left".into(),
                "cut_off" => "Supply cut off".into(),
                "restricted" => "Water flow restricted".into(),
                "reconnected" => "Supply reconnected".into(),
                "payment_received" => "Payment received: receipt sent".into(),
                "armed" => "Gas ready: confirm at the meter".into(),
                "protected_at_zero" => "Protected household out of credit (to managers)".into(),
                other => other.replace('_', " "),
            },
        }
    }
}

/// A command the engine queued for one of the account's meters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommandLine {
    pub at: chrono::DateTime<chrono::Utc>,
    pub meter: String,
    pub seq: i64,
    pub command: String,
    pub reason: String,
    pub status: String,
}

/// Everything recorded about an account, as the engine returns it.
#[derive(Clone, Debug, PartialEq)]
pub struct AccountRecord {
    pub account: AccountView,
    pub lines: Vec<StatementLine>,
    pub notices: Vec<NoticeLine>,
    pub commands: Vec<CommandLine>,
}

/// An account with its recent statement, and what the viewer may do with it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountDetail {
    pub account: AccountView,
    pub lines: Vec<StatementLine>,
    /// Notices and meter commands the account's balance caused (the outboxes' view).
    pub notices: Vec<NoticeLine>,
    pub commands: Vec<CommandLine>,
    pub may_take_cash: bool,
    pub may_adjust: bool,
    pub may_choose: bool,
    /// Sent back with a money form: the same form sent twice moves money once.
    pub form_nonce: String,
}

/// A receipt for money taken.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    pub number: String,
    pub amount: String,
    pub balance: String,
    pub repeated: bool,
}
