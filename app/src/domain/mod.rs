//! Domain types and pure rules, compiled for the browser and the server alike.

pub mod access;
pub mod email;
pub mod ids;
pub mod password;
pub mod site;
pub mod views;

pub use access::{Caller, Grant, Role};
pub use email::Email;
pub use ids::{BuildingId, MeterId, OrgId, SiteId, UnitId, UserId};
pub use password::NewPassword;
pub use site::{Currency, Multiplier, Utility};
