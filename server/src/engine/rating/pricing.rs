//! Pricing a chunk's readings, in order, from the state loaded for it.
//!
//! Nothing here waits for the database: what a reading no newer than its meter's newest
//! needs to know of the stored history is read before pricing starts ([`Earlier::read`]).
//! So the readings are priced a part at a time while the database runs the roll-up
//! statements of the parts before ([`PricedRollUps`]). Priced first and written after, the
//! engine's thread and SQLite's worker took turns on two cores.

use super::{
    FUTURE_TOLERANCE_HOURS, IncomingReading, Interval, MeterCtx, Outcome, Payers, RatingReport,
    Rejection, WalletCtx, charge,
};
use crate::{
    db::{ReadingTime, Tx},
    engine::{
        EngineError, decimal,
        setup::SiteRules,
        usage::{ROWS_PER_STATEMENT, RollUp, Used, roll_ups},
    },
    ledger::{Posting, SiteAccount},
    on_tx,
};
use app::domain::{reading_notes::ReadingNote, register::RegisterStep};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::QueryBuilder;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Readings priced at a time: half a statement's rows, so that a part is priced while each
/// roll-up statement runs.
const READINGS_PER_PART: usize = ROWS_PER_STATEMENT / 2;

/// What the stored history says of a chunk's readings that are no newer than their meter's
/// newest, read before pricing: which are stored already, and each such meter's first
/// reading where the meter does not know it yet.
#[derive(Default)]
pub(super) struct Earlier {
    /// Meter and time, in the microseconds both databases keep (a finer clock's reading is
    /// the one stored at its microsecond).
    stored: HashSet<(i64, i64)>,
    first: HashMap<i64, Option<(DateTime<Utc>, Decimal)>>,
}

/// Readings or meters looked up per statement: two parameters each at most, well inside
/// both databases' limits.
const LOOKUPS_PER_STATEMENT: usize = 500;

impl Earlier {
    /// Looks up the readings of `readings` (a sorted chunk) older than or as old as their
    /// meter's newest in `meters`. Under steady telemetry there are none; a backlog sent
    /// again (a broker redelivering after a reconnection) is all of them, so they are looked
    /// up a statement of hundreds at a time rather than one by one.
    pub(super) async fn read(
        tx: &mut Tx,
        meters: &HashMap<i64, MeterCtx>,
        readings: &[IncomingReading],
    ) -> Result<Self, EngineError> {
        let older: Vec<&IncomingReading> = readings
            .iter()
            .filter(|r| {
                meters
                    .get(&r.meter)
                    .and_then(|meter| meter.last_at)
                    .is_some_and(|last| r.taken_at <= last)
            })
            .collect();
        let mut earlier = Earlier::default();
        for part in older.chunks(LOOKUPS_PER_STATEMENT) {
            earlier.stored.extend(stored(tx, part).await?);
        }
        // The first reading matters only to a reading not stored yet, and is read once per
        // meter that does not know it (the chunk is sorted by meter).
        let mut unknown_first: Vec<i64> = older
            .iter()
            .filter(|r| !earlier.is_stored(r) && meters[&r.meter].first.is_none())
            .map(|r| r.meter)
            .collect();
        unknown_first.dedup();
        for part in unknown_first.chunks(LOOKUPS_PER_STATEMENT) {
            earlier
                .first
                .extend(part.iter().map(|meter| (*meter, None)));
            for (meter, at, register) in first_readings(tx, part).await? {
                earlier
                    .first
                    .insert(meter, Some((at.0, decimal(&register)?)));
            }
        }
        Ok(earlier)
    }

    fn is_stored(&self, reading: &IncomingReading) -> bool {
        self.stored
            .contains(&(reading.meter, reading.taken_at.timestamp_micros()))
    }
}

/// Which of `readings` are stored already, as meter and microsecond.
async fn stored(
    tx: &mut Tx,
    readings: &[&IncomingReading],
) -> Result<Vec<(i64, i64)>, EngineError> {
    let rows: Vec<(i64, ReadingTime)> = on_tx!(tx, conn => {
        let mut query = QueryBuilder::new("WITH asked (meter_id, taken_at) AS (");
        query.push_values(readings, |mut row, reading| {
            row.push_bind(reading.meter).push_bind(ReadingTime(reading.taken_at));
        });
        query.push(
            ") SELECT r.meter_id, r.taken_at FROM asked \
             JOIN readings r ON r.meter_id = asked.meter_id AND r.taken_at = asked.taken_at",
        );
        query.build_query_as().fetch_all(&mut *conn).await
    })?;
    Ok(rows
        .into_iter()
        .map(|(meter, at)| (meter, at.0.timestamp_micros()))
        .collect())
}

