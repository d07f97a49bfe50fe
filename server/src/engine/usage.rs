//! Usage roll-ups and the graphs built from them. Each rated reading adds its quantity and
//! cost to its meter's local hour and local day, in the transaction that rates it; a graph then
//! reads at most a few hundred rows whatever the period.

use super::{Engine, EngineError, time_zone};
use crate::{
    db::{ReadingTime, Tx},
    on_db, on_tx_ahead,
};
use app::domain::{
    Utility,
    usage::{MIN_HOUSEHOLDS, Period, Span, Usage, UsageChart, median},
};
use chrono::{DateTime, NaiveDate, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use rust_decimal::{Decimal, prelude::ToPrimitive};
use std::collections::BTreeMap;

/// Roll-ups keep millionths: of the meter's unit for quantities, of the minor unit for cost.
pub(crate) const MICRO: u32 = 6;

/// One rated reading, as the roll-ups need it.
pub(crate) struct Used {
    /// The account it was charged to.
    pub wallet: i64,
    pub meter: i64,
    pub taken_at: DateTime<Utc>,
    pub quantity: Decimal,
    /// Net + tax, in the currency (not yet rounded to minor units).
    pub cost: Decimal,
    pub digits: u32,
    pub tz: Tz,
}

#[derive(Clone, Copy, Default)]
pub(crate) struct Sums {
    quantity: i64,
    cost: i64,
    readings: i64,
}

/// The start of the local hour holding `at`, as a UTC instant.
pub(crate) fn local_hour_start(tz: &Tz, at: DateTime<Utc>) -> DateTime<Utc> {
    let local = at.with_timezone(tz);
    let floor = local
        .date_naive()
        .and_hms_opt(local.hour(), 0, 0)
        .expect("a whole hour");
    // On the night clocks go back the hour exists twice: the one at or before `at`.
    tz.from_local_datetime(&floor)
        .latest()
        .filter(|start| start.with_timezone(&Utc) <= at)
        .or_else(|| tz.from_local_datetime(&floor).earliest())
        .map_or(at, |start| start.with_timezone(&Utc))
}

fn micro(value: Decimal, extra: u32) -> i64 {
    (value * Decimal::from(10_i64.pow(MICRO + extra)))
        .round()
        .to_i64()
        .unwrap_or(i64::MAX)
}

/// A roll-up row's key: wallet, meter, and the local hour's start or the local day.
type Key<T> = (i64, i64, T);

/// Rows to add to one roll-up table, for one statement.
pub(crate) enum RollUp {
    Hours(Vec<(Key<DateTime<Utc>>, Sums)>),
    Days(Vec<(Key<NaiveDate>, Sums)>),
}

/// Rows a statement adds at most.
pub(crate) const ROWS_PER_STATEMENT: usize = 500;

/// What `used` adds to the roll-ups, summed per wallet, meter and local hour or day (a
/// statement may not add to one row twice on PostgreSQL), in key order, hours first.
pub(crate) fn roll_ups(used: &[Used]) -> Vec<RollUp> {
    let mut hours: BTreeMap<Key<DateTime<Utc>>, Sums> = BTreeMap::new();
    let mut days: BTreeMap<Key<NaiveDate>, Sums> = BTreeMap::new();
    for reading in used {
        let add = Sums {
            quantity: micro(reading.quantity, 0),
            cost: micro(reading.cost, reading.digits),
            readings: 1,
        };
        let hour = local_hour_start(&reading.tz, reading.taken_at);
        let day = reading.taken_at.with_timezone(&reading.tz).date_naive();
        for sums in [
            hours
                .entry((reading.wallet, reading.meter, hour))
                .or_default(),
            days.entry((reading.wallet, reading.meter, day))
                .or_default(),
        ] {
            sums.quantity += add.quantity;
            sums.cost += add.cost;
            sums.readings += 1;
        }
    }
    let mut parts = Vec::new();
    in_statements(hours, RollUp::Hours, &mut parts);
    in_statements(days, RollUp::Days, &mut parts);
    parts
}

/// `rows` in order, [`ROWS_PER_STATEMENT`] at a time, each made a part by `part`.
fn in_statements<K>(
    rows: BTreeMap<K, Sums>,
    part: fn(Vec<(K, Sums)>) -> RollUp,
    parts: &mut Vec<RollUp>,
) {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        parts.push(part(rows.by_ref().take(ROWS_PER_STATEMENT).collect()));
    }
}

