//! Pages for staff: managers, operators, cashiers and admins.

pub mod home;
pub mod site;
