//! Telemetry in: events from every transport, in batches. Readings go to the engine's rating
//! (idempotent, any order); then, in one transaction, what the meters said about themselves
//! (last seen, signal, battery, relay, clock), command acknowledgements, and the anomaly
//! rules with the alarms, holds and commands they cause.

use super::{
    Fleet, FleetError, MeterInfo, RulesCache,
    alarms::{self, Subject},
    ops,
    transport::Event,
    wire::{Ack, AckResult, Alarm, MeterAlarm, Reading, Relay, Status, Uplink},
};
use crate::{
    db::{Tx, push_ids},
    engine::{
        rating::{IncomingReading, RatingReport},
        supply::{SafetyReason, hold},
    },
    ledger::CHUNK,
    on_tx,
};
use app::domain::{
    Utility,
    alarm_details::AlarmDetail,
    fleet::{AlarmKind, CommandKind, OverloadAction, PowerVerdict},
};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::QueryBuilder;
use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    time::Instant,
};
use tokio::sync::mpsc;

#[derive(Debug, Default)]
pub struct IngestReport {
    pub rating: RatingReport,
    pub statuses: usize,
    pub acks: usize,
    pub alarms_raised: usize,
    /// Events from serials no meter has (or a removed one).
    pub unknown: usize,
}

/// Takes events off the channel in batches until every sender is gone.
pub async fn run(fleet: Fleet, mut events: mpsc::Receiver<Event>) {
    let started = Instant::now();
    let config = fleet.config().clone();
    loop {
        let first = match tokio::time::timeout(config.catch_up_quiet, events.recv()).await {
            Ok(Some(event)) => event,
            Ok(None) => return,
            Err(_quiet) => {
                if fleet.all_connected() {
                    fleet.set_caught_up();
                }
                continue;
            }
        };
        let mut batch = vec![first];
        while batch.len() < config.batch_max {
            match events.try_recv() {
                Ok(event) => batch.push(event),
                Err(_) => break,
            }
        }
        if let Err(error) = fleet.ingest(batch).await {
            tracing::warn!(%error, "telemetry batch failed");
        }
        // The backlog is rated once the queue runs dry with every transport connected.
        let drained = events.is_empty() && fleet.all_connected();
        if (drained && started.elapsed() >= config.catch_up_quiet)
            || started.elapsed() >= config.catch_up_max
        {
            fleet.set_caught_up();
        }
    }
}

impl Fleet {
    /// Handles one batch of events. Safe to receive any event twice.
    pub async fn ingest(&self, events: Vec<Event>) -> Result<IngestReport, FleetError> {
        let mut report = IngestReport::default();
        let mut readings: Vec<(MeterInfo, Reading)> = Vec::new();
        let mut rest: Vec<(MeterInfo, Event)> = Vec::new();
        let mut seen: BTreeMap<i64, (bool, DateTime<Utc>)> = BTreeMap::new();
        for event in events {
            let meter = match self.meter(&event.serial).await? {
                Some(meter) if !meter.removed => meter,
                _ => {
                    tracing::debug!(serial = event.serial, "event from an unknown meter dropped");
                    report.unknown += 1;
                    continue;
                }
            };
            let (_, last) = seen
                .entry(meter.id)
                .or_insert((meter.sleeps, event.received_at));
            *last = (*last).max(event.received_at);
            match event.uplink {
                Uplink::Reading(reading) => readings.push((meter, reading)),
                _ => rest.push((meter, event)),
            }
        }
        if seen.is_empty() {
            return Ok(report);
        }
        let incoming = readings
            .iter()
            .map(|(meter, reading)| IncomingReading {
                meter: meter.id,
                taken_at: reading.taken_at,
                register: reading.register,
            })
            .collect();
        // What the batch says of its meters commits with its charges: a batch that fails
        // leaves no meter marked heard, or remembered, for readings that were not rated.
        let (rating, ()) = self
            .engine()
            .rate_then(incoming, async |tx| {
                let now = Utc::now();
                let mut rules = RulesCache::default();
                mark_seen(tx, &seen, now).await?;
                let mut memories = Memories::load(tx, seen.keys().copied()).await?;
                readings.sort_by_key(|(meter, reading)| (meter.id, reading.taken_at));
                for (meter, reading) in &readings {
                    report.alarms_raised +=
                        reading_rules(tx, &mut rules, &mut memories, meter, reading, now).await?;
                }
                for (meter, event) in &rest {
                    match &event.uplink {
                        Uplink::Status(status) => {
                            report.statuses += 1;
                            report.alarms_raised += apply_status(
                                tx,
                                &mut rules,
                                &mut memories,
                                meter,
                                status,
                                event.received_at,
                            )
                            .await?;
                        }
                        Uplink::Ack(ack) => {
                            report.acks += 1;
                            apply_ack(tx, meter, ack, now).await?;
                        }
                        Uplink::Alarm(alarm) => {
                            report.alarms_raised +=
                                meter_alarm(tx, &mut rules, meter, alarm, now).await?;
                        }
                        Uplink::Reading(_) => unreachable!("readings were set apart"),
                    }
                }
                memories.save(tx).await?;
                Ok::<_, FleetError>(())
            })
            .await?;
        report.rating = rating;
        // Sleeping meters listen now, and rating may have queued cut-offs: deliver at once.
        self.wake();
        Ok(report)
    }
}

