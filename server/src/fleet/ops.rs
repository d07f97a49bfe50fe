//! What people do to meters: remote operations from the console (read now, open or close,
//! load limit, clock, time-of-use schedule), the meter's life cycle (install, replace,
//! decommission), held cut-offs, alarm steps and the site's fleet rules. Each is one
//! transaction with its audit entry.

use super::{Fleet, FleetError, alarms, broker, schedules, transport::TransportKind};
use crate::{
    audit::AuditEntry,
    db::{ReadingTime, Tx, is_unique_violation},
    engine::{
        EngineError,
        occupancy::open_wallets,
        rating::IncomingReading,
        setup::load_rules as load_site_rules,
        supply::{SafetyReason, send},
    },
    on_tx,
};
use app::domain::{
    Multiplier, Role, Utility,
    fleet::{
        AlarmStep, CommandKind, FleetRules, InstalledMeter, MeterSerial, Operation, alarm_note,
    },
    supply::MeterCommand,
};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};

pub use crate::engine::supply::queue_command as queue;

/// A meter to install, as the console's form gives it (parsed here, at the edge).
#[derive(Clone, Debug)]
pub struct NewMeter {
    pub serial: MeterSerial,
    pub utility: Utility,
    pub multiplier: Multiplier,
    pub first_register: Decimal,
    pub transport: TransportKind,
    pub sleeps: bool,
    pub switches_rates: bool,
}

impl NewMeter {
    #[allow(clippy::too_many_arguments)]
    pub fn parse(
        serial: &str,
        utility: &str,
        multiplier: &str,
        first_register: &str,
        transport: &str,
        sleeps: bool,
        switches_rates: bool,
    ) -> Result<Self, EngineError> {
        Ok(NewMeter {
            serial: MeterSerial::parse(serial).map_err(EngineError::Refused)?,
            utility: utility
                .parse()
                .map_err(|_| EngineError::refused("Choose electricity, water or gas."))?,
            multiplier: Multiplier::parse(multiplier)
                .map_err(|error| EngineError::refused(error.to_string()))?,
            first_register: register(first_register)?,
            transport: TransportKind::parse(transport)
                .ok_or_else(|| EngineError::refused("Choose the simulator or MQTT."))?,
            sleeps,
            switches_rates,
        })
    }
}

/// A register value typed at the meter: a number, not negative.
pub fn register(raw: &str) -> Result<Decimal, EngineError> {
    match raw.trim().parse::<Decimal>() {
        Ok(value) if value >= Decimal::ZERO => Ok(value),
        _ => Err(EngineError::refused(
            "A register reading is a number, zero or more, as the meter shows it.",
        )),
    }
}

/// Who asks, and with which roles on the meter's site (authorised by the caller already).
#[derive(Clone, Debug)]
pub struct Actor {
    pub user: i64,
    pub roles: Vec<Role>,
}

impl Fleet {
    /// A remote operation on one meter. Supply changes need a reason, kept in the audit log.
    pub async fn operate(
        &self,
        actor: &Actor,
        meter: i64,
        operation: Operation,
        reason: &str,
    ) -> Result<(), FleetError> {
        let reason = reason.trim();
        if operation.needs_reason() && reason.is_empty() {
            return Err(EngineError::refused("Say why: it goes in the audit log.").into());
        }
        let now = Utc::now();
        match &operation {
            Operation::Close => {
                self.engine()
                    .hold(meter, SafetyReason::ManagerClose, Some(actor.user))
                    .await?;
            }
            Operation::Open => self.open(actor, meter, reason, now).await?,
            _ => {
                let _turn = self.engine().turn().await;
                let mut tx = self.engine().db.begin_write().await?;
                let info = super::meter_by_id(&mut tx, meter)
                    .await?
                    .ok_or(EngineError::NotFound("meter"))?;
                let (kind, params) = match &operation {
                    Operation::ReadNow => (CommandKind::Read, None),
                    Operation::SyncClock => (CommandKind::SyncClock, Some(json!({ "time": now }))),
                    Operation::LoadLimit { kw } => (
                        CommandKind::LoadLimit,
                        Some(json!({ "kw": kw.to_string() })),
                    ),
                    Operation::SendSchedule => {
                        let sent = schedule(&mut tx, &info, now).await?;
                        schedules::record(&mut tx, meter, &sent).await?;
                        (CommandKind::TouSchedule, Some(sent))
                    }
                    Operation::Open | Operation::Close => unreachable!("handled above"),
                };
                let label = if reason.is_empty() {
                    kind.as_str()
                } else {
                    reason
                };
                queue(
                    &mut tx,
                    meter,
                    kind,
                    params,
                    &format!("console: {label}"),
                    Some(actor.user),
                    now,
                )
                .await?;
                tx.commit().await?;
            }
        }
        let _turn = self.engine().turn().await;
        let mut tx = self.engine().db.begin_write().await?;
        AuditEntry::new("meter_operation", "meter", meter)
            .by_actor(Some(actor.user))
            .after(json!({ "operation": operation, "reason": reason }))
            .insert_tx(&mut tx)
            .await?;
        tx.commit().await?;
        self.wake();
        Ok(())
    }

