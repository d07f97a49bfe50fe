//! Rating: cumulative register readings become exact charges on the right wallet.
//!
//! Rules, in the order they are applied to each reading of a meter (readings are taken in
//! time order per meter, whatever order they arrive in within a batch):
//! - The first reading of a meter (a new or replacement meter) is its **baseline**: it
//!   charges nothing and later readings count from it.
//! - A reading at a time already stored for the meter is a **duplicate** and changes nothing.
//! - A reading older than the meter's newest rated reading is **late**: it is kept for the
//!   record and charges nothing, because the interval it falls in was charged in full already
//!   (and splitting a reading never changes its cost). One older than the meter's *first*
//!   reading extends the history backwards: the interval up to that first reading is charged
//!   (in its own billing cycle), so readings delivered newest-first cost what they would have
//!   in order.
//! - A register lower than the last one is a **rollover** when the meter wraps (its
//!   `wraps_at` is set) and the wrapped consumption is under a tenth of the register's range;
//!   otherwise the reading went **backwards**: it is rejected and flagged, never charged
//!   negative, and the meter keeps counting from its last good reading
//!   (`app::domain::register`, which the console's final-reading form uses too).
//! - Otherwise consumption = register difference x the meter's multiplier, priced by the
//!   site's tariff versions over the interval (see `app::domain::tariff`), rounded once to
//!   the currency's minor unit with the remainder carried on the wallet, taken from the
//!   wallet's allowance first and then from its balance. A meter with no wallet open at the
//!   reading's time charges the site's landlord wallet: consumption is never lost.
//! - A **bulk meter** (one that other meters are fed through) is measured, not charged: what
//!   passes through it is charged on its sub-meters, and charging it as well would count the
//!   same water twice. Its readings keep their roll-ups, under the landlord's account, which
//!   the loss report sets against its sub-meters'; a loss worth recovering is shared out as a
//!   common charge.
//! - Each meter is priced by its unit's tariff plan, or by the standard tariff where the plan
//!   does not price its utility. With no tariff for the utility the reading is rejected, the
//!   meter keeps its last good reading, and the consumption is charged once a tariff exists.
//!
//! A batch is one database transaction: its readings, one ledger transaction per site with an
//! entry per wallet, the new wallet and meter states, and the supply decisions they cause. On
//! SQLite the state a batch leaves is kept for the next while nothing else writes ([`held`]).

mod held;
mod pricing;

use super::{
    Engine, EngineError, FEEDS_OTHERS, decimal,
    setup::{SiteRules, landlord_wallet, load_rules, stored_plan},
    supply::{WalletSupply, evaluate_recorded},
};
use crate::{
    db::{ReadingTime, Tx, WriterMark, push_ids},
    ledger::{CHUNK, Posted, Posting, SiteAccount, post, site_account},
    metrics::{RatingPhase, rating_time},
    on_tx, on_tx_ahead,
};
use app::domain::{
    Minor, Utility,
    money::post_with_carry,
    reading_notes::ReadingNote,
    supply::{SupplyState, update_daily_spend},
    tariff::{Plan, Usage, price},
};
use chrono::{DateTime, SubsecRound, Utc};
pub(crate) use held::Held;
use pricing::{Earlier, PricedRollUps, Pricer};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};

/// A reading as a transport delivers it, already parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct IncomingReading {
    pub meter: i64,
    pub taken_at: DateTime<Utc>,
    pub register: Decimal,
}

/// What happened to a batch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RatingReport {
    pub rated: usize,
    pub baselines: usize,
    pub duplicates: usize,
    pub late: usize,
    pub rejected: Vec<Rejection>,
    /// Minor units charged to wallets (allowances included).
    pub charged: i64,
    pub supply_changes: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub meter: i64,
    pub taken_at: DateTime<Utc>,
    pub reason: String,
}

/// How far ahead of the server's clock a reading may be taken.
const FUTURE_TOLERANCE_HOURS: i64 = 24;

/// Distinct meters per database transaction: keeps every statement's parameters in bounds.
const METERS_PER_TRANSACTION: usize = 5_000;

