//! The command outbox: pending → sent → acknowledged | failed | expired (or superseded by a
//! newer relay command, or held by the site's cap on cut-offs until a manager agrees).
//!
//! Each command carries its id (a meter ignores one it has seen) and the meter's sequence
//! number (a meter ignores a relay command older than the last it applied), so a delayed
//! cut-off never overrides a newer reconnection. Here, too, an older relay command still in
//! flight is superseded as soon as a newer one exists.

use super::{
    Fleet, FleetError, MeterInfo, RulesCache,
    alarms::{self, Subject},
    transport::{AWAKE_WINDOW_S, Delivery},
    wire::Downlink,
};
use crate::{db::Tx, on_tx};
use app::domain::fleet::{AlarmKind, CommandKind, backoff};
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct DispatchReport {
    pub sent: usize,
    pub send_errors: usize,
    pub expired: usize,
    pub superseded: u64,
    pub held: usize,
    /// Credit cut-offs waiting for rating to catch up after a start.
    pub waiting_for_catch_up: usize,
}

/// Runs the outbox: at every wake-up, and every `outbox_tick` regardless.
pub async fn run(fleet: Fleet) {
    let tick = fleet.config().outbox_tick;
    let mut stagger = Stagger::default();
    loop {
        match fleet.dispatch_with(Utc::now(), &mut stagger).await {
            Ok(report) if report.sent + report.expired + report.held > 0 => {
                tracing::debug!(?report, "outbox");
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "outbox failed"),
        }
        tokio::select! {
            () = fleet.inner.wake.notified() => {}
            () = tokio::time::sleep(tick) => {}
        }
    }
}

/// Reconnections sent per site within the current second.
#[derive(Default)]
pub struct Stagger {
    second: i64,
    sent: HashMap<i64, u32>,
}

impl Stagger {
    fn allow(&mut self, site: i64, per_second: u32, now: DateTime<Utc>) -> bool {
        if now.timestamp() != self.second {
            self.second = now.timestamp();
            self.sent.clear();
        }
        let sent = self.sent.entry(site).or_default();
        if *sent >= per_second {
            return false;
        }
        *sent += 1;
        true
    }
}

#[derive(sqlx::FromRow)]
struct Due {
    id: i64,
    meter_id: i64,
    seq: i64,
    command: String,
    reason: String,
    params: Option<String>,
    status: String,
    attempts: i32,
    created_at: DateTime<Utc>,
    serial: String,
    last_seen_at: Option<DateTime<Utc>>,
}

/// What becomes of one due command.
enum Outcome {
    Sent { next: DateTime<Utc> },
    Retry { next: DateTime<Utc>, error: String },
    Wait { next: Option<DateTime<Utc>> },
    Held,
    Expired(String),
}

const DUE_PER_ROUND: i64 = 2_000;

impl Fleet {
    /// One pass over the due commands at `now`.
    pub async fn dispatch(&self, now: DateTime<Utc>) -> Result<DispatchReport, FleetError> {
        self.dispatch_with(now, &mut Stagger::default()).await
    }

    async fn dispatch_with(
        &self,
        now: DateTime<Utc>,
        stagger: &mut Stagger,
    ) -> Result<DispatchReport, FleetError> {
        let mut report = DispatchReport::default();
        // Idle most of the time: look before taking the write turn. (Superseding only
        // matters when something is due: a newer relay command is itself due.)
        let mut look = self.engine().db.begin_read().await?;
        if due(&mut look, now).await?.is_empty() {
            return Ok(report);
        }
        drop(look);
        let due = {
            let _turn = self.engine().turn().await;
            let mut tx = self.engine().db.begin_write().await?;
            report.superseded = supersede(&mut tx, now).await?;
            let due = due(&mut tx, now).await?;
            claim(&mut tx, &due, now).await?;
            tx.commit().await?;
            due
        };
        if due.is_empty() {
            return Ok(report);
        }
        let caught_up = self.caught_up();
        let mut cuts_this_minute: HashMap<i64, i64> = HashMap::new();
        let mut rules = RulesCache::default();
        let mut outcomes = Vec::with_capacity(due.len());
        // Reads for the cap and the rules happen in a read snapshot; sends happen outside any
        // transaction, so a slow network never holds the database.
        let mut read = self.engine().db.begin_read().await?;
        for command in due {
            let Some(meter) = self.meter(&command.serial).await? else {
                continue;
            };
            let delivery = self.delivery(meter.transport, meter.sleeps);
            let kind = CommandKind::parse(&command.command)
                .ok_or_else(|| FleetError::Corrupt(command.command.clone()))?;
            let outcome = if now - command.created_at > delivery.lifetime {
                Outcome::Expired(format!(
                    "not acknowledged within {} minutes",
                    delivery.lifetime.num_minutes()
                ))
            } else if command.status == "sent" && command.attempts as u32 >= delivery.max_attempts {
                Outcome::Expired(format!("no answer after {} attempts", command.attempts))
            } else if is_credit_cut(kind, &command) && command.status == "pending" {
                if !caught_up {
                    report.waiting_for_catch_up += 1;
                    Outcome::Wait {
                        next: Some(now + Duration::seconds(1)),
                    }
                } else if !released(&command)
                    && over_cap(&mut read, &mut cuts_this_minute, &mut rules, &meter, now).await?
                {
                    Outcome::Held
                } else {
                    self.deliver(&meter, &delivery, kind, &command, now).await
                }
            } else if is_credit_reconnect(kind, &command) && command.attempts == 0 {
                let per_second = rules
                    .get(&mut read, meter.site)
                    .await?
                    .reconnects_per_second;
                if stagger.allow(meter.site, per_second, now) {
                    self.deliver(&meter, &delivery, kind, &command, now).await
                } else {
                    Outcome::Wait {
                        next: Some(now + Duration::seconds(1)),
                    }
                }
            } else {
                self.deliver(&meter, &delivery, kind, &command, now).await
            };
            if let Outcome::Sent { .. } = outcome
                && is_credit_cut(kind, &command)
            {
                *cuts_this_minute.entry(meter.site).or_default() += 1;
            }
            outcomes.push((command, meter, outcome));
        }
        drop(read);
        let _turn = self.engine().turn().await;
        let mut tx = self.engine().db.begin_write().await?;
        for (command, meter, outcome) in outcomes {
            record(&mut tx, &command, &meter, outcome, now, &mut report).await?;
        }
        tx.commit().await?;
        Ok(report)
    }

