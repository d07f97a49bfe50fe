//! Alarms: raised once per meter and kind while live, announced to the people concerned,
//! moved open → acknowledged → resolved with every step in the audit log. The watch loop
//! finds meters that have gone quiet.

use super::{Fleet, FleetError, METER_COLUMNS, METER_FROM, MeterInfo, RulesCache};
use crate::{audit::AuditEntry, db::Tx, on_tx};
use app::domain::{
    alarm_details::AlarmDetail,
    fleet::{AlarmKind, AlarmStep},
};
use chrono::{DateTime, Utc};
use serde_json::json;

/// Where an alarm is: a meter, or a whole site (the cut-off cap).
#[derive(Clone, Copy, Debug)]
pub enum Subject<'a> {
    Meter(&'a MeterInfo),
    Site(i64),
}

impl Subject<'_> {
    fn site(&self) -> i64 {
        match self {
            Subject::Meter(meter) => meter.site,
            Subject::Site(site) => *site,
        }
    }

    fn open_key(&self, kind: AlarmKind) -> String {
        match self {
            Subject::Meter(meter) => format!("meter:{}:{}", meter.id, kind.as_str()),
            Subject::Site(site) => format!("site:{site}:{}", kind.as_str()),
        }
    }
}

/// Opens an alarm unless one of this kind is live for the subject. Returns its id if new.
/// The managers of the site hear of every new alarm; the resident of the unit of the ones
/// that concern them (a leak, an overload, water running).
pub async fn raise(
    tx: &mut Tx,
    subject: Subject<'_>,
    kind: AlarmKind,
    detail: &str,
    now: DateTime<Utc>,
) -> Result<Option<i64>, FleetError> {
    let (unit, meter) = match subject {
        Subject::Meter(info) => (Some(info.unit), Some(info.id)),
        Subject::Site(_) => (None, None),
    };
    let site = subject.site();
    let id: Option<i64> = on_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO alarms (site_id, unit_id, meter_id, kind, severity, detail, open_key, opened_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (open_key) DO NOTHING RETURNING id",
        )
        .bind(site)
        .bind(unit)
        .bind(meter)
        .bind(kind.as_str())
        .bind(kind.severity().as_str())
        .bind(detail)
        .bind(subject.open_key(kind))
        .bind(now)
        .fetch_optional(&mut *conn)
        .await
    })?;
    let Some(id) = id else {
        return Ok(None);
    };
    AuditEntry::new("alarm_opened", "alarm", id)
        .after(
            json!({ "kind": kind.as_str(), "meter_id": meter, "site_id": site, "detail": detail }),
        )
        .insert_tx(tx)
        .await?;
    let body = json!({ "alarm": id, "kind": kind.as_str(), "detail": detail }).to_string();
    notify(tx, site, None, "managers", kind, &body, id, now).await?;
    let for_resident = matches!(
        kind,
        AlarmKind::GasLeak | AlarmKind::Overload | AlarmKind::WaterFlow | AlarmKind::WaterSpike
    );
    if let (true, Some(meter)) = (for_resident, meter) {
        let wallet: Option<i64> = on_tx!(tx, conn => {
            sqlx::query_scalar(
                "SELECT w.account_id FROM wallets w JOIN meters m ON (w.meter_id = m.id OR (w.meter_id IS NULL AND w.unit_id = m.unit_id)) \
                 WHERE m.id = $1 AND w.closed_at IS NULL AND w.occupancy_id IS NOT NULL ORDER BY w.meter_id IS NULL LIMIT 1",
            )
            .bind(meter)
            .fetch_optional(&mut *conn)
            .await
        })?;
        if let Some(wallet) = wallet {
            notify(tx, site, Some(wallet), "resident", kind, &body, id, now).await?;
        }
    }
    tracing::warn!(
        alarm = id,
        kind = kind.as_str(),
        ?meter,
        site,
        detail,
        "alarm raised"
    );
    Ok(Some(id))
}

