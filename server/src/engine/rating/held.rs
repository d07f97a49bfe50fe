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

use super::{MeterCtx, Payers, WalletCtx};
use crate::db::WriterMark;
use std::collections::HashMap;

#[derive(Default)]
pub(crate) struct Held {
    /// The writer's mark when the state below was committed.
    mark: Option<WriterMark>,
    meters: HashMap<i64, MeterCtx>,
    wallets: HashMap<i64, WalletCtx>,
    /// Who pays for each held meter: every wallet loaded with them, so a held meter's wallets
    /// are found without asking the database.
    payers: Payers,
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

    /// Takes out the held meters among `ids`, and says which are left to load.
    pub(super) fn take_meters(&mut self, ids: &[i64]) -> (HashMap<i64, MeterCtx>, Vec<i64>) {
        let mut taken = HashMap::with_capacity(ids.len());
        let mut missing = Vec::new();
        for id in ids {
            match self.meters.remove(id) {
                Some(meter) => {
                    taken.insert(*id, meter);
                }
                None => missing.push(*id),
            }
        }
        (taken, missing)
    }

    /// Takes out the held wallets that pay for `meters`, the held meters just taken out.
    pub(super) fn take_wallets(
        &mut self,
        meters: &HashMap<i64, MeterCtx>,
    ) -> HashMap<i64, WalletCtx> {
        // About a wallet per meter: grown as it fills, the map was rehashed a dozen times a
        // chunk.
        let mut taken = HashMap::with_capacity(meters.len());
        for (id, meter) in meters {
            let payers = [
                self.payers.by_meter.get(id),
                self.payers.by_unit.get(&meter.unit),
            ];
            for account in payers.into_iter().flatten() {
                if let Some(wallet) = self.wallets.remove(account) {
                    taken.insert(*account, wallet);
                }
            }
        }
        taken
    }

    /// Moves the held landlord wallets into the batch's `wallets`, and says which are left
    /// to load.
    pub(super) fn take_landlords(
        &mut self,
        landlords: &HashMap<i64, i64>,
        wallets: &mut HashMap<i64, WalletCtx>,
    ) -> Vec<i64> {
        let mut missing = Vec::new();
        for landlord in landlords.values() {
            if wallets.contains_key(landlord) {
                continue;
            }
            match self.wallets.remove(landlord) {
                Some(wallet) => {
                    wallets.insert(*landlord, wallet);
                }
                None => missing.push(*landlord),
            }
        }
        missing
    }

    /// Adds wallets loaded from the database to a batch's: a wallet also held is the same
    /// row as committed (the mark says nothing wrote since), and the held one is used.
    pub(super) fn join_loaded(
        &mut self,
        wallets: &mut HashMap<i64, WalletCtx>,
        loaded: HashMap<i64, WalletCtx>,
    ) {
        for (id, wallet) in loaded {
            self.payers.add(&wallet);
            if let std::collections::hash_map::Entry::Vacant(entry) = wallets.entry(id) {
                entry.insert(self.wallets.remove(&id).unwrap_or(wallet));
            }
        }
    }

    /// Keeps a committed batch's meters and wallets, as it left them, with the writer's mark
    /// as it stood at the commit; `None` (PostgreSQL, or a batch whose memory may differ from
    /// what it stored) keeps nothing.
    pub(super) fn keep(
        &mut self,
        mark: Option<WriterMark>,
        meters: HashMap<i64, MeterCtx>,
        wallets: HashMap<i64, WalletCtx>,
    ) {
        if mark.is_none() {
            *self = Held::default();
            return;
        }
        self.mark = mark;
        for (id, mut meter) in meters {
            meter.changed = false;
            self.meters.insert(id, meter);
        }
        for (id, mut wallet) in wallets {
            wallet.dirty = false;
            wallet.charged = false;
            self.wallets.insert(id, wallet);
        }
    }
}
