//! Move-out refunds paid to people. A move-out leaves what a person is owed on the site's
//! refunds-payable account and an `owed` payout naming them (see `engine::occupancy`); a
//! manager pays it through a provider that sends money to people, or records it as paid by
//! hand. The ledger moves (refunds payable → provider clearing, or → cash) only once the
//! money has gone, in the transaction that marks the payout paid, under the payout's own key:
//! however often a provider reports the same payout, it is paid once.

use super::{
    PaymentError, Payments, digits_of,
    provider::{PayoutRequest, PayoutResult, PayoutSent},
};
use crate::{
    audit::AuditEntry,
    engine::EngineError,
    ledger::{Posting, SiteAccount, post, site_account},
    on_db, on_db_write, on_tx,
};
use app::domain::{
    Minor,
    payments::{PayoutStatus, PayoutView, ProviderKind},
};
use chrono::{DateTime, Utc};

/// A payout as paying it needs it.
#[derive(Clone, Debug, sqlx::FromRow)]
struct PayoutRow {
    id: i64,
    site_id: i64,
    amount_minor: i64,
    reference: String,
    status: String,
    provider: Option<String>,
    provider_reference: Option<String>,
    attempts: i64,
    settled_by: Option<i64>,
}

const PAYOUT_COLUMNS: &str = "id, site_id, amount_minor, reference, status, provider, provider_reference, attempts, \
     settled_by";

impl PayoutRow {
    fn status(&self) -> PayoutStatus {
        PayoutStatus::parse(&self.status).unwrap_or(PayoutStatus::Sent)
    }

    /// Four eyes: whoever settled the move-out does not also pay its refund.
    fn payable_by(&self, actor: i64) -> Result<(), PaymentError> {
        if self.settled_by == Some(actor) {
            return Err(PaymentError::Refused(
                "You settled this move-out: another of the site's managers or an admin pays its refund."
                    .into(),
            ));
        }
        Ok(())
    }
}

/// How the money left.
enum Paid<'a> {
    ByHand { reference: &'a str, note: &'a str },
    Provider { reference: &'a str },
}

/// What a provider's result did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PayoutOutcome {
    Paid,
    /// The provider could not pay: the refund is owed again.
    Failed,
    /// A repeat, or news about a payout settled already.
    Unchanged,
}

impl Payments {
    async fn payout(&self, id: i64) -> Result<PayoutRow, PaymentError> {
        let sql = format!("SELECT {PAYOUT_COLUMNS} FROM payouts WHERE id = $1");
        let row: Option<PayoutRow> = on_db!(&self.engine.db, pool => {
            sqlx::query_as(&sql).bind(id).fetch_optional(pool).await
        })?;
        Ok(row.ok_or(EngineError::NotFound("payout"))?)
    }

