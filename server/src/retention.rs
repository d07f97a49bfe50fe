//! How long what was sent is kept: finished webhook deliveries with their attempts, finished
//! notice deliveries, and notices nothing refers to any more, older than the retention period
//! (`PREPAID_RETENTION_DAYS`, a year by default). What is still queued or in a worker's hands
//! is never touched; the ledger, payments, readings and the audit log are not this module's
//! (they are kept for good).

use crate::db::Db;
use chrono::{DateTime, Duration, Utc};

/// Rows a statement deletes at a time, so a first clean-up of years does not hold the
/// database in one long transaction.
const BATCH: i64 = 5_000;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Forgotten {
    pub webhook_deliveries: u64,
    pub notice_deliveries: u64,
    pub notices: u64,
}

const STEPS: [&str; 4] = [
    "DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT d.id FROM webhook_deliveries d \
     WHERE d.status <> 'queued' AND d.created_at < $1 \
     AND EXISTS (SELECT 1 FROM webhook_attempts a WHERE a.delivery_id = d.id) \
     ORDER BY d.id LIMIT $2)",
    "DELETE FROM webhook_deliveries WHERE id IN (SELECT d.id FROM webhook_deliveries d \
     WHERE d.status <> 'queued' AND d.created_at < $1 \
     AND NOT EXISTS (SELECT 1 FROM webhook_attempts a WHERE a.delivery_id = d.id) \
     ORDER BY d.id LIMIT $2)",
    "DELETE FROM notification_deliveries WHERE id IN (SELECT id FROM notification_deliveries \
     WHERE status NOT IN ('queued', 'sending') AND created_at < $1 ORDER BY id LIMIT $2)",
    "DELETE FROM notifications WHERE id IN (SELECT n.id FROM notifications n \
     WHERE n.status <> 'queued' AND n.created_at < $1 \
     AND NOT EXISTS (SELECT 1 FROM notification_deliveries d WHERE d.notification_id = n.id) \
     ORDER BY n.id LIMIT $2)",
];

pub async fn forget_old(db: &Db, now: DateTime<Utc>, days: u32) -> Result<Forgotten, sqlx::Error> {
    let before = now - Duration::days(i64::from(days));
    let mut counts = [0_u64; 4];
    for (step, sql) in STEPS.iter().enumerate() {
        loop {
            let deleted = crate::on_db!(db, pool => {
                sqlx::query(sql)
                    .bind(before)
                    .bind(BATCH)
                    .execute(pool)
                    .await
                    .map(|done| done.rows_affected())
            })?;
            counts[step] += deleted;
            // Attempts go a batch of deliveries at a time: several rows each.
            if deleted == 0 || (step != 0 && deleted < BATCH as u64) {
                break;
            }
        }
    }
    Ok(Forgotten {
        webhook_deliveries: counts[1],
        notice_deliveries: counts[2],
        notices: counts[3],
    })
}
