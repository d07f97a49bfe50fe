//! Reports for the console and the REST API: consumption from the usage roll-ups, and
//! collections from the receipts every top-up issues.

use super::{Engine, EngineError, FEEDS_OTHERS, usage::MICRO};
use crate::on_db;
use app::domain::{
    Minor, SiteId,
    collections::{CollectionsReport, Owed, Owing, Receipt},
    reports::{ConsumptionLine, ConsumptionReport, Days, DaysAsked},
    tariff::local_midnight,
};
use chrono::{DateTime, Utc};
use rust_decimal::{Decimal, prelude::ToPrimitive};

#[derive(sqlx::FromRow)]
struct LineRow {
    unit_id: i64,
    unit: String,
    building: String,
    utility: String,
    quantity_micro: i64,
    cost_micro: i64,
}

/// A report's local days: the site, the days asked (this month's when left out) and where
/// they start and end in UTC.
pub(crate) struct LocalDays {
    pub heading: super::setup::SiteHeading,
    pub days: Days,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Engine {
    pub(crate) async fn local_days(
        &self,
        site: SiteId,
        asked: DaysAsked,
    ) -> Result<LocalDays, EngineError> {
        let heading = self.site_heading(site).await?;
        let today = Utc::now().with_timezone(&heading.tz).date_naive();
        let days = asked.resolve(today).map_err(EngineError::Refused)?;
        Ok(LocalDays {
            start: local_midnight(&heading.tz, days.from),
            end: local_midnight(&heading.tz, days.to + chrono::Duration::days(1)),
            heading,
            days,
        })
    }

    /// What each unit of the site used of each utility over the days asked (the site's local
    /// days) and what it cost, by building and unit. A bulk meter is left out: what it
    /// measured is in the lines of the meters it feeds, and its losses in the loss report. One statement over the daily roll-ups,
    /// summed per meter first: the index on (meter, day) streams each meter's days in order,
    /// so millions of roll-ups are added up without sorting them, and only one row per meter
    /// is joined to its unit and building.
    pub async fn consumption(
        &self,
        site: SiteId,
        asked: DaysAsked,
    ) -> Result<ConsumptionReport, EngineError> {
        let heading = self.site_heading(site).await?;
        let today = chrono::Utc::now().with_timezone(&heading.tz).date_naive();
        let days = asked.resolve(today).map_err(EngineError::Refused)?;
        let rows: Vec<LineRow> = on_db!(&self.db, pool => {
            sqlx::query_as(&format!(
                "SELECT u.id AS unit_id, u.name AS unit, b.name AS building, m.utility, \
                 CAST(SUM(d.quantity_micro) AS BIGINT) AS quantity_micro, CAST(SUM(d.cost_micro) AS BIGINT) AS cost_micro \
                 FROM (SELECT meter_id, SUM(quantity_micro) AS quantity_micro, SUM(cost_micro) AS cost_micro \
                       FROM usage_daily WHERE day >= $2 AND day <= $3 AND meter_id IN ( \
                           SELECT m.id FROM meters m JOIN units u ON u.id = m.unit_id \
                           JOIN buildings b ON b.id = u.building_id WHERE b.site_id = $1 AND NOT {FEEDS_OTHERS}) \
                       GROUP BY meter_id) d \
                 JOIN meters m ON m.id = d.meter_id JOIN units u ON u.id = m.unit_id \
                 JOIN buildings b ON b.id = u.building_id \
                 GROUP BY u.id, u.name, b.name, m.utility ORDER BY b.name, u.name, m.utility"
            ))
            .bind(site.0)
            .bind(days.from)
            .bind(days.to)
            .fetch_all(pool)
            .await
        })?;
        let digits = heading.digits;
        let lines =
            rows.into_iter()
                .map(|row| {
                    Ok(ConsumptionLine {
                        utility: row.utility.parse().map_err(|_| {
                            EngineError::Corrupt(format!("utility {:?}", row.utility))
                        })?,
                        cost: cost_minor(row.cost_micro, digits),
                        unit_id: row.unit_id,
                        unit: row.unit,
                        building: row.building,
                        quantity_micro: row.quantity_micro,
                    })
                })
                .collect::<Result<_, EngineError>>()?;
        Ok(ConsumptionReport {
            site_name: heading.name,
            currency: heading.currency,
            digits,
            days,
            lines,
        })
    }
}

impl Engine {
    /// The money the site received over the days asked (its local days), by day and by how
    /// it came, and what its residents owe now.
    pub async fn collections(
        &self,
        site: SiteId,
        asked: DaysAsked,
    ) -> Result<CollectionsReport, EngineError> {
        let LocalDays {
            heading,
            days,
            start,
            end,
        } = self.local_days(site, asked).await?;
        type Row = (DateTime<Utc>, String, i64);
        let rows: Vec<Row> = on_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT r.issued_at, t.idempotency_key, r.amount_minor FROM receipts r \
                 JOIN ledger_transactions t ON t.id = r.transaction_id \
                 WHERE r.site_id = $1 AND r.issued_at >= $2 AND r.issued_at < $3 \
                 AND NOT EXISTS (SELECT 1 FROM receipt_voids v WHERE v.transaction_id = r.transaction_id)",
            )
            .bind(site.0)
            .bind(start)
            .bind(end)
            .fetch_all(pool)
            .await
        })?;
        let receipts: Vec<Receipt> = rows
            .into_iter()
            .map(|(at, key, amount)| {
                let source = Receipt::source_of(&key)
                    .ok_or_else(|| EngineError::Corrupt(format!("a receipt for {key:?}")))?;
                Ok(Receipt {
                    day: at.with_timezone(&heading.tz).date_naive(),
                    source: source.to_owned(),
                    amount: Minor(amount),
                })
            })
            .collect::<Result<_, EngineError>>()?;
        let owed = self.owed(site).await?;
        Ok(CollectionsReport::new(
            (heading.name, heading.currency, heading.digits),
            days,
            &receipts,
            owed,
        ))
    }

    /// What the site's residents owe now: open prepaid accounts below zero, debts, and
    /// emergency credit in use (each held as a negative balance).
    async fn owed(&self, site: SiteId) -> Result<Owed, EngineError> {
        let owing = |kind: &'static str| async move {
            let (accounts, amount): (i64, i64) = on_db!(&self.db, pool => {
                sqlx::query_as(
                    "SELECT COUNT(*), CAST(COALESCE(-SUM(balance_minor), 0) AS BIGINT) FROM accounts \
                     WHERE site_id = $1 AND kind = $2 AND balance_minor < 0 AND closed_at IS NULL",
                )
                .bind(site.0)
                .bind(kind)
                .fetch_one(pool)
                .await
            })?;
            Ok::<_, EngineError>(Owing {
                accounts: accounts as usize,
                amount: Minor(amount),
            })
        };
        Ok(Owed {
            below_zero: owing("prepaid").await?,
            debts: owing("debt").await?,
            emergency: owing("emergency").await?,
        })
    }
}

/// The roll-ups keep micro-units of money; a report's cost is in whole minor units, rounded
/// once per line.
pub(super) fn cost_minor(micro: i64, digits: u32) -> Minor {
    let cost = Decimal::new(micro, MICRO + digits).round_dp(digits);
    Minor(
        (cost * Decimal::from(10_i64.pow(digits)))
            .to_i64()
            .unwrap_or_default(),
    )
}
