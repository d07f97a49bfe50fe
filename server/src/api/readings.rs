//! Readings and alarms over HTTP, from gateways and vendors' clouds: another transport beside
//! MQTT into the same pipeline, with the same rules. A batch is checked whole first: one bad
//! item refuses the batch (422, every problem listed) and nothing is taken. A reading taken
//! already (same meter and time) is taken again without effect.

use super::{
    Api, Authed,
    error::ApiError,
    extract::Body,
    model::{AlarmKind, BatchResult, ReadingBatch},
};
use crate::{
    fleet::{
        ops,
        transport::Event,
        wire::{self, MeterAlarm, Uplink},
    },
    on_db,
};
use axum::{Json, extract::State};
use chrono::{Duration, Utc};
use std::collections::BTreeSet;

const MAX_ITEMS: usize = 1000;

#[utoipa::path(post, path = "/readings", tag = "readings", request_body = ReadingBatch,
    responses((status = 200, body = BatchResult)))]
/// Posts a batch of meter readings and alarms (at most 1,000 of each).
pub async fn post_readings(
    State(api): State<Api>,
    Authed(key): Authed,
    Body(batch): Body<ReadingBatch>,
) -> Result<Json<BatchResult>, ApiError> {
    if batch.readings.len() > MAX_ITEMS || batch.alarms.len() > MAX_ITEMS {
        return Err(ApiError::Unprocessable(format!(
            "Send at most {MAX_ITEMS} readings and {MAX_ITEMS} alarms a batch."
        )));
    }
    let now = Utc::now();
    let serials: BTreeSet<&str> = batch
        .readings
        .iter()
        .map(|reading| reading.serial.as_str())
        .chain(batch.alarms.iter().map(|alarm| alarm.serial.as_str()))
        .collect();
    let reportable = api.reportable(&key, &serials).await?;
    let known = |serial: &str| reportable.contains(serial);
    let mut problems = Vec::new();
    let mut events = Vec::new();
    let unknown =
        |serial: &str| format!("no meter {serial:?} in service that this key may report for");
    for (index, reading) in batch.readings.iter().enumerate() {
        let register = ops::register(&reading.register);
        match (known(&reading.serial), register) {
            (false, _) => problems.push(format!("readings[{index}]: {}", unknown(&reading.serial))),
            (_, Err(error)) => problems.push(format!("readings[{index}]: {error}")),
            (true, Ok(_)) if reading.taken_at > now + Duration::minutes(5) => {
                problems.push(format!("readings[{index}]: taken_at is in the future"));
            }
            (true, Ok(register)) => events.push(Event {
                serial: reading.serial.clone(),
                uplink: Uplink::Reading(wire::Reading {
                    taken_at: reading.taken_at,
                    register,
                    power_kw: None,
                }),
                received_at: now,
            }),
        }
    }
    for (index, alarm) in batch.alarms.iter().enumerate() {
        let kind = match alarm.kind {
            AlarmKind::GasLeak => MeterAlarm::GasLeak,
            AlarmKind::Overload => MeterAlarm::Overload,
            AlarmKind::WaterFlow => MeterAlarm::WaterFlow,
            AlarmKind::WaterSpike => MeterAlarm::WaterSpike,
            AlarmKind::Tamper => MeterAlarm::Tamper,
        };
        match known(&alarm.serial) {
            false => problems.push(format!("alarms[{index}]: {}", unknown(&alarm.serial))),
            true if alarm.detail.chars().count() > 500 => {
                problems.push(format!("alarms[{index}]: detail is at most 500 characters"));
            }
            true => events.push(Event {
                serial: alarm.serial.clone(),
                uplink: Uplink::Alarm(wire::Alarm {
                    at: Some(alarm.at),
                    kind,
                    detail: alarm.detail.clone(),
                }),
                received_at: now,
            }),
        }
    }
    if !problems.is_empty() {
        return Err(ApiError::Unprocessable(format!(
            "Nothing was taken: {}.",
            problems.join("; ")
        )));
    }
    api.fleet.ingest(events).await?;
    Ok(Json(BatchResult {
        readings: batch.readings.len() as i64,
        alarms: batch.alarms.len() as i64,
    }))
}

impl Api {
    /// Of these serials, the meters in service in the key's organisation (and its site, for
    /// a gateway): one query for the whole batch.
    async fn reportable(
        &self,
        key: &super::KeyHolder,
        serials: &BTreeSet<&str>,
    ) -> Result<BTreeSet<String>, ApiError> {
        if serials.is_empty() {
            return Ok(BTreeSet::new());
        }
        let sql = format!(
            "SELECT m.serial FROM meters m JOIN units u ON u.id = m.unit_id \
             JOIN buildings b ON b.id = u.building_id JOIN sites s ON s.id = b.site_id \
             WHERE s.organisation_id = $1 AND ($2 IS NULL OR b.site_id = $2) \
             AND m.removed_at IS NULL AND m.serial IN ({})",
            crate::db::placeholders(3, serials.len())
        );
        let found: Vec<String> = on_db!(&self.db, pool => {
            let mut query = sqlx::query_scalar(&sql).bind(key.org).bind(key.site);
            for serial in serials {
                query = query.bind(*serial);
            }
            query.fetch_all(pool).await
        })?;
        Ok(found.into_iter().collect())
    }
}
