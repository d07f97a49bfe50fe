//! Money in and allowances: provider payments, cash at the desk, adjustments, emergency credit,
//! and a term's free allowance. Each is one ledger transaction under the caller's idempotency
//! key, so a repeat (a provider's retry, a double-clicked form) changes nothing.
//!
//! A top-up first repays emergency credit in full (as far as it reaches), then a capped share
//! of it repays the resident's debt (the site's `debt_recovery_percent`), all in the same
//! transaction; then supply is decided again.

use super::{
    Engine, EngineError,
    setup::{SiteRules, load_rules, stored_plan},
    supply::{evaluate, load_wallet},
};
use crate::{
    audit::AuditEntry,
    db::Tx,
    ledger::{Posted, Posting, SiteAccount, open_account, post, site_account},
    on_tx,
};
use app::domain::{Minor, Utility, payments::receipt_label, tariff::Plan};
use chrono::{DateTime, Utc};
use serde_json::json;

/// Where a top-up's money came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A payment provider, with the provider's own reference (the idempotency key).
    Provider { provider: String, reference: String },
    /// Cash at the desk, taken by a cashier or manager; `nonce` comes from the form.
    Cash { nonce: String },
}

/// The outcome of a top-up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopUp {
    pub transaction: i64,
    /// False when this was a repeat and nothing changed.
    pub new: bool,
    pub balance: Minor,
    pub repaid_emergency: Minor,
    pub repaid_debt: Minor,
    /// The site and number of its receipt (every top-up has one).
    pub receipt: Option<(i64, i64)>,
    /// A token was sold for the wallet's keypad meter and waits to be issued.
    pub token_sold: bool,
}

impl TopUp {
    /// The receipt's printed number.
    pub fn receipt_label(&self) -> String {
        self.receipt
            .map(|(site, number)| receipt_label(site, number))
            .unwrap_or_default()
    }
}

/// A wallet's money accounts.
struct WalletAccounts {
    site: i64,
    occupant: Option<i64>,
    emergency: Option<i64>,
    balance: Minor,
    emergency_balance: Minor,
    /// The utility of a per-meter wallet (its tariff may set a minimum top-up).
    utility: Option<Utility>,
    /// The tariff plan of the wallet's unit.
    plan: Plan,
}

async fn wallet_accounts(tx: &mut Tx, wallet: i64) -> Result<WalletAccounts, EngineError> {
    type Row = (
        i64,
        Option<i64>,
        Option<i64>,
        i64,
        i64,
        Option<DateTime<Utc>>,
        Option<String>,
        Option<String>,
    );
    let row: Option<Row> = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT w.site_id, o.user_id, w.emergency_account_id, a.balance_minor, COALESCE(e.balance_minor, 0), w.closed_at, a.utility, \
             u.tariff_plan FROM wallets w JOIN accounts a ON a.id = w.account_id LEFT JOIN accounts e ON e.id = w.emergency_account_id \
             LEFT JOIN occupancies o ON o.id = w.occupancy_id LEFT JOIN units u ON u.id = w.unit_id WHERE w.account_id = $1",
        )
        .bind(wallet)
        .fetch_optional(&mut *conn)
        .await
    })?;
    let (site, occupant, emergency, balance, emergency_balance, closed, utility, plan) =
        row.ok_or(EngineError::NotFound("account"))?;
    if closed.is_some() {
        return Err(EngineError::refused("This account is closed."));
    }
    Ok(WalletAccounts {
        site,
        occupant,
        emergency,
        balance: Minor(balance),
        emergency_balance: Minor(emergency_balance),
        utility: utility.and_then(|u| u.parse().ok()),
        plan: stored_plan(plan.as_deref().unwrap_or_default())?,
    })
}

/// The occupant's debt account at a site, if they have one, with its balance.
async fn debt_account(
    tx: &mut Tx,
    site: i64,
    person: i64,
) -> Result<Option<(i64, Minor)>, sqlx::Error> {
    let row: Option<(i64, i64)> = on_tx!(tx, conn => {
        sqlx::query_as("SELECT id, balance_minor FROM accounts WHERE site_id = $1 AND user_id = $2 AND kind = 'debt'")
            .bind(site)
            .bind(person)
            .fetch_optional(&mut *conn)
            .await
    })?;
    Ok(row.map(|(id, balance)| (id, Minor(balance))))
}