struct MeterCtx {
    unit: i64,
    /// The unit's tariff plan.
    plan: Plan,
    utility: Utility,
    multiplier: Decimal,
    site: i64,
    removed_at: Option<DateTime<Utc>>,
    last_at: Option<DateTime<Utc>>,
    last_register: Option<Decimal>,
    wraps_at: Option<Decimal>,
    usage: Option<Usage>,
    /// The meter's first reading, once looked up (`None`: not yet).
    first: Option<Option<(DateTime<Utc>, Decimal)>>,
    changed: bool,
    /// A token meter: its credit was sold as tokens, so what it reports is shown, not charged.
    holds_credit: bool,
    /// A bulk meter: other meters are fed through it and charged for what passes.
    feeds_others: bool,
}

impl MeterCtx {
    /// Moves the meter's position to this reading, the newest it has, to be saved with the batch.
    fn advance(&mut self, reading: &IncomingReading) {
        self.last_at = Some(reading.taken_at);
        self.last_register = Some(reading.register);
        self.changed = true;
    }
}

#[derive(sqlx::FromRow)]
struct WalletRow {
    account_id: i64,
    site_id: i64,
    unit_id: Option<i64>,
    meter_id: Option<i64>,
    occupancy_id: Option<i64>,
    opened_at: DateTime<Utc>,
    supply_state: String,
    warned: i32,
    vulnerable: bool,
    carry_net: String,
    carry_tax: String,
    daily_spend: String,
    spent_at: Option<DateTime<Utc>>,
    balance_minor: i64,
    allowance_account_id: Option<i64>,
    allowance_balance: i64,
    allowance_expires_at: Option<DateTime<Utc>>,
    emergency_balance: i64,
}

/// A wallet as rating uses it: what was text in its row is parsed, so a wallet held between
/// batches (100,000 of them at a large site) keeps no strings.
struct Wallet {
    account_id: i64,
    site_id: i64,
    unit_id: Option<i64>,
    meter_id: Option<i64>,
    occupancy_id: Option<i64>,
    opened_at: DateTime<Utc>,
    supply_state: SupplyState,
    warned: i32,
    vulnerable: bool,
    spent_at: Option<DateTime<Utc>>,
    allowance_account_id: Option<i64>,
    allowance_expires_at: Option<DateTime<Utc>>,
    emergency_balance: i64,
}

struct WalletCtx {
    row: Wallet,
    carry_net: Decimal,
    carry_tax: Decimal,
    daily_spend: Decimal,
    balance: i64,
    allowance: i64,
    /// Carries or spending changed: save it.
    dirty: bool,
    /// Money was taken: decide about supply.
    charged: bool,
}

/// Consumption to charge: over `from` .. the reading when `head`, else the reading .. `from`.
struct Interval {
    from: DateTime<Utc>,
    quantity: Decimal,
    head: bool,
}

/// One reading row to store.
struct Outcome {
    meter: i64,
    taken_at: DateTime<Utc>,
    register: Decimal,
    status: &'static str,
    quantity: Option<Decimal>,
    net: Option<Decimal>,
    tax: Option<Decimal>,
    wallet: Option<i64>,
    site: Option<i64>,
    note: Option<String>,
    /// Minor units taken from the wallet and its allowance.
    charged: i64,
}

impl Engine {
    /// Rates a batch of readings. Safe to call with readings seen before, in any order.
    pub async fn rate(&self, readings: Vec<IncomingReading>) -> Result<RatingReport, EngineError> {
        if readings.is_empty() {
            return Ok(RatingReport::default());
        }
        let (report, ()) = self
            .rate_then(readings, async |_| Ok::<_, EngineError>(()))
            .await?;
        Ok(report)
    }

