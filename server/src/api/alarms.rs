//! Alarms: listed, acknowledged and resolved as from the console.

use super::{
    Api, Authed, Listed, Page, Paging,
    error::ApiError,
    extract::{Body, Id, Params},
    model::{Alarm, AlarmNote, AlarmState},
    page_of,
};
use crate::on_db;
use app::domain::fleet::AlarmStep;
use axum::{Json, extract::State};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(sqlx::FromRow)]
struct AlarmRow {
    id: i64,
    site_id: i64,
    unit_id: Option<i64>,
    meter_id: Option<i64>,
    kind: String,
    severity: String,
    status: String,
    detail: String,
    opened_at: DateTime<Utc>,
    acknowledged_at: Option<DateTime<Utc>>,
    resolved_at: Option<DateTime<Utc>>,
}

impl From<AlarmRow> for Alarm {
    fn from(row: AlarmRow) -> Self {
        Alarm {
            id: row.id,
            site_id: row.site_id,
            unit_id: row.unit_id,
            meter_id: row.meter_id,
            kind: row.kind,
            severity: row.severity,
            status: row.status,
            detail: row.detail,
            opened_at: row.opened_at,
            acknowledged_at: row.acknowledged_at,
            resolved_at: row.resolved_at,
        }
    }
}

const ALARM_SELECT: &str = "SELECT a.id, a.site_id, a.unit_id, a.meter_id, a.kind, a.severity, \
    a.status, a.detail, a.opened_at, a.acknowledged_at, a.resolved_at \
    FROM alarms a JOIN sites s ON s.id = a.site_id WHERE s.organisation_id = $1";

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlarmFilter {
    pub site_id: Option<i64>,
    pub status: Option<AlarmState>,
}

#[utoipa::path(get, path = "/alarms", tag = "alarms", params(Paging, AlarmFilter),
    responses((status = 200, body = Page<Alarm>)))]
/// Alarms, oldest first.
pub async fn list_alarms(
    State(api): State<Api>,
    Authed(key): Authed,
    Params(paging): Params<Paging>,
    Params(filter): Params<AlarmFilter>,
) -> Listed<Alarm> {
    let (after, limit) = paging.bounds()?;
    let rows: Vec<AlarmRow> = on_db!(&api.db, pool => {
        sqlx::query_as(&format!(
            "{ALARM_SELECT} AND ($2 IS NULL OR a.site_id = $2) AND ($3 IS NULL OR a.status = $3) \
             AND a.id > $4 ORDER BY a.id LIMIT $5"
        ))
        .bind(key.org)
        .bind(filter.site_id)
        .bind(filter.status.map(AlarmState::as_str))
        .bind(after)
        .bind(limit + 1)
        .fetch_all(pool)
        .await
    })?;
    Ok(Json(page_of(rows, limit, |row| row.id, Alarm::from)))
}

#[utoipa::path(post, path = "/alarms/{alarm_id}/acknowledge", tag = "alarms",
    params(("alarm_id" = i64, Path)), request_body = AlarmNote, responses((status = 200, body = Alarm)))]
/// Someone is on it. An alarm acknowledged or resolved already is refused (422).
pub async fn acknowledge_alarm(
    State(api): State<Api>,
    Authed(key): Authed,
    Id(alarm): Id<i64>,
    Body(note): Body<AlarmNote>,
) -> Result<Json<Alarm>, ApiError> {
    step(api, key, alarm, AlarmStep::Acknowledge, &note.note).await
}

#[utoipa::path(post, path = "/alarms/{alarm_id}/resolve", tag = "alarms",
    params(("alarm_id" = i64, Path)), request_body = AlarmNote, responses((status = 200, body = Alarm)))]
/// The cause is dealt with. An alarm resolved already is refused (422).
pub async fn resolve_alarm(
    State(api): State<Api>,
    Authed(key): Authed,
    Id(alarm): Id<i64>,
    Body(note): Body<AlarmNote>,
) -> Result<Json<Alarm>, ApiError> {
    step(api, key, alarm, AlarmStep::Resolve, &note.note).await
}

async fn step(
    api: Api,
    key: super::KeyHolder,
    alarm: i64,
    step: AlarmStep,
    note: &str,
) -> Result<Json<Alarm>, ApiError> {
    if note.chars().count() > 500 {
        return Err(ApiError::Unprocessable(
            "A note is at most 500 characters.".into(),
        ));
    }
    api.alarm(key.org, alarm).await?;
    api.fleet
        .step_alarm(key.created_by, alarm, step, note)
        .await?;
    api.alarm(key.org, alarm).await.map(Json)
}

impl Api {
    async fn alarm(&self, org: i64, alarm: i64) -> Result<Alarm, ApiError> {
        let row: Option<AlarmRow> = on_db!(&self.db, pool => {
            sqlx::query_as(&format!("{ALARM_SELECT} AND a.id = $2"))
                .bind(org)
                .bind(alarm)
                .fetch_optional(pool)
                .await
        })?;
        row.map(Alarm::from).ok_or(ApiError::NotFound)
    }
}
