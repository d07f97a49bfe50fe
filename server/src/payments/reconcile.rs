//! Reconciliation against a provider's settlement file: the ledger's side of
//! [`app::domain::reconciliation`]. What the ledger credited for each payment is read from
//! the ledger's own entries, not from the payment's row, so a payment marked paid whose
//! money never reached the wallet shows up too.

use super::{PaymentError, Payments, digits_of};
use crate::on_db;
use app::domain::{
    Minor,
    payments::ProviderKind,
    reconciliation::{LedgerPayment, ReconciliationReport, parse_settlement, reconcile},
};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use std::collections::HashMap;

/// How far outside the period a payment may lie and still be recognised: settlement files
/// list money when it settles, days after it was paid.
const MARGIN_DAYS: i64 = 30;

impl Payments {
    /// Sets a settlement file against the site's payments through `provider` paid from the
    /// start of `from` to the end of `to` (UTC).
    pub async fn reconcile(
        &self,
        site: i64,
        provider: ProviderKind,
        from: NaiveDate,
        to: NaiveDate,
        file: &str,
    ) -> Result<ReconciliationReport, PaymentError> {
        let currency = self.site_currency(site).await?;
        let digits = digits_of(&currency);
        let (lines, skipped) = parse_settlement(file, digits).map_err(PaymentError::Refused)?;
        let start = from.and_time(chrono::NaiveTime::MIN).and_utc();
        let end = (to + Duration::days(1))
            .and_time(chrono::NaiveTime::MIN)
            .and_utc();
        let payments = self
            .ledger_payments(
                site,
                provider,
                start - Duration::days(MARGIN_DAYS),
                end + Duration::days(MARGIN_DAYS),
                (start, end),
            )
            .await?;
        Ok(ReconciliationReport {
            provider,
            from,
            to,
            currency,
            digits,
            skipped,
            outcome: reconcile(&lines, &payments),
        })
    }

    async fn ledger_payments(
        &self,
        site: i64,
        provider: ProviderKind,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        (start, end): (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<Vec<LedgerPayment>, sqlx::Error> {
        type Row = (
            i64,
            String,
            Option<String>,
            Option<String>,
            Option<DateTime<Utc>>,
            Option<i64>,
        );
        let rows: Vec<Row> = on_db!(&self.engine.db, pool => {
            sqlx::query_as(
                "SELECT p.id, p.public_id, p.provider_reference, p.provider_payment, p.paid_at, \
                 (SELECT CAST(SUM(e.amount_minor) AS BIGINT) FROM ledger_entries e \
                  WHERE e.transaction_id = p.transaction_id AND e.account_id = p.wallet_account_id) \
                 FROM payments p WHERE p.site_id = $1 AND p.provider = $2 AND p.created_at >= $3 AND p.created_at < $4 \
                 ORDER BY p.id",
            )
            .bind(site)
            .bind(provider.as_str())
            .bind(since)
            .bind(until)
            .fetch_all(pool)
            .await
        })?;
        let refunds: Vec<(i64, Option<String>, i64)> = on_db!(&self.engine.db, pool => {
            sqlx::query_as(
                "SELECT r.payment_id, r.provider_reference, r.amount_minor FROM payment_refunds r \
                 JOIN payments p ON p.id = r.payment_id \
                 WHERE p.site_id = $1 AND p.provider = $2 AND p.created_at >= $3 AND p.created_at < $4",
            )
            .bind(site)
            .bind(provider.as_str())
            .bind(since)
            .bind(until)
            .fetch_all(pool)
            .await
        })?;
        let mut returned: HashMap<i64, (Minor, Vec<String>)> = HashMap::new();
        for (payment, reference, amount) in refunds {
            let entry = returned.entry(payment).or_default();
            entry.0 = entry.0 + Minor(amount);
            entry.1.extend(reference);
        }
        Ok(rows
            .into_iter()
            .map(|(id, public_id, checkout, paid, paid_at, credited)| {
                let (back, refund_references) = returned.remove(&id).unwrap_or_default();
                let mut references: Vec<String> = checkout.into_iter().chain(paid).collect();
                references.extend(refund_references);
                references.push(public_id.clone());
                LedgerPayment {
                    public_id,
                    references,
                    credited: Minor(credited.unwrap_or(0)),
                    returned: back,
                    in_period: paid_at.is_some_and(|at| at >= start && at < end),
                }
            })
            .collect())
    }
}
