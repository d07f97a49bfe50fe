//! Rebuilds the server when a migration is added.
//!
//! `sqlx::migrate!` embeds the migration files when `db.rs` compiles, and on stable Rust cargo
//! only knows about the files that existed then: a new file alone would leave the binary and
//! the tests migrating to the old list. Watching the directories makes cargo run this script,
//! and so rebuild the crate, whenever a file in them is added or changed.
fn main() {
    println!("cargo:rerun-if-changed=../migrations/sqlite");
    println!("cargo:rerun-if-changed=../migrations/postgres");
}
