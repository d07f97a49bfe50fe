//! Pages for staff: managers, operators, cashiers and admins.

pub mod accounts;
pub mod adjustments;
pub mod audit;
pub mod collections;
pub mod home;
pub mod integrations;
pub mod move_out;
pub mod notices;
pub mod reports;
pub mod sheet;
pub mod site;
pub mod tariffs;
