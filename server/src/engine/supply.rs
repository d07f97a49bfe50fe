//! Applying supply decisions: the wallet's new state, commands into the meter outbox (never
//! an open or arm for a meter under a safety hold), notices into the notification outbox.
//! Safety holds themselves: set by an alarm or a manager, lifted only by the named role.

use super::{
    Engine, EngineError, FEEDS_OTHERS,
    setup::{SiteRules, load_rules},
};
use crate::{db::Tx, on_tx};
use app::domain::{
    Minor, Role, Utility,
    fleet::CommandKind,
    supply::{Decision, MeterCommand, Notice, Situation, SupplyState, days_left, decide},
};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// Why a meter is held closed for safety, and who may lift the hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SafetyReason {
    GasLeak,
    Overload,
    Tamper,
    /// Water running unchecked, where the site closes the valve for it.
    WaterLeak,
    ManagerClose,
}

impl SafetyReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SafetyReason::GasLeak => "gas_leak",
            SafetyReason::Overload => "overload",
            SafetyReason::Tamper => "tamper",
            SafetyReason::WaterLeak => "water_leak",
            SafetyReason::ManagerClose => "manager",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::GasLeak,
            Self::Overload,
            Self::Tamper,
            Self::WaterLeak,
            Self::ManagerClose,
        ]
        .into_iter()
        .find(|r| r.as_str() == raw)
    }

    /// The role that may lift the hold: the site's technician (operator) for a gas leak or an
    /// overload, a manager for tampering or their own close. Admins may always.
    pub fn cleared_by(self) -> Role {
        match self {
            SafetyReason::GasLeak | SafetyReason::Overload | SafetyReason::WaterLeak => {
                Role::Operator
            }
            SafetyReason::Tamper | SafetyReason::ManagerClose => Role::Manager,
        }
    }
}

/// A wallet as the supply rules see it.
#[derive(Clone, Debug)]
pub struct WalletSupply {
    pub account: i64,
    pub site: i64,
    pub unit: Option<i64>,
    pub meter: Option<i64>,
    pub utility: Option<Utility>,
    pub state: SupplyState,
    pub warned: u8,
    pub vulnerable: bool,
    pub balance: Minor,
    pub emergency_balance: Minor,
    pub daily_spend: Decimal,
    pub landlord: bool,
    /// Its meter holds its own credit (a token meter): the platform never cuts it.
    pub holds_credit: bool,
}

/// Loads one wallet's supply view.
pub async fn load_wallet(tx: &mut Tx, account: i64) -> Result<WalletSupply, EngineError> {
    type Row = (
        i64,
        Option<i64>,
        Option<i64>,
        Option<String>,
        String,
        i32,
        bool,
        i64,
        i64,
        String,
        Option<i64>,
        bool,
    );
    let row: Option<Row> = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT w.site_id, w.unit_id, w.meter_id, m.utility, w.supply_state, w.warned, w.vulnerable, \
             a.balance_minor, COALESCE(e.balance_minor, 0), w.daily_spend, w.occupancy_id, \
             EXISTS (SELECT 1 FROM token_meters t WHERE t.meter_id = w.meter_id) \
             FROM wallets w JOIN accounts a ON a.id = w.account_id \
             LEFT JOIN accounts e ON e.id = w.emergency_account_id LEFT JOIN meters m ON m.id = w.meter_id \
             WHERE w.account_id = $1",
        )
        .bind(account)
        .fetch_optional(&mut *conn)
        .await
    })?;
    let (
        site,
        unit,
        meter,
        utility,
        state,
        warned,
        vulnerable,
        balance,
        emergency,
        spend,
        occupancy,
        holds_credit,
    ) = row.ok_or(EngineError::NotFound("account"))?;
    Ok(WalletSupply {
        account,
        site,
        unit,
        meter,
        utility: utility.and_then(|u| u.parse().ok()),
        state: SupplyState::parse(&state).ok_or_else(|| EngineError::Corrupt(state.clone()))?,
        warned: u8::try_from(warned).unwrap_or(0),
        vulnerable,
        balance: Minor(balance),
        emergency_balance: Minor(emergency),
        daily_spend: super::decimal(&spend)?,
        landlord: unit.is_none() && meter.is_none() && occupancy.is_none(),
        holds_credit,
    })
}

/// Decides what the wallet's balance means now and records the outcome. `cause` names what
/// changed the balance (a ledger transaction, a sweep) so a notice is never queued twice for
/// the same cause. Returns the new state if it changed.
pub async fn evaluate(
    tx: &mut Tx,
    wallet: &WalletSupply,
    rules: &SiteRules,
    cause: &str,
    now: DateTime<Utc>,
) -> Result<Option<SupplyState>, EngineError> {
    Ok(evaluate_recorded(tx, wallet, rules, cause, now)
        .await?
        .state)
}