    /// Rates a batch as [`Engine::rate`] does, then runs `then` on the same turn and in the
    /// same write transaction as the batch's last readings (in one of its own when there are
    /// none). What a caller records about the batch, such as the fleet's note that its meters
    /// were heard, then commits with the charges or not at all, and a batch costs one commit.
    pub async fn rate_then<T, E: From<EngineError>>(
        &self,
        mut readings: Vec<IncomingReading>,
        then: impl AsyncFnOnce(&mut Tx) -> Result<T, E>,
    ) -> Result<(RatingReport, T), E> {
        let _turn = self.write.lock().await;
        let now = Utc::now();
        // Times to the microsecond both databases store, so that what rating holds and
        // compares in memory is what it will read back.
        for reading in &mut readings {
            reading.taken_at = reading.taken_at.trunc_subsecs(6);
        }
        readings.sort_by_key(|r| (r.meter, r.taken_at));
        let before = readings.len();
        readings.dedup_by(|later, earlier| {
            later.meter == earlier.meter && later.taken_at == earlier.taken_at
        });
        let mut report = RatingReport {
            duplicates: before - readings.len(),
            ..RatingReport::default()
        };
        // Taken out for the batch, changed in place by each chunk, and put back only when
        // every chunk has committed: a failed chunk leaves the engine holding nothing, where
        // it would otherwise hold what that chunk changed and never stored.
        let mut held = std::mem::take(&mut *self.held.lock().unwrap_or_else(|e| e.into_inner()));
        let mut open: Option<Rated> = None;
        for chunk in chunks(&readings) {
            if let Some(rated) = open.take() {
                rated.commit(&self.db, &mut held).await?;
            }
            open = Some(self.rate_chunk(chunk, now, &mut report, &mut held).await?);
        }
        let value = match open {
            Some(mut rated) => {
                let before = self.db.writer_mark_later(rated.mark);
                let called = std::time::Instant::now();
                let value = then(&mut rated.tx).await?;
                // Not rating's time, and what the caller wrote in the tables rating holds
                // leaves its state stale.
                rated.priced += called.elapsed();
                rated.as_stored &= before == self.db.writer_mark_later(rated.mark);
                rated.commit(&self.db, &mut held).await?;
                value
            }
            None => {
                let mut tx = self.db.begin_write().await.map_err(EngineError::from)?;
                let value = then(&mut tx).await?;
                tx.commit().await.map_err(EngineError::from)?;
                value
            }
        };
        *self.held.lock().unwrap_or_else(|e| e.into_inner()) = held;
        crate::metrics::readings(&report);
        Ok((report, value))
    }

    /// Rates one chunk of a sorted batch in a write transaction left open for the caller.
    async fn rate_chunk(
        &self,
        readings: &[IncomingReading],
        now: DateTime<Utc>,
        report: &mut RatingReport,
        held: &mut Held,
    ) -> Result<Rated, EngineError> {
        let started = std::time::Instant::now();
        let mut tx = self.db.begin_write().await?;
        let mark = self.db.writer_mark(&mut tx).await?;
        held.check(mark);
        let mut meter_ids: Vec<i64> = readings.iter().map(|r| r.meter).collect();
        meter_ids.dedup();
        let missing = held.missing_meters(&meter_ids);
        crate::metrics::rating_meters(meter_ids.len() - missing.len(), missing.len());
        let loaded = load_meters(&mut tx, &missing).await?;
        let mut units: Vec<i64> = loaded.values().map(|m| m.unit).collect();
        units.sort_unstable();
        units.dedup();
        held.add_meters(loaded);
        let mut sites: BTreeMap<i64, SiteRules> = BTreeMap::new();
        for site in meter_ids
            .iter()
            .filter_map(|id| held.meters.get(id))
            .map(|m| m.site)
        {
            if let std::collections::btree_map::Entry::Vacant(entry) = sites.entry(site) {
                entry.insert(load_rules(&mut tx, site).await?);
            }
        }
        let mut landlords = HashMap::new();
        let mut ledger_accounts = HashMap::new();
        for site in sites.keys() {
            landlords.insert(*site, landlord_wallet(&mut tx, *site, now).await?);
            for account in Utility::ALL
                .map(SiteAccount::Revenue)
                .into_iter()
                .chain([SiteAccount::TaxPayable])
            {
                ledger_accounts.insert(
                    (*site, account),
                    site_account(&mut tx, *site, account, now).await?,
                );
            }
        }
        let keys = WalletKeys {
            accounts: held.missing_landlords(&landlords),
            meters: missing,
            units,
        };
        held.add_wallets(load_wallets(&mut tx, &keys).await?);
        let wallet_ids = held.wallets_for(&meter_ids, &landlords);
        let earlier = Earlier::read(&mut tx, &held.meters, readings).await?;
        let loaded = std::time::Instant::now();
        rating_time(RatingPhase::Load, loaded - started);

        let mut pricer = Pricer {
            now,
            meters: &mut held.meters,
            wallets: &mut held.wallets,
            payers: &held.payers,
            landlords: &landlords,
            sites: &sites,
            ledger_accounts: &ledger_accounts,
            earlier: &earlier,
            report,
            outcomes: Vec::with_capacity(readings.len()),
            postings: BTreeMap::new(),
        };
        // The readings are priced as the roll-ups draw their rows: each part while the
        // database adds the part before.
        let mut roll_ups = PricedRollUps::new(&mut pricer, readings);
        super::usage::add(&mut tx, &mut roll_ups).await?;
        roll_ups.finish()?;
        let Pricer {
            outcomes, postings, ..
        } = pricer;
        let priced = std::time::Instant::now();
        rating_time(RatingPhase::Price, priced - loaded);

        let mut transactions = HashMap::new();
        // A posting found already posted changed no balance, though this batch's wallets
        // were charged in memory: they are not kept.
        let mut as_stored = true;
        for (site, posting) in &postings {
            let posted = post(&mut tx, posting, now).await?;
            as_stored &= !matches!(posted, Posted::Duplicate(_));
            if let Some(id) = posted.transaction() {
                transactions.insert(*site, id);
            }
        }
        insert_readings(&mut tx, &outcomes, &transactions, now).await?;
        save_meters(&mut tx, &held.meters, &meter_ids).await?;
        save_wallets(&mut tx, &held.wallets, &wallet_ids).await?;
        // In account order, whichever of them were held or loaded: the commands and notices
        // a batch queues come out in the same order either way.
        for id in &wallet_ids {
            let wallet = held.wallets.get_mut(id).expect("loaded");
            if !wallet.charged {
                continue;
            }
            let Some(transaction) = transactions.get(&wallet.row.site_id) else {
                continue;
            };
            let supply = supply_view(wallet, &held.meters);
            let cause = format!("txn:{transaction}");
            let rules = &sites[&wallet.row.site_id];
            let decision = evaluate_recorded(&mut tx, &supply, rules, &cause, now).await?;
            if let Some(state) = decision.state {
                report.supply_changes += 1;
                wallet.row.supply_state = state;
            }
            wallet.row.warned = i32::from(decision.warned);
        }
        Ok(Rated {
            tx,
            mark,
            priced,
            meters: meter_ids,
            wallets: wallet_ids,
            as_stored,
        })
    }
}