    /// Hands one command to its meter's transport, unless the meter sleeps and is not
    /// listening now (it will be, right after its next uplink).
    async fn deliver(
        &self,
        meter: &MeterInfo,
        delivery: &Delivery,
        kind: CommandKind,
        command: &Due,
        now: DateTime<Utc>,
    ) -> Outcome {
        let listening = !meter.sleeps
            || command
                .last_seen_at
                .is_some_and(|seen| now - seen <= Duration::seconds(AWAKE_WINDOW_S));
        if !listening {
            return Outcome::Wait {
                next: Some(command.created_at + delivery.lifetime),
            };
        }
        let Some(transport) = self.transport(meter.transport) else {
            return Outcome::Retry {
                next: now + delivery.retry_cap,
                error: format!("no {} transport in this process", meter.transport),
            };
        };
        let downlink = Downlink {
            command_id: command.id,
            seq: command.seq,
            command: kind,
            params: command
                .params
                .as_deref()
                .and_then(|raw| serde_json::from_str(raw).ok())
                .filter(|params: &serde_json::Value| params.get("released_by").is_none())
                .unwrap_or(serde_json::Value::Null),
            expires_at: command.created_at + delivery.lifetime,
        };
        let attempt = command.attempts as u32 + 1;
        match transport.send(&command.serial, &downlink).await {
            Ok(()) => Outcome::Sent {
                next: now
                    + backoff(
                        attempt,
                        delivery.ack_timeout,
                        delivery.retry_cap.max(delivery.ack_timeout),
                    ),
            },
            Err(error) => Outcome::Retry {
                next: now + backoff(attempt, delivery.retry_base, delivery.retry_cap),
                error: error.to_string(),
            },
        }
    }
}

/// A cut-off (or restriction) because credit ran out: these are capped per site.
fn is_credit_cut(kind: CommandKind, command: &Due) -> bool {
    matches!(kind, CommandKind::Close | CommandKind::Restrict)
        && command.reason.starts_with("credit")
}

fn is_credit_reconnect(kind: CommandKind, command: &Due) -> bool {
    matches!(kind, CommandKind::Open | CommandKind::Arm) && command.reason.starts_with("credit")
}

fn released(command: &Due) -> bool {
    command
        .params
        .as_deref()
        .is_some_and(|params| params.contains("released_by"))
}

/// Whether one more credit cut-off for the meter's site would exceed its cap this minute.
async fn over_cap(
    tx: &mut Tx,
    counted: &mut HashMap<i64, i64>,
    rules: &mut RulesCache,
    meter: &MeterInfo,
    now: DateTime<Utc>,
) -> Result<bool, FleetError> {
    if let std::collections::hash_map::Entry::Vacant(slot) = counted.entry(meter.site) {
        let recent: i64 = on_tx!(tx, conn => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM meter_commands c JOIN meters m ON m.id = c.meter_id JOIN units u ON u.id = m.unit_id \
                 JOIN buildings b ON b.id = u.building_id WHERE b.site_id = $1 AND c.command IN ('close', 'restrict') \
                 AND c.reason LIKE 'credit%' AND c.sent_at > $2",
            )
            .bind(meter.site)
            .bind(now - Duration::minutes(1))
            .fetch_one(&mut *conn)
            .await
        })?;
        slot.insert(recent);
    }
    let cap = rules.get(tx, meter.site).await?.credit_cuts_per_minute;
    Ok(counted[&meter.site] >= i64::from(cap))
}