/// [`evaluate`], returning the whole decision it recorded, for a caller that keeps the
/// wallet's supply state and warnings in memory (rating's held state).
pub(crate) async fn evaluate_recorded(
    tx: &mut Tx,
    wallet: &WalletSupply,
    rules: &SiteRules,
    cause: &str,
    now: DateTime<Utc>,
) -> Result<Decision, EngineError> {
    if wallet.landlord || wallet.holds_credit {
        // The landlord's supply is never cut for credit; a token meter cuts itself when the
        // credit typed into it runs out.
        return Ok(Decision {
            state: None,
            warned: wallet.warned,
            commands: Vec::new(),
            notices: Vec::new(),
        });
    }
    let situation = Situation {
        state: wallet.state,
        warned: wallet.warned,
        balance: wallet.balance,
        days_left: days_left(wallet.balance, wallet.daily_spend),
        utility: wallet.utility,
        friendly_now: rules.policy.is_friendly(now, &rules.tz),
        vulnerable: wallet.vulnerable,
        emergency_outstanding: wallet.emergency_balance < Minor::ZERO,
    };
    let decision = decide(&rules.policy, &situation);
    record(tx, wallet, &decision, cause, now).await?;
    Ok(decision)
}

async fn record(
    tx: &mut Tx,
    wallet: &WalletSupply,
    decision: &Decision,
    cause: &str,
    now: DateTime<Utc>,
) -> Result<(), EngineError> {
    let unchanged = decision.state.is_none()
        && decision.warned == wallet.warned
        && decision.commands.is_empty()
        && decision.notices.is_empty();
    if unchanged {
        return Ok(());
    }
    let state = decision.state.unwrap_or(wallet.state);
    on_tx!(tx, conn => {
        sqlx::query("UPDATE wallets SET supply_state = $1, warned = $2 WHERE account_id = $3")
            .bind(state.as_str())
            .bind(i32::from(decision.warned))
            .bind(wallet.account)
            .execute(&mut *conn)
            .await
            .map(|_| ())
    })?;
    for command in &decision.commands {
        for meter in wallet_meters(tx, wallet).await? {
            send(
                tx,
                meter,
                *command,
                &format!("credit: {}", state.as_str()),
                now,
            )
            .await?;
        }
    }
    for notice in &decision.notices {
        queue_notice(tx, wallet, *notice, cause, now).await?;
    }
    Ok(())
}

/// The meters a wallet pays for: its own, or every meter of its unit.
async fn wallet_meters(tx: &mut Tx, wallet: &WalletSupply) -> Result<Vec<i64>, sqlx::Error> {
    // A bulk meter is left out: closing it for one account would cut every home it feeds.
    let sql = format!(
        "SELECT m.id FROM meters m \
         WHERE (m.id = $1 OR ($1 IS NULL AND m.unit_id = $2 AND m.removed_at IS NULL)) \
         AND NOT {FEEDS_OTHERS} ORDER BY m.id"
    );
    on_tx!(tx, conn => {
        sqlx::query_scalar(&sql)
            .bind(wallet.meter)
            .bind(wallet.unit)
            .fetch_all(&mut *conn)
            .await
    })
}

pub async fn queue_notice(
    tx: &mut Tx,
    wallet: &WalletSupply,
    notice: Notice,
    cause: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let audience = if notice.for_managers() {
        "managers"
    } else {
        "resident"
    };
    let body = json!({ "balance_minor": wallet.balance.0, "account": wallet.account }).to_string();
    on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO notifications (site_id, wallet_account_id, audience, kind, body, dedupe_key, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind(wallet.site)
        .bind(wallet.account)
        .bind(audience)
        .bind(notice.kind())
        .bind(&body)
        .bind(format!("{}:{}:{cause}", wallet.account, notice.kind()))
        .bind(now)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    })
}

