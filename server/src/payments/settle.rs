//! Settling what a verified callback says, in one database transaction: the event is
//! recorded (a repeat of it is a success that changes nothing), the payment is found (or,
//! for money pushed to us, created), [`judge`] decides, and the ledger, the payment and any
//! conflict change together.

use super::{
    Channel, PaymentError, Payments, Pending, insert_pending,
    provider::{CallbackError, Notice, Subject},
};
use crate::{
    db::Tx,
    engine::{EngineError, money},
    on_db, on_tx,
};
use app::domain::{
    Minor,
    payments::{
        Action, ConflictKind, PaymentStatus, ProviderKind, Reported, after_reversal, judge,
    },
};
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};

/// What one notice did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Settled {
    Credited {
        public_id: String,
        transaction: i64,
    },
    Conflict {
        public_id: String,
        kind: ConflictKind,
    },
    Failed {
        public_id: String,
    },
    Reversed {
        public_id: String,
        transaction: i64,
    },
    /// A repeat, or news that changes nothing.
    Unchanged,
}

/// A payment as settling needs it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub(crate) struct PaymentRow {
    pub id: i64,
    pub public_id: String,
    pub site_id: i64,
    pub wallet_account_id: Option<i64>,
    pub provider: String,
    pub amount_minor: i64,
    pub currency: String,
    pub status: String,
    pub provider_reference: Option<String>,
    pub provider_payment: Option<String>,
    pub payer_user_id: Option<i64>,
}

impl PaymentRow {
    pub fn status(&self) -> PaymentStatus {
        PaymentStatus::parse(&self.status).unwrap_or(PaymentStatus::Conflict)
    }

    pub fn amount(&self) -> Minor {
        Minor(self.amount_minor)
    }
}

pub(crate) const PAYMENT_COLUMNS: &str = "id, public_id, site_id, wallet_account_id, provider, amount_minor, currency, status, \
     provider_reference, provider_payment, payer_user_id";

impl Payments {
    /// Verifies a callback from a site's provider and settles everything it says. `expected`
    /// is the payment an unguessable per-payment URL named.
    pub async fn receive(
        &self,
        site: i64,
        kind: ProviderKind,
        headers: &HeaderMap,
        body: &[u8],
        expected: Option<&str>,
    ) -> Result<Vec<Settled>, PaymentError> {
        let settings = self
            .settings(site, kind)
            .await?
            .filter(|settings| settings.enabled)
            .ok_or(CallbackError::NotEnabled)?;
        let provider = self.provider(&settings, &self.origin(""))?;
        let notices = provider.verify(headers, body, Utc::now())?;
        let mut settled = Vec::with_capacity(notices.len());
        for notice in &notices {
            // An unsigned "paid" is believed only once the provider confirms it.
            if provider.must_confirm()
                && matches!(notice.report, Reported::Paid { .. })
                && let Subject::Checkout(reference) = &notice.subject
                && !provider.confirm(reference).await?
            {
                tracing::warn!(provider = kind.as_str(), %reference, "the provider did not confirm a reported payment");
                return Err(CallbackError::NotConfirmed.into());
            }
            settled.push(self.settle(site, kind, notice, expected).await?);
        }
        Ok(settled)
    }