/// Records that the batch's meters were heard; a meter that had gone offline is back. A
/// sleeping meter listens for a moment now: its waiting commands are due at once. A few
/// statements for the whole batch, since a round trip per meter cost more than rating it.
async fn mark_seen(
    tx: &mut Tx,
    seen: &BTreeMap<i64, (bool, DateTime<Utc>)>,
    now: DateTime<Utc>,
) -> Result<(), FleetError> {
    let heard: Vec<(i64, bool, DateTime<Utc>)> = seen
        .iter()
        .map(|(meter, (sleeps, at))| (*meter, *sleeps, *at))
        .collect();
    let mut back: Vec<i64> = Vec::new();
    for chunk in heard.chunks(CHUNK) {
        let found: Vec<i64> = on_tx!(tx, conn => {
            let mut update = QueryBuilder::new("UPDATE meter_status SET online = TRUE WHERE NOT online AND meter_id");
            push_ids(&mut update, chunk.iter().map(|(meter, _, _)| *meter));
            update.push(" RETURNING meter_id");
            update.build_query_scalar().fetch_all(&mut *conn).await
        })?;
        back.extend(found);
        on_tx!(tx, conn => {
            let mut upsert = QueryBuilder::new("INSERT INTO meter_status (meter_id, last_seen_at, online) ");
            upsert.push_values(chunk, |mut row, (meter, _, at)| {
                row.push_bind(*meter).push_bind(*at).push("TRUE");
            });
            upsert.push(
                " ON CONFLICT (meter_id) DO UPDATE SET last_seen_at = excluded.last_seen_at \
                 WHERE meter_status.last_seen_at IS NULL OR meter_status.last_seen_at < excluded.last_seen_at",
            );
            upsert.build().execute(&mut *conn).await.map(|_| ())
        })?;
        let sleepers: Vec<i64> = chunk
            .iter()
            .filter_map(|(meter, sleeps, _)| sleeps.then_some(*meter))
            .collect();
        if !sleepers.is_empty() {
            on_tx!(tx, conn => {
                let mut due = QueryBuilder::new(
                    "UPDATE meter_commands SET next_attempt_at = NULL WHERE status IN ('pending', 'sent') AND meter_id",
                );
                push_ids(&mut due, sleepers.iter().copied());
                due.build().execute(&mut *conn).await.map(|_| ())
            })?;
        }
    }
    for meter in back {
        alarms::clear(tx, meter, AlarmKind::Offline, "heard from again", now).await?;
    }
    Ok(())
}

/// The fleet's own memory of a meter for its rules (apart from rating's).
#[derive(sqlx::FromRow, Clone, Default)]
struct Memory {
    meter_id: i64,
    last_at: Option<DateTime<Utc>>,
    last_register: Option<String>,
    flow_since: Option<DateTime<Utc>>,
    over_limit_since: Option<DateTime<Utc>>,
    power_kw: Option<String>,
}

/// The batch's meters' memories: read in one statement, kept here as each event changes
/// them, written back in one before the commit. The rules run in order within the batch, so
/// a meter's second reading sees what its first left.
struct Memories {
    known: HashMap<i64, Memory>,
    changed: BTreeSet<i64>,
}