    /// The site a payout belongs to.
    pub(crate) async fn site_of_payout(&self, id: i64) -> Result<Option<i64>, sqlx::Error> {
        on_db!(&self.engine.db, pool => {
            sqlx::query_scalar("SELECT site_id FROM payouts WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await
        })
    }

    /// Records a refund paid by hand (cash, cheque, a transfer from the site's bank).
    pub async fn pay_out_by_hand(
        &self,
        actor: i64,
        id: i64,
        reference: &str,
        note: &str,
    ) -> Result<(), PaymentError> {
        let reference = reference.trim();
        if reference.is_empty() {
            return Err(PaymentError::Refused(
                "Write the receipt, cheque or transfer number.".into(),
            ));
        }
        let payout = self.payout(id).await?;
        payout.payable_by(actor)?;
        if payout.status() != PayoutStatus::Owed {
            return Err(not_owed(payout.status()));
        }
        let paid = Paid::ByHand {
            reference,
            note: note.trim(),
        };
        match self.finish(&payout, paid, Some(actor)).await? {
            PayoutOutcome::Paid => Ok(()),
            _ => Err(not_owed(PayoutStatus::Paid)),
        }
    }

    /// Sends a refund through a provider. The payout is claimed (`sent`) before the provider
    /// hears of it, so two clicks cannot pay twice; if the provider refuses, it is owed again.
    pub async fn pay_out_through(
        &self,
        actor: i64,
        id: i64,
        kind: ProviderKind,
        destination: Option<&str>,
        origin: &str,
    ) -> Result<(), PaymentError> {
        if !kind.pays_out() {
            return Err(PaymentError::Refused(format!(
                "{} cannot send money to a person.",
                kind.label()
            )));
        }
        let payout = self.payout(id).await?;
        payout.payable_by(actor)?;
        let provider = self.enabled_provider(payout.site_id, kind, origin).await?;
        let currency = self.site_currency(payout.site_id).await?;
        let now = Utc::now();
        let claimed = {
            let _turn = self.engine.turn().await;
            on_db_write!(&self.engine.db, pool => {
                sqlx::query(
                    "UPDATE payouts SET status = 'sent', method = 'provider', provider = $1, destination = $2, \
                     attempts = attempts + 1, failure = NULL, sent_at = $3, actor_user_id = $4 \
                     WHERE id = $5 AND status = 'owed'",
                )
                .bind(kind.as_str())
                .bind(destination)
                .bind(now)
                .bind(actor)
                .bind(id)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
            })? == 1
        };
        if !claimed {
            return Err(not_owed(self.payout(id).await?.status()));
        }
        let request = PayoutRequest {
            reference: format!("{}-{}", payout.reference, payout.attempts + 1),
            amount: Minor(payout.amount_minor),
            currency,
            destination: destination.map(str::to_owned),
            result_url: format!(
                "{}/hooks/payout/{id}/{}",
                self.origin(origin),
                self.url_token(&format!("payout:{id}"))
            ),
            remarks: "Refund of prepaid credit on moving out".into(),
        };
        let payout = PayoutRow {
            status: PayoutStatus::Sent.as_str().into(),
            provider: Some(kind.as_str().into()),
            ..payout
        };
        match provider.pay_out(&request).await {
            Ok(PayoutSent::Paid(reference)) => {
                self.finish(
                    &payout,
                    Paid::Provider {
                        reference: &reference,
                    },
                    Some(actor),
                )
                .await?;
                Ok(())
            }
            Ok(PayoutSent::Accepted(request)) => {
                on_db_write!(&self.engine.db, pool => {
                    sqlx::query("UPDATE payouts SET provider_reference = COALESCE(provider_reference, $1) WHERE id = $2")
                        .bind(&request)
                        .bind(id)
                        .execute(pool)
                        .await
                        .map(|_| ())
                })?;
                Ok(())
            }
            Err(error) if error.is_uncertain() => {
                // The money may have gone: it stays sent, so nobody pays it again, until the
                // provider's result comes (or, if none does, `release_stale_payouts`).
                self.note_failure(id, &format!("{error}; its result is awaited"))
                    .await?;
                Err(error.into())
            }
            Err(error) => {
                self.owe_again(id, &error.to_string()).await?;
                Err(error.into())
            }
        }
    }

    /// Payouts sent longer ago than `after` with no result: owed again, with a warning to
    /// check with the provider before paying. Answers how many.
    pub async fn release_stale_payouts(
        &self,
        now: DateTime<Utc>,
        after: chrono::Duration,
    ) -> Result<u64, sqlx::Error> {
        let _turn = self.engine.turn().await;
        on_db_write!(&self.engine.db, pool => {
            sqlx::query(
                "UPDATE payouts SET status = 'owed', provider_reference = NULL, \
                 failure = 'No result came from the provider: check with it that nothing was paid before paying again.' \
                 WHERE status = 'sent' AND sent_at < $1",
            )
            .bind(now - after)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })
    }

    async fn note_failure(&self, id: i64, failure: &str) -> Result<(), sqlx::Error> {
        tracing::warn!(payout = id, failure, "payout answer unclear");
        on_db_write!(&self.engine.db, pool => {
            sqlx::query("UPDATE payouts SET failure = $1 WHERE id = $2")
                .bind(failure)
                .bind(id)
                .execute(pool)
                .await
                .map(|_| ())
        })
    }

    /// A provider's result for a payout, from its result URL (whose token the route checked).
    pub async fn payout_result(&self, id: i64, body: &[u8]) -> Result<PayoutOutcome, PaymentError> {
        let payout = self.payout(id).await?;
        let kind = payout
            .provider
            .as_deref()
            .and_then(ProviderKind::parse)
            .ok_or(super::provider::CallbackError::Unknown)?;
        let settings = self
            .settings(payout.site_id, kind)
            .await?
            .ok_or(super::provider::CallbackError::NotEnabled)?;
        let result: PayoutResult = self.provider(&settings, "")?.payout_result(body)?;
        // A result about another request to the same payout (an earlier, failed try) is not
        // this one's. Before the request's id is stored, the token alone vouches for it.
        if payout
            .provider_reference
            .as_deref()
            .is_some_and(|ours| ours != result.request && Some(ours) != result.paid.as_deref())
        {
            return Err(super::provider::CallbackError::Unknown.into());
        }
        match (&result.paid, payout.status()) {
            (_, PayoutStatus::Paid) => Ok(PayoutOutcome::Unchanged),
            // Money that went is paid, even after we took a failure for the last word.
            (Some(reference), _) => {
                self.finish(&payout, Paid::Provider { reference }, None)
                    .await
            }
            (None, PayoutStatus::Sent) => {
                self.owe_again(id, &result.description).await?;
                Ok(PayoutOutcome::Failed)
            }
            (None, _) => Ok(PayoutOutcome::Unchanged),
        }
    }

    /// Marks a payout paid and moves the money out of refunds payable, once.
    async fn finish(
        &self,
        payout: &PayoutRow,
        paid: Paid<'_>,
        actor: Option<i64>,
    ) -> Result<PayoutOutcome, PaymentError> {
        let _turn = self.engine.turn().await;
        let now = Utc::now();
        let mut tx = self.engine.db.begin_write().await?;
        let status: String = on_tx!(&mut tx, conn => {
            sqlx::query_scalar("SELECT status FROM payouts WHERE id = $1")
                .bind(payout.id)
                .fetch_one(&mut *conn)
                .await
        })?;
        if status == PayoutStatus::Paid.as_str() {
            return Ok(PayoutOutcome::Unchanged);
        }
        let site = payout.site_id;
        let refunds = site_account(&mut tx, site, SiteAccount::RefundsPayable, now).await?;
        let (to, method, reference, note) = match paid {
            Paid::ByHand { reference, note } => (SiteAccount::Cash, "manual", reference, note),
            Paid::Provider { reference } => {
                (SiteAccount::ProviderClearing, "provider", reference, "")
            }
        };
        let to = site_account(&mut tx, site, to, now).await?;
        let mut posting = Posting::new(site, format!("payout:{}", payout.id), "payout")
            .memo("Move-out refund paid")
            .by(actor);
        posting.transfer(refunds, to, Minor(payout.amount_minor));
        let transaction = post(&mut tx, &posting, now)
            .await
            .map_err(EngineError::from)?
            .transaction();
        on_tx!(&mut tx, conn => {
            sqlx::query(
                "UPDATE payouts SET status = 'paid', method = $1, provider_reference = $2, note = $3, \
                 transaction_id = $4, paid_at = $5, failure = NULL, actor_user_id = COALESCE($6, actor_user_id) WHERE id = $7",
            )
            .bind(method)
            .bind(reference)
            .bind(note)
            .bind(transaction)
            .bind(now)
            .bind(actor)
            .bind(payout.id)
            .execute(&mut *conn)
            .await
            .map(|_| ())
        })?;
        AuditEntry::new("payout", "payout", payout.id)
            .by_actor(actor)
            .after(serde_json::json!({
                "amount_minor": payout.amount_minor, "method": method,
                "provider": payout.provider, "reference": reference, "transaction": transaction,
            }))
            .insert_tx(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(PayoutOutcome::Paid)
    }

    /// A provider could not pay: the refund is owed again, with the reason shown.
    async fn owe_again(&self, id: i64, failure: &str) -> Result<(), sqlx::Error> {
        tracing::warn!(payout = id, failure, "payout failed at the provider");
        let _turn = self.engine.turn().await;
        on_db_write!(&self.engine.db, pool => {
            sqlx::query(
                "UPDATE payouts SET status = 'owed', failure = $1, provider_reference = NULL WHERE id = $2 AND status = 'sent'",
            )
            .bind(failure)
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ())
        })
    }

    /// A site's move-out refunds, as `viewer` sees them: owed and in flight first, then the
    /// latest paid.
    pub(crate) async fn payouts(
        &self,
        site: i64,
        currency: &str,
        viewer: i64,
    ) -> Result<Vec<PayoutView>, sqlx::Error> {
        let rows: Vec<PayoutLine> = on_db!(&self.engine.db, pool => {
            sqlx::query_as(
                "SELECT p.id, u.display_name AS person, u.email, p.amount_minor, p.status, p.method, p.provider, \
                 p.provider_reference, p.note, p.failure, p.created_at, p.paid_at, p.settled_by, \
                 s.display_name AS settler FROM payouts p JOIN users u ON u.id = p.user_id \
                 LEFT JOIN users s ON s.id = p.settled_by WHERE p.site_id = $1 \
                 ORDER BY p.status = 'paid', p.id DESC LIMIT 100",
            )
            .bind(site)
            .fetch_all(pool)
            .await
        })?;
        let digits = digits_of(currency);
        Ok(rows
            .into_iter()
            .map(|row| {
                let method = match row.method.as_deref() {
                    Some("manual") => Some("By hand".to_owned()),
                    Some(_) => row
                        .provider
                        .as_deref()
                        .and_then(ProviderKind::parse)
                        .map(|kind| kind.label().to_owned()),
                    None => None,
                };
                PayoutView {
                    id: row.id,
                    person: row.person,
                    email: row.email,
                    amount: Minor(row.amount_minor).format(digits),
                    status: PayoutStatus::parse(&row.status).unwrap_or(PayoutStatus::Sent),
                    method,
                    reference: row.provider_reference,
                    note: row.note,
                    failure: row.failure,
                    created_at: row.created_at,
                    paid_at: row.paid_at,
                    settled_by: row.settler,
                    mine: row.settled_by == Some(viewer),
                }
            })
            .collect())
    }
}

/// A payout as the payments page lists it.
#[derive(sqlx::FromRow)]
struct PayoutLine {
    id: i64,
    person: String,
    email: String,
    amount_minor: i64,
    status: String,
    method: Option<String>,
    provider: Option<String>,
    provider_reference: Option<String>,
    note: String,
    failure: Option<String>,
    created_at: DateTime<Utc>,
    paid_at: Option<DateTime<Utc>>,
    settled_by: Option<i64>,
    settler: Option<String>,
}

fn not_owed(status: PayoutStatus) -> PaymentError {
    PaymentError::Refused(match status {
        PayoutStatus::Paid => "This refund is paid already.".into(),
        _ => "This refund is being paid through a provider; wait for its answer.".into(),
    })
}