/// Relay commands still in flight with a newer relay command for the same meter are moot.
async fn supersede(tx: &mut Tx, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    on_tx!(tx, conn => {
        sqlx::query(
            "UPDATE meter_commands SET status = 'superseded', finished_at = $1, next_attempt_at = NULL \
             WHERE status IN ('held', 'pending', 'sent') AND command IN ('open', 'close', 'restrict', 'arm') \
             AND EXISTS (SELECT 1 FROM meter_commands n WHERE n.meter_id = meter_commands.meter_id \
             AND n.seq > meter_commands.seq AND n.command IN ('open', 'close', 'restrict', 'arm'))",
        )
        .bind(now)
        .execute(&mut *conn)
        .await
        .map(|done| done.rows_affected())
    })
}

async fn due(tx: &mut Tx, now: DateTime<Utc>) -> Result<Vec<Due>, sqlx::Error> {
    on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT c.id, c.meter_id, c.seq, c.command, c.reason, c.params, c.status, c.attempts, c.created_at, \
             m.serial, s.last_seen_at FROM meter_commands c JOIN meters m ON m.id = c.meter_id \
             LEFT JOIN meter_status s ON s.meter_id = c.meter_id \
             WHERE c.status IN ('pending', 'sent') AND (c.next_attempt_at IS NULL OR c.next_attempt_at <= $1) \
             ORDER BY c.id LIMIT $2",
        )
        .bind(now)
        .bind(DUE_PER_ROUND)
        .fetch_all(&mut *conn)
        .await
    })
}

/// How long a claimed command stays out of other workers' sight while it is being sent;
/// its outcome is recorded well within it, and replaces it.
const CLAIM_SECONDS: i64 = 60;

/// Claims what [`due`] just read (in the same transaction, under the writer lock): their next
/// attempt moves past the claim, so another instance's outbox does not send them too.
async fn claim(tx: &mut Tx, due: &[Due], now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    if due.is_empty() {
        return Ok(());
    }
    on_tx!(tx, conn => {
        let mut claim = sqlx::QueryBuilder::new("UPDATE meter_commands SET next_attempt_at = ");
        claim.push_bind(now + Duration::seconds(CLAIM_SECONDS)).push(" WHERE id IN (");
        let mut ids = claim.separated(", ");
        for command in due {
            ids.push_bind(command.id);
        }
        claim.push(")");
        claim.build().execute(&mut *conn).await.map(|_| ())
    })
}

async fn record(
    tx: &mut Tx,
    command: &Due,
    meter: &MeterInfo,
    outcome: Outcome,
    now: DateTime<Utc>,
    report: &mut DispatchReport,
) -> Result<(), FleetError> {
    // Only a command still where we found it changes: an acknowledgement may have come in.
    let guard = "AND status = $9";
    let (status, next, sent_at, finished, error, attempt) = match &outcome {
        Outcome::Sent { next } => {
            report.sent += 1;
            ("sent", Some(*next), Some(now), None, None, 1)
        }
        Outcome::Retry { next, error } => {
            report.send_errors += 1;
            (
                command.status.as_str(),
                Some(*next),
                None,
                None,
                Some(error.clone()),
                1,
            )
        }
        Outcome::Wait { next } => (command.status.as_str(), *next, None, None, None, 0),
        Outcome::Held => {
            report.held += 1;
            ("held", None, None, None, None, 0)
        }
        Outcome::Expired(why) => {
            report.expired += 1;
            ("expired", None, None, Some(now), Some(why.clone()), 0)
        }
    };
    let changed = on_tx!(tx, conn => {
        sqlx::query(&format!(
            "UPDATE meter_commands SET status = $1, next_attempt_at = $2, sent_at = COALESCE($3, sent_at), \
             finished_at = $4, error = COALESCE($5, error), attempts = attempts + $6 WHERE id = $7 AND meter_id = $8 {guard}"
        ))
        .bind(status)
        .bind(next)
        .bind(sent_at)
        .bind(finished)
        .bind(error)
        .bind(attempt)
        .bind(command.id)
        .bind(command.meter_id)
        .bind(&command.status)
        .execute(&mut *conn)
        .await
        .map(|done| done.rows_affected())
    })?;
    if changed == 0 {
        return Ok(());
    }
    match outcome {
        Outcome::Expired(why) => {
            let detail = format!(
                "{} #{} ({}): {why}",
                command.command, command.seq, command.reason
            );
            alarms::raise(
                tx,
                Subject::Meter(meter),
                AlarmKind::CommandExpired,
                &detail,
                now,
            )
            .await?;
        }
        Outcome::Held => {
            let detail =
                "more credit cut-offs than the site allows per minute: confirm to send them";
            alarms::raise(
                tx,
                Subject::Site(meter.site),
                AlarmKind::CutCap,
                detail,
                now,
            )
            .await?;
        }
        _ => {}
    }
    Ok(())
}