#[allow(clippy::too_many_arguments)]
async fn notify(
    tx: &mut Tx,
    site: i64,
    wallet: Option<i64>,
    audience: &str,
    kind: AlarmKind,
    body: &str,
    alarm: i64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO notifications (site_id, wallet_account_id, audience, kind, body, dedupe_key, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind(site)
        .bind(wallet)
        .bind(audience)
        .bind(format!("alarm_{}", kind.as_str()))
        .bind(body)
        .bind(format!("alarm:{alarm}:{audience}"))
        .bind(now)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    })
}

/// Resolves the live alarm of this kind on a meter, if any, because the condition cleared
/// (the meter is back online, its clock is right again). Audited as the system's doing.
pub async fn clear(
    tx: &mut Tx,
    meter: i64,
    kind: AlarmKind,
    why: &str,
    now: DateTime<Utc>,
) -> Result<(), FleetError> {
    let id: Option<i64> = on_tx!(tx, conn => {
        sqlx::query_scalar(
            "UPDATE alarms SET status = 'resolved', resolved_at = $1, open_key = NULL \
             WHERE open_key = $2 RETURNING id",
        )
        .bind(now)
        .bind(format!("meter:{meter}:{}", kind.as_str()))
        .fetch_optional(&mut *conn)
        .await
    })?;
    if let Some(id) = id {
        AuditEntry::new("alarm_resolved", "alarm", id)
            .after(json!({ "by": "system", "why": why }))
            .insert_tx(tx)
            .await?;
    }
    Ok(())
}

/// Moves an alarm on. Acknowledging a resolved alarm, or resolving one twice, is refused.
pub async fn step(
    tx: &mut Tx,
    alarm: i64,
    step: AlarmStep,
    actor: i64,
    note: &str,
    now: DateTime<Utc>,
) -> Result<(), FleetError> {
    let status: Option<String> = on_tx!(tx, conn => {
        sqlx::query_scalar("SELECT status FROM alarms WHERE id = $1")
            .bind(alarm)
            .fetch_optional(&mut *conn)
            .await
    })?;
    let status = status.ok_or(crate::engine::EngineError::NotFound("alarm"))?;
    let (sql, action) = match (step, status.as_str()) {
        (AlarmStep::Acknowledge, "open") => (
            "UPDATE alarms SET status = 'acknowledged', acknowledged_at = $1, acknowledged_by = $2 WHERE id = $3",
            "alarm_acknowledged",
        ),
        (AlarmStep::Resolve, "open" | "acknowledged") => (
            "UPDATE alarms SET status = 'resolved', resolved_at = $1, resolved_by = $2, open_key = NULL WHERE id = $3",
            "alarm_resolved",
        ),
        (_, current) => {
            return Err(crate::engine::EngineError::refused(format!(
                "This alarm is {current} already."
            ))
            .into());
        }
    };
    on_tx!(tx, conn => {
        sqlx::query(sql)
            .bind(now)
            .bind(actor)
            .bind(alarm)
            .execute(&mut *conn)
            .await
            .map(|_| ())
    })?;
    AuditEntry::new(action, "alarm", alarm)
        .by_actor(Some(actor))
        .after(json!({ "note": note }))
        .insert_tx(tx)
        .await?;
    if !note.is_empty() {
        // Each step happens once per alarm, so the step keys its note.
        let step = action.trim_start_matches("alarm_");
        keep_note(tx, alarm, actor, step, note, step, now).await?;
    }
    Ok(())
}

