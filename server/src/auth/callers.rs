//! The people this instance looked up in the last few seconds: who they are, their
//! organisation's rule on two-factor sign-in, and their role grants.
//!
//! Every page and server function starts by looking its caller up, and on a resident's home
//! that was one of four statements. What a caller is made of changes rarely, and only through
//! the few writes that call [`Callers::changed`] or [`Callers::organisation_changed`] here, so
//! on one instance the copy is exact. With several, those changes reach the others over the
//! bus ([`crate::bus`]); a signal lost on the way costs at most [`TRUSTED_FOR`] of a stale copy.
//! A write made outside any server (the operations CLI) is seen after the same delay.

use crate::bus::{Bus, Signal};
use app::domain::Caller;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock},
    time::Instant,
};

pub use super::sessions::TRUSTED_FOR;

/// At most this many callers are kept; past it, the stale ones go, then all of them.
const MOST_KEPT: usize = 50_000;

/// This instance's copy of the callers it read, shared by its services.
#[derive(Clone, Debug, Default)]
pub struct Callers {
    kept: Arc<Mutex<Kept>>,
    bus: Arc<OnceLock<Bus>>,
}

/// Where a look-up starts: what was known before the database was read.
pub enum Found {
    Kept(Caller),
    /// Read the database, then [`Callers::offer`] what it said with this ticket.
    Read(Ticket),
}

/// Marks when a read began: a change noted after it makes what it read too old to keep.
#[derive(Clone, Copy, Debug)]
pub struct Ticket {
    generation: u64,
    at: Instant,
}

impl Callers {
    /// From now on, changes made here are told to the other instances.
    pub fn use_bus(&self, bus: Bus) {
        let _ = self.bus.set(bus);
    }

    pub fn find(&self, user: i64) -> Found {
        let now = Instant::now();
        let mut kept = self.kept();
        match kept.fresh(user, now) {
            Some(caller) => Found::Kept(caller),
            None => Found::Read(Ticket {
                generation: kept.generation,
                at: now,
            }),
        }
    }

    /// What the database said of `user` for a read that began at `ticket`.
    pub fn offer(&self, user: i64, caller: &Caller, ticket: Ticket) {
        let mut kept = self.kept();
        // Something changed while the row was being read: it may be the old one.
        if kept.generation == ticket.generation {
            kept.put(user, caller.clone(), ticket.at);
        }
    }

    /// The person's row or grants changed here: drop the copy, here and on the other instances.
    pub fn changed(&self, user: i64) {
        self.forget_here(user);
        self.tell_others(Signal::CallerChanged { user });
    }

    /// The organisation's own rules changed (two-factor sign-in for staff): every copy of its
    /// people goes.
    pub fn organisation_changed(&self, org: i64) {
        self.forget_organisation_here(org);
        self.tell_others(Signal::OrganisationChanged { org });
    }

    /// Another instance changed `user`.
    pub fn forget_here(&self, user: i64) {
        let mut kept = self.kept();
        kept.generation += 1;
        kept.copies.remove(&user);
    }

    /// Another instance changed the organisation `org`.
    pub fn forget_organisation_here(&self, org: i64) {
        let mut kept = self.kept();
        kept.generation += 1;
        kept.copies.retain(|_, copy| copy.caller.org_id.0 != org);
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, Kept> {
        // The map holds no invariant a panicking holder could break half-way.
        self.kept
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn tell_others(&self, signal: Signal) {
        if let Some(bus) = self.bus.get() {
            bus.publish(signal);
        }
    }
}

#[derive(Debug)]
struct Copy {
    caller: Caller,
    since: Instant,
}

#[derive(Debug, Default)]
struct Kept {
    copies: HashMap<i64, Copy>,
    /// Counts the changes noted: a read that began before one is not kept.
    generation: u64,
}

impl Kept {
    fn fresh(&mut self, user: i64, now: Instant) -> Option<Caller> {
        let copy = self.copies.get(&user)?;
        if now.duration_since(copy.since) >= TRUSTED_FOR {
            self.copies.remove(&user);
            return None;
        }
        Some(copy.caller.clone())
    }

    fn put(&mut self, user: i64, caller: Caller, since: Instant) {
        if self.copies.len() >= MOST_KEPT {
            self.copies
                .retain(|_, copy| since.duration_since(copy.since) < TRUSTED_FOR);
            if self.copies.len() >= MOST_KEPT {
                self.copies.clear();
            }
        }
        self.copies.insert(user, Copy { caller, since });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::{OrgId, UserId};

    fn caller(user: i64, org: i64, name: &str) -> Caller {
        Caller {
            user_id: UserId(user),
            org_id: OrgId(org),
            email: format!("{name}@example.org"),
            display_name: name.to_owned(),
            grants: Vec::new(),
            must_change_password: false,
            sessions_valid_from: None,
            two_factor: false,
            two_factor_required: false,
        }
    }

    fn ticket(callers: &Callers, user: i64) -> Ticket {
        match callers.find(user) {
            Found::Read(ticket) => ticket,
            Found::Kept(caller) => panic!("{} was kept", caller.display_name),
        }
    }

    fn kept_name(callers: &Callers, user: i64) -> Option<String> {
        match callers.find(user) {
            Found::Kept(caller) => Some(caller.display_name),
            Found::Read(_) => None,
        }
    }

    #[test]
    fn a_caller_read_is_kept_until_changed() {
        let callers = Callers::default();
        let read = ticket(&callers, 1);
        callers.offer(1, &caller(1, 7, "ada"), read);
        assert_eq!(kept_name(&callers, 1).as_deref(), Some("ada"));
        assert_eq!(kept_name(&callers, 2), None, "another person is read");

        callers.changed(1);
        assert_eq!(
            kept_name(&callers, 1),
            None,
            "a change sends the next look-up to the database"
        );
    }

    #[test]
    fn a_read_that_began_before_a_change_is_not_kept() {
        let callers = Callers::default();
        let read = ticket(&callers, 1);
        // The row is changed (and noted) while the look-up is reading the old one.
        callers.changed(1);
        callers.offer(1, &caller(1, 7, "old name"), read);
        assert_eq!(kept_name(&callers, 1), None);

        let again = ticket(&callers, 1);
        callers.offer(1, &caller(1, 7, "new name"), again);
        assert_eq!(kept_name(&callers, 1).as_deref(), Some("new name"));
    }

    #[test]
    fn an_organisation_change_drops_only_its_people() {
        let callers = Callers::default();
        for (user, org) in [(1, 7), (2, 7), (3, 8)] {
            let read = ticket(&callers, user);
            callers.offer(user, &caller(user, org, "someone"), read);
        }
        callers.organisation_changed(7);
        assert_eq!(kept_name(&callers, 1), None);
        assert_eq!(kept_name(&callers, 2), None);
        assert!(
            kept_name(&callers, 3).is_some(),
            "the other organisation's person stays"
        );
    }

    #[test]
    fn a_copy_older_than_trusted_for_is_read_again() {
        let callers = Callers::default();
        let long_ago = Instant::now()
            .checked_sub(TRUSTED_FOR)
            .expect("the clock runs longer than TRUSTED_FOR");
        let read = Ticket {
            at: long_ago,
            ..ticket(&callers, 1)
        };
        callers.offer(1, &caller(1, 7, "ada"), read);
        assert_eq!(kept_name(&callers, 1), None);
    }
}
