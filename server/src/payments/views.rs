//! The payments port: what the pages ask of payments, and the manager's actions on them
//! (refunds, conflicts). Callers were authorised by the server function already.

use super::{
    Channel, Payer, PaymentError, Payments, digits_of,
    provider::{Notice, RefundRequest, Subject},
    sandbox::{SIGNATURE_HEADER, Sandbox},
    settle::{
        PAYMENT_COLUMNS, PaymentRow, Settled, find_public, reverse, reversed, wallet_for_reference,
    },
};
use crate::{
    audit::AuditEntry, engine::money, internal, ledger::account_number, on_db, on_db_write, on_tx,
};
use app::{
    domain::{
        AccountId, Caller, Minor, SiteId,
        money::PositiveAmount,
        payments::{
            ConflictKind, ConflictView, ImportReport, PaymentPage, PaymentStatus, PaymentView,
            ProviderKind, PublicPayee, RechargeOptions, Reported, SitePayments, StartedPayment,
            candidate_references, mask_name, parse_statement, presets, receipt_label,
        },
        reconciliation::ReconciliationReport,
        zone::SiteZone,
    },
    error::AppError,
    ports::{AccountsPort, ClientAddr, PaymentRequest, PaymentsPort, PayoutMethod},
};
use axum::http::{HeaderMap, HeaderValue};
use chrono::{DateTime, Utc};

/// A payment's row as the pages show it.
type ViewRow = (
    String,
    Option<i64>,
    String,
    String,
    i64,
    String,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
    Option<i64>,
);

const VIEW_COLUMNS: &str = "p.public_id, p.wallet_account_id, p.provider, p.channel, p.amount_minor, p.currency, \
     p.status, p.created_at, p.paid_at, p.receipt_number, p.failure, p.checkout_url, p.provider_reference, p.site_id, \
     (SELECT CAST(SUM(r.amount_minor) AS BIGINT) FROM payment_refunds r WHERE r.payment_id = p.id)";

fn view(row: ViewRow) -> PaymentView {
    let (
        public_id,
        wallet,
        provider,
        channel,
        amount,
        currency,
        status,
        created_at,
        paid_at,
        receipt,
        failure,
        checkout_url,
        provider_reference,
        site,
        reversed,
    ) = row;
    let digits = digits_of(&currency);
    let status = PaymentStatus::parse(&status).unwrap_or(PaymentStatus::Conflict);
    PaymentView {
        public_id,
        account: AccountId(wallet.unwrap_or(0)),
        account_number: wallet.map(account_number).unwrap_or_default(),
        provider: ProviderKind::parse(&provider).unwrap_or(ProviderKind::Sandbox),
        channel,
        amount: Minor(amount).format(digits),
        amount_minor: amount,
        currency,
        status,
        created_at,
        paid_at,
        receipt: receipt.map(|number| receipt_label(site, number)),
        failure,
        checkout_url: checkout_url.filter(|_| status.is_waiting()),
        provider_reference,
        reversed: reversed.filter(|r| *r > 0).map(|r| Minor(r).format(digits)),
    }
}

/// Look-ups a client address may make on the public pay page in the window.
const LOOKUPS_PER_WINDOW: i64 = 20;
const LOOKUP_WINDOW_MINUTES: i64 = 15;

