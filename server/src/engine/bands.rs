//! Use by time-of-use band: the hourly roll-ups of a site's meters over some of its local
//! days, each hour shared across the bands of the tariff in force at its start (the unit's
//! plan's, or the standard one).
//!
//! A month of a 10,000-unit site is over 20 million roll-ups, so they are read as they come,
//! in hour order by `usage_hourly_by_hour` (only the days asked, no sort), and folded hour by
//! hour: what is kept is one sum per unit and utility for the hour being read, and the totals.

use super::{
    Engine, EngineError, FEEDS_OTHERS,
    reports::LocalDays,
    setup::{SiteRules, load_rules, stored_plan},
};
use crate::{
    db::{ReadingTime, Tx},
    on_tx,
};
use app::domain::{
    SiteId, Utility,
    band_report::{BandLine, BandReport, ByBand, add, split_hour},
    reports::DaysAsked,
    tariff::{Plan, version_at},
};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use futures_util::TryStreamExt;
use std::collections::HashMap;

/// The site's meters whose hours count: a bulk meter's hours are its sub-meters', already
/// counted.
fn site_meters(columns: &str) -> String {
    format!(
        "SELECT {columns} FROM meters m JOIN units u ON u.id = m.unit_id \
         JOIN buildings b ON b.id = u.building_id WHERE b.site_id = $1 AND NOT {FEEDS_OTHERS}"
    )
}

/// Their hourly roll-ups over the days asked, hour by hour. Each row is only its meter, hour
/// and quantity: the meter's unit and utility are looked up once, not joined per row.
fn hours() -> String {
    format!(
        "SELECT h.meter_id, h.hour_start, h.quantity_micro FROM usage_hourly h \
         WHERE h.hour_start >= $2 AND h.hour_start < $3 AND h.meter_id IN ({}) \
         ORDER BY h.hour_start",
        site_meters("m.id")
    )
}

#[derive(sqlx::FromRow)]
struct HourRow {
    meter_id: i64,
    #[sqlx(try_from = "ReadingTime")]
    hour_start: DateTime<Utc>,
    quantity_micro: i64,
}

#[derive(sqlx::FromRow)]
struct UnitRow {
    id: i64,
    building: String,
    unit: String,
    plan: String,
}

impl Engine {
    /// What each unit of the site used of each utility in each band over the days asked.
    pub async fn bands(&self, site: SiteId, asked: DaysAsked) -> Result<BandReport, EngineError> {
        let LocalDays {
            heading,
            days,
            start,
            end,
        } = self.local_days(site, asked).await?;
        let mut tx = self.db.begin_read().await?;
        let rules = load_rules(&mut tx, site.0).await?;
        let layout = Layout::of_site(&mut tx, site.0).await?;
        let mut fold = HourFold {
            rules: &rules,
            layout: &layout,
            tz: heading.tz,
            hour: None,
            this_hour: HashMap::new(),
            totals: HashMap::new(),
        };
        let sql = hours();
        on_tx!(&mut tx, conn => {
            let mut rows = sqlx::query_as::<_, HourRow>(&sql)
                .bind(site.0)
                .bind(ReadingTime(start))
                .bind(ReadingTime(end))
                .fetch(&mut *conn);
            while let Some(row) = rows.try_next().await? {
                fold.add(row);
            }
            Ok::<_, EngineError>(())
        })?;
        let totals = fold.finish();
        Ok(BandReport {
            site_name: heading.name,
            days,
            lines: layout.lines(totals),
        })
    }
}

/// The site's units (names and tariff plans) and the meters whose hours count, read once.
struct Layout {
    units: HashMap<i64, UnitRow>,
    plans: HashMap<i64, Plan>,
    /// Each meter's unit and utility.
    meters: HashMap<i64, (i64, Utility)>,
}