/// Queues a command for a meter with the next sequence number. An open, arm or restrict for
/// a meter under a safety hold is not sent: safety comes first. A gas valve is armed, never
/// opened remotely on credit. Returns the command sent, if any.
pub async fn send(
    tx: &mut Tx,
    meter: i64,
    command: MeterCommand,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Option<MeterCommand>, sqlx::Error> {
    let (hold, utility): (Option<String>, String) = on_tx!(tx, conn => {
        sqlx::query("INSERT INTO meter_states (meter_id) VALUES ($1) ON CONFLICT (meter_id) DO NOTHING")
            .bind(meter)
            .execute(&mut *conn)
            .await?;
        sqlx::query_as("SELECT s.safety_hold, m.utility FROM meter_states s JOIN meters m ON m.id = s.meter_id WHERE s.meter_id = $1")
            .bind(meter)
            .fetch_one(&mut *conn)
            .await
    })?;
    if hold.is_some() && command != MeterCommand::Close {
        return Ok(None);
    }
    let command = match command {
        MeterCommand::Open if utility == "gas" && !reason.starts_with("safety") => {
            MeterCommand::Arm
        }
        other => other,
    };
    let relay = match command {
        MeterCommand::Open => "open",
        MeterCommand::Close => "closed",
        MeterCommand::Restrict => "restricted",
        MeterCommand::Arm => "armed",
    };
    on_tx!(tx, conn => {
        sqlx::query("UPDATE meter_states SET relay = $1 WHERE meter_id = $2")
            .bind(relay)
            .bind(meter)
            .execute(&mut *conn)
            .await
            .map(|_| ())
    })?;
    let kind = CommandKind::parse(command.as_str()).expect("relay commands are fleet commands");
    queue_command(tx, meter, kind, None, reason, None, now).await?;
    Ok(Some(command))
}

/// Queues any command for a meter with its next sequence number and returns the command's id.
/// Relay commands go through [`send`], which also keeps the wanted relay state.
pub async fn queue_command(
    tx: &mut Tx,
    meter: i64,
    kind: CommandKind,
    params: Option<Value>,
    reason: &str,
    actor: Option<i64>,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    on_tx!(tx, conn => {
        sqlx::query("INSERT INTO meter_states (meter_id) VALUES ($1) ON CONFLICT (meter_id) DO NOTHING")
            .bind(meter)
            .execute(&mut *conn)
            .await?;
        let seq: i64 = sqlx::query_scalar(
            "UPDATE meter_states SET command_seq = command_seq + 1 WHERE meter_id = $1 RETURNING command_seq",
        )
        .bind(meter)
        .fetch_one(&mut *conn)
        .await?;
        sqlx::query_scalar(
            "INSERT INTO meter_commands (meter_id, seq, command, reason, params, created_at, actor_user_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(meter)
        .bind(seq)
        .bind(kind.as_str())
        .bind(reason)
        .bind(params.map(|p| p.to_string()))
        .bind(now)
        .bind(actor)
        .fetch_one(&mut *conn)
        .await
    })
}

/// Holds a meter closed for safety within the caller's transaction; see [`Engine::hold`].
/// A meter already held for the same reason is left as it is: no second close is sent.
pub async fn hold(
    tx: &mut Tx,
    meter: i64,
    reason: SafetyReason,
    actor: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(), EngineError> {
    let current: Option<String> = on_tx!(tx, conn => {
        sqlx::query("INSERT INTO meter_states (meter_id) VALUES ($1) ON CONFLICT (meter_id) DO NOTHING")
            .bind(meter)
            .execute(&mut *conn)
            .await?;
        sqlx::query_scalar("SELECT safety_hold FROM meter_states WHERE meter_id = $1")
            .bind(meter)
            .fetch_one(&mut *conn)
            .await
    })?;
    if current.as_deref() == Some(reason.as_str()) {
        return Ok(());
    }
    on_tx!(tx, conn => {
        sqlx::query("UPDATE meter_states SET safety_hold = $1, hold_clear_role = $2, hold_since = $3 WHERE meter_id = $4")
            .bind(reason.as_str())
            .bind(reason.cleared_by().as_str())
            .bind(now)
            .bind(meter)
            .execute(&mut *conn)
            .await
            .map(|_| ())
    })?;
    send(
        tx,
        meter,
        MeterCommand::Close,
        &format!("safety: {}", reason.as_str()),
        now,
    )
    .await?;
    crate::audit::AuditEntry::new("safety_hold", "meter", meter)
        .by_actor(actor)
        .after(json!({ "reason": reason.as_str() }))
        .insert_tx(tx)
        .await?;
    Ok(())
}

impl Engine {
    /// Holds a meter closed for safety and closes it now. Credit, top-ups, friendly hours, the
    /// vulnerable flag and gas arming never open it; only [`Engine::clear_hold`] does.
    pub async fn hold(
        &self,
        meter: i64,
        reason: SafetyReason,
        actor: Option<i64>,
    ) -> Result<(), EngineError> {
        let _turn = self.write.lock().await;
        let mut tx = self.db.begin_write().await?;
        hold(&mut tx, meter, reason, actor, Utc::now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Lifts a safety hold if `role` may; reopens the meter if credit allows.
    pub async fn clear_hold(
        &self,
        meter: i64,
        roles: &[Role],
        actor: Option<i64>,
    ) -> Result<(), EngineError> {
        let _turn = self.write.lock().await;
        let now = Utc::now();
        let mut tx = self.db.begin_write().await?;
        let hold: Option<(Option<String>, i64)> = on_tx!(&mut tx, conn => {
            sqlx::query_as(
                "SELECT s.safety_hold, b.site_id FROM meters m JOIN units u ON u.id = m.unit_id \
                 JOIN buildings b ON b.id = u.building_id LEFT JOIN meter_states s ON s.meter_id = m.id WHERE m.id = $1",
            )
            .bind(meter)
            .fetch_optional(&mut *conn)
            .await
        })?;
        let (Some(reason), site) = hold.ok_or(EngineError::NotFound("meter"))? else {
            return Err(EngineError::refused("This meter is not held."));
        };
        let reason =
            SafetyReason::parse(&reason).ok_or_else(|| EngineError::Corrupt(reason.clone()))?;
        let needed = reason.cleared_by();
        if !roles.iter().any(|r| *r == needed || *r == Role::Admin) {
            return Err(EngineError::refused(format!(
                "Only a {} may lift a {} hold.",
                needed.as_str(),
                reason.as_str().replace('_', " ")
            )));
        }
        on_tx!(&mut tx, conn => {
            sqlx::query("UPDATE meter_states SET safety_hold = NULL, hold_clear_role = NULL, hold_since = NULL WHERE meter_id = $1")
                .bind(meter)
                .execute(&mut *conn)
                .await
                .map(|_| ())
        })?;
        // Reopen only if the credit side would have the meter on (a bulk meter's always has).
        let wallet: Option<String> = on_tx!(&mut tx, conn => {
            sqlx::query_scalar(&format!(
                "SELECT w.supply_state FROM wallets w JOIN meters m ON (w.meter_id = m.id OR (w.meter_id IS NULL AND w.unit_id = m.unit_id)) \
                 WHERE m.id = $1 AND w.closed_at IS NULL AND NOT {FEEDS_OTHERS} ORDER BY w.meter_id IS NULL LIMIT 1"
            ))
            .bind(meter)
            .fetch_optional(&mut *conn)
            .await
        })?;
        let credit_allows = wallet
            .as_deref()
            .and_then(SupplyState::parse)
            .is_none_or(|state| !state.is_disconnected());
        if credit_allows {
            send(
                &mut tx,
                meter,
                MeterCommand::Open,
                "safety: hold lifted",
                now,
            )
            .await?;
        }
        crate::audit::AuditEntry::new("safety_hold_lifted", "meter", meter)
            .by_actor(actor)
            .after(json!({ "reason": reason.as_str(), "site_id": site }))
            .insert_tx(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The resident confirms at the gas meter that appliances are off: the armed valve opens.
    pub async fn confirm_armed(&self, account: i64) -> Result<(), EngineError> {
        let _turn = self.write.lock().await;
        let now = Utc::now();
        let mut tx = self.db.begin_write().await?;
        let wallet = load_wallet(&mut tx, account).await?;
        if wallet.state != SupplyState::Armed {
            return Err(EngineError::refused(
                "This supply is not waiting for a confirmation.",
            ));
        }
        on_tx!(&mut tx, conn => {
            sqlx::query("UPDATE wallets SET supply_state = 'on' WHERE account_id = $1")
                .bind(account)
                .execute(&mut *conn)
                .await
                .map(|_| ())
        })?;
        for meter in wallet_meters(&mut tx, &wallet).await? {
            send(
                &mut tx,
                meter,
                MeterCommand::Open,
                "safety: resident confirmed at the meter",
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Re-decides every wallet that has run out of credit: friendly hours end with no reading
    /// to notice it. Returns how many wallets changed state.
    pub async fn sweep_supply(&self, now: DateTime<Utc>) -> Result<usize, EngineError> {
        let _turn = self.write.lock().await;
        let mut tx = self.db.begin_write().await?;
        let candidates: Vec<(i64, i64)> = on_tx!(&mut tx, conn => {
            sqlx::query_as(
                "SELECT w.account_id, w.site_id FROM wallets w JOIN accounts a ON a.id = w.account_id \
                 WHERE w.closed_at IS NULL AND a.balance_minor <= 0 AND w.unit_id IS NOT NULL \
                 AND w.supply_state IN ('on', 'low', 'emergency', 'armed') ORDER BY w.site_id",
            )
            .fetch_all(&mut *conn)
            .await
        })?;
        let mut changed = 0;
        let mut rules: Option<SiteRules> = None;
        let hour = now.format("%Y-%m-%dT%H").to_string();
        for (account, site) in candidates {
            if rules.as_ref().is_none_or(|r| r.site != site) {
                rules = Some(load_rules(&mut tx, site).await?);
            }
            let wallet = load_wallet(&mut tx, account).await?;
            let cause = format!("sweep:{hour}");
            if evaluate(
                &mut tx,
                &wallet,
                rules.as_ref().expect("loaded"),
                &cause,
                now,
            )
            .await?
            .is_some()
            {
                changed += 1;
            }
        }
        tx.commit().await?;
        Ok(changed)
    }
}
