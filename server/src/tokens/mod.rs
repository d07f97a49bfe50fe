//! Meters that hold their own credit: the platform sells credit to them as tokens a resident
//! types on the meter's keypad, instead of switching supply through the network.
//!
//! Selling and issuing are two steps. The sale happens in the database transaction that
//! credits the top-up ([`sale::sell_after_top_up`]): the ledger moves the money from the
//! wallet to revenue and tax, and a pending token is queued, one per top-up. The vending
//! worker ([`Tokens::issue_pending`]) then asks the meter's [`TokenVendor`] for the digits and
//! records them once: a vendor computing locally (OpenPAYGO) or a vending service over HTTP
//! (STS) that is given the token's public id as its idempotency key, so a retry after a lost
//! answer returns the same token.

mod issue;
pub mod openpaygo;
mod port;
pub(crate) mod sale;
pub mod sts;
pub mod vault;

use crate::{
    audit::AuditEntry,
    engine::{Engine, EngineError},
    on_db, on_tx,
};
use app::domain::tokens::grouped;
use chrono::{DateTime, Utc};
use issue::TokenNotice;
use openpaygo::{Command, DeviceSecret, Format, TokenError};
use rust_decimal::Decimal;
use serde_json::json;
use std::{collections::HashMap, fmt, sync::Arc};
use vault::{Vault, VaultError};

/// The value of `token_meters.vendor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VendorKind {
    OpenPaygo,
    Sts,
}

impl VendorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            VendorKind::OpenPaygo => "openpaygo",
            VendorKind::Sts => "sts",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [VendorKind::OpenPaygo, VendorKind::Sts]
            .into_iter()
            .find(|kind| kind.as_str() == raw)
    }
}

/// What a token is for: credit sold, or an engineering token a manager asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// Adds this many steps of the meter's `value_step`.
    Credit(u32),
    /// Replaces what the meter holds.
    SetCredit(u32),
    ClearCredit,
    DisablePayg,
    CounterSync,
}

impl Order {
    pub fn kind(self) -> &'static str {
        match self {
            Order::Credit(_) => "credit",
            Order::SetCredit(_) => "set_credit",
            Order::ClearCredit => "clear_credit",
            Order::DisablePayg => "disable_payg",
            Order::CounterSync => "counter_sync",
        }
    }

    pub fn value(self) -> Option<u32> {
        match self {
            Order::Credit(value) | Order::SetCredit(value) => Some(value),
            _ => None,
        }
    }

    /// Set and clear change what a meter holds without a sale.
    pub fn moves_money(self) -> bool {
        matches!(self, Order::SetCredit(_) | Order::ClearCredit)
    }

    pub fn parse(kind: &str, value: Option<u32>) -> Option<Self> {
        Self::from_row(kind, value.map(i64::from))
    }

    fn from_row(kind: &str, value: Option<i64>) -> Option<Self> {
        let value = value.and_then(|v| u32::try_from(v).ok());
        Some(match kind {
            "credit" => Order::Credit(value?),
            "set_credit" => Order::SetCredit(value?),
            "clear_credit" => Order::ClearCredit,
            "disable_payg" => Order::DisablePayg,
            "counter_sync" => Order::CounterSync,
            _ => return None,
        })
    }
}

/// A token meter as a vendor needs it.
#[derive(Clone)]
pub struct TokenMeter {
    pub id: i64,
    pub serial: String,
    pub vendor: VendorKind,
    sealed_key: Option<String>,
    starting_code: Option<i64>,
    /// The count of the last token issued.
    pub last_count: u32,
    pub format: Format,
    pub value_step: Decimal,
}

impl fmt::Debug for TokenMeter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenMeter")
            .field("id", &self.id)
            .field("serial", &self.serial)
            .field("vendor", &self.vendor)
            .field("last_count", &self.last_count)
            .finish_non_exhaustive()
    }
}

/// A token as a vendor made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vended {
    pub digits: String,
    /// The meter's counter after this token, for vendors whose counter the platform keeps.
    pub count: Option<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum VendError {
    /// Worth asking again later (a network error, a 5xx).
    #[error("the vending service could not be reached: {0}")]
    Unavailable(String),
    /// Asking again will not help.
    #[error("the vending service refused: {0}")]
    Refused(String),
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error("this meter has no device key")]
    NoKey,
}