impl Memories {
    async fn load(tx: &mut Tx, meters: impl Iterator<Item = i64>) -> Result<Self, sqlx::Error> {
        let meters: Vec<i64> = meters.collect();
        let mut known = HashMap::with_capacity(meters.len());
        for chunk in meters.chunks(CHUNK) {
            let rows: Vec<Memory> = on_tx!(tx, conn => {
                let mut select = QueryBuilder::new(
                    "SELECT meter_id, last_at, last_register, flow_since, over_limit_since, power_kw \
                     FROM meter_status WHERE meter_id",
                );
                push_ids(&mut select, chunk.iter().copied());
                select.build_query_as().fetch_all(&mut *conn).await
            })?;
            known.extend(rows.into_iter().map(|memory| (memory.meter_id, memory)));
        }
        Ok(Memories {
            known,
            changed: BTreeSet::new(),
        })
    }

    /// What the rules remember of the meter: nothing yet for a meter never heard before.
    fn get(&self, meter: i64) -> Memory {
        self.known.get(&meter).cloned().unwrap_or(Memory {
            meter_id: meter,
            ..Memory::default()
        })
    }

    /// Keeps the meter's changed memory, to be written back with the batch.
    fn keep(&mut self, memory: Memory) {
        self.changed.insert(memory.meter_id);
        self.known.insert(memory.meter_id, memory);
    }

    async fn save(self, tx: &mut Tx) -> Result<(), sqlx::Error> {
        let changed: Vec<&Memory> = self
            .changed
            .iter()
            .filter_map(|meter| self.known.get(meter))
            .collect();
        for chunk in changed.chunks(CHUNK) {
            on_tx!(tx, conn => {
                let mut update = QueryBuilder::new(
                    "UPDATE meter_status SET last_at = v.column2, last_register = v.column3, \
                     flow_since = v.column4, over_limit_since = v.column5, power_kw = v.column6 FROM (",
                );
                update.push_values(chunk, |mut row, memory| {
                    row.push_bind(memory.meter_id)
                        .push_bind(memory.last_at)
                        .push_bind(memory.last_register.clone())
                        .push_bind(memory.flow_since)
                        .push_bind(memory.over_limit_since)
                        .push_bind(memory.power_kw.clone());
                });
                update.push(") AS v WHERE meter_status.meter_id = v.column1");
                update.build().execute(&mut *conn).await.map(|_| ())
            })?;
        }
        Ok(())
    }
}

/// Water flow and spikes from consecutive readings, and overload from the power a reading
/// carries. Returns how many alarms it raised.
async fn reading_rules(
    tx: &mut Tx,
    rules: &mut RulesCache,
    memories: &mut Memories,
    meter: &MeterInfo,
    reading: &Reading,
    now: DateTime<Utc>,
) -> Result<usize, FleetError> {
    let mut raised = 0;
    if let Some(kw) = reading.power_kw {
        raised += power_rule(tx, rules, memories, meter, kw, reading.taken_at, now).await?;
    }
    // A bulk meter carries all its sub-meters' flows at once: a home's spike and continuous
    // flow rules do not fit it (what it loses shows in the loss report instead).
    if meter.utility != Utility::Water || meter.feeds {
        return Ok(raised);
    }
    let mut memory = memories.get(meter.id);
    if memory.last_at.is_some_and(|last| reading.taken_at <= last) {
        return Ok(raised); // late or repeated: the rules saw this interval already
    }
    let previous = memory
        .last_register
        .as_deref()
        .map(crate::engine::decimal)
        .transpose()?;
    let (flow_since, alarm) = match (memory.last_at, previous) {
        (Some(from), Some(register)) if reading.register >= register => {
            let site_rules = rules.get(tx, meter.site).await?;
            site_rules.water(
                reading.register - register,
                from,
                reading.taken_at,
                memory.flow_since,
            )
        }
        _ => (None, None),
    };
    memory.last_at = Some(reading.taken_at);
    memory.last_register = Some(reading.register.to_string());
    memory.flow_since = flow_since;
    memories.keep(memory);
    if let Some(kind) = alarm {
        let detail = match kind {
            AlarmKind::WaterSpike => AlarmDetail::WaterBurst {
                until: reading.taken_at,
            },
            _ => AlarmDetail::WaterRunning {
                since: flow_since.unwrap_or(reading.taken_at),
            },
        }
        .to_string();
        raised += water_alarm(tx, rules, meter, kind, &detail, now).await?;
    }
    Ok(raised)
}

