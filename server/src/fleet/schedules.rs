//! Time-of-use schedules for meters that switch rates themselves, kept in step with the
//! tariffs without anybody pressing "send".
//!
//! Such a meter shows its resident which rate is running, so it must hold the bands in force
//! now. What it holds changes with time, not with an event one could hook: a published version
//! takes effect days later, a unit moves to another plan, a meter is installed. So the fleet
//! looks every minute: each such meter's schedule in force is worked out and compared with the
//! one last queued for it (`meters.tou_schedule_sent`); a difference queues a `tou_schedule`
//! command and records what it sent, in one transaction. The record is replaced only if it
//! still holds what was read, so two instances looking at once send a change once.

use super::{Fleet, FleetError, ops::queue};
use crate::{
    db::Tx,
    engine::setup::{SiteRules, load_rules, stored_plan},
    on_tx,
};
use app::domain::{Utility, fleet::CommandKind, tariff::Band};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::{
    collections::{HashMap, hash_map::Entry},
    time::Duration,
};

/// How often the schedules in force are compared with what the meters were sent.
const EVERY: Duration = Duration::from_secs(60);

/// The command's reason, shown in the meter's command list.
const REASON: &str = "time-of-use schedule in force";

/// What a meter that switches rates is sent: the site's clock and the bands of its tariff.
pub(crate) fn schedule(rules: &SiteRules, bands: &[Band]) -> Value {
    json!({ "time_zone": rules.tz.name(), "bands": bands })
}

/// Records `sent` as the schedule a meter was last sent, inside the caller's transaction.
pub(crate) async fn record(tx: &mut Tx, meter: i64, sent: &Value) -> Result<(), sqlx::Error> {
    on_tx!(tx, conn => {
        sqlx::query("UPDATE meters SET tou_schedule_sent = $1 WHERE id = $2")
            .bind(sent.to_string())
            .bind(meter)
            .execute(&mut *conn)
            .await
            .map(|_| ())
    })
}

/// A meter whose schedule in force differs from the one it was last sent.
struct Change {
    meter: i64,
    was: Option<String>,
    in_force: Value,
}

/// Compares the schedules every minute until the fleet stops.
pub async fn keep_sent(fleet: Fleet) {
    let mut every = tokio::time::interval(EVERY);
    loop {
        every.tick().await;
        match send_changed(&fleet, Utc::now()).await {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "time-of-use schedules queued"),
            Err(error) => tracing::warn!(%error, "time-of-use schedule check failed"),
        }
    }
}

/// Queues the schedule in force at `now` to every meter that switches rates and was last sent
/// another (or none, where its tariff has bands). Returns how many were queued.
pub async fn send_changed(fleet: &Fleet, now: DateTime<Utc>) -> Result<usize, FleetError> {
    let changes = {
        let mut tx = fleet.engine().db.begin_read().await?;
        changes(&mut tx, now).await?
    };
    if changes.is_empty() {
        return Ok(0);
    }
    let _turn = fleet.engine().turn().await;
    let mut tx = fleet.engine().db.begin_write().await?;
    let mut queued = 0;
    for change in changes {
        if replace(&mut tx, &change).await? {
            supersede(&mut tx, change.meter, now).await?;
            queue(
                &mut tx,
                change.meter,
                CommandKind::TouSchedule,
                Some(change.in_force),
                REASON,
                None,
                now,
            )
            .await?;
            queued += 1;
        }
    }
    tx.commit().await?;
    if queued > 0 {
        fleet.wake();
    }
    Ok(queued)
}

/// Every meter that switches rates whose schedule in force is not the one it was sent.
async fn changes(tx: &mut Tx, now: DateTime<Utc>) -> Result<Vec<Change>, FleetError> {
    type Row = (i64, i64, String, String, Option<String>);
    let meters: Vec<Row> = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT m.id, b.site_id, m.utility, u.tariff_plan, m.tou_schedule_sent FROM meters m \
             JOIN units u ON u.id = m.unit_id JOIN buildings b ON b.id = u.building_id \
             WHERE m.switches_rates AND m.removed_at IS NULL ORDER BY b.site_id, m.id",
        )
        .fetch_all(&mut *conn)
        .await
    })?;
    let mut sites: HashMap<i64, SiteRules> = HashMap::new();
    let mut changes = Vec::new();
    for (meter, site, utility, plan, was) in meters {
        if let Entry::Vacant(slot) = sites.entry(site) {
            slot.insert(load_rules(tx, site).await?);
        }
        let rules = &sites[&site];
        let utility: Utility = utility
            .parse()
            .map_err(|_| FleetError::Corrupt(format!("utility of meter {meter}: {utility}")))?;
        let bands = rules.bands_now(&stored_plan(&plan)?, utility, now);
        // A meter never sent a schedule needs none while its tariff has no bands.
        if was.is_none() && bands.is_empty() {
            continue;
        }
        let in_force = schedule(rules, bands);
        if was.as_deref() != Some(in_force.to_string().as_str()) {
            changes.push(Change {
                meter,
                was,
                in_force,
            });
        }
    }
    Ok(changes)
}

/// Records the new schedule if the meter still holds the one read: true when this call did.
async fn replace(tx: &mut Tx, change: &Change) -> Result<bool, sqlx::Error> {
    let replaced = on_tx!(tx, conn => {
        sqlx::query(
            "UPDATE meters SET tou_schedule_sent = $1 \
             WHERE id = $2 AND COALESCE(tou_schedule_sent, '') = COALESCE($3, '')",
        )
        .bind(change.in_force.to_string())
        .bind(change.meter)
        .bind(change.was.as_deref())
        .execute(&mut *conn)
        .await
        .map(|done| done.rows_affected())
    })?;
    Ok(replaced == 1)
}

/// An older schedule not yet delivered is dropped: the meter needs only the newest.
async fn supersede(tx: &mut Tx, meter: i64, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    on_tx!(tx, conn => {
        sqlx::query(
            "UPDATE meter_commands SET status = 'expired', finished_at = $1, \
             error = 'superseded by a newer schedule', next_attempt_at = NULL \
             WHERE meter_id = $2 AND command = 'tou_schedule' AND status = 'pending'",
        )
        .bind(now)
        .bind(meter)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    })
}