impl Payments {
    /// Counts a public look-up against the client's address; refuses past the limit.
    async fn count_lookup(&self, client: ClientAddr) -> Result<(), AppError> {
        let now = Utc::now();
        let since = now - chrono::Duration::minutes(LOOKUP_WINDOW_MINUTES);
        let address = client.0.to_string();
        let _turn = self.engine.turn().await;
        let recent: i64 = on_db!(&self.engine.db, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM payment_lookups WHERE address = $1 AND at > $2")
                .bind(&address)
                .bind(since)
                .fetch_one(pool)
                .await
        })
        .map_err(internal)?;
        if recent >= LOOKUPS_PER_WINDOW {
            tracing::warn!(%address, "public pay look-ups throttled");
            return Err(AppError::Throttled {
                retry_after_minutes: LOOKUP_WINDOW_MINUTES as u32,
            });
        }
        on_db_write!(&self.engine.db, pool => {
            sqlx::query("INSERT INTO payment_lookups (address, at) VALUES ($1, $2)")
                .bind(&address)
                .bind(now)
                .execute(pool)
                .await
                .map(|_| ())
        })
        .map_err(internal)?;
        Ok(())
    }

    /// The clock of the site an account belongs to, for the times its pages show.
    async fn site_zone(&self, account: AccountId) -> Result<SiteZone, AppError> {
        let name: String = on_db!(&self.engine.db, pool => {
            sqlx::query_scalar(
                "SELECT s.time_zone FROM wallets w JOIN sites s ON s.id = w.site_id WHERE w.account_id = $1",
            )
            .bind(account.0)
            .fetch_one(pool)
            .await
        })
        .map_err(internal)?;
        let tz = crate::engine::time_zone(&name).map_err(internal)?;
        Ok(crate::engine::site_zone(tz, Utc::now()))
    }

    /// The open wallet a number names, on any site: an account number, or a meter serial.
    async fn public_wallet(&self, reference: &str) -> Result<Option<(i64, i64)>, sqlx::Error> {
        let sites: Vec<i64> = on_db!(&self.engine.db, pool => {
            sqlx::query_scalar(
                "SELECT DISTINCT site_id FROM wallets WHERE closed_at IS NULL AND (account_id = $1 OR meter_id = \
                 (SELECT id FROM meters WHERE UPPER(serial) = UPPER($2)))",
            )
            .bind(
                reference
                    .trim()
                    .strip_prefix(['A', 'a'])
                    .and_then(|digits| digits.parse::<i64>().ok())
                    .unwrap_or(-1),
            )
            .bind(reference.trim())
            .fetch_all(pool)
            .await
        })?;
        let mut tx = self.engine.db.begin_read().await?;
        for site in sites {
            if let Some(wallet) = wallet_for_reference(&mut tx, site, reference).await? {
                return Ok(Some((wallet, site)));
            }
        }
        Ok(None)
    }

    pub(crate) async fn site_of_payment(
        &self,
        public_id: &str,
    ) -> Result<Option<i64>, PaymentError> {
        Ok(on_db!(&self.engine.db, pool => {
            sqlx::query_scalar("SELECT site_id FROM payments WHERE public_id = $1")
                .bind(public_id)
                .fetch_optional(pool)
                .await
        })?)
    }

    /// Whether an account number or meter serial names an open account at the site.
    pub(crate) async fn names_account(
        &self,
        site: i64,
        reference: &str,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.engine.db.begin_read().await?;
        Ok(wallet_for_reference(&mut tx, site, reference)
            .await?
            .is_some())
    }

    async fn views(
        &self,
        sql: &str,
        bind: i64,
        text: Option<&str>,
    ) -> Result<Vec<PaymentView>, sqlx::Error> {
        let rows: Vec<ViewRow> = on_db!(&self.engine.db, pool => {
            let mut query = sqlx::query_as(sql).bind(bind);
            if let Some(text) = text {
                query = query.bind(text);
            }
            query.fetch_all(pool).await
        })?;
        Ok(rows.into_iter().map(view).collect())
    }

    /// A payment's row, for the sandbox's page and refunds.
    async fn row(&self, public_id: &str) -> Result<Option<PaymentRow>, sqlx::Error> {
        let mut tx = self.engine.db.begin_read().await?;
        find_public(&mut tx, public_id).await
    }

    /// Gives money back: through the provider, or recorded as given by hand. The provider is
    /// asked first (outside the database transaction); its refund id keys the reversal, so a
    /// webhook about the same refund changes nothing.
    pub async fn refund(
        &self,
        actor: i64,
        public_id: &str,
        amount: Minor,
        reason: &str,
        by_hand: bool,
    ) -> Result<(), PaymentError> {
        let reason = super::refund_requests::refund_reason(reason)?;
        let payment = self
            .row(public_id)
            .await?
            .ok_or(crate::engine::EngineError::NotFound("payment"))?;
        let kind = stored_kind(&payment)?;
        let already = {
            let mut tx = self.engine.db.begin_read().await?;
            reversed(&mut tx, payment.id).await?
        };
        if payment.status() != PaymentStatus::Paid {
            return Err(PaymentError::Refused(
                "Only a paid payment can be refunded.".into(),
            ));
        }
        if amount > payment.amount() - already {
            return Err(PaymentError::Refused(format!(
                "At most {} can still be refunded.",
                (payment.amount() - already).format(digits_of(&payment.currency))
            )));
        }
        let ours = format!("{public_id}:{}", already.0 + amount.0);
        let reversal = if by_hand || kind == ProviderKind::Bank {
            format!("manual:{ours}")
        } else {
            let settings = self
                .settings(payment.site_id, kind)
                .await?
                .ok_or_else(|| PaymentError::Refused("The provider is no longer set up.".into()))?;
            let provider = self.provider(&settings, &self.origin(""))?;
            provider
                .refund(&RefundRequest {
                    checkout_reference: payment.provider_reference.clone().unwrap_or_default(),
                    paid_reference: payment.provider_payment.clone(),
                    amount,
                    currency: payment.currency.clone(),
                    digits: digits_of(&payment.currency),
                    reference: ours.clone(),
                })
                .await?
        };
        let _turn = self.engine.turn().await;
        let now = Utc::now();
        let mut tx = self.engine.db.begin_write().await?;
        let transaction = reverse(
            &mut tx,
            &payment,
            kind,
            &reversal,
            amount,
            false,
            Some(actor),
            reason,
            now,
        )
        .await?;
        AuditEntry::new("refund", "payment", payment.id)
            .by_actor(Some(actor))
            .after(serde_json::json!({
                "amount_minor": amount.0, "reason": reason, "by_hand": by_hand,
                "reversal": reversal, "transaction": transaction,
            }))
            .insert_tx(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Settles a conflict: credits the money the provider reported (to the account the
    /// payment was for, or the one the manager names), or dismisses it.
    pub async fn resolve_conflict(
        &self,
        actor: i64,
        conflict: i64,
        account: Option<&str>,
        credit: bool,
    ) -> Result<(), PaymentError> {
        type Row = (
            i64,
            Option<i64>,
            String,
            String,
            Option<i64>,
            Option<DateTime<Utc>>,
        );
        let _turn = self.engine.turn().await;
        let now = Utc::now();
        let mut tx = self.engine.db.begin_write().await?;
        let row: Option<Row> = on_tx!(&mut tx, conn => {
            sqlx::query_as("SELECT site_id, payment_id, provider, kind, amount_minor, resolved_at FROM payment_conflicts WHERE id = $1")
                .bind(conflict)
                .fetch_optional(&mut *conn)
                .await
        })?;
        let (site, payment_id, provider, kind, amount, resolved) =
            row.ok_or(crate::engine::EngineError::NotFound("conflict"))?;
        if resolved.is_some() {
            return Err(PaymentError::Refused(
                "This conflict is settled already.".into(),
            ));
        }
        let payment: Option<PaymentRow> = match payment_id {
            Some(id) => {
                let sql = format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE id = $1");
                on_tx!(&mut tx, conn => {
                    sqlx::query_as(&sql).bind(id).fetch_optional(&mut *conn).await
                })?
            }
            None => None,
        };
        let mut transaction = None;
        if credit {
            if ConflictKind::parse(&kind) == Some(ConflictKind::Currency) {
                return Err(PaymentError::Refused(
                    "Money in another currency cannot be credited: refund it instead.".into(),
                ));
            }
            let amount = Minor(amount.ok_or_else(|| {
                PaymentError::Refused("The provider reported no amount to credit.".into())
            })?);
            let wallet = match account.map(str::trim).filter(|a| !a.is_empty()) {
                Some(reference) => wallet_for_reference(&mut tx, site, reference)
                    .await?
                    .ok_or_else(|| {
                        PaymentError::Refused("No open account has that number here.".into())
                    })?,
                None => payment
                    .as_ref()
                    .and_then(|p| p.wallet_account_id)
                    .ok_or_else(|| PaymentError::Refused("Name the account to credit.".into()))?,
            };
            let source = money::Source::Provider {
                provider,
                reference: format!("conflict:{conflict}"),
            };
            let top_up = money::credit(&mut tx, wallet, amount, &source, Some(actor), now).await?;
            transaction = Some(top_up.transaction);
            if let Some(payment) = &payment {
                on_tx!(&mut tx, conn => {
                    sqlx::query(
                        "UPDATE payments SET status = CASE WHEN status = 'conflict' THEN 'paid' ELSE status END, \
                         wallet_account_id = COALESCE(wallet_account_id, $1), transaction_id = COALESCE(transaction_id, $2), \
                         receipt_number = COALESCE(receipt_number, $3), paid_at = COALESCE(paid_at, $4), updated_at = $4 WHERE id = $5",
                    )
                    .bind(wallet)
                    .bind(top_up.transaction)
                    .bind(top_up.receipt.map(|(_, number)| number))
                    .bind(now)
                    .bind(payment.id)
                    .execute(&mut *conn)
                    .await
                    .map(|_| ())
                })?;
            }
        }
        on_tx!(&mut tx, conn => {
            sqlx::query("UPDATE payment_conflicts SET resolved_at = $1, resolved_by = $2, resolution = $3, transaction_id = $4 WHERE id = $5")
                .bind(now)
                .bind(actor)
                .bind(if credit { "credited" } else { "dismissed" })
                .bind(transaction)
                .bind(conflict)
                .execute(&mut *conn)
                .await
                .map(|_| ())
        })?;
        AuditEntry::new("payment_conflict", "payment_conflict", conflict)
            .by_actor(Some(actor))
            .after(serde_json::json!({ "credit": credit, "transaction": transaction }))
            .insert_tx(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The sandbox's page decided: its signed callback goes through [`Payments::receive`].
    pub async fn sandbox_complete(&self, public_id: &str, paid: bool) -> Result<(), PaymentError> {
        let payment = self
            .row(public_id)
            .await?
            .filter(|p| stored_kind(p).ok() == Some(ProviderKind::Sandbox))
            .ok_or(crate::engine::EngineError::NotFound("payment"))?;
        let reference = payment
            .provider_reference
            .clone()
            .ok_or_else(|| PaymentError::Refused("The checkout has not started.".into()))?;
        let sandbox = Sandbox {
            origin: String::new(),
            secret: (*self.secret).clone(),
        };
        let body = Sandbox::outcome_body(&reference, paid, payment.amount(), &payment.currency)
            .to_string();
        let mut headers = HeaderMap::new();
        let signature = sandbox.sign(body.as_bytes(), Utc::now());
        headers.insert(
            SIGNATURE_HEADER,
            HeaderValue::from_str(&signature).expect("hex and digits"),
        );
        self.receive(
            payment.site_id,
            ProviderKind::Sandbox,
            &headers,
            body.as_bytes(),
            None,
        )
        .await?;
        Ok(())
    }
}

impl Payments {
    /// Imports a bank statement: each credit line is money pushed to the site, matched to the
    /// account whose number (or meter serial) its description carries, and settled like any
    /// provider's news (a line seen before changes nothing; one naming no account is held as a
    /// conflict). A bad line refuses the whole file before anything is settled.
    pub async fn import_statement(
        &self,
        actor: i64,
        site: i64,
        text: &str,
    ) -> Result<ImportReport, PaymentError> {
        let currency = self.site_currency(site).await?;
        let (credits, skipped) =
            parse_statement(text, digits_of(&currency)).map_err(PaymentError::Refused)?;
        let mut report = ImportReport {
            skipped,
            ..ImportReport::default()
        };
        for credit in &credits {
            let mut account_reference = credit.description.clone();
            for candidate in candidate_references(&credit.description) {
                if self.names_account(site, &candidate).await? {
                    account_reference = candidate;
                    break;
                }
            }
            let notice = Notice {
                event_key: format!("bank:{}", credit.reference),
                subject: Subject::Pushed {
                    account_reference,
                    reference: credit.reference.clone(),
                    amount: credit.amount,
                    currency: currency.clone(),
                },
                report: Reported::Paid {
                    amount: credit.amount,
                    currency: currency.clone(),
                },
                paid_reference: Some(credit.reference.clone()),
                reversal: None,
            };
            match self.settle(site, ProviderKind::Bank, &notice, None).await? {
                Settled::Credited { .. } => report.credited += 1,
                Settled::Conflict { .. } => report.conflicts += 1,
                _ => report.repeats += 1,
            }
        }
        let _turn = self.engine.turn().await;
        let mut tx = self.engine.db.begin_write().await?;
        AuditEntry::new("bank_statement_imported", "site", site)
            .by_actor(Some(actor))
            .after(serde_json::json!({
                "lines": credits.len(), "credited": report.credited,
                "conflicts": report.conflicts, "repeats": report.repeats,
            }))
            .insert_tx(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(report)
    }
}

/// The provider a stored payment went through.
fn stored_kind(payment: &PaymentRow) -> Result<ProviderKind, PaymentError> {
    ProviderKind::parse(&payment.provider)
        .ok_or_else(|| PaymentError::Refused(format!("unknown provider {:?}", payment.provider)))
}

/// The same answer for a number that names nothing and one that names a closed account.
fn no_such_number() -> AppError {
    AppError::Invalid("No open account has that number. Check it on the meter or a receipt.".into())
}

#[async_trait::async_trait]
impl PaymentsPort for Payments {
    async fn payee(&self, reference: &str, client: ClientAddr) -> Result<PublicPayee, AppError> {
        let account = self.payee_account(reference, client).await?;
        let record = self.engine.summary(account).await?;
        let digits = digits_of(&record.currency);
        let (minimum, maximum) = {
            let mut tx = self.engine.db.begin_read().await.map_err(internal)?;
            money::top_up_limits(&mut tx, account.0, Utc::now()).await?
        };
        let site: String = on_db!(&self.engine.db, pool => {
            sqlx::query_scalar("SELECT name FROM sites WHERE id = $1")
                .bind(record.site.0)
                .fetch_one(pool)
                .await
        })
        .map_err(internal)?;
        let providers = self
            .enabled(record.site.0)
            .await
            .map_err(internal)?
            .into_iter()
            .filter(|kind| kind.has_checkout())
            .collect();
        Ok(PublicPayee {
            reference: reference.trim().to_uppercase(),
            payee: mask_name(record.occupant.as_deref().unwrap_or("")),
            site,
            utility: record.utility,
            currency: record.currency.clone(),
            minimum: minimum.format(digits),
            maximum: (maximum > Minor::ZERO).then(|| maximum.format(digits)),
            presets: presets(minimum, maximum, digits)
                .into_iter()
                .map(|amount| amount.format(digits))
                .collect(),
            providers,
        })
    }

    async fn payee_account(
        &self,
        reference: &str,
        client: ClientAddr,
    ) -> Result<AccountId, AppError> {
        let reference = reference.trim();
        if reference.is_empty() || reference.len() > 64 {
            return Err(no_such_number());
        }
        self.count_lookup(client).await?;
        let found = self.public_wallet(reference).await.map_err(internal)?;
        found
            .map(|(wallet, _)| AccountId(wallet))
            .ok_or_else(no_such_number)
    }

    async fn recharge_options(
        &self,
        account: AccountId,
        payer: &Caller,
    ) -> Result<RechargeOptions, AppError> {
        let record = self.engine.summary(account).await?;
        let zone = self.site_zone(account).await?;
        let site = record.site.0;
        let digits = digits_of(&record.currency);
        let (minimum, maximum) = {
            let mut tx = self.engine.db.begin_read().await.map_err(internal)?;
            money::top_up_limits(&mut tx, account.0, Utc::now()).await?
        };
        let providers = self
            .enabled(site)
            .await
            .map_err(internal)?
            .into_iter()
            .filter(|kind| kind.has_checkout())
            .collect();
        let payments = self
            .views(
                &format!("SELECT {VIEW_COLUMNS} FROM payments p WHERE p.wallet_account_id = $1 ORDER BY p.id DESC LIMIT 50"),
                account.0,
                None,
            )
            .await
            .map_err(internal)?;
        Ok(RechargeOptions {
            account: record,
            providers,
            minimum: minimum.format(digits),
            maximum: (maximum > Minor::ZERO).then(|| maximum.format(digits)),
            presets: presets(minimum, maximum, digits)
                .into_iter()
                .map(|amount| amount.format(digits))
                .collect(),
            email: Some(payer.email.clone()),
            payments,
            zone,
        })
    }

    async fn start(&self, request: PaymentRequest) -> Result<StartedPayment, AppError> {
        let (_, _, digits, _) = self.wallet_site(request.account.0).await?;
        let amount = PositiveAmount::parse(&request.amount, digits)
            .map_err(|error| AppError::Invalid(error.to_string()))?
            .0;
        let payer = Payer {
            user: request.payer.map(|user| user.0),
            channel: if request.payer.is_some() {
                Channel::Resident
            } else {
                Channel::Public
            },
            phone: request.phone.filter(|p| !p.trim().is_empty()),
            email: request.email.filter(|e| !e.trim().is_empty()),
            origin: request.origin,
        };
        let started =
            Payments::start(self, request.account.0, amount, request.provider, payer).await?;
        Ok(StartedPayment {
            public_id: started.public_id,
            redirect: started.redirect,
        })
    }

    async fn payment(
        &self,
        public_id: &str,
    ) -> Result<Option<(PaymentPage, Option<AccountId>)>, AppError> {
        let sql = format!("SELECT {VIEW_COLUMNS} FROM payments p WHERE p.public_id = $1");
        let row: Option<ViewRow> = on_db!(&self.engine.db, pool => {
            sqlx::query_as(&sql).bind(public_id).fetch_optional(pool).await
        })
        .map_err(internal)?;
        let Some(row) = row else { return Ok(None) };
        let account = row.1.map(AccountId);
        let name: Option<String> = match account {
            Some(account) => on_db!(&self.engine.db, pool => {
                sqlx::query_scalar(
                    "SELECT u.display_name FROM wallets w JOIN occupancies o ON o.id = w.occupancy_id \
                     JOIN users u ON u.id = o.user_id WHERE w.account_id = $1",
                )
                .bind(account.0)
                .fetch_optional(pool)
                .await
            })
            .map_err(internal)?,
            None => None,
        };
        Ok(Some((
            PaymentPage {
                payment: view(row),
                payee: mask_name(name.as_deref().unwrap_or("")),
                account: None,
                token: None,
            },
            account,
        )))
    }

    async fn sandbox_complete(&self, public_id: &str, paid: bool) -> Result<(), AppError> {
        Ok(Payments::sandbox_complete(self, public_id, paid).await?)
    }

    async fn site_payments(
        &self,
        viewer: &Caller,
        site: SiteId,
        query: &str,
    ) -> Result<SitePayments, AppError> {
        let (name, currency): (String, String) = on_db!(&self.engine.db, pool => {
            sqlx::query_as("SELECT name, currency FROM sites WHERE id = $1")
                .bind(site.0)
                .fetch_optional(pool)
                .await
        })
        .map_err(internal)?
        .ok_or(AppError::NotFound)?;
        let query = query.trim();
        let payments = if query.is_empty() {
            self.views(
                &format!("SELECT {VIEW_COLUMNS} FROM payments p WHERE p.site_id = $1 ORDER BY p.id DESC LIMIT 200"),
                site.0,
                None,
            )
            .await
        } else {
            // A receipt, an account number, a provider's reference or our payment id.
            self.views(
                &format!(
                    "SELECT {VIEW_COLUMNS} FROM payments p WHERE p.site_id = $1 AND ( \
                     p.public_id = $2 OR p.provider_reference = $2 OR p.provider_payment = $2 \
                     OR ('A' || SUBSTR('0000000' || CAST(p.wallet_account_id AS TEXT), -7)) = UPPER($2) \
                     OR ('R' || CAST(p.site_id AS TEXT) || '-' || SUBSTR('000000' || CAST(p.receipt_number AS TEXT), -6)) = UPPER($2)) \
                     ORDER BY p.id DESC LIMIT 200"
                ),
                site.0,
                Some(query),
            )
            .await
        }
        .map_err(internal)?;
        type ConflictRow = (
            i64,
            String,
            String,
            String,
            Option<i64>,
            Option<String>,
            Option<i64>,
            DateTime<Utc>,
            Option<String>,
        );
        let rows: Vec<ConflictRow> = on_db!(&self.engine.db, pool => {
            sqlx::query_as(
                "SELECT c.id, c.kind, c.provider, c.detail, c.amount_minor, p.public_id, p.wallet_account_id, c.created_at, c.resolution \
                 FROM payment_conflicts c LEFT JOIN payments p ON p.id = c.payment_id \
                 WHERE c.site_id = $1 ORDER BY c.resolved_at IS NOT NULL, c.id DESC LIMIT 100",
            )
            .bind(site.0)
            .fetch_all(pool)
            .await
        })
        .map_err(internal)?;
        let digits = digits_of(&currency);
        let conflicts = rows
            .into_iter()
            .map(
                |(id, kind, provider, detail, amount, payment, wallet, created_at, resolution)| {
                    ConflictView {
                        id,
                        kind: ConflictKind::parse(&kind).unwrap_or(ConflictKind::Amount),
                        provider: ProviderKind::parse(&provider).unwrap_or(ProviderKind::Sandbox),
                        detail,
                        amount: amount.map(|a| Minor(a).format(digits)),
                        payment,
                        account_number: wallet.map(account_number),
                        created_at,
                        resolved: resolution,
                    }
                },
            )
            .collect();
        let payouts = self
            .payouts(site.0, &currency, viewer.user_id.0)
            .await
            .map_err(internal)?;
        let mut providers = self.enabled(site.0).await.map_err(internal)?;
        let payout_providers = providers.iter().copied().filter(|p| p.pays_out()).collect();
        // Imported statements are bank payments too, and reconcile like any provider's.
        if !providers.contains(&ProviderKind::Bank) {
            providers.push(ProviderKind::Bank);
        }
        Ok(SitePayments {
            site,
            site_name: name,
            currency,
            payments,
            conflicts,
            payouts,
            payout_providers,
            providers,
            today: Utc::now().date_naive(),
            may_refund: false,
            may_resolve: false,
            refunds_waiting: Vec::new(),
        })
    }

    async fn refunds_waiting(
        &self,
        caller: &Caller,
        site: SiteId,
    ) -> Result<Vec<app::domain::payments::RefundRequestView>, AppError> {
        Payments::refunds_waiting(self, site.0, caller.user_id.0)
            .await
            .map_err(internal)
    }

    async fn import_statement(
        &self,
        caller: &Caller,
        site: SiteId,
        statement: &str,
    ) -> Result<ImportReport, AppError> {
        Ok(Payments::import_statement(self, caller.user_id.0, site.0, statement).await?)
    }

    async fn conflict_site(&self, conflict: i64) -> Result<Option<SiteId>, AppError> {
        let site: Option<i64> = on_db!(&self.engine.db, pool => {
            sqlx::query_scalar("SELECT site_id FROM payment_conflicts WHERE id = $1")
                .bind(conflict)
                .fetch_optional(pool)
                .await
        })
        .map_err(internal)?;
        Ok(site.map(SiteId))
    }

    async fn payment_site(&self, public_id: &str) -> Result<Option<SiteId>, AppError> {
        Ok(self.site_of_payment(public_id).await?.map(SiteId))
    }

    async fn resolve_conflict(
        &self,
        caller: &Caller,
        conflict: i64,
        account: Option<&str>,
        credit: bool,
    ) -> Result<(), AppError> {
        Ok(Payments::resolve_conflict(self, caller.user_id.0, conflict, account, credit).await?)
    }

    async fn ask_refund(
        &self,
        caller: &Caller,
        public_id: &str,
        amount: &str,
        reason: &str,
        by_hand: bool,
    ) -> Result<i64, AppError> {
        let payment = self
            .row(public_id)
            .await
            .map_err(internal)?
            .ok_or(AppError::NotFound)?;
        let amount = PositiveAmount::parse(amount, digits_of(&payment.currency))
            .map_err(|error| AppError::Invalid(error.to_string()))?
            .0;
        let actor = caller.user_id.0;
        Ok(Payments::ask_refund(self, actor, public_id, amount, reason, by_hand).await?)
    }

    async fn decide_refund(
        &self,
        caller: &Caller,
        site: SiteId,
        request: i64,
        decision: app::domain::four_eyes::Decision,
    ) -> Result<(), AppError> {
        let actor = caller.user_id.0;
        Ok(Payments::decide_refund(self, actor, site.0, request, decision).await?)
    }

    async fn payout_site(&self, payout: i64) -> Result<Option<SiteId>, AppError> {
        Ok(self
            .site_of_payout(payout)
            .await
            .map_err(internal)?
            .map(SiteId))
    }

    async fn pay_out(
        &self,
        caller: &Caller,
        payout: i64,
        method: PayoutMethod,
    ) -> Result<(), AppError> {
        let actor = caller.user_id.0;
        let paid = match method {
            PayoutMethod::ByHand { reference, note } => {
                self.pay_out_by_hand(actor, payout, &reference, &note).await
            }
            PayoutMethod::Provider {
                provider,
                destination,
                origin,
            } => {
                self.pay_out_through(actor, payout, provider, destination.as_deref(), &origin)
                    .await
            }
        };
        Ok(paid?)
    }

    async fn reconcile(
        &self,
        site: SiteId,
        provider: ProviderKind,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
        file: &str,
    ) -> Result<ReconciliationReport, AppError> {
        Ok(Payments::reconcile(self, site.0, provider, from, to, file).await?)
    }
}