/// Adds rated readings to their meters' hourly and daily roll-ups.
pub(crate) async fn record(tx: &mut Tx, used: &[Used]) -> Result<(), sqlx::Error> {
    add(tx, roll_ups(used).into_iter()).await
}

/// Adds each of `parts` to its roll-up in `tx`, one statement each, drawing the next part
/// while the database runs the statement before: rating prices readings meanwhile.
pub(crate) async fn add(
    tx: &mut Tx,
    parts: impl Iterator<Item = RollUp> + Send,
) -> Result<(), sqlx::Error> {
    on_tx_ahead!(tx, parts, part => {
        let (table, period) = part.table();
        let mut upsert = sqlx::QueryBuilder::new(format!(
            "INSERT INTO {table} (wallet_account_id, meter_id, {period}, quantity_micro, cost_micro, readings) "
        ));
        match part {
            RollUp::Hours(rows) => upsert.push_values(rows, |mut row, ((wallet, meter, hour), sums)| {
                row.push_bind(wallet).push_bind(meter).push_bind(ReadingTime(hour));
                row.push_bind(sums.quantity).push_bind(sums.cost).push_bind(sums.readings);
            }),
            RollUp::Days(rows) => upsert.push_values(rows, |mut row, ((wallet, meter, day), sums)| {
                row.push_bind(wallet).push_bind(meter).push_bind(day);
                row.push_bind(sums.quantity).push_bind(sums.cost).push_bind(sums.readings);
            }),
        };
        upsert.push(format!(
            " ON CONFLICT (wallet_account_id, meter_id, {period}) DO UPDATE SET \
             quantity_micro = {table}.quantity_micro + excluded.quantity_micro, \
             cost_micro = {table}.cost_micro + excluded.cost_micro, \
             readings = {table}.readings + excluded.readings"
        ));
        upsert
    })
}

impl RollUp {
    /// The table the rows go to, and its column for the hour or the day.
    fn table(&self) -> (&'static str, &'static str) {
        match self {
            RollUp::Hours(_) => ("usage_hourly", "hour_start"),
            RollUp::Days(_) => ("usage_daily", "day"),
        }
    }
}

/// The wallet a graph is about.
pub(super) struct Wallet {
    pub site: i64,
    pub meter: Option<i64>,
    pub unit: Option<i64>,
    pub opened_at: DateTime<Utc>,
    pub balance_minor: i64,
    pub tz: Tz,
    pub currency: String,
    pub digits: u32,
}

/// Per-bucket sums of a set of meters over a period, read from the roll-ups.
pub(super) struct Reader<'a> {
    pub engine: &'a Engine,
    pub tz: Tz,
    pub digits: u32,
}