/// A chunk rated and written, its transaction not yet committed.
struct Rated {
    tx: Tx,
    /// The writer's mark when the transaction began.
    mark: Option<WriterMark>,
    /// When pricing ended and writing began.
    priced: std::time::Instant,
    /// The chunk's meters and the wallets it may have charged, in the held state.
    meters: Vec<i64>,
    wallets: Vec<i64>,
    /// The meters and wallets in memory are as the transaction stores them, so the next
    /// batch may start from them.
    as_stored: bool,
}

impl Rated {
    /// Commits, and keeps the chunk's state with the writer's mark when it is as stored.
    async fn commit(self, db: &crate::db::Db, held: &mut Held) -> Result<(), EngineError> {
        let mark = match self.as_stored {
            true => db.writer_mark_later(self.mark),
            false => None,
        };
        // Kept while the database commits. Should the commit fail, so does the batch, and the
        // engine keeps nothing of it (see `rate_then`).
        let (committed, ()) = crate::db::meanwhile(self.tx.commit(), || {
            held.keep(mark, &self.meters, &self.wallets)
        })
        .await;
        committed?;
        rating_time(RatingPhase::Write, self.priced.elapsed());
        Ok(())
    }
}

/// A sorted batch cut into runs of at most [`METERS_PER_TRANSACTION`] meters, each meter's
/// readings in one run.
fn chunks(readings: &[IncomingReading]) -> impl Iterator<Item = &[IncomingReading]> {
    let mut rest = readings;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut end = 0;
        let mut meters = 0;
        while end < rest.len() {
            if end == 0 || rest[end].meter != rest[end - 1].meter {
                if meters == METERS_PER_TRANSACTION {
                    break;
                }
                meters += 1;
            }
            end += 1;
        }
        let (chunk, later) = rest.split_at(end);
        rest = later;
        Some(chunk)
    })
}

impl Outcome {
    fn plain(reading: &IncomingReading, status: &'static str, note: Option<ReadingNote>) -> Self {
        Outcome {
            meter: reading.meter,
            taken_at: reading.taken_at,
            register: reading.register,
            status,
            quantity: None,
            net: None,
            tax: None,
            wallet: None,
            site: None,
            note: note.map(|note| note.to_string()),
            charged: 0,
        }
    }
}

