//! Pages for staff: managers, operators, cashiers and admins.

pub mod audit;
pub mod home;
pub mod integrations;
pub mod notices;
pub mod site;