impl Reader<'_> {
    /// An account's usage in each bar of the period (all its meters together).
    async fn bars(&self, wallet: i64, period: Period) -> Result<Vec<Usage>, EngineError> {
        let mut bars = vec![Usage::default(); period.buckets()];
        let cost = |micro: i64| Decimal::new(micro, MICRO + self.digits);
        let quantity = |micro: i64| Decimal::new(micro, MICRO);
        if period.span == Span::Day {
            let (from, to) = (self.instant(period.start), self.instant(period.end()));
            let rows: Vec<(ReadingTime, i64, i64)> = on_db!(&self.engine.db, pool => {
                sqlx::query_as(
                    "SELECT hour_start, quantity_micro, cost_micro FROM usage_hourly \
                     WHERE wallet_account_id = $1 AND hour_start >= $2 AND hour_start < $3",
                )
                .bind(wallet)
                .bind(ReadingTime(from))
                .bind(ReadingTime(to))
                .fetch_all(pool)
                .await
            })?;
            for (ReadingTime(hour), q, c) in rows {
                let local = hour.with_timezone(&self.tz).hour() as usize;
                bars[local] += Usage {
                    quantity: quantity(q),
                    cost: cost(c),
                };
            }
        } else {
            let rows: Vec<(NaiveDate, i64, i64)> = on_db!(&self.engine.db, pool => {
                sqlx::query_as(
                    "SELECT day, quantity_micro, cost_micro FROM usage_daily \
                     WHERE wallet_account_id = $1 AND day >= $2 AND day < $3",
                )
                .bind(wallet)
                .bind(period.start)
                .bind(period.end())
                .fetch_all(pool)
                .await
            })?;
            for (day, q, c) in rows {
                if let Some(bucket) = period.bucket_of_day(day) {
                    bars[bucket] += Usage {
                        quantity: quantity(q),
                        cost: cost(c),
                    };
                }
            }
        }
        Ok(bars)
    }

    /// Local midnight of `day` as a UTC instant.
    pub(super) fn instant(&self, day: NaiveDate) -> DateTime<Utc> {
        let midnight = day.and_hms_opt(0, 0, 0).expect("midnight");
        self.tz
            .from_local_datetime(&midnight)
            .earliest()
            .map_or_else(|| midnight.and_utc(), |at| at.with_timezone(&Utc))
    }
}

impl Engine {
    /// An account's usage over the period, beside the period before and the median household
    /// of its building. Only the account's own time counts: nothing from before it opened.
    pub async fn usage_chart(
        &self,
        account: i64,
        span: Span,
        day: Option<NaiveDate>,
        now: DateTime<Utc>,
    ) -> Result<UsageChart, EngineError> {
        let wallet = self.usage_wallet(account).await?;
        let today = now.with_timezone(&wallet.tz).date_naive();
        let period = Period::holding(span, day.unwrap_or(today));
        let meters = self.wallet_meters(&wallet).await?;
        let utilities: Vec<Utility> = meters.iter().map(|(_, utility, _)| *utility).collect();
        let utility = utilities
            .first()
            .copied()
            .filter(|first| utilities.iter().all(|other| other == first));
        let reader = Reader {
            engine: self,
            tz: wallet.tz,
            digits: wallet.digits,
        };
        let current = reader.bars(account, period).await?;
        let previous = reader.bars(account, period.previous()).await?;
        let opened = wallet.opened_at.with_timezone(&wallet.tz).date_naive();
        let (median, households) = match (utility, wallet.unit, wallet.meter) {
            (Some(utility), Some(unit), Some(meter)) => {
                self.building_median(&reader, unit, meter, utility, period)
                    .await?
            }
            _ => (None, 0),
        };
        Ok(UsageChart {
            period,
            utility,
            unit_of_measure: meters
                .first()
                .map(|(_, _, uom)| uom.clone())
                .unwrap_or_default(),
            currency: wallet.currency,
            current,
            previous,
            median,
            households,
            since: (opened > period.start && opened < period.end()).then_some(opened),
            has_next: period.end() <= today,
        })
    }