/// Which wallet pays for which meter: the meter's own, else its unit's, else the landlord's.
#[derive(Default)]
struct Payers {
    by_meter: HashMap<i64, i64>,
    by_unit: HashMap<i64, i64>,
}

impl Payers {
    fn add(&mut self, wallet: &WalletCtx) {
        let account = wallet.row.account_id;
        match (wallet.row.meter_id, wallet.row.unit_id) {
            (Some(meter), Some(_)) => self.by_meter.insert(meter, account),
            (None, Some(unit)) => self.by_unit.insert(unit, account),
            (_, None) => None,
        };
    }

    /// The wallet a meter's consumption at this time is charged to: one opened by then.
    fn pick(
        &self,
        wallets: &HashMap<i64, WalletCtx>,
        meter: &MeterCtx,
        reading: &IncomingReading,
        landlords: &HashMap<i64, i64>,
    ) -> i64 {
        let opened = |account: &&i64| wallets[*account].row.opened_at <= reading.taken_at;
        self.by_meter
            .get(&reading.meter)
            .filter(opened)
            .or_else(|| self.by_unit.get(&meter.unit).filter(opened))
            .copied()
            .unwrap_or(landlords[&meter.site])
    }
}

impl Engine {
    /// The account a reading of `meter` in `unit` taken at `at` would be charged to, by the
    /// rule of `Payers::pick`; `None` for the site's landlord. For previews: rating itself
    /// picks from the wallets its batch has loaded.
    pub async fn payer_at(
        &self,
        meter: i64,
        unit: i64,
        at: DateTime<Utc>,
    ) -> Result<Option<i64>, EngineError> {
        Ok(crate::on_db!(&self.db, pool => {
            sqlx::query_scalar(
                "SELECT account_id FROM wallets WHERE closed_at IS NULL AND opened_at <= $3 \
                 AND (meter_id = $1 OR (meter_id IS NULL AND unit_id = $2)) \
                 ORDER BY meter_id IS NULL LIMIT 1",
            )
            .bind(meter)
            .bind(unit)
            .bind(at)
            .fetch_optional(pool)
            .await
        })?)
    }
}

fn charge(
    meter: &mut MeterCtx,
    reading: &IncomingReading,
    interval: Interval,
    rules: &SiteRules,
    wallet: &mut WalletCtx,
    postings: &mut BTreeMap<i64, Posting>,
    ledger_accounts: &HashMap<(i64, SiteAccount), i64>,
) -> Result<Outcome, EngineError> {
    if meter.feeds_others {
        // Checked before the tariff: a bulk meter needs none, as it is never priced.
        if interval.head {
            meter.advance(reading);
        }
        return Ok(shown_only(
            reading,
            interval.quantity,
            wallet,
            ReadingNote::BulkMeter,
        ));
    }
    let Some(versions) = rules.versions(&meter.plan, meter.utility) else {
        let note = ReadingNote::NoTariff {
            utility: meter.utility,
        };
        return Ok(Outcome::plain(reading, "rejected", Some(note)));
    };
    let cycle_day = versions.last().map_or(1, |v| v.tariff.cycle_start_day);
    let quantity = interval.quantity;
    let priced = if interval.head {
        let from = interval.from;
        let mut usage = meter
            .usage
            .take()
            .unwrap_or_else(|| Usage::starting_at(from, &rules.tz, cycle_day));
        let priced = price(
            versions,
            &rules.tz,
            from,
            reading.taken_at,
            quantity,
            &mut usage,
        );
        meter.usage = Some(usage);
        meter.advance(reading);
        priced
    } else {
        // History extended backwards: priced in its own cycle, the meter's cycle untouched.
        let mut usage = Usage::starting_at(reading.taken_at, &rules.tz, cycle_day);
        price(
            versions,
            &rules.tz,
            reading.taken_at,
            interval.from,
            quantity,
            &mut usage,
        )
    }
    .map_err(|e| EngineError::Corrupt(e.to_string()))?;

    if meter.holds_credit {
        // Paid for when its token was sold: shown in usage at no charge, never charged twice.
        return Ok(shown_only(
            reading,
            quantity,
            wallet,
            ReadingNote::PaidByToken,
        ));
    }

    let (net, carry_net) = post_with_carry(wallet.carry_net, priced.net, rules.digits);
    let (tax, carry_tax) = post_with_carry(wallet.carry_tax, priced.tax, rules.digits);
    wallet.carry_net = carry_net;
    wallet.carry_tax = carry_tax;
    let total = net.0 + tax.0;
    let allowance_usable = wallet.row.allowance_account_id.is_some()
        && wallet
            .row
            .allowance_expires_at
            .is_none_or(|expires| reading.taken_at < expires);
    let from_allowance = if allowance_usable {
        total.min(wallet.allowance.max(0))
    } else {
        0
    };
    wallet.allowance -= from_allowance;
    wallet.balance -= total - from_allowance;
    wallet.dirty = true;
    if total > 0 {
        let days = wallet.row.spent_at.map_or(Decimal::ZERO, |last| {
            Decimal::from((reading.taken_at - last).num_seconds()) / Decimal::from(86_400)
        });
        wallet.daily_spend = update_daily_spend(wallet.daily_spend, Minor(total), days);
        wallet.row.spent_at = Some(
            wallet
                .row
                .spent_at
                .map_or(reading.taken_at, |last| last.max(reading.taken_at)),
        );
        wallet.charged = true;
    }

    let posting = match postings.get_mut(&meter.site) {
        Some(posting) => posting,
        None => {
            let key = format!(
                "rating:{}:{}@{}",
                meter.site,
                reading.meter,
                reading.taken_at.timestamp_micros()
            );
            postings
                .entry(meter.site)
                .or_insert(Posting::new(meter.site, key, "usage").memo("Usage charges"))
        }
    };
    let revenue = ledger_accounts[&(meter.site, SiteAccount::Revenue(meter.utility))];
    let tax_account = ledger_accounts[&(meter.site, SiteAccount::TaxPayable)];
    posting.add(wallet.row.account_id, Minor(-(total - from_allowance)));
    if let Some(allowance) = wallet.row.allowance_account_id {
        posting.add(allowance, Minor(-from_allowance));
    }
    posting.add(revenue, net).add(tax_account, tax);
    Ok(Outcome {
        status: "rated",
        quantity: Some(quantity),
        net: Some(priced.net),
        tax: Some(priced.tax),
        wallet: Some(wallet.row.account_id),
        site: Some(meter.site),
        charged: total,
        ..Outcome::plain(reading, "rated", None)
    })
}

