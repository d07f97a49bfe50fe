//! Pages for staff: managers, operators, cashiers and admins.

pub mod accounts;
pub mod adjustments;
pub mod audit;
pub mod bands;
pub mod cash;
pub mod collections;
pub mod days;
pub mod home;
pub mod integrations;
pub mod losses;
pub mod meters;
pub mod move_out;
pub mod notices;
pub mod people;
pub mod periods;
pub mod reports;
pub mod settings;
pub mod sheet;
pub mod site;
pub mod staff;
pub mod statements;
pub mod supply;
pub mod tariffs;
pub mod unit;
