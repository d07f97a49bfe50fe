//! The cash desk's shifts: what the ledger says a person's drawer should hold (the cash
//! top-ups they took that no close has counted yet, read from the site's cash account), and
//! their closes with what they counted and which receipts. A close is written once: it names
//! the close it follows, and a unique index refuses a second close of the same shift.

use super::{
    Engine, EngineError,
    setup::load_rules,
    site_zone,
    supply::{evaluate, load_wallet},
};
use crate::{audit::AuditEntry, db::Tx, on_tx};
use app::domain::{
    Minor, SiteId,
    cash_desk::{CashDesk, ClosedShift, OpenShift, ShiftClose, ShiftReceipt, void_reason},
    ids::AccountId,
};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

#[derive(sqlx::FromRow)]
struct ReceiptRow {
    transaction_id: i64,
    number: i64,
    account: i64,
    unit: Option<String>,
    amount: i64,
    issued_at: DateTime<Utc>,
    void_reason: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ShiftRow {
    id: i64,
    cashier: String,
    opened_at: Option<DateTime<Utc>>,
    closed_at: DateTime<Utc>,
    receipts: i64,
    voided: i64,
    expected_minor: i64,
    counted_minor: i64,
    note: String,
}

impl From<ShiftRow> for ClosedShift {
    fn from(row: ShiftRow) -> Self {
        ClosedShift {
            id: row.id,
            cashier: row.cashier,
            opened_at: row.opened_at,
            closed_at: row.closed_at,
            receipts: row.receipts,
            voided: row.voided,
            expected: Minor(row.expected_minor),
            counted: Minor(row.counted_minor),
            note: row.note,
        }
    }
}

/// The cash top-ups `cashier` took at `site` that no close counted (their cash account
/// entries, as the amount the drawer took in), by receipt number. Only those posted after
/// `$3` are looked at: an hour before the last close, far more than any transaction stays
/// open, so the read does not grow with every receipt the site ever issued.
const RECEIPTS: &str = "SELECT t.id AS transaction_id, r.number, r.wallet_account_id AS account, u.name AS unit, \
     -e.amount_minor AS amount, r.issued_at, v.reason AS void_reason FROM receipts r \
     JOIN ledger_transactions t ON t.id = r.transaction_id \
     JOIN ledger_entries e ON e.transaction_id = t.id \
     JOIN accounts a ON a.id = e.account_id AND a.kind = 'cash' \
     LEFT JOIN wallets w ON w.account_id = r.wallet_account_id \
     LEFT JOIN meters m ON m.id = w.meter_id \
     LEFT JOIN units u ON u.id = COALESCE(w.unit_id, m.unit_id) \
     LEFT JOIN receipt_voids v ON v.transaction_id = t.id \
     WHERE r.site_id = $1 AND t.actor_user_id = $2 AND t.posted_at > $3 \
     AND NOT EXISTS (SELECT 1 FROM cash_shift_receipts x WHERE x.transaction_id = t.id) \
     ORDER BY r.number";

const SHIFTS: &str = "SELECT c.id, p.display_name AS cashier, c.opened_at, c.closed_at, c.receipts, c.voided, \
     c.expected_minor, c.counted_minor, c.note FROM cash_shifts c JOIN users p ON p.id = c.cashier_user_id";

/// How many closed shifts the page lists, newest first.
const SHIFTS_SHOWN: i64 = 50;

impl Engine {
    /// `cashier`'s open shift at `site`, and the closed shifts: every cashier's when
    /// `everyone`, else theirs.
    pub async fn cash_desk(
        &self,
        site: SiteId,
        cashier: i64,
        everyone: bool,
    ) -> Result<CashDesk, EngineError> {
        let now = Utc::now();
        let heading = self.site_heading(site).await?;
        let mut tx = self.db.begin_read().await?;
        let (open, _) = open_shift(&mut tx, site, cashier).await?;
        let whose = if everyone {
            format!(
                "{SHIFTS} WHERE c.site_id = $1 AND $2 = $2 ORDER BY c.id DESC LIMIT {SHIFTS_SHOWN}"
            )
        } else {
            format!(
                "{SHIFTS} WHERE c.site_id = $1 AND c.cashier_user_id = $2 ORDER BY c.id DESC LIMIT {SHIFTS_SHOWN}"
            )
        };
        let closed: Vec<ShiftRow> = on_tx!(&mut tx, conn => {
            sqlx::query_as(&whose)
                .bind(site.0)
                .bind(cashier)
                .fetch_all(&mut *conn)
                .await
        })?;
        Ok(CashDesk {
            site_name: heading.name,
            digits: heading.digits,
            currency: heading.currency,
            zone: site_zone(heading.tz, now),
            open,
            closed: closed.into_iter().map(ClosedShift::from).collect(),
            everyone,
            limit: Minor::ZERO,
            may_set_limit: false,
            requests: Vec::new(),
        })
    }