/// A reading whose consumption is kept in the wallet's usage at no cost.
fn shown_only(
    reading: &IncomingReading,
    quantity: Decimal,
    wallet: &WalletCtx,
    why: ReadingNote,
) -> Outcome {
    Outcome {
        quantity: Some(quantity),
        net: Some(Decimal::ZERO),
        tax: Some(Decimal::ZERO),
        wallet: Some(wallet.row.account_id),
        // No site: the reading joins none of the batch's charges.
        site: None,
        ..Outcome::plain(reading, "rated", Some(why))
    }
}

fn supply_view(wallet: &WalletCtx, meters: &HashMap<i64, MeterCtx>) -> WalletSupply {
    let row = &wallet.row;
    WalletSupply {
        account: row.account_id,
        site: row.site_id,
        unit: row.unit_id,
        meter: row.meter_id,
        utility: row.meter_id.and_then(|m| meters.get(&m)).map(|m| m.utility),
        state: row.supply_state,
        warned: u8::try_from(row.warned).unwrap_or(0),
        vulnerable: row.vulnerable,
        balance: Minor(wallet.balance),
        emergency_balance: Minor(row.emergency_balance),
        daily_spend: wallet.daily_spend,
        landlord: row.unit_id.is_none() && row.meter_id.is_none() && row.occupancy_id.is_none(),
        holds_credit: row
            .meter_id
            .and_then(|m| meters.get(&m))
            .is_some_and(|m| m.holds_credit),
    }
}

