//! Pages for residents.

pub mod home;