    /// Closes `cashier`'s shift at `site` with what they counted. `None` when the shift the
    /// form was about is closed already (the same form sent twice, or another tab).
    pub async fn close_shift(
        &self,
        site: SiteId,
        cashier: i64,
        close: &ShiftClose,
    ) -> Result<Option<ClosedShift>, EngineError> {
        let now = Utc::now();
        let mut tx = self.db.begin_write().await?;
        let (open, counted) = open_shift(&mut tx, site, cashier).await?;
        if open.after != close.after {
            return Ok(None);
        }
        let expected = open.expected();
        let inserted: Result<i64, sqlx::Error> = on_tx!(&mut tx, conn => {
            sqlx::query_scalar(
                "INSERT INTO cash_shifts (site_id, cashier_user_id, after_id, opened_at, closed_at, receipts, \
                 voided, expected_minor, counted_minor, note) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            )
            .bind(site.0)
            .bind(cashier)
            .bind(open.after)
            .bind(open.since)
            .bind(now)
            .bind(open.receipts.len() as i64)
            .bind(open.voided() as i64)
            .bind(expected.0)
            .bind(close.counted.0)
            .bind(&close.note)
            .fetch_one(&mut *conn)
            .await
        });
        let id = match inserted {
            Err(error) if crate::db::is_unique_violation(&error) => return Ok(None),
            other => other?,
        };
        for transaction in counted {
            on_tx!(&mut tx, conn => {
                sqlx::query("INSERT INTO cash_shift_receipts (transaction_id, shift_id) VALUES ($1, $2)")
                    .bind(transaction)
                    .bind(id)
                    .execute(&mut *conn)
                    .await
                    .map(|_| ())
            })?;
        }
        AuditEntry::new("cash_shift_closed", "cash_shift", id)
            .by_actor(Some(cashier))
            .after(json!({
                "site_id": site.0, "receipts": open.receipts.len(), "voided": open.voided(),
                "expected_minor": expected.0, "counted_minor": close.counted.0,
            }))
            .insert_tx(&mut tx)
            .await?;
        let row: ShiftRow = on_tx!(&mut tx, conn => {
            sqlx::query_as(&format!("{SHIFTS} WHERE c.id = $1"))
                .bind(id)
                .fetch_one(&mut *conn)
                .await
        })?;
        tx.commit().await?;
        Ok(Some(row.into()))
    }
}

/// A receipt as a void finds it.
#[derive(sqlx::FromRow)]
struct VoidTarget {
    transaction_id: i64,
    wallet: i64,
    taker: Option<i64>,
    cash: bool,
    counted: bool,
    /// A keypad token was sold from the wallet since: the credit is on the meter.
    token_sold: bool,
    voided_by: Option<i64>,
    posted_at: DateTime<Utc>,
}

impl Engine {
    /// Voids receipt `number` of `site`, a cash receipt `cashier` took in their open shift:
    /// its top-up is reversed (the cash handed back), supply is decided again, and the
    /// receipt is kept marked void with the reason. Answers whether this call voided it
    /// (`false`: the same void sent again).
    pub async fn void_receipt(
        &self,
        site: SiteId,
        cashier: i64,
        number: i64,
        reason: &str,
    ) -> Result<bool, EngineError> {
        let reason = void_reason(reason).map_err(EngineError::Refused)?;
        let _turn = self.turn().await;
        let now = Utc::now();
        let mut tx = self.db.begin_write().await?;
        let target: Option<VoidTarget> = on_tx!(&mut tx, conn => {
            sqlx::query_as(
                "SELECT r.transaction_id, r.wallet_account_id AS wallet, t.actor_user_id AS taker, t.posted_at, \
                 EXISTS (SELECT 1 FROM ledger_entries e JOIN accounts a ON a.id = e.account_id \
                         WHERE e.transaction_id = t.id AND a.kind = 'cash') AS cash, \
                 EXISTS (SELECT 1 FROM cash_shift_receipts x WHERE x.transaction_id = t.id) AS counted, \
                 EXISTS (SELECT 1 FROM ledger_transactions s JOIN ledger_entries se ON se.transaction_id = s.id \
                         WHERE se.account_id = r.wallet_account_id AND s.kind = 'token_sale' AND s.id > t.id) AS token_sold, \
                 v.voided_by FROM receipts r JOIN ledger_transactions t ON t.id = r.transaction_id \
                 LEFT JOIN receipt_voids v ON v.transaction_id = t.id \
                 WHERE r.site_id = $1 AND r.number = $2",
            )
            .bind(site.0)
            .bind(number)
            .fetch_optional(&mut *conn)
            .await
        })?;
        let target = target.ok_or(EngineError::NotFound("receipt"))?;
        if !target.cash || target.taker != Some(cashier) {
            return Err(EngineError::refused(
                "Only whoever took the cash voids its receipt.",
            ));
        }
        if let Some(by) = target.voided_by {
            return if by == cashier {
                Ok(false)
            } else {
                Err(EngineError::refused("This receipt is void already."))
            };
        }
        if target.counted {
            return Err(EngineError::refused(
                "This receipt's shift is closed: ask a manager for an adjustment.",
            ));
        }
        if crate::ledger::closed_until(&mut tx, site.0)
            .await?
            .is_some_and(|until| target.posted_at < until)
        {
            return Err(EngineError::refused(
                "The books are closed for the day this receipt was taken: ask a manager for an adjustment.",
            ));
        }
        if target.token_sold {
            // A token typed at the meter cannot be taken back; the money stays owed.
            return Err(EngineError::refused(
                "A keypad token was issued from this credit: ask a manager for an adjustment.",
            ));
        }
        let reversal = crate::ledger::reverse(&mut tx, target.transaction_id, Some(cashier), now)
            .await?
            .and_then(|posted| posted.transaction())
            .ok_or(EngineError::NotFound("receipt"))?;
        on_tx!(&mut tx, conn => {
            sqlx::query(
                "INSERT INTO receipt_voids (transaction_id, reversal_id, reason, voided_by, voided_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(target.transaction_id)
            .bind(reversal)
            .bind(&reason)
            .bind(cashier)
            .bind(now)
            .execute(&mut *conn)
            .await
            .map(|_| ())
        })?;
        // The wallet lost what the receipt credited: it may be low or empty now.
        let rules = load_rules(&mut tx, site.0).await?;
        let supply = load_wallet(&mut tx, target.wallet).await?;
        evaluate(&mut tx, &supply, &rules, &format!("txn:{reversal}"), now).await?;
        AuditEntry::new("cash_receipt_voided", "transaction", target.transaction_id)
            .by_actor(Some(cashier))
            .after(json!({
                "site_id": site.0, "receipt": number, "reason": reason, "reversal": reversal,
            }))
            .insert_tx(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// `cashier`'s open shift at `site`, with the ledger transactions of its receipts.
async fn open_shift(
    tx: &mut Tx,
    site: SiteId,
    cashier: i64,
) -> Result<(OpenShift, Vec<i64>), EngineError> {
    let last: Option<(i64, DateTime<Utc>)> = on_tx!(&mut *tx, conn => {
        sqlx::query_as(
            "SELECT id, closed_at FROM cash_shifts WHERE site_id = $1 AND cashier_user_id = $2 \
             ORDER BY id DESC LIMIT 1",
        )
        .bind(site.0)
        .bind(cashier)
        .fetch_optional(&mut *conn)
        .await
    })?;
    // Before any close, the shift is everything they ever took.
    let look_from = last.map_or(DateTime::<Utc>::UNIX_EPOCH, |(_, at)| {
        at - Duration::hours(1)
    });
    let rows: Vec<ReceiptRow> = on_tx!(tx, conn => {
        sqlx::query_as(RECEIPTS)
            .bind(site.0)
            .bind(cashier)
            .bind(look_from)
            .fetch_all(&mut *conn)
            .await
    })?;
    let transactions = rows.iter().map(|row| row.transaction_id).collect();
    let open = OpenShift {
        after: last.map(|(id, _)| id),
        since: last.map(|(_, at)| at),
        receipts: rows
            .into_iter()
            .map(|row| ShiftReceipt {
                number: row.number,
                account: AccountId(row.account),
                unit: row.unit.unwrap_or_default(),
                amount: Minor(row.amount),
                issued_at: row.issued_at,
                void: row.void_reason,
            })
            .collect(),
    };
    Ok((open, transactions))
}