/// Checks a top-up's amount against the site's limits (and the tariff's minimum for a
/// per-meter wallet). Done when money is asked for, not when it arrives: money a provider
/// already took is credited even if the limits changed meanwhile.
pub(crate) async fn check_amount(
    tx: &mut Tx,
    wallet: i64,
    amount: Minor,
    now: DateTime<Utc>,
) -> Result<(), EngineError> {
    if amount <= Minor::ZERO {
        return Err(EngineError::refused("A top-up must be more than zero."));
    }
    let accounts = wallet_accounts(tx, wallet).await?;
    let rules = load_rules(tx, accounts.site).await?;
    let (minimum, maximum) = limits(&accounts, &rules, now);
    if amount < minimum || (maximum > Minor::ZERO && amount > maximum) {
        return Err(EngineError::refused(format!(
            "Top-ups here are between {} and {} {}.",
            minimum.format(rules.digits),
            maximum.format(rules.digits),
            rules.currency.as_str()
        )));
    }
    Ok(())
}

/// The smallest and largest top-up a wallet takes (a zero maximum: no maximum).
fn limits(accounts: &WalletAccounts, rules: &SiteRules, now: DateTime<Utc>) -> (Minor, Minor) {
    let tariff_minimum = accounts
        .utility
        .and_then(|utility| rules.tariff_now(&accounts.plan, utility, now))
        .and_then(|tariff| Minor::from_decimal(tariff.min_top_up, rules.digits))
        .unwrap_or(Minor::ZERO);
    (
        rules.policy.min_top_up.max(tariff_minimum),
        rules.policy.max_top_up,
    )
}

/// A wallet's top-up limits, for the recharge page.
pub(crate) async fn top_up_limits(
    tx: &mut Tx,
    wallet: i64,
    now: DateTime<Utc>,
) -> Result<(Minor, Minor), EngineError> {
    let accounts = wallet_accounts(tx, wallet).await?;
    let rules = load_rules(tx, accounts.site).await?;
    Ok(limits(&accounts, &rules, now))
}

/// Credits money that has arrived, inside the caller's transaction: repays emergency credit
/// and a share of debt, issues the site's next receipt number, and decides supply again. A
/// repeat of the same source answers the first outcome and changes nothing.
pub(crate) async fn credit(
    tx: &mut Tx,
    wallet: i64,
    amount: Minor,
    source: &Source,
    actor: Option<i64>,
    now: DateTime<Utc>,
) -> Result<TopUp, EngineError> {
    let accounts = wallet_accounts(tx, wallet).await?;
    let rules = load_rules(tx, accounts.site).await?;
    let (key, from, memo) = match source {
        Source::Provider {
            provider,
            reference,
        } => (
            format!("payment:{provider}:{reference}"),
            SiteAccount::ProviderClearing,
            format!("Top-up via {provider}"),
        ),
        Source::Cash { nonce } => (
            format!("cash:{wallet}:{nonce}"),
            SiteAccount::Cash,
            "Cash top-up".to_owned(),
        ),
    };
    let source_account = site_account(tx, accounts.site, from, now).await?;
    let mut posting = Posting::new(accounts.site, key, "top_up")
        .memo(memo)
        .by(actor);
    posting.transfer(source_account, wallet, amount);
    let mut available = accounts.balance + amount;

    let repaid_emergency = match accounts.emergency {
        Some(emergency) if accounts.emergency_balance < Minor::ZERO => {
            let repay = Minor((-accounts.emergency_balance.0).min(available.0.max(0)));
            posting.transfer(wallet, emergency, repay);
            available = available - repay;
            repay
        }
        _ => Minor::ZERO,
    };
    let mut repaid_debt = Minor::ZERO;
    if let Some(person) = accounts.occupant
        && let Some((debt, balance)) = debt_account(tx, accounts.site, person).await?
    {
        let share = rules
            .policy
            .debt_share(amount, -balance)
            .min(Minor(available.0.max(0)));
        posting.transfer(wallet, debt, share);
        available = available - share;
        repaid_debt = share;
    }

    let posted = post(tx, &posting, now).await?;
    let transaction = posted.transaction().expect("a top-up has entries");
    if let Posted::Duplicate(_) = posted {
        let balance = load_wallet(tx, wallet).await?.balance;
        return Ok(TopUp {
            transaction,
            new: false,
            balance,
            repaid_emergency: Minor::ZERO,
            repaid_debt: Minor::ZERO,
            receipt: receipt_of(tx, transaction).await?,
            token_sold: false,
        });
    }
    let number = issue_receipt(tx, accounts.site, transaction, wallet, amount, now).await?;
    if let Source::Cash { .. } = source {
        AuditEntry::new("cash_top_up", "account", wallet)
            .by_actor(actor)
            .after(json!({ "amount_minor": amount.0, "transaction": transaction }))
            .insert_tx(tx)
            .await?;
    }
    // A meter that holds its own credit gets it as a token; the wallet keeps what is left.
    let token =
        crate::tokens::sale::sell_after_top_up(tx, wallet, transaction, &rules, now).await?;
    let supply = load_wallet(tx, wallet).await?;
    evaluate(tx, &supply, &rules, &format!("txn:{transaction}"), now).await?;
    Ok(TopUp {
        transaction,
        new: true,
        token_sold: token.is_some(),
        balance: available,
        repaid_emergency,
        repaid_debt,
        receipt: Some((accounts.site, number)),
    })
}