    /// Opens a meter: lifts a safety hold (if the caller's role may), or reopens it when
    /// credit allows. A supply cut for credit reopens with a top-up, not from here.
    async fn open(
        &self,
        actor: &Actor,
        meter: i64,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), FleetError> {
        let held: Option<Option<String>> = {
            let mut tx = self.engine().db.begin_read().await?;
            on_tx!(&mut tx, conn => {
                sqlx::query_scalar("SELECT safety_hold FROM meter_states WHERE meter_id = $1")
                    .bind(meter)
                    .fetch_optional(&mut *conn)
                    .await
            })?
        };
        if held.flatten().is_some() {
            self.engine()
                .clear_hold(meter, &actor.roles, Some(actor.user))
                .await?;
            return Ok(());
        }
        let _turn = self.engine().turn().await;
        let mut tx = self.engine().db.begin_write().await?;
        let cut: Option<String> = on_tx!(&mut tx, conn => {
            sqlx::query_scalar(
                "SELECT w.supply_state FROM wallets w JOIN meters m ON (w.meter_id = m.id OR (w.meter_id IS NULL AND w.unit_id = m.unit_id)) \
                 WHERE m.id = $1 AND w.closed_at IS NULL AND w.supply_state IN ('cut', 'restricted') LIMIT 1",
            )
            .bind(meter)
            .fetch_optional(&mut *conn)
            .await
        })?;
        if cut.is_some() {
            return Err(EngineError::refused(
                "This supply is cut for credit: it reopens when the account is topped up.",
            )
            .into());
        }
        send(
            &mut tx,
            meter,
            MeterCommand::Open,
            &format!("console: {reason}"),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Installs a meter on a unit: its first reading is the baseline, an occupant's wallet
    /// opens for it (or a replaced meter's wallet carries on), and an MQTT meter gets broker
    /// credentials, shown once.
    pub async fn install(
        &self,
        actor: i64,
        unit: i64,
        meter: NewMeter,
    ) -> Result<InstalledMeter, FleetError> {
        self.install_replacing(actor, unit, meter, None).await
    }

    async fn install_replacing(
        &self,
        actor: i64,
        unit: i64,
        meter: NewMeter,
        replacing: Option<(i64, Decimal)>,
    ) -> Result<InstalledMeter, FleetError> {
        let now = Utc::now();
        if let Some((old, final_register)) = replacing {
            // The old meter's last reading is charged before it leaves: nothing is lost.
            self.final_reading(old, final_register, now).await?;
        }
        let password = (meter.transport == TransportKind::Mqtt).then(broker::new_password);
        let hash = password.as_deref().map(broker::hash_password);
        let id = {
            let _turn = self.engine().turn().await;
            let mut tx = self.engine().db.begin_write().await?;
            let inserted: Result<i64, sqlx::Error> = on_tx!(&mut tx, conn => {
                sqlx::query_scalar(
                    "INSERT INTO meters (unit_id, utility, serial, unit_of_measure, multiplier, installed_at, \
                     transport, sleeps, switches_rates, broker_secret_hash) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                )
                .bind(unit)
                .bind(meter.utility.as_str())
                .bind(meter.serial.as_str())
                .bind(meter.utility.default_unit_of_measure())
                .bind(meter.multiplier.value().to_string())
                .bind(now)
                .bind(meter.transport.as_str())
                .bind(meter.sleeps)
                .bind(meter.switches_rates)
                .bind(hash.as_deref())
                .fetch_one(&mut *conn)
                .await
            });
            let id = match inserted {
                Err(error) if is_unique_violation(&error) => {
                    return Err(
                        EngineError::refused("A meter with this serial exists already.").into(),
                    );
                }
                other => other?,
            };
            if let Some((old, _)) = replacing {
                on_tx!(&mut tx, conn => {
                    sqlx::query("UPDATE meters SET removed_at = $1, replaced_by = $2, broker_secret_hash = NULL WHERE id = $3")
                        .bind(now)
                        .bind(id)
                        .bind(old)
                        .execute(&mut *conn)
                        .await
                        .map(|_| ())
                })?;
                withdraw_commands(&mut tx, old, "meter replaced", now).await?;
                // The new meter takes the old one's place between masters and sub-meters.
                on_tx!(&mut tx, conn => {
                    sqlx::query("UPDATE meters SET master_meter_id = (SELECT master_meter_id FROM meters WHERE id = $1) WHERE id = $2")
                        .bind(old)
                        .bind(id)
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("UPDATE meters SET master_meter_id = $1 WHERE master_meter_id = $2 AND removed_at IS NULL")
                        .bind(id)
                        .bind(old)
                        .execute(&mut *conn)
                        .await
                        .map(|_| ())
                })?;
            }
            open_wallets(&mut tx, unit, now).await?;
            let action = if replacing.is_some() {
                "meter_replaced"
            } else {
                "meter_installed"
            };
            AuditEntry::new(action, "meter", id)
                .by_actor(Some(actor))
                .after(json!({
                    "serial": meter.serial.as_str(), "unit_id": unit, "utility": meter.utility.as_str(),
                    "first_register": meter.first_register.to_string(), "replaces": replacing.map(|r| r.0),
                    "transport": meter.transport.as_str(),
                }))
                .insert_tx(&mut tx)
                .await?;
            tx.commit().await?;
            id
        };
        self.engine()
            .rate(vec![IncomingReading {
                meter: id,
                taken_at: now,
                register: meter.first_register,
            }])
            .await?;
        self.forget(meter.serial.as_str());
        self.refresh_broker().await;
        if meter.switches_rates {
            // Its schedule goes now, not at the next minute's look; that look retries a failure.
            if let Err(error) = schedules::send_changed(self, now).await {
                tracing::warn!(%error, meter = id, "time-of-use schedule not queued at install");
            }
        }
        Ok(InstalledMeter {
            id,
            serial: meter.serial.to_string(),
            broker_password: password,
        })
    }

    /// Replaces a meter: the old one's final reading is charged, the new one's first reading
    /// is its baseline, and the wallet carries on: no charge is lost or doubled.
    pub async fn replace(
        &self,
        actor: i64,
        old: i64,
        final_register: Decimal,
        new: NewMeter,
    ) -> Result<InstalledMeter, FleetError> {
        let (unit, serial, utility) = self.live_meter(old).await?;
        if utility != new.utility.as_str() {
            return Err(
                EngineError::refused("A replacement meter measures the same utility.").into(),
            );
        }
        let installed = self
            .install_replacing(actor, unit, new, Some((old, final_register)))
            .await?;
        self.forget(&serial);
        Ok(installed)
    }

    /// Takes a meter out of service after charging its final reading.
    pub async fn decommission(
        &self,
        actor: i64,
        meter: i64,
        final_register: Decimal,
    ) -> Result<(), FleetError> {
        let (_, serial, _) = self.live_meter(meter).await?;
        let now = Utc::now();
        self.final_reading(meter, final_register, now).await?;
        let _turn = self.engine().turn().await;
        let mut tx = self.engine().db.begin_write().await?;
        on_tx!(&mut tx, conn => {
            sqlx::query("UPDATE meters SET removed_at = $1, broker_secret_hash = NULL WHERE id = $2")
                .bind(now)
                .bind(meter)
                .execute(&mut *conn)
                .await
                .map(|_| ())
        })?;
        withdraw_commands(&mut tx, meter, "meter decommissioned", now).await?;
        // Its sub-meters are fed by nothing the platform knows of any more.
        on_tx!(&mut tx, conn => {
            sqlx::query("UPDATE meters SET master_meter_id = NULL WHERE master_meter_id = $1 AND removed_at IS NULL")
                .bind(meter)
                .execute(&mut *conn)
                .await
                .map(|_| ())
        })?;
        AuditEntry::new("meter_decommissioned", "meter", meter)
            .by_actor(Some(actor))
            .after(json!({ "final_register": final_register.to_string() }))
            .insert_tx(&mut tx)
            .await?;
        tx.commit().await?;
        drop(_turn);
        self.forget(&serial);
        self.refresh_broker().await;
        Ok(())
    }

    /// Charges a meter's final reading, typed by whoever is at the meter. It counts as taken
    /// now, or just after the meter's own last reading if its clock ran ahead: a final
    /// reading must never be mistaken for a late one and go uncharged.
    async fn final_reading(
        &self,
        meter: i64,
        register: Decimal,
        now: DateTime<Utc>,
    ) -> Result<(), FleetError> {
        let last: Option<ReadingTime> = {
            let mut tx = self.engine().db.begin_read().await?;
            on_tx!(&mut tx, conn => {
                sqlx::query_scalar("SELECT last_reading_at FROM meter_states WHERE meter_id = $1")
                    .bind(meter)
                    .fetch_optional(&mut *conn)
                    .await
            })?
            .flatten()
        };
        let taken_at = last.map_or(now, |ReadingTime(last)| {
            now.max(last + chrono::Duration::seconds(1))
        });
        let report = self
            .engine()
            .rate(vec![IncomingReading {
                meter,
                taken_at,
                register,
            }])
            .await?;
        match report.rejected.first() {
            Some(rejection) => Err(EngineError::refused(format!(
                "The final reading was not accepted: {}.",
                rejection.reason
            ))
            .into()),
            None => Ok(()),
        }
    }

    pub(super) async fn live_meter(&self, meter: i64) -> Result<(i64, String, String), FleetError> {
        let mut tx = self.engine().db.begin_read().await?;
        let row: Option<(i64, String, String, bool)> = on_tx!(&mut tx, conn => {
            sqlx::query_as("SELECT unit_id, serial, utility, removed_at IS NOT NULL FROM meters WHERE id = $1")
                .bind(meter)
                .fetch_optional(&mut *conn)
                .await
        })?;
        match row {
            None => Err(EngineError::NotFound("meter").into()),
            Some((.., true)) => {
                Err(EngineError::refused("This meter is out of service already.").into())
            }
            Some((unit, serial, utility, false)) => Ok((unit, serial, utility)),
        }
    }

    /// Sends the credit cut-offs held by the site's cap: a manager has looked and agrees.
    pub async fn release_held(&self, actor: i64, site: i64) -> Result<u64, FleetError> {
        let _turn = self.engine().turn().await;
        let mut tx = self.engine().db.begin_write().await?;
        let released = on_tx!(&mut tx, conn => {
            sqlx::query(
                "UPDATE meter_commands SET status = 'pending', next_attempt_at = NULL, params = $1 \
                 WHERE status = 'held' AND meter_id IN (SELECT m.id FROM meters m JOIN units u ON u.id = m.unit_id \
                 JOIN buildings b ON b.id = u.building_id WHERE b.site_id = $2)",
            )
            .bind(json!({ "released_by": actor }).to_string())
            .bind(site)
            .execute(&mut *conn)
            .await
            .map(|done| done.rows_affected())
        })?;
        // The cap's alarm has done its job.
        on_tx!(&mut tx, conn => {
            sqlx::query(
                "UPDATE alarms SET status = 'resolved', resolved_at = $1, resolved_by = $2, open_key = NULL WHERE open_key = $3",
            )
            .bind(Utc::now())
            .bind(actor)
            .bind(format!("site:{site}:cut_cap"))
            .execute(&mut *conn)
            .await
            .map(|_| ())
        })?;
        AuditEntry::new("cut_offs_released", "site", site)
            .by_actor(Some(actor))
            .after(json!({ "commands": released }))
            .insert_tx(&mut tx)
            .await?;
        tx.commit().await?;
        self.wake();
        Ok(released)
    }

    pub async fn step_alarm(
        &self,
        actor: i64,
        alarm: i64,
        step: AlarmStep,
        note: &str,
    ) -> Result<(), FleetError> {
        let note = alarm_note(note).map_err(EngineError::Refused)?;
        let _turn = self.engine().turn().await;
        let mut tx = self.engine().db.begin_write().await?;
        alarms::step(&mut tx, alarm, step, actor, note, Utc::now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A note on an alarm, on its own; the form's `nonce` makes sending the same note twice
    /// one note (another note from the same page is another).
    pub async fn note_alarm(
        &self,
        actor: i64,
        alarm: i64,
        note: &str,
        nonce: &str,
    ) -> Result<(), FleetError> {
        let note = alarm_note(note).map_err(EngineError::Refused)?;
        let nonce = &crate::engine::form_key::form_key(nonce, &[note])?;
        let _turn = self.engine().turn().await;
        let mut tx = self.engine().db.begin_write().await?;
        alarms::add_note(&mut tx, alarm, actor, note, nonce, Utc::now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Saves a site's fleet rules; `actor` is none when the platform sets them (the demo).
    pub async fn set_rules(
        &self,
        actor: Option<i64>,
        site: i64,
        rules: &FleetRules,
    ) -> Result<(), FleetError> {
        rules.validate().map_err(EngineError::Refused)?;
        let _turn = self.engine().turn().await;
        let mut tx = self.engine().db.begin_write().await?;
        let body = serde_json::to_string(rules).expect("rules serialise");
        on_tx!(&mut tx, conn => {
            sqlx::query(
                "INSERT INTO fleet_rules (site_id, rules, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (site_id) DO UPDATE SET rules = $2, updated_at = $3",
            )
            .bind(site)
            .bind(&body)
            .bind(Utc::now())
            .execute(&mut *conn)
            .await
            .map(|_| ())
        })?;
        AuditEntry::new("fleet_rules_set", "site", site)
            .by_actor(actor)
            .after(serde_json::to_value(rules).expect("rules serialise"))
            .insert_tx(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Rewrites the broker's password and access files, if this platform manages them.
    pub(super) async fn refresh_broker(&self) {
        if let Some(files) = &self.inner.broker
            && let Err(error) = files.write(&self.engine().db).await
        {
            tracing::error!(%error, "could not update the broker's credentials");
        }
    }
}

/// Nothing more will reach a meter taken out of service: its commands in flight expire.
async fn withdraw_commands(
    tx: &mut Tx,
    meter: i64,
    why: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, conn => {
        sqlx::query(
            "UPDATE meter_commands SET status = 'expired', finished_at = $1, error = $2, next_attempt_at = NULL \
             WHERE meter_id = $3 AND status IN ('held', 'pending', 'sent')",
        )
        .bind(now)
        .bind(why)
        .bind(meter)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    })
}

/// The time-of-use bands of the meter's tariff now, for meters that switch rates themselves.
async fn schedule(
    tx: &mut Tx,
    meter: &super::MeterInfo,
    now: DateTime<Utc>,
) -> Result<Value, FleetError> {
    let switches: bool = on_tx!(tx, conn => {
        sqlx::query_scalar("SELECT switches_rates FROM meters WHERE id = $1")
            .bind(meter.id)
            .fetch_one(&mut *conn)
            .await
    })?;
    if !switches {
        return Err(EngineError::refused("This meter does not switch rates itself.").into());
    }
    let rules = load_site_rules(tx, meter.site).await?;
    let plan = crate::engine::setup::meter_plan(tx, meter.id).await?;
    let bands = rules.bands_now(&plan, meter.utility, now);
    if bands.is_empty() {
        return Err(EngineError::refused("This meter's tariff has no time-of-use bands.").into());
    }
    Ok(schedules::schedule(&rules, bands))
}
