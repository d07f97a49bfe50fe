//! Reports drawn from the usage roll-ups, for the console and the REST API alike.

use super::{Engine, EngineError, usage::MICRO};
use crate::on_db;
use app::domain::{
    Minor, SiteId,
    reports::{ConsumptionLine, ConsumptionReport, DaysAsked},
};
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

impl Engine {
    /// What each unit of the site used of each utility over the days asked (the site's local
    /// days) and what it cost, by building and unit. One statement over the daily roll-ups.
    pub async fn consumption(
        &self,
        site: SiteId,
        asked: DaysAsked,
    ) -> Result<ConsumptionReport, EngineError> {
        let heading = self.site_heading(site).await?;
        let today = chrono::Utc::now().with_timezone(&heading.tz).date_naive();
        let days = asked.resolve(today).map_err(EngineError::Refused)?;
        let rows: Vec<LineRow> = on_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT u.id AS unit_id, u.name AS unit, b.name AS building, m.utility, \
                 CAST(SUM(d.quantity_micro) AS BIGINT) AS quantity_micro, CAST(SUM(d.cost_micro) AS BIGINT) AS cost_micro \
                 FROM usage_daily d JOIN meters m ON m.id = d.meter_id JOIN units u ON u.id = m.unit_id \
                 JOIN buildings b ON b.id = u.building_id \
                 WHERE b.site_id = $1 AND d.day >= $2 AND d.day <= $3 \
                 GROUP BY u.id, u.name, b.name, m.utility ORDER BY b.name, u.name, m.utility",
            )
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

/// The roll-ups keep micro-units of money; a report's cost is in whole minor units, rounded
/// once per line.
fn cost_minor(micro: i64, digits: u32) -> Minor {
    let cost = Decimal::new(micro, MICRO + digits).round_dp(digits);
    Minor(
        (cost * Decimal::from(10_i64.pow(digits)))
            .to_i64()
            .unwrap_or_default(),
    )
}