    pub(super) async fn usage_wallet(&self, account: i64) -> Result<Wallet, EngineError> {
        type Row = (
            i64,
            Option<i64>,
            Option<i64>,
            DateTime<Utc>,
            i64,
            String,
            String,
        );
        let row: Option<Row> = on_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT w.site_id, w.meter_id, COALESCE(w.unit_id, m.unit_id), w.opened_at, a.balance_minor, \
                 s.time_zone, s.currency \
                 FROM wallets w JOIN sites s ON s.id = w.site_id JOIN accounts a ON a.id = w.account_id \
                 LEFT JOIN meters m ON m.id = w.meter_id WHERE w.account_id = $1",
            )
            .bind(account)
            .fetch_optional(pool)
            .await
        })?;
        let (site, meter, unit, opened_at, balance_minor, zone, currency) =
            row.ok_or(EngineError::NotFound("account"))?;
        Ok(Wallet {
            site,
            meter,
            unit,
            opened_at,
            balance_minor,
            tz: time_zone(&zone)?,
            digits: crate::payments::digits_of(&currency),
            currency,
        })
    }

    /// The meters a wallet pays for, with their utility and unit of measure.
    pub(super) async fn wallet_meters(
        &self,
        wallet: &Wallet,
    ) -> Result<Vec<(i64, Utility, String)>, EngineError> {
        let rows: Vec<(i64, String, String)> = on_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT id, utility, unit_of_measure FROM meters \
                 WHERE (id = $1 OR ($1 IS NULL AND unit_id = $2)) ORDER BY id",
            )
            .bind(wallet.meter)
            .bind(wallet.unit)
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter()
            .map(|(id, utility, uom)| {
                let utility: Utility =
                    utility
                        .parse()
                        .map_err(|e: app::domain::site::UnknownUtility| {
                            EngineError::Corrupt(e.to_string())
                        })?;
                Ok((id, utility, uom))
            })
            .collect()
    }

    /// The median over the period of the other households in the building paying for a
    /// meter of the same utility, if enough of them used any.
    async fn building_median(
        &self,
        reader: &Reader<'_>,
        unit: i64,
        meter: i64,
        utility: Utility,
        period: Period,
    ) -> Result<(Option<Usage>, usize), EngineError> {
        let others: Vec<i64> = on_db!(&self.db, pool => {
            sqlx::query_scalar(
                "SELECT w.account_id FROM wallets w JOIN meters m ON m.id = w.meter_id \
                 JOIN units u ON u.id = m.unit_id \
                 WHERE u.building_id = (SELECT building_id FROM units WHERE id = $1) \
                 AND m.utility = $2 AND m.id <> $3 AND w.closed_at IS NULL AND w.occupancy_id IS NOT NULL",
            )
            .bind(unit)
            .bind(utility.as_str())
            .bind(meter)
            .fetch_all(pool)
            .await
        })?;
        let mut quantities = Vec::new();
        let mut costs = Vec::new();
        for other in others {
            let bars = reader.bars(other, period).await?;
            let total = bars.iter().fold(Usage::default(), |mut sum, bar| {
                sum += *bar;
                sum
            });
            if !total.quantity.is_zero() {
                quantities.push(total.quantity);
                costs.push(total.cost);
            }
        }
        let households = quantities.len();
        if households < MIN_HOUSEHOLDS {
            return Ok((None, households));
        }
        let median = median(&mut quantities)
            .zip(median(&mut costs))
            .map(|(quantity, cost)| Usage { quantity, cost });
        Ok((median, households))
    }
}