impl Layout {
    async fn of_site(tx: &mut Tx, site: i64) -> Result<Layout, EngineError> {
        let (units, meters): (Vec<UnitRow>, Vec<(i64, i64, String)>) = on_tx!(tx, conn => {
            let units = sqlx::query_as(
                "SELECT u.id, b.name AS building, u.name AS unit, u.tariff_plan AS plan \
                 FROM units u JOIN buildings b ON b.id = u.building_id WHERE b.site_id = $1",
            )
            .bind(site)
            .fetch_all(&mut *conn)
            .await?;
            let meters = sqlx::query_as(&site_meters("m.id, m.unit_id, m.utility"))
                .bind(site)
                .fetch_all(&mut *conn)
                .await?;
            Ok::<_, sqlx::Error>((units, meters))
        })?;
        let plans = units
            .iter()
            .map(|unit| Ok((unit.id, stored_plan(&unit.plan)?)))
            .collect::<Result<_, EngineError>>()?;
        let meters = meters
            .into_iter()
            .map(|(meter, unit, utility)| {
                let utility: Utility = utility
                    .parse()
                    .map_err(|_| EngineError::Corrupt(format!("utility {utility:?}")))?;
                Ok((meter, (unit, utility)))
            })
            .collect::<Result<_, EngineError>>()?;
        Ok(Layout {
            units: units.into_iter().map(|unit| (unit.id, unit)).collect(),
            plans,
            meters,
        })
    }

    /// The report's lines, by building, unit and utility.
    fn lines(&self, totals: HashMap<(i64, Utility), ByBand>) -> Vec<BandLine> {
        let mut lines: Vec<BandLine> = totals
            .into_iter()
            .filter_map(|((unit_id, utility), by_band)| {
                let unit = self.units.get(&unit_id)?;
                Some(BandLine {
                    unit_id,
                    building: unit.building.clone(),
                    unit: unit.unit.clone(),
                    utility,
                    by_band,
                })
            })
            .collect();
        lines.sort_by(|a, b| {
            (&a.building, &a.unit, a.utility).cmp(&(&b.building, &b.unit, b.utility))
        });
        lines
    }
}

/// The roll-ups folded as they are read, in hour order: a unit's meters of one utility are
/// summed over the hour, and the sum shared across the bands once the next hour begins.
struct HourFold<'a> {
    rules: &'a SiteRules,
    layout: &'a Layout,
    tz: Tz,
    hour: Option<DateTime<Utc>>,
    /// The hour being read: quantity per unit and utility.
    this_hour: HashMap<(i64, Utility), i64>,
    totals: HashMap<(i64, Utility), ByBand>,
}

impl HourFold<'_> {
    fn add(&mut self, row: HourRow) {
        if self.hour != Some(row.hour_start) {
            self.share_out_hour();
            self.hour = Some(row.hour_start);
        }
        // The query reads only the meters looked up.
        if let Some(key) = self.layout.meters.get(&row.meter_id) {
            *self.this_hour.entry(*key).or_default() += row.quantity_micro;
        }
    }

    /// Shares the hour just read across the bands of each unit's tariff at its start.
    fn share_out_hour(&mut self) {
        let Some(hour) = self.hour else {
            return;
        };
        let local = hour.with_timezone(&self.tz).naive_local();
        for ((unit, utility), quantity) in self.this_hour.drain() {
            let tariff = self
                .layout
                .plans
                .get(&unit)
                .and_then(|plan| self.rules.versions(plan, utility))
                .and_then(|versions| version_at(versions, hour))
                .map(|version| &version.tariff);
            let total = self.totals.entry((unit, utility)).or_insert([0; 4]);
            add(total, &split_hour(tariff, local, quantity));
        }
    }

    fn finish(mut self) -> HashMap<(i64, Utility), ByBand> {
        self.share_out_hour();
        self.totals
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;

    /// The hours asked are found by their index, in the order they are folded: neither every
    /// roll-up ever kept is read nor are they sorted in a temporary tree.
    #[tokio::test]
    async fn a_sites_hours_are_read_by_the_hour_index_in_order() {
        let (_dir, db) = crate::db::tests::sqlite_file().await;
        db.migrate().await.unwrap();
        let Db::Sqlite { pool, .. } = &db else {
            unreachable!("an SQLite URL")
        };
        let sql = format!("EXPLAIN QUERY PLAN {}", hours());
        let steps: Vec<(i64, i64, i64, String)> = sqlx::query_as(&sql)
            .bind(1_i64)
            .bind(Utc::now())
            .bind(Utc::now())
            .fetch_all(pool)
            .await
            .unwrap();
        let plan: Vec<&str> = steps.iter().map(|step| step.3.as_str()).collect();
        assert!(
            plan.iter()
                .any(|step| step.starts_with("SEARCH h USING INDEX usage_hourly_by_hour")),
            "{plan:?}"
        );
        assert!(
            !plan.iter().any(|step| step.contains("TEMP B-TREE")),
            "{plan:?}"
        );
    }
}