/// The first baseline or rated reading of each of `meters` that has one: its time and
/// register.
async fn first_readings(
    tx: &mut Tx,
    meters: &[i64],
) -> Result<Vec<(i64, ReadingTime, String)>, EngineError> {
    let rows = on_tx!(tx, conn => {
        let mut query = QueryBuilder::new("WITH asked (meter_id) AS (");
        query.push_values(meters, |mut row, meter| {
            row.push_bind(*meter);
        });
        query.push(
            ") SELECT asked.meter_id, r.taken_at, r.register FROM asked \
             JOIN readings r ON r.id = (SELECT f.id FROM readings f \
             WHERE f.meter_id = asked.meter_id AND f.status IN ('baseline', 'rated') \
             ORDER BY f.taken_at LIMIT 1)",
        );
        query.build_query_as().fetch_all(&mut *conn).await
    })?;
    Ok(rows)
}

/// Everything pricing reads and the state it moves: a chunk's meters and wallets, and what it
/// has made of the readings so far.
pub(super) struct Pricer<'a> {
    pub now: DateTime<Utc>,
    pub meters: &'a mut HashMap<i64, MeterCtx>,
    pub wallets: &'a mut HashMap<i64, WalletCtx>,
    pub payers: &'a Payers,
    pub landlords: &'a HashMap<i64, i64>,
    pub sites: &'a BTreeMap<i64, SiteRules>,
    pub ledger_accounts: &'a HashMap<(i64, SiteAccount), i64>,
    pub earlier: &'a Earlier,
    pub report: &'a mut RatingReport,
    pub outcomes: Vec<Outcome>,
    pub postings: BTreeMap<i64, Posting>,
}

impl Pricer<'_> {
    /// Prices `readings` after those priced before, and puts what the rated ones add to the
    /// roll-ups in `used`.
    fn price(
        &mut self,
        readings: &[IncomingReading],
        used: &mut Vec<Used>,
    ) -> Result<(), EngineError> {
        for reading in readings {
            let Some(meter) = self.meters.get_mut(&reading.meter) else {
                self.report.rejected.push(Rejection {
                    meter: reading.meter,
                    taken_at: reading.taken_at,
                    reason: "unknown meter".into(),
                });
                continue;
            };
            let rules = &self.sites[&meter.site];
            let outcome = match classify(self.earlier, meter, reading, self.now) {
                Class::Duplicate => {
                    self.report.duplicates += 1;
                    continue;
                }
                Class::Stored(outcome) => outcome,
                Class::Consumption {
                    from,
                    quantity,
                    head,
                } => {
                    // A bulk meter's measure is the site's, not its unit's: kept under the
                    // landlord's account, it shows in no resident's usage or statement.
                    let wallet = if meter.feeds_others {
                        self.landlords[&meter.site]
                    } else {
                        self.payers
                            .pick(self.wallets, meter, reading, self.landlords)
                    };
                    let interval = Interval {
                        from,
                        quantity,
                        head,
                    };
                    charge(
                        meter,
                        reading,
                        interval,
                        rules,
                        self.wallets.get_mut(&wallet).expect("loaded"),
                        &mut self.postings,
                        self.ledger_accounts,
                    )?
                }
            };
            self.report.charged += outcome.charged;
            match outcome.status {
                "rated" => self.report.rated += 1,
                "baseline" => self.report.baselines += 1,
                "late" => self.report.late += 1,
                _ => self.report.rejected.push(Rejection {
                    meter: outcome.meter,
                    taken_at: outcome.taken_at,
                    reason: outcome.note.clone().unwrap_or_default(),
                }),
            }
            if let (Some(wallet), Some(quantity), "rated") =
                (outcome.wallet, outcome.quantity, outcome.status)
            {
                used.push(Used {
                    wallet,
                    meter: outcome.meter,
                    taken_at: outcome.taken_at,
                    quantity,
                    cost: outcome.net.unwrap_or_default() + outcome.tax.unwrap_or_default(),
                    digits: rules.digits,
                    tz: rules.tz,
                });
            }
            self.outcomes.push(outcome);
        }
        Ok(())
    }
}

/// The roll-up rows of a chunk's readings, priced a part at a time as the rows are drawn.
/// Pricing stops at the first error, which [`PricedRollUps::finish`] returns: the
/// iterator just ends there.
pub(super) struct PricedRollUps<'p, 'a, 'r> {
    pricer: &'p mut Pricer<'a>,
    parts: std::slice::Chunks<'r, IncomingReading>,
    /// Priced, not yet made into rows.
    used: Vec<Used>,
    rows: std::vec::IntoIter<RollUp>,
    failed: Option<EngineError>,
}

impl<'p, 'a, 'r> PricedRollUps<'p, 'a, 'r> {
    pub(super) fn new(pricer: &'p mut Pricer<'a>, readings: &'r [IncomingReading]) -> Self {
        PricedRollUps {
            pricer,
            parts: readings.chunks(READINGS_PER_PART),
            used: Vec::new(),
            rows: Vec::new().into_iter(),
            failed: None,
        }
    }