/// Turns an order into a token for one meter. Beside the transport trait: a transport switches
/// a meter through the network, a vendor gives a person the digits that do it at the keypad.
#[async_trait::async_trait]
pub trait TokenVendor: Send + Sync + 'static {
    fn kind(&self) -> VendorKind;

    /// The token for `order` on `meter`. `reference` names this token for good: a vendor
    /// that keeps state returns the same token when asked twice with it.
    async fn vend(
        &self,
        meter: &TokenMeter,
        reference: &str,
        order: Order,
    ) -> Result<Vended, VendError>;
}

/// OpenPAYGO Token, computed here from the meter's sealed key.
pub struct OpenPaygo {
    vault: Arc<Vault>,
}

impl OpenPaygo {
    pub fn new(vault: Arc<Vault>) -> Self {
        Self { vault }
    }
}

#[async_trait::async_trait]
impl TokenVendor for OpenPaygo {
    fn kind(&self) -> VendorKind {
        VendorKind::OpenPaygo
    }

    async fn vend(
        &self,
        meter: &TokenMeter,
        _reference: &str,
        order: Order,
    ) -> Result<Vended, VendError> {
        let (Some(sealed), Some(starting_code)) = (&meter.sealed_key, meter.starting_code) else {
            return Err(VendError::NoKey);
        };
        let key = self.vault.open(meter.id, sealed)?;
        let starting_code = u32::try_from(starting_code).map_err(|_| TokenError::StartingCode)?;
        let secret = DeviceSecret::new(key, starting_code)?;
        let command = match order {
            Order::Credit(value) => Command::AddCredit(value),
            Order::SetCredit(value) => Command::SetCredit(value),
            Order::ClearCredit => Command::SetCredit(0),
            Order::DisablePayg => Command::DisablePayg,
            Order::CounterSync => Command::CounterSync,
        };
        let token = openpaygo::encode(&secret, meter.last_count, command, meter.format)?;
        Ok(Vended {
            digits: token.digits,
            count: Some(token.count),
        })
    }
}

/// How a meter's key is set up.
pub enum KeySource {
    /// A fresh random key, shown once to be programmed into the device.
    Generate,
    /// The key and starting code the manufacturer supplied with the device.
    Given { hex: String, starting_code: u32 },
}

pub struct Provision {
    pub vendor: VendorKind,
    pub key: KeySource,
    pub format: Format,
    pub value_step: Decimal,
}

/// What provisioning answers: the generated key (once; it is stored sealed) and the starting
/// code, to program into the device.
pub struct Provisioned {
    pub key_hex: Option<String>,
    pub starting_code: Option<u32>,
}

impl fmt::Debug for Provisioned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Provisioned")
            .field("starting_code", &self.starting_code)
            .finish_non_exhaustive()
    }
}

/// One issued (or pending) token, as people see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenLine {
    pub public_id: String,
    pub meter: i64,
    pub kind: String,
    pub units: Option<Decimal>,
    pub amount_minor: Option<i64>,
    pub status: String,
    /// Grouped for reading out.
    pub digits: Option<String>,
    pub failure: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The same moment on the site's clock.
    pub created_local: chrono::NaiveDateTime,
    pub issued_at: Option<DateTime<Utc>>,
    /// The meter's unit, for the units.
    pub unit_of_measure: String,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IssueReport {
    pub issued: usize,
    pub retrying: usize,
    pub failed: usize,
}

#[derive(Clone)]
pub struct Tokens {
    engine: Engine,
    vault: Arc<Vault>,
    vendors: Arc<HashMap<VendorKind, Arc<dyn TokenVendor>>>,
}

impl Tokens {
    pub fn new(engine: Engine, vault: Arc<Vault>, sts: Option<Arc<dyn TokenVendor>>) -> Self {
        let mut vendors: HashMap<VendorKind, Arc<dyn TokenVendor>> = HashMap::new();
        vendors.insert(
            VendorKind::OpenPaygo,
            Arc::new(OpenPaygo::new(vault.clone())),
        );
        if let Some(sts) = sts {
            vendors.insert(VendorKind::Sts, sts);
        }
        Self {
            engine,
            vault,
            vendors: Arc::new(vendors),
        }
    }