    /// Asks M-Pesa about payments still pending after `wait` (up to an hour old) whose
    /// callback never came (Daraja loses some): a payment it confirms is settled as paid, once, like a callback
    /// would; a later callback then changes nothing. Answers how many were credited.
    pub async fn recheck_pending(
        &self,
        now: DateTime<Utc>,
        wait: chrono::Duration,
    ) -> Result<u32, PaymentError> {
        type Row = (i64, String, String, String, i64, String);
        let rows: Vec<Row> = on_db!(&self.engine.db, pool => {
            sqlx::query_as(
                "SELECT site_id, provider, public_id, provider_reference, amount_minor, currency FROM payments \
                 WHERE provider = $1 AND status = 'pending' AND provider_reference IS NOT NULL \
                 AND created_at < $2 AND created_at > $3 ORDER BY id LIMIT 200",
            )
            // The one provider whose callbacks are unsigned (`must_confirm`): abandoned card
            // checkouts, which pile up, are never read, and never crowd it out of the limit.
            .bind(ProviderKind::Mpesa.as_str())
            .bind(now - wait)
            // An STK push the payer never answered expires within minutes; an hour of
            // asking covers a slow payer without asking about it all day.
            .bind(now - chrono::Duration::hours(1))
            .fetch_all(pool)
            .await
        })?;
        let mut credited = 0;
        for (site, provider, public_id, reference, amount, currency) in rows {
            let Some(kind) = ProviderKind::parse(&provider) else {
                continue;
            };
            let Some(settings) = self.settings(site, kind).await?.filter(|s| s.enabled) else {
                continue;
            };
            let provider = self.provider(&settings, &self.origin(""))?;
            if !provider.must_confirm() {
                // Signed providers retry their callbacks for days; nothing to ask.
                continue;
            }
            match provider.confirm(&reference).await {
                Ok(true) => {}
                Ok(false) => continue,
                Err(error) => {
                    tracing::warn!(%public_id, %error, "could not ask the provider about a pending payment");
                    continue;
                }
            }
            let notice = Notice {
                event_key: format!("status-query:{reference}"),
                subject: Subject::Checkout(reference),
                report: Reported::Paid {
                    amount: Minor(amount),
                    currency,
                },
                paid_reference: None,
                reversal: None,
            };
            if let Settled::Credited { .. } =
                self.settle(site, kind, &notice, Some(&public_id)).await?
            {
                tracing::info!(%public_id, "a pending payment was confirmed by the provider's status query");
                credited += 1;
            }
        }
        Ok(credited)
    }

    /// Settles one verified notice, in one transaction.
    pub async fn settle(
        &self,
        site: i64,
        kind: ProviderKind,
        notice: &Notice,
        expected: Option<&str>,
    ) -> Result<Settled, PaymentError> {
        let _turn = self.engine.turn().await;
        let now = Utc::now();
        let mut tx = self.engine.db.begin_write().await?;
        let settled = settle_in(&mut tx, site, kind, notice, expected, now).await?;
        tx.commit().await?;
        if let Settled::Credited { .. } = settled {
            // A keypad meter's token may have been sold with it.
            self.engine.ring_token_sold();
        }
        Ok(settled)
    }
}