async fn load_meters(tx: &mut Tx, ids: &[i64]) -> Result<HashMap<i64, MeterCtx>, EngineError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    type Row = (
        i64,
        i64,
        String,
        String,
        i64,
        Option<DateTime<Utc>>,
        Option<ReadingTime>,
        Option<String>,
        Option<String>,
        Option<DateTime<Utc>>,
        Option<String>,
        Option<String>,
        bool,
        bool,
        String,
    );
    let rows: Vec<Row> = on_tx!(tx, conn => {
        let mut query = sqlx::QueryBuilder::new(format!(
            "SELECT m.id, m.unit_id, m.utility, m.multiplier, b.site_id, m.removed_at, s.last_reading_at, \
             s.last_register, s.wraps_at, s.cycle_start, s.cycle_used, s.max_demand, \
             EXISTS (SELECT 1 FROM token_meters t WHERE t.meter_id = m.id), {FEEDS_OTHERS}, u.tariff_plan \
             FROM meters m JOIN units u ON u.id = m.unit_id JOIN buildings b ON b.id = u.building_id \
             LEFT JOIN meter_states s ON s.meter_id = m.id WHERE m.id"
        ));
        push_ids(&mut query, ids.iter().copied());
        query.build_query_as().fetch_all(&mut *conn).await
    })?;
    let mut meters = HashMap::with_capacity(rows.len());
    for (
        id,
        unit,
        utility,
        multiplier,
        site,
        removed_at,
        last_at,
        last_register,
        wraps_at,
        cycle_start,
        used,
        demand,
        holds_credit,
        feeds_others,
        plan,
    ) in rows
    {
        let usage = match cycle_start {
            Some(cycle_start) => Some(Usage {
                cycle_start,
                cycle_used: super::decimal_or_zero(used.as_deref())?,
                max_demand_kw: super::decimal_or_zero(demand.as_deref())?,
            }),
            None => None,
        };
        meters.insert(
            id,
            MeterCtx {
                unit,
                plan: stored_plan(&plan)?,
                utility: utility
                    .parse()
                    .map_err(|_| EngineError::Corrupt(utility.clone()))?,
                multiplier: decimal(&multiplier)?,
                site,
                removed_at,
                last_at: last_at.map(|ReadingTime(at)| at),
                last_register: last_register.as_deref().map(decimal).transpose()?,
                wraps_at: wraps_at.as_deref().map(decimal).transpose()?,
                usage,
                first: None,
                changed: false,
                holds_credit,
                feeds_others,
            },
        );
    }
    Ok(meters)
}

const WALLET_SELECT: &str = "SELECT w.account_id, w.site_id, w.unit_id, w.meter_id, w.occupancy_id, \
    w.opened_at, w.supply_state, w.warned, w.vulnerable, w.carry_net, w.carry_tax, w.daily_spend, w.spent_at, \
    a.balance_minor, w.allowance_account_id, COALESCE(al.balance_minor, 0) AS allowance_balance, \
    w.allowance_expires_at, COALESCE(em.balance_minor, 0) AS emergency_balance \
    FROM wallets w JOIN accounts a ON a.id = w.account_id \
    LEFT JOIN accounts al ON al.id = w.allowance_account_id \
    LEFT JOIN accounts em ON em.id = w.emergency_account_id";

/// The open wallets a batch must load: these accounts (landlords'), those of these meters,
/// and those of these units that pay for all the unit's meters.
#[derive(Default)]
struct WalletKeys {
    accounts: Vec<i64>,
    meters: Vec<i64>,
    units: Vec<i64>,
}

async fn load_wallets(
    tx: &mut Tx,
    keys: &WalletKeys,
) -> Result<HashMap<i64, WalletCtx>, EngineError> {
    // Three indexed look-ups: an OR across columns would scan the table.
    let mut rows: Vec<WalletRow> = Vec::new();
    for (filter, ids) in [
        ("w.account_id", &keys.accounts),
        ("w.meter_id", &keys.meters),
        ("w.meter_id IS NULL AND w.unit_id", &keys.units),
    ] {
        if ids.is_empty() {
            continue;
        }
        let found: Vec<WalletRow> = on_tx!(tx, conn => {
            let mut query = sqlx::QueryBuilder::new(WALLET_SELECT);
            query.push(" WHERE w.closed_at IS NULL AND ").push(filter);
            push_ids(&mut query, ids.iter().copied());
            query.build_query_as().fetch_all(&mut *conn).await
        })?;
        rows.extend(found);
    }
    let mut wallets = HashMap::with_capacity(rows.len());
    for row in rows {
        wallets.insert(
            row.account_id,
            WalletCtx {
                carry_net: decimal(&row.carry_net)?,
                carry_tax: decimal(&row.carry_tax)?,
                daily_spend: decimal(&row.daily_spend)?,
                balance: row.balance_minor,
                allowance: row.allowance_balance,
                dirty: false,
                charged: false,
                row: Wallet {
                    account_id: row.account_id,
                    site_id: row.site_id,
                    unit_id: row.unit_id,
                    meter_id: row.meter_id,
                    occupancy_id: row.occupancy_id,
                    opened_at: row.opened_at,
                    supply_state: SupplyState::parse(&row.supply_state).unwrap_or(SupplyState::On),
                    warned: row.warned,
                    vulnerable: row.vulnerable,
                    spent_at: row.spent_at,
                    allowance_account_id: row.allowance_account_id,
                    allowance_expires_at: row.allowance_expires_at,
                    emergency_balance: row.emergency_balance,
                },
            },
        );
    }
    Ok(wallets)
}