/// Takes the site's next receipt number for a transaction. The counter moves inside the
/// posting transaction, so numbers have no gaps: a rolled-back top-up returns its number.
async fn issue_receipt(
    tx: &mut Tx,
    site: i64,
    transaction: i64,
    wallet: i64,
    amount: Minor,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    let number: i64 = on_tx!(&mut *tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO receipt_counters (site_id, last_number) VALUES ($1, 1) \
             ON CONFLICT (site_id) DO UPDATE SET last_number = receipt_counters.last_number + 1 \
             RETURNING last_number",
        )
        .bind(site)
        .fetch_one(&mut *conn)
        .await
    })?;
    on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO receipts (site_id, number, transaction_id, wallet_account_id, amount_minor, issued_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(site)
        .bind(number)
        .bind(transaction)
        .bind(wallet)
        .bind(amount.0)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    })?;
    Ok(number)
}

/// The site and number of a transaction's receipt, if it has one.
pub(crate) async fn receipt_of(
    tx: &mut Tx,
    transaction: i64,
) -> Result<Option<(i64, i64)>, sqlx::Error> {
    on_tx!(tx, conn => {
        sqlx::query_as("SELECT site_id, number FROM receipts WHERE transaction_id = $1")
            .bind(transaction)
            .fetch_optional(&mut *conn)
            .await
    })
}

/// Takes money back out of a wallet for a refund or chargeback, into the provider's clearing
/// account (the balance may go below zero: a chargeback is money the resident owes), then
/// decides supply again. Idempotent by `key`; answers the transaction.
pub(crate) async fn take_back(
    tx: &mut Tx,
    wallet: i64,
    amount: Minor,
    key: String,
    kind: &'static str,
    actor: Option<i64>,
    now: DateTime<Utc>,
) -> Result<i64, EngineError> {
    let site: i64 = on_tx!(&mut *tx, conn => {
        sqlx::query_scalar("SELECT site_id FROM wallets WHERE account_id = $1")
            .bind(wallet)
            .fetch_one(&mut *conn)
            .await
    })?;
    let rules = load_rules(tx, site).await?;
    let clearing = site_account(tx, site, SiteAccount::ProviderClearing, now).await?;
    let mut posting = Posting::new(site, key, kind)
        .memo(if kind == "chargeback" {
            "Chargeback"
        } else {
            "Refund"
        })
        .by(actor);
    posting.transfer(wallet, clearing, amount);
    let posted = post(tx, &posting, now).await?;
    let transaction = posted.transaction().expect("a reversal has entries");
    if let Posted::New(_) = posted {
        let supply = load_wallet(tx, wallet).await?;
        evaluate(tx, &supply, &rules, &format!("txn:{transaction}"), now).await?;
    }
    Ok(transaction)
}

impl Engine {
    /// Credits a top-up to a wallet. Repeats of the same provider reference or form nonce
    /// answer the first outcome and change nothing.
    pub async fn top_up(
        &self,
        wallet: i64,
        amount: Minor,
        source: Source,
        actor: Option<i64>,
    ) -> Result<TopUp, EngineError> {
        let _turn = self.write.lock().await;
        let now = Utc::now();
        let mut tx = self.db.begin_write().await?;
        check_amount(&mut tx, wallet, amount, now).await?;
        let top_up = credit(&mut tx, wallet, amount, &source, actor, now).await?;
        tx.commit().await?;
        if top_up.token_sold {
            self.ring_token_sold();
        }
        Ok(top_up)
    }

