//! The loss report: what each master meter of a site measured over some of its local days
//! against what the meters it feeds measured, from the daily roll-ups (which already carry
//! each meter's multiplier).

use super::{Engine, EngineError, reports::LocalDays};
use crate::on_tx;
use app::domain::{
    SiteId,
    losses::{LossReport, MasterMeter, lines},
    reports::DaysAsked,
};
use std::collections::HashMap;

#[derive(sqlx::FromRow)]
struct MasterRow {
    id: i64,
    serial: String,
    building: String,
    unit: String,
    utility: String,
}

/// What the report reads: the masters, the (sub-meter, master) links, each meter's use.
type Found = (Vec<MasterRow>, Vec<(i64, i64)>, Vec<(i64, i64)>);

/// Meters of the site on either end of a link.
const LINKED: &str = "(m.master_meter_id IS NOT NULL OR EXISTS (SELECT 1 FROM meters s WHERE s.master_meter_id = m.id))";

impl Engine {
    /// Every master of the site (in service or not, so a past month still adds up), by
    /// building and unit, with its sub-meters' sum. Three reads in one transaction.
    pub async fn losses(&self, site: SiteId, asked: DaysAsked) -> Result<LossReport, EngineError> {
        let LocalDays { heading, days, .. } = self.local_days(site, asked).await?;
        let mut tx = self.db.begin_read().await?;
        let (masters, links, used): Found = on_tx!(&mut tx, conn => {
            let masters = sqlx::query_as(
                "SELECT m.id, m.serial, b.name AS building, u.name AS unit, m.utility \
                 FROM meters m JOIN units u ON u.id = m.unit_id JOIN buildings b ON b.id = u.building_id \
                 WHERE b.site_id = $1 AND EXISTS (SELECT 1 FROM meters s WHERE s.master_meter_id = m.id) \
                 ORDER BY b.name, u.name, m.serial",
            )
            .bind(site.0)
            .fetch_all(&mut *conn)
            .await?;
            let links = sqlx::query_as(
                "SELECT m.id, m.master_meter_id FROM meters m JOIN units u ON u.id = m.unit_id \
                 JOIN buildings b ON b.id = u.building_id \
                 WHERE b.site_id = $1 AND m.master_meter_id IS NOT NULL",
            )
            .bind(site.0)
            .fetch_all(&mut *conn)
            .await?;
            let used = sqlx::query_as(&format!(
                "SELECT d.meter_id, CAST(SUM(d.quantity_micro) AS BIGINT) FROM usage_daily d \
                 JOIN meters m ON m.id = d.meter_id JOIN units u ON u.id = m.unit_id \
                 JOIN buildings b ON b.id = u.building_id \
                 WHERE b.site_id = $1 AND d.day >= $2 AND d.day <= $3 AND {LINKED} \
                 GROUP BY d.meter_id"
            ))
            .bind(site.0)
            .bind(days.from)
            .bind(days.to)
            .fetch_all(&mut *conn)
            .await?;
            Ok::<_, sqlx::Error>((masters, links, used))
        })?;
        let masters = masters
            .into_iter()
            .map(|row| {
                Ok(MasterMeter {
                    utility: row
                        .utility
                        .parse()
                        .map_err(|_| EngineError::Corrupt(format!("utility {:?}", row.utility)))?,
                    id: row.id,
                    serial: row.serial,
                    building: row.building,
                    unit: row.unit,
                })
            })
            .collect::<Result<Vec<_>, EngineError>>()?;
        let used: HashMap<i64, i64> = used.into_iter().collect();
        Ok(LossReport {
            site_name: heading.name,
            days,
            lines: lines(masters, &links, &used),
        })
    }
}
