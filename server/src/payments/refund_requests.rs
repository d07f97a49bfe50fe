//! Refunds on four eyes. A refund is asked for (payment, amount, reason, by hand or through the
//! provider) and waits; another of the site's managers or an admin approves it, and only then
//! does [`Payments::refund`] give the money back, as the approver. The one who asked may
//! withdraw it, never approve it. An approval claims the request (`approving`) before the
//! provider is asked, so two approvals at once refund once; a provider's refusal puts it back
//! to wait.

use super::{PaymentError, Payments, digits_of, settle::reversed};
use crate::{audit::AuditEntry, engine::EngineError, on_db, on_db_write, on_tx};
use app::domain::{
    Minor,
    four_eyes::{Decision, Verdict, repeated},
    payments::{PaymentStatus, RefundRequestView},
};
use chrono::{DateTime, Utc};

#[derive(sqlx::FromRow)]
struct Asked {
    site_id: i64,
    public_id: String,
    amount_minor: i64,
    reason: String,
    by_hand: bool,
    asked_by: i64,
    state: String,
    decided_by: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct WaitingRow {
    id: i64,
    public_id: String,
    wallet_account_id: Option<i64>,
    amount_minor: i64,
    currency: String,
    reason: String,
    by_hand: bool,
    asked_by: i64,
    asker: String,
    asked_at: DateTime<Utc>,
}

/// A refund's reason as typed: trimmed, and required.
pub(super) fn refund_reason(raw: &str) -> Result<&str, PaymentError> {
    match raw.trim() {
        "" => Err(PaymentError::Refused(
            "Give a reason for the refund.".into(),
        )),
        reason => Ok(reason),
    }
}

impl Payments {
    /// Asks for `amount` of a paid payment back, for a second person to approve; answers the
    /// request's id. The same request sent again by the same person while it waits answers
    /// the same id. Refused: no reason, a payment not paid, more than is left once what was
    /// refunded and what waits are taken off.
    pub async fn ask_refund(
        &self,
        actor: i64,
        public_id: &str,
        amount: Minor,
        reason: &str,
        by_hand: bool,
    ) -> Result<i64, PaymentError> {
        let reason = refund_reason(reason)?;
        let _turn = self.engine.turn().await;
        let mut tx = self.engine.db.begin_write().await?;
        let payment = super::settle::find_public(&mut tx, public_id)
            .await?
            .ok_or(EngineError::NotFound("payment"))?;
        if payment.status() != PaymentStatus::Paid {
            return Err(PaymentError::Refused(
                "Only a paid payment can be refunded.".into(),
            ));
        }
        let same: Option<i64> = on_tx!(&mut tx, conn => {
            sqlx::query_scalar(
                "SELECT id FROM refund_requests WHERE payment_id = $1 AND amount_minor = $2 AND reason = $3 \
                 AND by_hand = $4 AND asked_by = $5 AND state IN ('pending', 'approving')",
            )
            .bind(payment.id)
            .bind(amount.0)
            .bind(reason)
            .bind(by_hand)
            .bind(actor)
            .fetch_optional(&mut *conn)
            .await
        })?;
        if let Some(id) = same {
            return Ok(id);
        }
        let waiting: i64 = on_tx!(&mut tx, conn => {
            sqlx::query_scalar(
                "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM refund_requests \
                 WHERE payment_id = $1 AND state IN ('pending', 'approving')",
            )
            .bind(payment.id)
            .fetch_one(&mut *conn)
            .await
        })?;
        let left = payment.amount() - reversed(&mut tx, payment.id).await? - Minor(waiting);
        if amount > left {
            return Err(PaymentError::Refused(format!(
                "At most {} can still be asked back (refunds waiting for approval count).",
                left.max(Minor::ZERO).format(digits_of(&payment.currency))
            )));
        }
        let now = Utc::now();
        let id: i64 = on_tx!(&mut tx, conn => {
            sqlx::query_scalar(
                "INSERT INTO refund_requests (site_id, payment_id, amount_minor, reason, by_hand, asked_by, asked_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(payment.site_id)
            .bind(payment.id)
            .bind(amount.0)
            .bind(reason)
            .bind(by_hand)
            .bind(actor)
            .bind(now)
            .fetch_one(&mut *conn)
            .await
        })?;
        AuditEntry::new("refund_asked", "payment", payment.id)
            .by_actor(Some(actor))
            .after(serde_json::json!({
                "request": id, "amount_minor": amount.0, "reason": reason, "by_hand": by_hand,
            }))
            .insert_tx(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Approves (the refund is given, as `actor`) or refuses a request of `site`; the one who
    /// asked may only withdraw it. Deciding again as already decided is a success that changes
    /// nothing; anything else about a decided request is refused.
    pub async fn decide_refund(
        &self,
        actor: i64,
        site: i64,
        request: i64,
        decision: Decision,
    ) -> Result<(), PaymentError> {
        let asked: Option<Asked> = on_db!(&self.engine.db, pool => {
            sqlx::query_as(
                "SELECT r.site_id, p.public_id, r.amount_minor, r.reason, r.by_hand, r.asked_by, r.state, r.decided_by \
                 FROM refund_requests r JOIN payments p ON p.id = r.payment_id WHERE r.id = $1 AND r.site_id = $2",
            )
            .bind(request)
            .bind(site)
            .fetch_optional(pool)
            .await
        })?;
        let asked = asked.ok_or(EngineError::NotFound("refund request"))?;
        let wanted = match decision.verdict(asked.asked_by == actor) {
            None => {
                return Err(PaymentError::Refused(
                    "A second person must approve a refund you asked for.".into(),
                ));
            }
            Some(Verdict::Approved) => "refunded",
            Some(Verdict::Refused) => "refused",
            Some(Verdict::Withdrawn) => "withdrawn",
        };
        if asked.state != "pending" {
            return if repeated(asked.state.as_str(), wanted, asked.decided_by, actor) {
                Ok(())
            } else {
                Err(PaymentError::Refused(format!(
                    "This refund is no longer waiting: {}.",
                    asked.state
                )))
            };
        }
        // Claimed first: a second approval at the same time finds it taken.
        let claim = if wanted == "refunded" {
            "approving"
        } else {
            wanted
        };
        if !self.move_request(request, "pending", claim, actor).await? {
            return Err(PaymentError::Refused(
                "Someone decided this refund a moment ago: look again.".into(),
            ));
        }
        if wanted == "refunded" {
            let amount = Minor(asked.amount_minor);
            let given = self
                .refund(
                    actor,
                    &asked.public_id,
                    amount,
                    &asked.reason,
                    asked.by_hand,
                )
                .await;
            if let Err(error) = given {
                self.move_request(request, "approving", "pending", actor)
                    .await?;
                return Err(error);
            }
            self.move_request(request, "approving", "refunded", actor)
                .await?;
        }
        let action = match wanted {
            "refunded" => "refund_approved",
            "refused" => "refund_refused",
            _ => "refund_withdrawn",
        };
        AuditEntry::new(action, "refund_request", request)
            .by_actor(Some(actor))
            .before(serde_json::json!({ "state": "pending", "asked_by": asked.asked_by }))
            .after(serde_json::json!({ "state": wanted, "site": asked.site_id }))
            .record(&self.engine.db)
            .await?;
        Ok(())
    }

    /// Moves a request from one state to another; whether it was in `from`.
    async fn move_request(
        &self,
        request: i64,
        from: &str,
        to: &str,
        actor: i64,
    ) -> Result<bool, PaymentError> {
        let _turn = self.engine.turn().await;
        let moved = on_db_write!(&self.engine.db, pool => {
            sqlx::query(
                "UPDATE refund_requests SET state = $1, decided_by = $2, decided_at = $3 \
                 WHERE id = $4 AND state = $5",
            )
            .bind(to)
            .bind((to != "pending").then_some(actor))
            .bind((to != "pending").then(Utc::now))
            .bind(request)
            .bind(from)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })?;
        Ok(moved == 1)
    }

    /// The site's refunds waiting for a second person, oldest first, as `viewer` sees them.
    pub(crate) async fn refunds_waiting(
        &self,
        site: i64,
        viewer: i64,
    ) -> Result<Vec<RefundRequestView>, sqlx::Error> {
        let rows: Vec<WaitingRow> = on_db!(&self.engine.db, pool => {
            sqlx::query_as(
                "SELECT r.id, p.public_id, p.wallet_account_id, r.amount_minor, p.currency, r.reason, r.by_hand, \
                 r.asked_by, u.display_name AS asker, r.asked_at FROM refund_requests r \
                 JOIN payments p ON p.id = r.payment_id JOIN users u ON u.id = r.asked_by \
                 WHERE r.site_id = $1 AND r.state IN ('pending', 'approving') ORDER BY r.id",
            )
            .bind(site)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(|row| RefundRequestView {
                id: row.id,
                payment: row.public_id,
                account_number: row
                    .wallet_account_id
                    .map(crate::ledger::account_number)
                    .unwrap_or_default(),
                amount: Minor(row.amount_minor).format(digits_of(&row.currency)),
                reason: row.reason,
                by_hand: row.by_hand,
                asked_by: row.asker,
                asked_at: row.asked_at,
                mine: row.asked_by == viewer,
            })
            .collect())
    }
}
