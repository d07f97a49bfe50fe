//! Use by time-of-use band: the hourly roll-ups of a site's meters over some of its local
//! days, each hour shared across the bands of the tariff in force at its start (the unit's
//! plan's, or the standard one).

use super::{
    Engine, EngineError, FEEDS_OTHERS,
    reports::LocalDays,
    setup::{load_rules, stored_plan},
};
use crate::on_tx;
use app::domain::{
    SiteId, Utility,
    band_report::{BandLine, BandReport, ByBand, add, split_hour},
    reports::DaysAsked,
    tariff::version_at,
};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

#[derive(sqlx::FromRow)]
struct HourRow {
    unit_id: i64,
    building: String,
    unit: String,
    plan: String,
    utility: String,
    hour_start: DateTime<Utc>,
    quantity_micro: i64,
}

impl Engine {
    /// What each unit of the site used of each utility in each band over the days asked.
    /// One read of the hourly roll-ups, summed per unit, utility and hour.
    pub async fn bands(&self, site: SiteId, asked: DaysAsked) -> Result<BandReport, EngineError> {
        let LocalDays {
            heading,
            days,
            start,
            end,
        } = self.local_days(site, asked).await?;
        let mut tx = self.db.begin_read().await?;
        let rules = load_rules(&mut tx, site.0).await?;
        let rows: Vec<HourRow> = on_tx!(&mut tx, conn => {
            // A bulk meter's hours are its sub-meters', already counted.
            sqlx::query_as(&format!(
                "SELECT u.id AS unit_id, b.name AS building, u.name AS unit, u.tariff_plan AS plan, m.utility, h.hour_start, \
                 CAST(SUM(h.quantity_micro) AS BIGINT) AS quantity_micro \
                 FROM usage_hourly h JOIN meters m ON m.id = h.meter_id JOIN units u ON u.id = m.unit_id \
                 JOIN buildings b ON b.id = u.building_id \
                 WHERE b.site_id = $1 AND h.hour_start >= $2 AND h.hour_start < $3 AND NOT {FEEDS_OTHERS} \
                 GROUP BY u.id, b.name, u.name, u.tariff_plan, m.utility, h.hour_start"
            ))
            .bind(site.0)
            .bind(start)
            .bind(end)
            .fetch_all(&mut *conn)
            .await
        })?;
        let mut lines: BTreeMap<(String, String, Utility), (i64, ByBand)> = BTreeMap::new();
        for row in rows {
            let utility: Utility = row
                .utility
                .parse()
                .map_err(|_| EngineError::Corrupt(format!("utility {:?}", row.utility)))?;
            let plan = stored_plan(&row.plan)?;
            let tariff = rules
                .versions(&plan, utility)
                .and_then(|versions| version_at(versions, row.hour_start))
                .map(|version| &version.tariff);
            let local = row.hour_start.with_timezone(&heading.tz).naive_local();
            let split = split_hour(tariff, local, row.quantity_micro);
            let entry = lines
                .entry((row.building, row.unit, utility))
                .or_insert((row.unit_id, [0; 4]));
            add(&mut entry.1, &split);
        }
        Ok(BandReport {
            site_name: heading.name,
            days,
            lines: lines
                .into_iter()
                .map(|((building, unit, utility), (unit_id, by_band))| BandLine {
                    unit_id,
                    building,
                    unit,
                    utility,
                    by_band,
                })
                .collect(),
        })
    }
}