    /// A correction by staff, either way, with a reason kept in the audit log (not in the
    /// immutable ledger, which holds no free text about people). Posted at once: the console
    /// asks for adjustments through [`Engine::request_adjustments`] and a second person's
    /// approval; this is for the engine's own corrections and the tests.
    pub async fn adjust(
        &self,
        wallet: i64,
        amount: Minor,
        reason: &str,
        nonce: &str,
        actor: Option<i64>,
    ) -> Result<i64, EngineError> {
        let reason = adjustment_reason(reason)?;
        if amount == Minor::ZERO {
            return Err(EngineError::refused("An adjustment cannot be zero."));
        }
        let _turn = self.write.lock().await;
        let now = Utc::now();
        let mut tx = self.db.begin_write().await?;
        let site = wallet_accounts(&mut tx, wallet).await?.site;
        let books = adjustment_books(&mut tx, site, now).await?;
        let key = format!("adjust:{wallet}:{nonce}");
        let transaction =
            post_adjustment(&mut tx, &books, wallet, amount, reason, &key, actor, now).await?;
        tx.commit().await?;
        Ok(transaction)
    }

    /// Emergency credit: once (until repaid), up to the site's limit, when credit is low or
    /// out. Reconnects if it lifts the balance enough.
    pub async fn take_emergency_credit(
        &self,
        wallet: i64,
        actor: Option<i64>,
    ) -> Result<Minor, EngineError> {
        let _turn = self.write.lock().await;
        let now = Utc::now();
        let mut tx = self.db.begin_write().await?;
        let accounts = wallet_accounts(&mut tx, wallet).await?;
        let rules = load_rules(&mut tx, accounts.site).await?;
        let limit = rules
            .policy
            .emergency_offer(accounts.balance, -accounts.emergency_balance)
            .map_err(|reason| EngineError::refused(reason.to_string()))?;
        let emergency = match accounts.emergency {
            Some(id) => id,
            None => {
                let id = open_account(&mut tx, accounts.site, "emergency", None, None, now).await?;
                on_tx!(&mut tx, conn => {
                    sqlx::query("UPDATE wallets SET emergency_account_id = $1 WHERE account_id = $2")
                        .bind(id)
                        .bind(wallet)
                        .execute(&mut *conn)
                        .await
                        .map(|_| ())
                })?;
                id
            }
        };
        let taken: i64 = on_tx!(&mut tx, conn => {
            sqlx::query_scalar("SELECT COUNT(*) FROM ledger_entries WHERE account_id = $1 AND amount_minor < 0")
                .bind(emergency)
                .fetch_one(&mut *conn)
                .await
        })?;
        let mut posting = Posting::new(
            accounts.site,
            format!("emergency:{wallet}:{taken}"),
            "emergency_credit",
        )
        .memo("Emergency credit")
        .by(actor);
        posting.transfer(emergency, wallet, limit);
        let posted = post(&mut tx, &posting, now).await?;
        let transaction = posted.transaction().expect("entries");
        let supply = load_wallet(&mut tx, wallet).await?;
        evaluate(&mut tx, &supply, &rules, &format!("txn:{transaction}"), now).await?;
        tx.commit().await?;
        Ok(limit)
    }