/// Adds a note to an alarm, whatever its state (a resolved alarm's story may go on: what the
/// technician found later). The form's `nonce` keys it: sent twice, it is kept once.
pub async fn add_note(
    tx: &mut Tx,
    alarm: i64,
    actor: i64,
    note: &str,
    nonce: &str,
    now: DateTime<Utc>,
) -> Result<(), FleetError> {
    if note.is_empty() {
        return Err(crate::engine::EngineError::refused("Write the note first.").into());
    }
    let exists: Option<i64> = on_tx!(tx, conn => {
        sqlx::query_scalar("SELECT id FROM alarms WHERE id = $1")
            .bind(alarm)
            .fetch_optional(&mut *conn)
            .await
    })?;
    exists.ok_or(crate::engine::EngineError::NotFound("alarm"))?;
    if keep_note(
        tx,
        alarm,
        actor,
        "note",
        note,
        &format!("form:{nonce}"),
        now,
    )
    .await?
    {
        AuditEntry::new("alarm_noted", "alarm", alarm)
            .by_actor(Some(actor))
            .after(json!({ "note": note }))
            .insert_tx(tx)
            .await?;
    }
    Ok(())
}

/// Stores a note unless one with the same key is there; answers whether it was new.
async fn keep_note(
    tx: &mut Tx,
    alarm: i64,
    actor: i64,
    step: &str,
    note: &str,
    key: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO alarm_notes (alarm_id, at, user_id, step, note, form_key) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (alarm_id, form_key) DO NOTHING",
        )
        .bind(alarm)
        .bind(now)
        .bind(actor)
        .bind(step)
        .bind(note)
        .bind(key)
        .execute(&mut *conn)
        .await
        .map(|done| done.rows_affected())
    })?;
    Ok(done == 1)
}

/// Marks meters that have gone quiet as offline, every `watch_every`.
pub async fn watch(fleet: Fleet) {
    let mut every = tokio::time::interval(fleet.config().watch_every);
    loop {
        every.tick().await;
        match find_offline(&fleet, Utc::now()).await {
            Ok(0) => {}
            Ok(count) => tracing::warn!(count, "meters went offline"),
            Err(error) => tracing::warn!(%error, "offline check failed"),
        }
    }
}

/// A meter's fleet columns and when it was last heard (or installed).
type Quiet = (
    i64,
    i64,
    i64,
    String,
    String,
    bool,
    bool,
    bool,
    DateTime<Utc>,
);

/// Raises an offline alarm for every meter silent for longer than its site allows (a
/// sleeping meter is allowed much longer). Returns how many went offline.
pub async fn find_offline(fleet: &Fleet, now: DateTime<Utc>) -> Result<usize, FleetError> {
    let _turn = fleet.engine().turn().await;
    let mut tx = fleet.engine().db.begin_write().await?;
    // The meters themselves come with the look-up: no second query per meter.
    let candidates: Vec<Quiet> = on_tx!(&mut tx, conn => {
        sqlx::query_as(&format!(
            "{} , COALESCE(s.last_seen_at, m.installed_at) {} \
             LEFT JOIN meter_status s ON s.meter_id = m.id \
             WHERE m.removed_at IS NULL AND (s.online IS NULL OR s.online) \
             AND COALESCE(s.last_seen_at, m.installed_at) < $1",
            METER_COLUMNS, METER_FROM
        ))
        .bind(now - chrono::Duration::minutes(1))
        .fetch_all(&mut *conn)
        .await
    })?;
    let mut rules = RulesCache::default();
    let mut offline = 0;
    for (id, site, unit, utility, transport, sleeps, removed, feeds, seen) in candidates {
        let meter =
            super::meter_info((id, site, unit, utility, transport, sleeps, removed, feeds))?;
        let limit = rules
            .get(&mut tx, meter.site)
            .await?
            .offline_after(meter.sleeps);
        if now - seen < limit {
            continue;
        }
        on_tx!(&mut tx, conn => {
            sqlx::query(
                "INSERT INTO meter_status (meter_id, online) VALUES ($1, FALSE) \
                 ON CONFLICT (meter_id) DO UPDATE SET online = FALSE",
            )
            .bind(meter.id)
            .execute(&mut *conn)
            .await
            .map(|_| ())
        })?;
        let detail = AlarmDetail::Silent { since: seen }.to_string();
        raise(
            &mut tx,
            Subject::Meter(&meter),
            AlarmKind::Offline,
            &detail,
            now,
        )
        .await?;
        offline += 1;
    }
    tx.commit().await?;
    Ok(offline)
}