async fn insert_readings(
    tx: &mut Tx,
    outcomes: &[Outcome],
    transactions: &HashMap<i64, i64>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    on_tx_ahead!(tx, outcomes.chunks(CHUNK), chunk => {
        let mut insert = sqlx::QueryBuilder::new(
            "INSERT INTO readings (meter_id, taken_at, register, received_at, status, quantity, net, tax, \
             wallet_account_id, transaction_id, note) ",
        );
        insert.push_values(chunk, |mut row, o| {
            row.push_bind(o.meter)
                .push_bind(ReadingTime(o.taken_at))
                .push_bind(o.register.to_string())
                .push_bind(ReadingTime(now))
                .push_bind(o.status)
                .push_bind(o.quantity.map(|q| q.normalize().to_string()))
                .push_bind(o.net.map(|n| n.normalize().to_string()))
                .push_bind(o.tax.map(|t| t.normalize().to_string()))
                .push_bind(o.wallet)
                .push_bind(o.site.and_then(|site| transactions.get(&site).copied()))
                .push_bind(o.note.clone());
        });
        insert.push(" ON CONFLICT (meter_id, taken_at) DO NOTHING");
        insert
    })
}

async fn save_meters(
    tx: &mut Tx,
    meters: &HashMap<i64, MeterCtx>,
    ids: &[i64],
) -> Result<(), sqlx::Error> {
    let changed: Vec<(&i64, &MeterCtx)> = ids
        .iter()
        .filter_map(|id| meters.get_key_value(id))
        .filter(|(_, m)| m.changed)
        .collect();
    on_tx_ahead!(tx, changed.chunks(CHUNK), chunk => {
        let mut upsert = sqlx::QueryBuilder::new(
            "INSERT INTO meter_states (meter_id, last_reading_at, last_register, cycle_start, cycle_used, max_demand) ",
        );
        upsert.push_values(chunk, |mut row, (id, m)| {
            let usage = m.usage.as_ref();
            row.push_bind(**id)
                .push_bind(m.last_at.map(ReadingTime))
                .push_bind(m.last_register.map(|r| r.to_string()))
                .push_bind(usage.map(|u| u.cycle_start))
                .push_bind(usage.map_or("0".to_owned(), |u| u.cycle_used.normalize().to_string()))
                .push_bind(usage.map_or("0".to_owned(), |u| u.max_demand_kw.normalize().to_string()));
        });
        upsert.push(
            " ON CONFLICT (meter_id) DO UPDATE SET last_reading_at = excluded.last_reading_at, \
             last_register = excluded.last_register, cycle_start = excluded.cycle_start, \
             cycle_used = excluded.cycle_used, max_demand = excluded.max_demand",
        );
        upsert
    })
}

async fn save_wallets(
    tx: &mut Tx,
    wallets: &HashMap<i64, WalletCtx>,
    ids: &[i64],
) -> Result<(), sqlx::Error> {
    let changed: Vec<&WalletCtx> = ids
        .iter()
        .filter_map(|id| wallets.get(id))
        .filter(|w| w.dirty)
        .collect();
    on_tx_ahead!(tx, changed.chunks(CHUNK), chunk => {
        let mut update = sqlx::QueryBuilder::new(
            "UPDATE wallets SET carry_net = v.column2, carry_tax = v.column3, daily_spend = v.column4, \
             spent_at = v.column5 FROM (",
        );
        update.push_values(chunk, |mut row, w| {
            row.push_bind(w.row.account_id)
                .push_bind(w.carry_net.normalize().to_string())
                .push_bind(w.carry_tax.normalize().to_string())
                .push_bind(w.daily_spend.normalize().to_string())
                .push_bind(w.row.spent_at);
        });
        update.push(") AS v WHERE wallets.account_id = v.column1");
        update
    })
}