impl Engine {
    /// Builds the roll-ups from the stored readings when there are none yet but rated
    /// readings exist: once, for a database rated before roll-ups were kept. Returns how many
    /// readings it added up.
    pub async fn backfill_usage(&self) -> Result<u64, EngineError> {
        let _turn = self.write.lock().await;
        let (rolled, rated): (Option<i64>, Option<i64>) = on_db!(&self.db, pool => {
            let rolled = sqlx::query_scalar("SELECT meter_id FROM usage_daily LIMIT 1")
                .fetch_optional(pool)
                .await?;
            let rated = sqlx::query_scalar("SELECT id FROM readings WHERE status = 'rated' LIMIT 1")
                .fetch_optional(pool)
                .await?;
            Ok::<_, sqlx::Error>((rolled, rated))
        })?;
        if rolled.is_some() || rated.is_none() {
            return Ok(0);
        }
        let sites: Vec<(i64, String, String)> = on_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT m.id, s.time_zone, s.currency FROM meters m JOIN units u ON u.id = m.unit_id \
                 JOIN buildings b ON b.id = u.building_id JOIN sites s ON s.id = b.site_id",
            )
            .fetch_all(pool)
            .await
        })?;
        let mut places = std::collections::HashMap::new();
        for (meter, zone, currency) in sites {
            places.insert(
                meter,
                (time_zone(&zone)?, crate::payments::digits_of(&currency)),
            );
        }
        type Row = (
            i64,
            i64,
            Option<i64>,
            ReadingTime,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let (mut after, mut added) = (0_i64, 0_u64);
        loop {
            let rows: Vec<Row> = on_db!(&self.db, pool => {
                sqlx::query_as(
                    "SELECT id, meter_id, wallet_account_id, taken_at, quantity, net, tax FROM readings \
                     WHERE status = 'rated' AND id > $1 ORDER BY id LIMIT 5000",
                )
                .bind(after)
                .fetch_all(pool)
                .await
            })?;
            let Some(last) = rows.last() else {
                break;
            };
            after = last.0;
            let mut used = Vec::with_capacity(rows.len());
            for (_, meter, wallet, taken_at, quantity, net, tax) in rows {
                let (Some(wallet), Some(quantity), Some((tz, digits))) =
                    (wallet, quantity, places.get(&meter))
                else {
                    continue;
                };
                used.push(Used {
                    wallet,
                    meter,
                    taken_at: taken_at.0,
                    quantity: super::decimal(&quantity)?,
                    cost: super::decimal_or_zero(net.as_deref())?
                        + super::decimal_or_zero(tax.as_deref())?,
                    digits: *digits,
                    tz: *tz,
                });
            }
            let mut tx = self.db.begin_write().await?;
            record(&mut tx, &used).await?;
            tx.commit().await?;
            added += used.len() as u64;
        }
        Ok(added)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_hours_start_on_the_site_clock_even_half_an_hour_off_utc_and_across_dst() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let kolkata: Tz = "Asia/Kolkata".parse().unwrap();
        assert_eq!(
            local_hour_start(&kolkata, at("2026-11-30T10:10:00Z")),
            at("2026-11-30T09:30:00Z")
        );
        let nairobi: Tz = "Africa/Nairobi".parse().unwrap();
        assert_eq!(
            local_hour_start(&nairobi, at("2026-11-30T10:59:59Z")),
            at("2026-11-30T10:00:00Z")
        );
        // Riga on 25 October 2026: the hour from 03:00 local happens twice (at UTC+3, then
        // at UTC+2); each instant keeps its own.
        let riga: Tz = "Europe/Riga".parse().unwrap();
        assert_eq!(
            local_hour_start(&riga, at("2026-10-25T00:30:00Z")),
            at("2026-10-25T00:00:00Z")
        );
        assert_eq!(
            local_hour_start(&riga, at("2026-10-25T01:30:00Z")),
            at("2026-10-25T01:00:00Z")
        );
    }

    /// Rating adds to the roll-ups' sums with every reading: an index carrying one of them
    /// would be rewritten with each (and on PostgreSQL rule out heap-only updates).
    #[tokio::test]
    async fn no_index_on_the_roll_ups_carries_a_sum_rating_adds_to() {
        let (_dir, db) = crate::db::tests::sqlite_file().await;
        db.migrate().await.unwrap();
        let crate::db::Db::Sqlite { pool, .. } = &db else {
            unreachable!("an SQLite URL")
        };
        let columns: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT t.name, l.name, i.name FROM (SELECT 'usage_hourly' AS name \
             UNION ALL SELECT 'usage_daily') t, pragma_index_list(t.name) l, \
             pragma_index_info(l.name) i",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        // Each table's key and its index for reports.
        assert_eq!(columns.iter().filter(|c| c.0 == "usage_daily").count(), 5);
        let sums: Vec<_> = columns
            .iter()
            .filter(|c| ["quantity_micro", "cost_micro", "readings"].contains(&c.2.as_str()))
            .collect();
        assert!(sums.is_empty(), "{sums:?}");
    }
}