async fn water_alarm(
    tx: &mut Tx,
    rules: &mut RulesCache,
    meter: &MeterInfo,
    kind: AlarmKind,
    detail: &str,
    now: DateTime<Utc>,
) -> Result<usize, FleetError> {
    let shut_off = rules.get(tx, meter.site).await?.water_shut_off;
    let new = alarms::raise(tx, Subject::Meter(meter), kind, detail, now).await?;
    if new.is_some() && shut_off {
        hold(tx, meter.id, SafetyReason::WaterLeak, None, now).await?;
    }
    Ok(usize::from(new.is_some()))
}

/// Power above the site's limit for long enough is an overload: cut and held, or limited.
async fn power_rule(
    tx: &mut Tx,
    rules: &mut RulesCache,
    memories: &mut Memories,
    meter: &MeterInfo,
    kw: Decimal,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<usize, FleetError> {
    if meter.utility != Utility::Electricity {
        return Ok(0);
    }
    let mut memory = memories.get(meter.id);
    let since = memory.over_limit_since;
    let site_rules = rules.get(tx, meter.site).await?.clone();
    let verdict = site_rules.power(kw, at, since);
    let since = match verdict {
        PowerVerdict::Normal => None,
        PowerVerdict::Above(since) => Some(since),
        PowerVerdict::Overload => since,
    };
    memory.over_limit_since = since;
    memory.power_kw = Some(kw.to_string());
    memories.keep(memory);
    if verdict != PowerVerdict::Overload {
        return Ok(0);
    }
    let limit = site_rules.overload_kw.unwrap_or_default();
    let detail = AlarmDetail::Overload {
        kw,
        limit_kw: limit,
        for_s: site_rules.overload_for_s,
    }
    .to_string();
    overload(tx, &site_rules, meter, &detail, now).await
}

async fn overload(
    tx: &mut Tx,
    rules: &app::domain::fleet::FleetRules,
    meter: &MeterInfo,
    detail: &str,
    now: DateTime<Utc>,
) -> Result<usize, FleetError> {
    let new = alarms::raise(tx, Subject::Meter(meter), AlarmKind::Overload, detail, now).await?;
    if new.is_none() {
        return Ok(0);
    }
    match rules.overload_action {
        OverloadAction::Cut => hold(tx, meter.id, SafetyReason::Overload, None, now).await?,
        OverloadAction::Limit => {
            let params = json!({ "kw": rules.load_limit_kw.to_string() });
            ops::queue(
                tx,
                meter.id,
                CommandKind::LoadLimit,
                Some(params),
                "safety: overload",
                None,
                now,
            )
            .await?;
        }
    }
    Ok(1)
}

/// An alarm the meter raised itself. A gas leak shuts the valve at once, whatever the hour,
/// and holds it until a technician lifts the hold: a top-up never reopens it.
async fn meter_alarm(
    tx: &mut Tx,
    rules: &mut RulesCache,
    meter: &MeterInfo,
    alarm: &Alarm,
    now: DateTime<Utc>,
) -> Result<usize, FleetError> {
    let detail = if alarm.detail.is_empty() {
        AlarmDetail::ReportedByMeter.to_string()
    } else {
        alarm.detail.chars().take(200).collect()
    };
    match alarm.kind {
        MeterAlarm::GasLeak => {
            hold(tx, meter.id, SafetyReason::GasLeak, None, now).await?;
            let new =
                alarms::raise(tx, Subject::Meter(meter), AlarmKind::GasLeak, &detail, now).await?;
            Ok(usize::from(new.is_some()))
        }
        MeterAlarm::Overload => {
            let site_rules = rules.get(tx, meter.site).await?.clone();
            overload(tx, &site_rules, meter, &detail, now).await
        }
        MeterAlarm::WaterFlow | MeterAlarm::WaterSpike => {
            water_alarm(tx, rules, meter, alarm.kind.into(), &detail, now).await
        }
        MeterAlarm::Tamper => {
            let new =
                alarms::raise(tx, Subject::Meter(meter), AlarmKind::Tamper, &detail, now).await?;
            Ok(usize::from(new.is_some()))
        }
    }
}

/// What the meter says about itself. A relay reported open while we hold it closed (and the
/// meter acknowledged the close) is tampering; a clock beyond the site's limit is a fault.
async fn apply_status(
    tx: &mut Tx,
    rules: &mut RulesCache,
    memories: &mut Memories,
    meter: &MeterInfo,
    status: &Status,
    received_at: DateTime<Utc>,
) -> Result<usize, FleetError> {
    let now = Utc::now();
    let offset = status
        .clock
        .map(|clock| (clock - received_at).num_seconds());
    on_tx!(tx, conn => {
        sqlx::query(
            "UPDATE meter_status SET signal_dbm = COALESCE($1, signal_dbm), battery_pct = COALESCE($2, battery_pct), \
             relay_reported = COALESCE($3, relay_reported), clock_offset_s = COALESCE($4, clock_offset_s) \
             WHERE meter_id = $5",
        )
        .bind(status.signal_dbm)
        .bind(status.battery_pct)
        .bind(status.relay.map(Relay::as_str))
        .bind(offset)
        .bind(meter.id)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    })?;
    let mut raised = 0;
    if let Some(offset) = offset {
        if rules.get(tx, meter.site).await?.clock_drifts(offset) {
            let detail = format!("the meter's clock is {offset} s off");
            raised += usize::from(
                alarms::raise(
                    tx,
                    Subject::Meter(meter),
                    AlarmKind::ClockDrift,
                    &detail,
                    now,
                )
                .await?
                .is_some(),
            );
        } else {
            alarms::clear(
                tx,
                meter.id,
                AlarmKind::ClockDrift,
                "clock within limits",
                now,
            )
            .await?;
        }
    }
    if status.relay == Some(Relay::Open) && closed_and_confirmed(tx, meter.id).await? {
        let detail = "supply reported open while it is cut";
        raised += usize::from(
            alarms::raise(tx, Subject::Meter(meter), AlarmKind::Tamper, detail, now)
                .await?
                .is_some(),
        );
    }
    if let Some(kw) = status.power_kw {
        let at = status.at.unwrap_or(received_at);
        raised += power_rule(tx, rules, memories, meter, kw, at, now).await?;
    }
    Ok(raised)
}

/// The newest relay command for the meter is an acknowledged close.
async fn closed_and_confirmed(tx: &mut Tx, meter: i64) -> Result<bool, sqlx::Error> {
    let newest: Option<(String, String)> = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT command, status FROM meter_commands WHERE meter_id = $1 \
             AND command IN ('open', 'close', 'restrict', 'arm') ORDER BY seq DESC LIMIT 1",
        )
        .bind(meter)
        .fetch_optional(&mut *conn)
        .await
    })?;
    Ok(newest.is_some_and(|(command, status)| command == "close" && status == "acknowledged"))
}