    /// Grants free credit (a campus term's allowance), spent before the wallet's own balance,
    /// expiring at `expires_at`, never refunded. `key` makes the grant idempotent.
    pub async fn grant_allowance(
        &self,
        wallet: i64,
        amount: Minor,
        expires_at: DateTime<Utc>,
        key: &str,
        actor: Option<i64>,
    ) -> Result<(), EngineError> {
        if amount <= Minor::ZERO {
            return Err(EngineError::refused("An allowance must be more than zero."));
        }
        let _turn = self.write.lock().await;
        let now = Utc::now();
        let mut tx = self.db.begin_write().await?;
        let accounts = wallet_accounts(&mut tx, wallet).await?;
        let existing: Option<i64> = on_tx!(&mut tx, conn => {
            sqlx::query_scalar("SELECT allowance_account_id FROM wallets WHERE account_id = $1")
                .bind(wallet)
                .fetch_one(&mut *conn)
                .await
        })?;
        let allowance = match existing {
            Some(id) => id,
            None => open_account(&mut tx, accounts.site, "allowance", None, None, now).await?,
        };
        on_tx!(&mut tx, conn => {
            sqlx::query("UPDATE wallets SET allowance_account_id = $1, allowance_expires_at = $2 WHERE account_id = $3")
                .bind(allowance)
                .bind(expires_at)
                .bind(wallet)
                .execute(&mut *conn)
                .await
                .map(|_| ())
        })?;
        let granted =
            site_account(&mut tx, accounts.site, SiteAccount::AllowancesGranted, now).await?;
        let mut posting = Posting::new(
            accounts.site,
            format!("allowance:{wallet}:{key}"),
            "allowance",
        )
        .memo("Allowance granted")
        .by(actor);
        posting.transfer(granted, allowance, amount);
        post(&mut tx, &posting, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Reverses a transaction with a linked, mirror-image one. Audited.
    pub async fn reverse(
        &self,
        transaction: i64,
        reason: &str,
        actor: Option<i64>,
    ) -> Result<i64, EngineError> {
        if reason.trim().is_empty() {
            return Err(EngineError::refused("Give a reason for the reversal."));
        }
        let _turn = self.write.lock().await;
        let now = Utc::now();
        let mut tx = self.db.begin_write().await?;
        let posted = crate::ledger::reverse(&mut tx, transaction, actor, now)
            .await?
            .ok_or(EngineError::NotFound("transaction"))?;
        let id = posted.transaction().expect("entries");
        if let Posted::New(_) = posted {
            AuditEntry::new("reversal", "transaction", transaction)
                .by_actor(actor)
                .after(json!({ "reason": reason.trim(), "reversal": id }))
                .insert_tx(&mut tx)
                .await?;
        }
        tx.commit().await?;
        Ok(id)
    }
}

/// A reason worth keeping: trimmed, not empty, not a essay.
pub(super) fn adjustment_reason(raw: &str) -> Result<&str, EngineError> {
    let reason = raw.trim();
    if reason.is_empty() {
        return Err(EngineError::refused("Give a reason for the adjustment."));
    }
    if reason.chars().count() > 500 {
        return Err(EngineError::refused(
            "Keep the reason under 500 characters.",
        ));
    }
    Ok(reason)
}

/// What every adjustment of one site posts against: its rules (to decide supply again) and
/// its adjustments account. Read once for a whole batch.
pub(super) struct AdjustmentBooks {
    site: i64,
    rules: SiteRules,
    account: i64,
}

pub(super) async fn adjustment_books(
    tx: &mut Tx,
    site: i64,
    now: DateTime<Utc>,
) -> Result<AdjustmentBooks, EngineError> {
    Ok(AdjustmentBooks {
        site,
        rules: load_rules(tx, site).await?,
        account: site_account(tx, site, SiteAccount::Adjustments, now).await?,
    })
}

/// Posts one adjustment of an open account of the books' site under `key` in the caller's
/// transaction, audits it and decides the wallet's supply again; a key posted already changes
/// nothing and answers its transaction.
#[allow(clippy::too_many_arguments)] // each is a different fact of the posting
pub(super) async fn post_adjustment(
    tx: &mut Tx,
    books: &AdjustmentBooks,
    wallet: i64,
    amount: Minor,
    reason: &str,
    key: &str,
    actor: Option<i64>,
    now: DateTime<Utc>,
) -> Result<i64, EngineError> {
    if wallet_accounts(tx, wallet).await?.site != books.site {
        return Err(EngineError::NotFound("account"));
    }
    let mut posting = Posting::new(books.site, key.to_owned(), "adjustment")
        .memo("Adjustment")
        .by(actor);
    posting.transfer(books.account, wallet, amount);
    let posted = post(tx, &posting, now).await?;
    let transaction = posted.transaction().expect("an adjustment has entries");
    if let Posted::New(_) = posted {
        AuditEntry::new("adjustment", "account", wallet)
            .by_actor(actor)
            .after(
                json!({ "amount_minor": amount.0, "reason": reason, "transaction": transaction }),
            )
            .insert_tx(tx)
            .await?;
        let supply = load_wallet(tx, wallet).await?;
        evaluate(
            tx,
            &supply,
            &books.rules,
            &format!("txn:{transaction}"),
            now,
        )
        .await?;
    }
    Ok(transaction)
}