    /// Whether pricing failed, once the roll-ups have drawn every row.
    pub(super) fn finish(self) -> Result<(), EngineError> {
        debug_assert!(
            self.failed.is_some()
                || (self.parts.len() == 0 && self.used.is_empty() && self.rows.len() == 0),
            "every part priced and its rows drawn"
        );
        self.failed.map_or(Ok(()), Err)
    }

    fn price_part(&mut self) {
        if self.failed.is_some() {
            return;
        }
        let Some(part) = self.parts.next() else {
            return;
        };
        if let Err(error) = self.pricer.price(part, &mut self.used) {
            self.failed = Some(error);
        }
    }
}

impl Iterator for PricedRollUps<'_, '_, '_> {
    type Item = RollUp;

    fn next(&mut self) -> Option<RollUp> {
        // A part on every draw, even with rows waiting: drawn while the hourly statement
        // runs, the daily one is ready, and pricing fills that time as well.
        self.price_part();
        if self.failed.is_some() {
            return None;
        }
        if let Some(rows) = self.rows.next() {
            return Some(rows);
        }
        while self.used.len() < ROWS_PER_STATEMENT && self.parts.len() > 0 {
            self.price_part();
            if self.failed.is_some() {
                return None;
            }
        }
        self.rows = roll_ups(&std::mem::take(&mut self.used)).into_iter();
        self.rows.next()
    }
}

pub(super) enum Class {
    Duplicate,
    /// Nothing to charge; store as is.
    Stored(Outcome),
    /// Consumption over `from` .. the reading (or, when `head` is false, the reading ..
    /// `from`'s later first reading, extending the history backwards).
    Consumption {
        from: DateTime<Utc>,
        quantity: Decimal,
        head: bool,
    },
}

/// Sorts a reading into baseline, duplicate, late, rejected or consumption to charge.
fn classify(
    earlier: &Earlier,
    meter: &mut MeterCtx,
    reading: &IncomingReading,
    now: DateTime<Utc>,
) -> Class {
    if reading.taken_at > now + chrono::Duration::hours(FUTURE_TOLERANCE_HOURS) {
        // A meter clock far ahead would make every later true reading look late.
        return Class::Stored(Outcome::plain(
            reading,
            "rejected",
            Some(ReadingNote::ClockAhead),
        ));
    }
    if reading.register.is_sign_negative() {
        return Class::Stored(Outcome::plain(
            reading,
            "rejected",
            Some(ReadingNote::NegativeRegister),
        ));
    }
    if meter
        .removed_at
        .is_some_and(|removed| reading.taken_at > removed)
    {
        return Class::Stored(Outcome::plain(
            reading,
            "rejected",
            Some(ReadingNote::MeterRemoved),
        ));
    }
    let (Some(last_at), Some(last_register)) = (meter.last_at, meter.last_register) else {
        meter.advance(reading);
        meter.first = Some(Some((reading.taken_at, reading.register)));
        return Class::Stored(Outcome::plain(reading, "baseline", None));
    };
    if reading.taken_at <= last_at {
        return older(earlier, meter, reading);
    }
    let delta = match RegisterStep::between(last_register, reading.register, meter.wraps_at) {
        RegisterStep::Forward(delta) => delta,
        RegisterStep::Backwards => {
            let note = ReadingNote::WentBackwards {
                from: last_register,
            };
            return Class::Stored(Outcome::plain(reading, "rejected", Some(note)));
        }
    };
    Class::Consumption {
        from: last_at,
        quantity: delta * meter.multiplier,
        head: true,
    }
}

/// A reading no newer than the meter's newest: a duplicate, a late reading inside the rated
/// history (charges nothing), or one older than the meter's first reading, which extends the
/// history backwards and charges the interval up to that first reading.
fn older(earlier: &Earlier, meter: &mut MeterCtx, reading: &IncomingReading) -> Class {
    if earlier.is_stored(reading) {
        return Class::Duplicate;
    }
    let first = match meter.first {
        Some(first) => first,
        None => {
            // Read for every meter with such a reading that did not know its first.
            let first = earlier.first.get(&reading.meter).copied().flatten();
            meter.first = Some(first);
            first
        }
    };
    match first {
        Some((first_at, first_register)) if reading.taken_at < first_at => {
            if reading.register > first_register {
                let note = ReadingNote::AboveLater {
                    later: first_register,
                };
                return Class::Stored(Outcome::plain(reading, "rejected", Some(note)));
            }
            meter.first = Some(Some((reading.taken_at, reading.register)));
            Class::Consumption {
                from: first_at,
                quantity: (first_register - reading.register) * meter.multiplier,
                head: false,
            }
        }
        _ => Class::Stored(Outcome::plain(reading, "late", None)),
    }
}