/// A meter answers for its own commands only: the id, meter and sequence must all match.
async fn apply_ack(
    tx: &mut Tx,
    meter: &MeterInfo,
    ack: &Ack,
    now: DateTime<Utc>,
) -> Result<(), FleetError> {
    let status = match ack.result {
        AckResult::Ok => "acknowledged",
        AckResult::Rejected => "failed",
        AckResult::Stale => "superseded",
    };
    let detail = (!ack.detail.is_empty()).then(|| ack.detail.chars().take(200).collect::<String>());
    // A refusal without a word of its own keeps the last attempt's error as the reason; a
    // command carried out shows only what the meter said, not an earlier attempt's failure.
    let keep_error = ack.result != AckResult::Ok;
    let changed = on_tx!(tx, conn => {
        sqlx::query(
            "UPDATE meter_commands SET status = $1, finished_at = $2, \
             error = CASE WHEN $7 THEN COALESCE($3, error) ELSE $3 END, next_attempt_at = NULL \
             WHERE id = $4 AND meter_id = $5 AND seq = $6 AND status IN ('pending', 'sent')",
        )
        .bind(status)
        .bind(now)
        .bind(detail)
        .bind(ack.command_id)
        .bind(meter.id)
        .bind(ack.seq)
        .bind(keep_error)
        .execute(&mut *conn)
        .await
        .map(|done| done.rows_affected())
    })?;
    if changed == 0 {
        tracing::debug!(
            meter = meter.id,
            command = ack.command_id,
            "acknowledgement ignored"
        );
    }
    Ok(())
}