    /// Makes a meter a token meter (or gives it a new key, which starts its counter again).
    pub async fn provision(
        &self,
        meter: i64,
        setup: Provision,
        actor: Option<i64>,
    ) -> Result<Provisioned, EngineError> {
        if setup.value_step <= Decimal::ZERO {
            return Err(EngineError::refused("The value step must be above zero."));
        }
        let (key_hex, sealed, starting_code) = match (setup.vendor, setup.key) {
            (VendorKind::Sts, _) => (None, None, None),
            (VendorKind::OpenPaygo, KeySource::Generate) => {
                let key = self.vault.new_device_key().map_err(internal)?;
                let secret = DeviceSecret::from_key(key);
                let sealed = self.vault.seal(meter, &key).map_err(internal)?;
                (
                    Some(crate::payments::provider::signature::hex(&key)),
                    Some(sealed),
                    Some(secret.starting_code()),
                )
            }
            (VendorKind::OpenPaygo, KeySource::Given { hex, starting_code }) => {
                let key = DeviceSecret::parse_key(&hex)
                    .map_err(|error| EngineError::refused(error.to_string()))?;
                DeviceSecret::new(key, starting_code)
                    .map_err(|error| EngineError::refused(error.to_string()))?;
                let sealed = self.vault.seal(meter, &key).map_err(internal)?;
                (None, Some(sealed), Some(starting_code))
            }
        };
        let _turn = self.engine.turn().await;
        let now = Utc::now();
        let mut tx = self.engine.db.begin_write().await?;
        in_service(&mut tx, meter).await?;
        let organisation = crate::owners::meter_organisation(&mut tx, meter)
            .await?
            .ok_or(EngineError::NotFound("meter"))?;
        on_tx!(&mut tx, conn => {
            sqlx::query(
                "INSERT INTO token_meters (meter_id, vendor, sealed_key, starting_code, last_count, extended, restricted, \
                 value_step, provisioned_at, provisioned_by) VALUES ($1, $2, $3, $4, 0, $5, $6, $7, $8, $9) \
                 ON CONFLICT (meter_id) DO UPDATE SET vendor = excluded.vendor, sealed_key = excluded.sealed_key, \
                 starting_code = excluded.starting_code, last_count = 0, extended = excluded.extended, \
                 restricted = excluded.restricted, value_step = excluded.value_step, \
                 provisioned_at = excluded.provisioned_at, provisioned_by = excluded.provisioned_by",
            )
            .bind(meter)
            .bind(setup.vendor.as_str())
            .bind(&sealed)
            .bind(starting_code.map(i64::from))
            .bind(setup.format.extended)
            .bind(setup.format.restricted)
            .bind(setup.value_step.normalize().to_string())
            .bind(now)
            .bind(actor)
            .execute(&mut *conn)
            .await
            .map(|_| ())
        })?;
        // From now on the meter switches itself by the credit typed into it: the platform's
        // own credit states (low, cut) no longer apply to its wallet.
        on_tx!(&mut tx, conn => {
            sqlx::query(
                "UPDATE wallets SET supply_state = 'on', warned = 0 WHERE meter_id = $1 AND closed_at IS NULL",
            )
            .bind(meter)
            .execute(&mut *conn)
            .await
            .map(|_| ())
        })?;
        // The key itself never reaches the audit log.
        AuditEntry::new("token_meter_provisioned", "meter", meter)
            .by(organisation, actor)
            .after(json!({
                "vendor": setup.vendor.as_str(),
                "extended": setup.format.extended,
                "restricted": setup.format.restricted,
                "value_step": setup.value_step.normalize().to_string(),
                "key": if key_hex.is_some() { "generated" } else if sealed.is_some() { "given" } else { "none" },
            }))
            .insert_tx(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(Provisioned {
            key_hex,
            starting_code,
        })
    }

    /// Queues an engineering token for a meter (set or clear credit, disable pay-as-you-go,
    /// counter sync). Answers the token's public id.
    pub async fn order(
        &self,
        meter: i64,
        order: Order,
        actor: Option<i64>,
    ) -> Result<String, EngineError> {
        if matches!(order, Order::Credit(_)) {
            return Err(EngineError::refused(
                "Credit is sold through a top-up, not ordered.",
            ));
        }
        let _turn = self.engine.turn().await;
        let now = Utc::now();
        let mut tx = self.engine.db.begin_write().await?;
        in_service(&mut tx, meter).await?;
        let site: Option<i64> = on_tx!(&mut tx, conn => {
            sqlx::query_scalar(
                "SELECT b.site_id FROM token_meters t JOIN meters m ON m.id = t.meter_id \
                 JOIN units u ON u.id = m.unit_id JOIN buildings b ON b.id = u.building_id WHERE t.meter_id = $1",
            )
            .bind(meter)
            .fetch_optional(&mut *conn)
            .await
        })?;
        let site = site.ok_or(EngineError::NotFound("token meter"))?;
        let public_id = sale::new_public_id();
        // Changing what a meter holds without a sale is money: a second person approves it.
        let status = if order.moves_money() {
            "awaiting_approval"
        } else {
            "pending"
        };
        on_tx!(&mut tx, conn => {
            sqlx::query(
                "INSERT INTO meter_tokens (public_id, site_id, meter_id, kind, token_value, status, requested_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&public_id)
            .bind(site)
            .bind(meter)
            .bind(order.kind())
            .bind(order.value().map(i64::from))
            .bind(status)
            .bind(actor)
            .bind(now)
            .execute(&mut *conn)
            .await
            .map(|_| ())
        })?;
        audit_token(
            &mut tx,
            "token_ordered",
            meter,
            &public_id,
            actor,
            order.kind(),
        )
        .await?;
        tx.commit().await?;
        if status == "pending" {
            self.engine.ring_token_sold();
        }
        Ok(public_id)
    }

    /// A second person's approval of an engineering token that moves money; the person who
    /// asked for it cannot give it.
    pub async fn approve(&self, public_id: &str, approver: i64) -> Result<(), EngineError> {
        let _turn = self.engine.turn().await;
        let mut tx = self.engine.db.begin_write().await?;
        let row: Option<(i64, Option<i64>, String)> = on_tx!(&mut tx, conn => {
            sqlx::query_as("SELECT meter_id, requested_by, status FROM meter_tokens WHERE public_id = $1")
                .bind(public_id)
                .fetch_optional(&mut *conn)
                .await
        })?;
        let (meter, requested_by, status) = row.ok_or(EngineError::NotFound("token"))?;
        in_service(&mut tx, meter).await?;
        if status != "awaiting_approval" {
            return Err(EngineError::refused(
                "This token is not waiting for approval.",
            ));
        }
        if requested_by == Some(approver) {
            return Err(EngineError::refused(
                "A second person must approve a token you asked for.",
            ));
        }
        on_tx!(&mut tx, conn => {
            sqlx::query(
                "UPDATE meter_tokens SET status = 'pending', approved_by = $1 WHERE public_id = $2 \
                 AND status = 'awaiting_approval'",
            )
            .bind(approver)
            .bind(public_id)
            .execute(&mut *conn)
            .await
            .map(|_| ())
        })?;
        audit_token(
            &mut tx,
            "token_approved",
            meter,
            public_id,
            Some(approver),
            "",
        )
        .await?;
        tx.commit().await?;
        self.engine.ring_token_sold();
        Ok(())
    }

    /// A meter's tokens, newest first.
    pub async fn of_meter(&self, meter: i64) -> Result<Vec<TokenLine>, EngineError> {
        self.lines("t.meter_id = $1", meter).await
    }

    /// A wallet's tokens, newest first.
    pub async fn of_wallet(&self, wallet: i64) -> Result<Vec<TokenLine>, EngineError> {
        self.lines("t.wallet_account_id = $1", wallet).await
    }

    /// The token a payment bought, if its meter takes tokens.
    pub async fn of_payment(&self, payment: &str) -> Result<Option<TokenLine>, EngineError> {
        let id: Option<i64> = on_db!(&self.engine.db, pool => {
            sqlx::query_scalar(
                "SELECT t.id FROM meter_tokens t JOIN payments p ON p.transaction_id = t.top_up_transaction_id \
                 WHERE p.public_id = $1",
            )
            .bind(payment)
            .fetch_optional(pool)
            .await
        })?;
        match id {
            Some(id) => Ok(self.lines("t.id = $1", id).await?.into_iter().next()),
            None => Ok(None),
        }
    }

    /// Sends an issued token to its resident again (push and the in-app list).
    pub async fn resend(&self, public_id: &str) -> Result<(), EngineError> {
        let _turn = self.engine.turn().await;
        let now = Utc::now();
        let mut tx = self.engine.db.begin_write().await?;
        type Row = (i64, Option<i64>, Option<String>, Option<String>, String);
        let row: Option<Row> = on_tx!(&mut tx, conn => {
            sqlx::query_as(
                "SELECT t.site_id, t.wallet_account_id, t.digits, t.units, m.unit_of_measure FROM meter_tokens t \
                 JOIN meters m ON m.id = t.meter_id WHERE t.public_id = $1 AND t.status = 'issued'",
            )
            .bind(public_id)
            .fetch_optional(&mut *conn)
            .await
        })?;
        let (site, Some(wallet), Some(digits), units, unit_of_measure) =
            row.ok_or(EngineError::NotFound("issued token"))?
        else {
            return Err(EngineError::refused(
                "This token has no resident to send it to.",
            ));
        };
        let sent: i64 = on_tx!(&mut tx, conn => {
            sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE dedupe_key LIKE $1")
                .bind(format!("token:{public_id}%"))
                .fetch_one(&mut *conn)
                .await
        })?;
        let notice = TokenNotice {
            site,
            wallet,
            digits: &digits,
            units: units.as_deref(),
            unit_of_measure: &unit_of_measure,
            dedupe: format!("token:{public_id}:resend:{sent}"),
        };
        notice.queue(&mut tx, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn lines(&self, filter: &str, id: i64) -> Result<Vec<TokenLine>, EngineError> {
        // The meter's unit and the site's clock come with each line: one query for a list.
        let sql = format!(
            "SELECT t.public_id, t.meter_id, t.kind, t.units, t.amount_minor, t.status, t.digits, t.failure, \
             t.created_at, t.issued_at, m.unit_of_measure, s.time_zone FROM meter_tokens t \
             JOIN meters m ON m.id = t.meter_id JOIN sites s ON s.id = t.site_id \
             WHERE {filter} ORDER BY t.id DESC LIMIT 100"
        );
        let rows: Vec<LineRow> = on_db!(&self.engine.db, pool => {
            sqlx::query_as(&sql).bind(id).fetch_all(pool).await
        })?;
        rows.into_iter()
            .map(|row| {
                let tz = crate::engine::time_zone(&row.time_zone)?;
                Ok(TokenLine {
                    units: row
                        .units
                        .as_deref()
                        .map(crate::engine::decimal)
                        .transpose()?,
                    digits: row.digits.as_deref().map(grouped),
                    created_local: row.created_at.with_timezone(&tz).naive_local(),
                    public_id: row.public_id,
                    meter: row.meter_id,
                    kind: row.kind,
                    amount_minor: row.amount_minor,
                    status: row.status,
                    failure: row.failure,
                    created_at: row.created_at,
                    issued_at: row.issued_at,
                    unit_of_measure: row.unit_of_measure,
                })
            })
            .collect()
    }
}

#[derive(sqlx::FromRow)]
struct LineRow {
    public_id: String,
    meter_id: i64,
    kind: String,
    units: Option<String>,
    amount_minor: Option<i64>,
    status: String,
    digits: Option<String>,
    failure: Option<String>,
    created_at: DateTime<Utc>,
    issued_at: Option<DateTime<Utc>>,
    unit_of_measure: String,
    time_zone: String,
}

/// A meter taken out of service is given no keypad set-up and no engineering token: the
/// device is off the wall, and its replacement has its own.
async fn in_service(tx: &mut crate::db::Tx, meter: i64) -> Result<(), EngineError> {
    let removed: Option<bool> = on_tx!(tx, conn => {
        sqlx::query_scalar("SELECT removed_at IS NOT NULL FROM meters WHERE id = $1")
            .bind(meter)
            .fetch_optional(&mut *conn)
            .await
    })?;
    match removed {
        None => Err(EngineError::NotFound("meter")),
        Some(true) => Err(EngineError::refused("This meter is out of service.")),
        Some(false) => Ok(()),
    }
}

/// Engineering tokens are audited under the meter's organisation, without their digits.
async fn audit_token(
    tx: &mut crate::db::Tx,
    action: &'static str,
    meter: i64,
    public_id: &str,
    actor: Option<i64>,
    kind: &str,
) -> Result<(), EngineError> {
    let organisation = crate::owners::meter_organisation(tx, meter)
        .await?
        .ok_or(EngineError::NotFound("meter"))?;
    AuditEntry::new(action, "meter", meter)
        .by(organisation, actor)
        .after(json!({ "token": public_id, "kind": kind }))
        .insert_tx(tx)
        .await?;
    Ok(())
}

fn internal(error: VaultError) -> EngineError {
    EngineError::Corrupt(error.to_string())
}
