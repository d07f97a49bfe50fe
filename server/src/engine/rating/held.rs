//! The meters and wallets rating keeps in memory from one batch to the next.
//!
//! Loading each batch's meter and wallet state was the phase of rating whose time swung most
//! with the machine (1.3 to 3.2 s of 300,000 readings at 99,999 meters, on one day). Under
//! steady telemetry nothing but rating changes meters and wallets between two batches, and the
//! state a batch left is exactly what the next would read back. So a batch keeps what it
//! loaded and changed, with the SQLite writer's mark at its commit, and the next batch uses it
//! only if it finds the same mark: a change since to any table that state is read from (a
//! top-up, a move-out, a manager's change, a safety cut), on the writer or through another
//! connection or process, moves the mark and the next batch loads everything afresh. Writes
//! elsewhere (the fleet marking meters heard, the outbox, notices) leave it.
//! PostgreSQL gives no mark, as other server instances write there unseen: nothing is held.
//!
//! A chunk works on the held maps in place, loading into them what they lack. Taking each
//! chunk's meters and wallets out into maps of its own and putting them back after its commit
//! was a fifth of the engine thread's time, most of it while SQLite's worker waited. A chunk
//! that fails leaves its changes in these maps, so the engine drops them: `rate_then` holds
//! the state outside the engine while a batch runs and puts it back only when every chunk
//! has committed.

use super::{MeterCtx, Payers, WalletCtx};
use crate::db::WriterMark;
use std::collections::HashMap;

#[derive(Default)]
pub(crate) struct Held {
    /// The writer's mark when the state below was committed.
    mark: Option<WriterMark>,
    pub(super) meters: HashMap<i64, MeterCtx>,
    pub(super) wallets: HashMap<i64, WalletCtx>,
    /// Who pays for each held meter: every wallet loaded with them, so a held meter's wallets
    /// are found without asking the database.
    pub(super) payers: Payers,
}

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Held")
            .field("mark", &self.mark)
            .field("meters", &self.meters.len())
            .field("wallets", &self.wallets.len())
            .finish()
    }
}

impl Held {
    /// Drops everything unless `mark`, read at the start of a write transaction, is the one
    /// the held state was committed at.
    pub(super) fn check(&mut self, mark: Option<WriterMark>) {
        if mark.is_none() || mark != self.mark {
            *self = Held::default();
        }
    }

    /// Which of `ids` are not held, to be loaded.
    pub(super) fn missing_meters(&self, ids: &[i64]) -> Vec<i64> {
        ids.iter()
            .filter(|id| !self.meters.contains_key(id))
            .copied()
            .collect()
    }

    /// Which of the `landlords`' wallets are not held, to be loaded.
    pub(super) fn missing_landlords(&self, landlords: &HashMap<i64, i64>) -> Vec<i64> {
        let mut missing: Vec<i64> = landlords
            .values()
            .filter(|account| !self.wallets.contains_key(account))
            .copied()
            .collect();
        missing.sort_unstable();
        missing
    }

    /// Adds meters loaded from the database.
    pub(super) fn add_meters(&mut self, loaded: HashMap<i64, MeterCtx>) {
        self.meters.extend(loaded);
    }

    /// Adds wallets loaded from the database: a wallet also held is the same row as
    /// committed (the mark says nothing wrote since), and the held one is kept.
    pub(super) fn add_wallets(&mut self, loaded: HashMap<i64, WalletCtx>) {
        for (id, wallet) in loaded {
            self.payers.add(&wallet);
            self.wallets.entry(id).or_insert(wallet);
        }
    }

    /// The wallets a chunk of `meters` may charge, in account order: each meter's own and
    /// its unit's, and the `landlords`'.
    pub(super) fn wallets_for(&self, meters: &[i64], landlords: &HashMap<i64, i64>) -> Vec<i64> {
        let mut accounts: Vec<i64> = landlords.values().copied().collect();
        for id in meters {
            let Some(meter) = self.meters.get(id) else {
                continue;
            };
            accounts.extend(self.payers.by_meter.get(id));
            accounts.extend(self.payers.by_unit.get(&meter.unit));
        }
        accounts.sort_unstable();
        accounts.dedup();
        accounts
    }

    /// Marks a committed chunk's `meters` and `wallets` as stored, with the writer's mark as
    /// it stood at the commit; `None` (PostgreSQL, or a chunk whose memory may differ from
    /// what it stored) keeps nothing.
    pub(super) fn keep(&mut self, mark: Option<WriterMark>, meters: &[i64], wallets: &[i64]) {
        if mark.is_none() {
            *self = Held::default();
            return;
        }
        self.mark = mark;
        for id in meters {
            if let Some(meter) = self.meters.get_mut(id) {
                meter.changed = false;
            }
        }
        for id in wallets {
            if let Some(wallet) = self.wallets.get_mut(id) {
                wallet.dirty = false;
                wallet.charged = false;
            }
        }
    }
}
