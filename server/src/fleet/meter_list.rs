//! Every installed meter of a site with what it last said, for the fleet console's meters
//! table and its CSV. Three reads in one snapshot however large the site: the meters with
//! their status, the site's live alarms counted per meter, and the platform's unanswered
//! commands counted per meter (few at any time, found through the outbox's status index).

use super::Fleet;
use crate::{db::ReadingTime, engine::EngineError, on_tx};
use app::domain::meter_table::{MeterLine, MeterList};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    building: String,
    unit: String,
    serial: String,
    utility: String,
    transport: String,
    sleeps: bool,
    online: Option<bool>,
    relay: Option<String>,
    relay_reported: Option<String>,
    battery_pct: Option<i32>,
    signal_dbm: Option<i32>,
    clock_offset_s: Option<i64>,
    last_seen_at: Option<DateTime<Utc>>,
    last_reading_at: Option<ReadingTime>,
    last_register: Option<String>,
}

const METERS: &str = "SELECT m.id, b.name AS building, u.name AS unit, m.serial, m.utility, \
     m.transport, m.sleeps, st.online, ms.relay, st.relay_reported, st.battery_pct, st.signal_dbm, \
     st.clock_offset_s, st.last_seen_at, ms.last_reading_at, ms.last_register \
     FROM meters m JOIN units u ON u.id = m.unit_id JOIN buildings b ON b.id = u.building_id \
     LEFT JOIN meter_status st ON st.meter_id = m.id LEFT JOIN meter_states ms ON ms.meter_id = m.id \
     WHERE b.site_id = $1 AND m.removed_at IS NULL";

const ALARMS: &str = "SELECT meter_id, COUNT(*) FROM alarms \
     WHERE site_id = $1 AND status <> 'resolved' AND meter_id IS NOT NULL GROUP BY meter_id";

const WAITING: &str = "SELECT meter_id, COUNT(*) FROM meter_commands \
     WHERE status IN ('held', 'pending', 'sent') GROUP BY meter_id";

impl Fleet {
    pub async fn meter_list(&self, site: i64) -> Result<MeterList, EngineError> {
        let mut tx = self.engine().db.begin_read().await?;
        let (place, rows, alarms, waiting) = on_tx!(&mut tx, conn => {
            let place: Option<(String, String)> =
                sqlx::query_as("SELECT name, time_zone FROM sites WHERE id = $1")
                    .bind(site)
                    .fetch_optional(&mut *conn)
                    .await?;
            let rows: Vec<Row> = sqlx::query_as(METERS).bind(site).fetch_all(&mut *conn).await?;
            let alarms: Vec<(i64, i64)> =
                sqlx::query_as(ALARMS).bind(site).fetch_all(&mut *conn).await?;
            let waiting: Vec<(i64, i64)> = sqlx::query_as(WAITING).fetch_all(&mut *conn).await?;
            Ok::<_, sqlx::Error>((place, rows, alarms, waiting))
        })?;
        let (site_name, zone) = place.ok_or(EngineError::NotFound("site"))?;
        let tz = crate::engine::time_zone(&zone)?;
        let alarms: HashMap<i64, i64> = alarms.into_iter().collect();
        let waiting: HashMap<i64, i64> = waiting.into_iter().collect();
        let meters = rows
            .into_iter()
            .map(|row| {
                let utility = row.utility.parse().map_err(|_| {
                    EngineError::Corrupt(format!("meter {} has utility {:?}", row.id, row.utility))
                })?;
                Ok(MeterLine {
                    id: row.id,
                    building: row.building,
                    unit: row.unit,
                    serial: row.serial,
                    utility,
                    transport: row.transport,
                    sleeps: row.sleeps,
                    // A meter never heard from since it was installed counts as online
                    // until the watch says otherwise, as on its own page.
                    online: row.online.unwrap_or(true),
                    relay_wanted: row.relay.unwrap_or_else(|| "open".into()),
                    relay_reported: row.relay_reported,
                    battery_pct: row.battery_pct,
                    signal_dbm: row.signal_dbm,
                    clock_offset_s: row.clock_offset_s,
                    last_seen_at: row.last_seen_at,
                    last_reading_at: row.last_reading_at.map(|ReadingTime(at)| at),
                    last_register: row.last_register,
                    open_alarms: alarms.get(&row.id).copied().unwrap_or(0),
                    waiting_commands: waiting.get(&row.id).copied().unwrap_or(0),
                })
            })
            .collect::<Result<_, EngineError>>()?;
        let read_at = Utc::now();
        Ok(MeterList {
            site_name,
            zone: crate::engine::site_zone(tz, read_at),
            meters,
            read_at,
        })
    }
}
