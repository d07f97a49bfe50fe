//! Domain types and pure rules, compiled for the browser and the server alike.

pub mod access;
pub mod account_table;
pub mod adjustments;
pub mod audit;
pub mod csv;
pub mod email;
pub mod faults;
pub mod fleet;
pub mod four_eyes;
pub mod i18n;
pub mod ids;
pub mod integrations;
pub mod messaging;
pub mod money;
pub mod notices;
pub mod occupancy;
pub mod password;
pub mod payments;
pub mod planner;
pub mod reconciliation;
pub mod reports;
pub mod site;
pub mod site_sheet;
pub mod supply;
pub mod tariff;
pub mod tokens;
pub mod usage;
pub mod views;
pub mod zone;

pub use access::{Caller, Grant, MeterAction, Role};
pub use email::Email;
pub use ids::{AccountId, BuildingId, MeterId, OrgId, SiteId, UnitId, UserId};
pub use money::{Minor, minor_digits};
pub use password::NewPassword;
pub use site::{Currency, Multiplier, Utility};
