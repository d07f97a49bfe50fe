//! The server's integration tests, one module per area, built as one test binary: each test
//! binary links the whole server, so one binary instead of two dozen saves CI most of its link
//! time and disk. Run one area with `cargo test -p server --test integration -- tariffs::`.
//!
//! `support` starts the real server on loopback with a fresh database; `engine::fixture` drives
//! the engine without HTTP.

mod support;

mod access;
mod accounts;
mod adjustments;
mod cash_desk;
mod crash;
mod fleet_access;
mod fuzz_corpus;
mod hardening;
mod instances;
mod losses;
mod matrix;
mod move_outs;
mod people;
mod periods;
mod places;
mod plans;
mod platform;
mod reports;
mod sheets;
mod sign_in;
mod sites;
mod staff;
mod statements;
mod tariffs;
mod two_factor;
mod units;

mod api;
mod engine;
mod fleet;
mod messaging;
mod payments;
mod push;