async fn settle_in(
    tx: &mut Tx,
    site: i64,
    kind: ProviderKind,
    notice: &Notice,
    expected: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Settled, PaymentError> {
    if event_seen(tx, kind, &notice.event_key).await? {
        return Ok(Settled::Unchanged);
    }
    let found = match &notice.subject {
        Subject::Checkout(reference) => find(tx, kind, "provider_reference", reference).await?,
        Subject::Paid(reference) => find(tx, kind, "provider_payment", reference).await?,
        Subject::Pushed { reference, .. } => {
            match find(tx, kind, "provider_reference", reference).await? {
                Some(payment) => Some(payment),
                None => Some(record_pushed(tx, site, kind, notice, now).await?),
            }
        }
    };
    if let Some(expected) = expected {
        let named = find_public(tx, expected)
            .await?
            .ok_or(CallbackError::Unknown)?;
        if found.as_ref().map(|p| p.id) != Some(named.id) {
            // The payment's own URL received news of another: believe neither.
            let settled = conflict(tx, &named, kind, notice, ConflictKind::Reference, now).await?;
            record_event(tx, kind, notice, Some(named.id), "conflict", now).await?;
            return Ok(settled);
        }
    }
    let payment = found
        .filter(|payment| payment.site_id == site)
        .ok_or(CallbackError::Unknown)?;
    let reversed = reversed(tx, payment.id).await?;
    let action = judge(
        payment.status(),
        payment.amount(),
        &payment.currency,
        reversed,
        &notice.report,
    );
    let (settled, outcome) = match action {
        Action::Credit => credit(tx, &payment, kind, notice, now).await?,
        Action::Conflict(conflict_kind) => (
            conflict(tx, &payment, kind, notice, conflict_kind, now).await?,
            "conflict",
        ),
        Action::Fail => {
            let reason = match &notice.report {
                Reported::Failed { reason } => reason.as_str(),
                _ => "",
            };
            on_tx!(&mut *tx, conn => {
                sqlx::query("UPDATE payments SET status = 'failed', failure = $1, updated_at = $2 WHERE id = $3")
                    .bind(reason)
                    .bind(now)
                    .bind(payment.id)
                    .execute(&mut *conn)
                    .await
                    .map(|_| ())
            })?;
            (
                Settled::Failed {
                    public_id: payment.public_id.clone(),
                },
                "failed",
            )
        }
        Action::Reverse { amount, chargeback } => {
            let reversal = notice.reversal.as_deref().unwrap_or(&notice.event_key);
            match reverse(
                tx,
                &payment,
                kind,
                reversal,
                amount,
                chargeback,
                None,
                "Reported by the provider",
                now,
            )
            .await?
            {
                Some(transaction) => (
                    Settled::Reversed {
                        public_id: payment.public_id.clone(),
                        transaction,
                    },
                    "reversed",
                ),
                None => (Settled::Unchanged, "repeat"),
            }
        }
        Action::Nothing => (Settled::Unchanged, "unchanged"),
    };
    record_event(tx, kind, notice, Some(payment.id), outcome, now).await?;
    Ok(settled)
}

/// Credits a payment's wallet and marks it paid. A wallet closed since the payment started
/// cannot take it: that is a conflict for a manager, not lost money.
async fn credit(
    tx: &mut Tx,
    payment: &PaymentRow,
    kind: ProviderKind,
    notice: &Notice,
    now: DateTime<Utc>,
) -> Result<(Settled, &'static str), PaymentError> {
    let Some(wallet) = payment.wallet_account_id else {
        let settled =
            conflict(tx, payment, kind, notice, ConflictKind::UnknownAccount, now).await?;
        return Ok((settled, "conflict"));
    };
    let source = money::Source::Provider {
        provider: kind.as_str().to_owned(),
        reference: payment
            .provider_reference
            .clone()
            .unwrap_or_else(|| payment.public_id.clone()),
    };
    let top_up = match money::credit(
        tx,
        wallet,
        payment.amount(),
        &source,
        payment.payer_user_id,
        now,
    )
    .await
    {
        Ok(top_up) => top_up,
        Err(EngineError::Refused(_)) => {
            let settled =
                conflict(tx, payment, kind, notice, ConflictKind::UnknownAccount, now).await?;
            return Ok((settled, "conflict"));
        }
        Err(error) => return Err(error.into()),
    };
    let number = top_up.receipt.map(|(_, number)| number);
    on_tx!(&mut *tx, conn => {
        sqlx::query(
            "UPDATE payments SET status = 'paid', transaction_id = $1, receipt_number = $2, paid_at = $3, \
             updated_at = $3, failure = NULL, provider_payment = COALESCE($4, provider_payment) WHERE id = $5",
        )
        .bind(top_up.transaction)
        .bind(number)
        .bind(now)
        .bind(&notice.paid_reference)
        .bind(payment.id)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    })?;
    // The receipt goes to the resident through the notification outbox (push, in-app).
    let body = serde_json::json!({
        "payment": payment.public_id,
        "amount_minor": payment.amount_minor,
        "currency": payment.currency,
        "receipt": top_up.receipt_label(),
        "balance_minor": top_up.balance.0,
    });
    on_tx!(&mut *tx, conn => {
        sqlx::query(
            "INSERT INTO notifications (site_id, wallet_account_id, audience, kind, body, dedupe_key, created_at) \
             VALUES ($1, $2, 'resident', 'payment_received', $3, $4, $5) ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind(payment.site_id)
        .bind(wallet)
        .bind(body.to_string())
        .bind(format!("payment:{}", payment.public_id))
        .bind(now)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    })?;
    Ok((
        Settled::Credited {
            public_id: payment.public_id.clone(),
            transaction: top_up.transaction,
        },
        "credited",
    ))
}

/// Records a conflict (once per event) and holds a pending payment there.
async fn conflict(
    tx: &mut Tx,
    payment: &PaymentRow,
    kind: ProviderKind,
    notice: &Notice,
    conflict_kind: ConflictKind,
    now: DateTime<Utc>,
) -> Result<Settled, PaymentError> {
    let (detail, amount) = match &notice.report {
        Reported::Paid { amount, currency } => (
            format!(
                "The provider reported {} {currency} paid; {} {} was asked.",
                amount.format(super::digits_of(currency)),
                payment.amount().format(super::digits_of(&payment.currency)),
                payment.currency
            ),
            Some(amount.0),
        ),
        other => (format!("The provider reported {other:?}."), None),
    };
    on_tx!(&mut *tx, conn => {
        sqlx::query(
            "INSERT INTO payment_conflicts (site_id, payment_id, provider, kind, detail, amount_minor, dedupe_key, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind(payment.site_id)
        .bind(payment.id)
        .bind(kind.as_str())
        .bind(conflict_kind.as_str())
        .bind(&detail)
        .bind(amount)
        .bind(format!("{}:{}", kind.as_str(), notice.event_key))
        .bind(now)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    })?;
    // News about another payment says nothing about this one: it stays as it was.
    if conflict_kind != ConflictKind::Reference {
        on_tx!(&mut *tx, conn => {
            sqlx::query("UPDATE payments SET status = 'conflict', updated_at = $1 WHERE id = $2 AND status IN ('pending', 'failed')")
                .bind(now)
                .bind(payment.id)
                .execute(&mut *conn)
                .await
                .map(|_| ())
        })?;
    }
    tracing::warn!(payment = %payment.public_id, kind = conflict_kind.as_str(), "payment conflict recorded");
    Ok(Settled::Conflict {
        public_id: payment.public_id.clone(),
        kind: conflict_kind,
    })
}

/// Takes `amount` back for a refund or chargeback named `reversal` by the provider, once.
/// Answers `None` if that reversal was already taken.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn reverse(
    tx: &mut Tx,
    payment: &PaymentRow,
    kind: ProviderKind,
    reversal: &str,
    amount: Minor,
    chargeback: bool,
    actor: Option<i64>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Option<i64>, PaymentError> {
    let known: i64 = on_tx!(&mut *tx, conn => {
        sqlx::query_scalar("SELECT COUNT(*) FROM payment_refunds WHERE payment_id = $1 AND provider_reference = $2")
            .bind(payment.id)
            .bind(reversal)
            .fetch_one(&mut *conn)
            .await
    })?;
    if known > 0 {
        return Ok(None);
    }
    let wallet = payment
        .wallet_account_id
        .ok_or_else(|| PaymentError::Refused("The payment was never credited.".into()))?;
    let label = if chargeback { "chargeback" } else { "refund" };
    let key = format!("{label}:{}:{reversal}", kind.as_str());
    let transaction = money::take_back(tx, wallet, amount, key.clone(), label, actor, now).await?;
    on_tx!(&mut *tx, conn => {
        sqlx::query(
            "INSERT INTO payment_refunds (payment_id, kind, amount_minor, reference, provider_reference, transaction_id, \
             reason, actor_user_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(payment.id)
        .bind(label)
        .bind(amount.0)
        .bind(&key)
        .bind(reversal)
        .bind(transaction)
        .bind(reason)
        .bind(actor)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    })?;
    let total = reversed(tx, payment.id).await?;
    let status = after_reversal(payment.amount(), total, chargeback);
    on_tx!(&mut *tx, conn => {
        sqlx::query("UPDATE payments SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status.as_str())
            .bind(now)
            .bind(payment.id)
            .execute(&mut *conn)
            .await
            .map(|_| ())
    })?;
    Ok(Some(transaction))
}

/// Money pushed to us (a paybill payment): a payment is recorded for it, into the account
/// its reference names; with no such account, a conflict holds it for a manager.
async fn record_pushed(
    tx: &mut Tx,
    site: i64,
    kind: ProviderKind,
    notice: &Notice,
    now: DateTime<Utc>,
) -> Result<PaymentRow, PaymentError> {
    let Subject::Pushed {
        account_reference,
        reference,
        amount,
        currency,
    } = &notice.subject
    else {
        unreachable!("only pushed money is recorded here");
    };
    let wallet = wallet_for_reference(tx, site, account_reference).await?;
    let public_id = super::new_public_id();
    let channel = if kind == ProviderKind::Bank {
        Channel::Bank
    } else {
        Channel::Paybill
    };
    let id = match wallet {
        Some(wallet) => {
            insert_pending(
                tx,
                &Pending {
                    public_id: &public_id,
                    site,
                    wallet,
                    kind,
                    channel,
                    amount: *amount,
                    currency,
                    payer: None,
                    phone: None,
                },
                now,
            )
            .await?
        }
        None => on_tx!(&mut *tx, conn => {
            sqlx::query_scalar(
                "INSERT INTO payments (public_id, site_id, provider, channel, amount_minor, currency, created_at, updated_at) \
                 VALUES ($1, $2, $3, $7, $4, $5, $6, $6) RETURNING id",
            )
            .bind(&public_id)
            .bind(site)
            .bind(kind.as_str())
            .bind(amount.0)
            .bind(currency)
            .bind(now)
            .bind(channel.as_str())
            .fetch_one(&mut *conn)
            .await
        })?,
    };
    on_tx!(&mut *tx, conn => {
        sqlx::query("UPDATE payments SET provider_reference = $1 WHERE id = $2")
            .bind(reference)
            .bind(id)
            .execute(&mut *conn)
            .await
            .map(|_| ())
    })?;
    find_public(tx, &public_id)
        .await?
        .ok_or_else(|| PaymentError::Refused("the payment vanished".into()))
}

/// The open wallet an account number (A0000123) or a meter serial names at a site.
pub(crate) async fn wallet_for_reference(
    tx: &mut Tx,
    site: i64,
    reference: &str,
) -> Result<Option<i64>, sqlx::Error> {
    let reference = reference.trim();
    if let Some(number) = reference
        .strip_prefix(['A', 'a'])
        .and_then(|digits| digits.parse::<i64>().ok())
    {
        let found: Option<i64> = on_tx!(&mut *tx, conn => {
            sqlx::query_scalar("SELECT account_id FROM wallets WHERE account_id = $1 AND site_id = $2 AND closed_at IS NULL")
                .bind(number)
                .bind(site)
                .fetch_optional(&mut *conn)
                .await
        })?;
        if found.is_some() {
            return Ok(found);
        }
    }
    // A meter's own wallet, or else its unit's shared one.
    on_tx!(tx, conn => {
        sqlx::query_scalar(
            "SELECT w.account_id FROM meters m JOIN units u ON u.id = m.unit_id \
             JOIN wallets w ON w.closed_at IS NULL AND (w.meter_id = m.id OR (w.meter_id IS NULL AND w.unit_id = m.unit_id)) \
             WHERE UPPER(m.serial) = UPPER($1) AND w.site_id = $2 ORDER BY w.meter_id IS NULL LIMIT 1",
        )
        .bind(reference)
        .bind(site)
        .fetch_optional(&mut *conn)
        .await
    })
}

async fn event_seen(tx: &mut Tx, kind: ProviderKind, key: &str) -> Result<bool, sqlx::Error> {
    let seen: i64 = on_tx!(tx, conn => {
        sqlx::query_scalar("SELECT COUNT(*) FROM payment_events WHERE provider = $1 AND event_key = $2")
            .bind(kind.as_str())
            .bind(key)
            .fetch_one(&mut *conn)
            .await
    })?;
    Ok(seen > 0)
}

async fn record_event(
    tx: &mut Tx,
    kind: ProviderKind,
    notice: &Notice,
    payment: Option<i64>,
    outcome: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO payment_events (payment_id, provider, event_key, outcome, received_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(payment)
        .bind(kind.as_str())
        .bind(&notice.event_key)
        .bind(outcome)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    })
}

async fn find(
    tx: &mut Tx,
    kind: ProviderKind,
    column: &'static str,
    reference: &str,
) -> Result<Option<PaymentRow>, sqlx::Error> {
    let sql =
        format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE provider = $1 AND {column} = $2");
    on_tx!(tx, conn => {
        sqlx::query_as(&sql)
            .bind(kind.as_str())
            .bind(reference)
            .fetch_optional(&mut *conn)
            .await
    })
}

pub(crate) async fn find_public(
    tx: &mut Tx,
    public_id: &str,
) -> Result<Option<PaymentRow>, sqlx::Error> {
    let sql = format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE public_id = $1");
    on_tx!(tx, conn => {
        sqlx::query_as(&sql)
            .bind(public_id)
            .fetch_optional(&mut *conn)
            .await
    })
}

/// How much of a payment has gone back so far.
pub(crate) async fn reversed(tx: &mut Tx, payment: i64) -> Result<Minor, sqlx::Error> {
    // PostgreSQL sums BIGINT as NUMERIC: cast back.
    let total: Option<i64> = on_tx!(tx, conn => {
        sqlx::query_scalar("SELECT CAST(SUM(amount_minor) AS BIGINT) FROM payment_refunds WHERE payment_id = $1")
            .bind(payment)
            .fetch_one(&mut *conn)
            .await
    })?;
    Ok(Minor(total.unwrap_or(0)))
}
