//! Payments through providers. A payment is stored pending before the provider hears of it;
//! the provider's callback is verified, then settled in one database transaction with the
//! ledger entries it causes (see [`settle`]). Money is credited at most once per payment, only
//! for what was asked, whatever arrives, however often and in whatever order.

pub mod hooks;
pub mod mpesa;
pub mod payouts;
pub mod paystack;
pub mod provider;
pub mod reconcile;
pub mod refund_requests;
pub mod sandbox;
pub mod settle;
pub mod stripe;
pub mod views;

use crate::{
    config::Secret,
    db::Tx,
    engine::{Engine, EngineError, money},
    on_db, on_db_write, on_tx,
};
use app::domain::{Minor, payments::ProviderKind};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::Utc;
use provider::{CallbackError, CheckoutRequest, Provider, ProviderError};
use serde_json::Value;
use std::sync::Arc;

/// What can go wrong with a payment.
#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Callback(#[from] CallbackError),
    #[error("{0}")]
    Refused(String),
    #[error("the site's {0} settings are incomplete: {1} is missing")]
    Misconfigured(&'static str, &'static str),
}

impl From<PaymentError> for app::error::AppError {
    fn from(error: PaymentError) -> Self {
        use app::error::AppError;
        match error {
            PaymentError::Engine(error) => error.into(),
            PaymentError::Refused(message) => AppError::Invalid(message),
            PaymentError::Provider(ProviderError::Refused(message)) => AppError::Invalid(message),
            PaymentError::Provider(ProviderError::Unsupported) => AppError::Invalid(
                "This provider cannot do that here; record it by hand instead.".into(),
            ),
            // The provider's trouble, not ours: said plainly (the text carries no URL).
            PaymentError::Provider(error) => {
                tracing::warn!(%error, "payment provider trouble");
                AppError::Invalid(format!("{error}."))
            }
            PaymentError::Misconfigured(provider, _) => AppError::Invalid(format!(
                "{provider} is not fully set up for this site yet: pay another way."
            )),
            other => crate::internal(other),
        }
    }
}

/// A site's settings for one provider, as stored.
#[derive(Clone)]
pub struct ProviderSettings {
    pub kind: ProviderKind,
    pub enabled: bool,
    /// What pages may show: base URL, short code.
    pub settings: Value,
    /// What never leaves the server: keys and webhook secrets.
    secrets: Value,
}

impl std::fmt::Debug for ProviderSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderSettings")
            .field("kind", &self.kind)
            .field("enabled", &self.enabled)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl ProviderSettings {
    fn setting(&self, key: &str, default: &str) -> String {
        self.settings
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or(default)
            .to_owned()
    }

    fn secret(&self, name: &'static str, key: &'static str) -> Result<Secret, PaymentError> {
        self.secrets
            .get(key)
            .and_then(Value::as_str)
            .filter(|value| !value.is_empty())
            .map(Secret::new)
            .ok_or(PaymentError::Misconfigured(name, key))
    }
}

/// The payments service: one per process, cheap to clone.
#[derive(Clone)]
pub struct Payments {
    pub(crate) engine: Engine,
    http: reqwest::Client,
    /// Signs the sandbox's callbacks and derives the unguessable callback URLs.
    secret: Arc<Secret>,
    /// Where providers reach us and send payers back, when configured.
    public_url: Option<String>,
}

impl Payments {
    pub fn new(engine: Engine, secret: Secret, public_url: Option<String>) -> Self {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(20))
            .build()
            .expect("the HTTP client's TLS set-up is static");
        Payments {
            engine,
            http,
            secret: Arc::new(secret),
            public_url,
        }
    }

    /// The origin for return and callback URLs: the configured public URL, else the one the
    /// payer's browser used.
    pub(crate) fn origin(&self, fallback: &str) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| fallback.to_owned())
            .trim_end_matches('/')
            .to_owned()
    }

    /// A token only this platform can make for `purpose`: the unguessable part of the URLs
    /// that unsigned callbacks arrive at.
    pub fn url_token(&self, purpose: &str) -> String {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, self.secret.expose().as_bytes());
        URL_SAFE_NO_PAD.encode(&ring::hmac::sign(&key, purpose.as_bytes()).as_ref()[..24])
    }

    /// Checks a token from a URL in constant time: every byte is compared, with no early
    /// exit (the tag is truncated, so ring's own verification does not apply).
    pub fn check_url_token(&self, purpose: &str, given: &str) -> bool {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, self.secret.expose().as_bytes());
        let tag = ring::hmac::sign(&key, purpose.as_bytes());
        let Ok(bytes) = URL_SAFE_NO_PAD.decode(given) else {
            return false;
        };
        crate::secrets::same_bytes(&tag.as_ref()[..24], &bytes)
    }

    /// The site's currency code.
    pub(crate) async fn site_currency(&self, site: i64) -> Result<String, sqlx::Error> {
        on_db!(&self.engine.db, pool => {
            sqlx::query_scalar("SELECT currency FROM sites WHERE id = $1")
                .bind(site)
                .fetch_one(pool)
                .await
        })
    }

    /// The site's settings for a provider.
    pub async fn settings(
        &self,
        site: i64,
        kind: ProviderKind,
    ) -> Result<Option<ProviderSettings>, sqlx::Error> {
        let row: Option<(bool, String, String)> = on_db!(&self.engine.db, pool => {
            sqlx::query_as("SELECT enabled, settings, secrets FROM payment_providers WHERE site_id = $1 AND provider = $2")
                .bind(site)
                .bind(kind.as_str())
                .fetch_optional(pool)
                .await
        })?;
        Ok(row.map(|(enabled, settings, secrets)| ProviderSettings {
            kind,
            enabled,
            settings: serde_json::from_str(&settings).unwrap_or(Value::Null),
            secrets: serde_json::from_str(&secrets).unwrap_or(Value::Null),
        }))
    }

    /// The providers a site has enabled.
    pub async fn enabled(&self, site: i64) -> Result<Vec<ProviderKind>, sqlx::Error> {
        let rows: Vec<String> = on_db!(&self.engine.db, pool => {
            sqlx::query_scalar("SELECT provider FROM payment_providers WHERE site_id = $1 AND enabled ORDER BY provider")
                .bind(site)
                .fetch_all(pool)
                .await
        })?;
        Ok(rows
            .iter()
            .filter_map(|raw| ProviderKind::parse(raw))
            .collect())
    }

    /// Sets a site's provider up (or changes it). The keys given of `settings` and `secrets`
    /// replace the stored ones and the others are kept, so one setting can change without
    /// restating the rest; a key given as an empty string is removed.
    pub async fn configure(
        &self,
        site: i64,
        kind: ProviderKind,
        enabled: bool,
        settings: Value,
        secrets: Value,
    ) -> Result<(), sqlx::Error> {
        let stored = self.settings(site, kind).await?;
        let (settings, secrets) = match stored {
            Some(stored) => (
                merge(stored.settings, &settings),
                merge(stored.secrets, &secrets),
            ),
            None => (merge(Value::Null, &settings), merge(Value::Null, &secrets)),
        };
        let now = Utc::now();
        on_db_write!(&self.engine.db, pool => {
            sqlx::query(
                "INSERT INTO payment_providers (site_id, provider, enabled, settings, secrets, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (site_id, provider) DO UPDATE SET \
                 enabled = excluded.enabled, settings = excluded.settings, secrets = excluded.secrets, \
                 updated_at = excluded.updated_at",
            )
            .bind(site)
            .bind(kind.as_str())
            .bind(enabled)
            .bind(settings.to_string())
            .bind(secrets.to_string())
            .bind(now)
            .execute(pool)
            .await
            .map(|_| ())
        })
    }

    /// The provider as a site configured it. `origin` is where our own pages are.
    pub fn provider(
        &self,
        settings: &ProviderSettings,
        origin: &str,
    ) -> Result<Box<dyn Provider>, PaymentError> {
        let http = self.http.clone();
        Ok(match settings.kind {
            ProviderKind::Sandbox => Box::new(sandbox::Sandbox {
                origin: origin.to_owned(),
                secret: (*self.secret).clone(),
            }),
            ProviderKind::Stripe => Box::new(stripe::Stripe {
                http,
                base_url: settings.setting("base_url", "https://api.stripe.com"),
                secret_key: settings.secret("Stripe", "secret_key")?,
                webhook_secret: settings.secret("Stripe", "webhook_secret")?,
            }),
            ProviderKind::Paystack => Box::new(paystack::Paystack {
                http,
                base_url: settings.setting("base_url", "https://api.paystack.co"),
                secret_key: settings.secret("Paystack", "secret_key")?,
            }),
            ProviderKind::Mpesa => Box::new(mpesa::Mpesa {
                http,
                base_url: settings.setting("base_url", "https://api.safaricom.co.ke"),
                short_code: settings
                    .settings
                    .get("short_code")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or(PaymentError::Misconfigured("M-Pesa", "short_code"))?,
                consumer_key: settings.secret("M-Pesa", "consumer_key")?,
                consumer_secret: settings.secret("M-Pesa", "consumer_secret")?,
                passkey: settings.secret("M-Pesa", "passkey")?,
                initiator: settings
                    .settings
                    .get("initiator_name")
                    .and_then(Value::as_str)
                    .zip(settings.secret("M-Pesa", "security_credential").ok())
                    .map(|(name, credential)| (name.to_owned(), credential)),
                payout_short_code: settings
                    .setting("payout_short_code", &settings.setting("short_code", "")),
            }),
            ProviderKind::Bank => {
                return Err(PaymentError::Refused(
                    "Bank transfers are made at the bank and matched from statements.".into(),
                ));
            }
        })
    }

    /// An enabled provider of a site, ready to use.
    async fn enabled_provider(
        &self,
        site: i64,
        kind: ProviderKind,
        origin: &str,
    ) -> Result<Box<dyn Provider>, PaymentError> {
        let settings = self
            .settings(site, kind)
            .await?
            .filter(|settings| settings.enabled)
            .ok_or_else(|| {
                PaymentError::Refused(format!("{} is not offered here.", kind.label()))
            })?;
        self.provider(&settings, origin)
    }

    /// Stores a pending payment, then starts the provider's checkout. The payment exists
    /// before the provider knows of it, so no callback can name a payment we lack.
    pub async fn start(
        &self,
        wallet: i64,
        amount: Minor,
        kind: ProviderKind,
        payer: Payer,
    ) -> Result<Started, PaymentError> {
        let origin = self.origin(&payer.origin);
        let (site, currency, digits, number) = self.wallet_site(wallet).await?;
        let provider = self.enabled_provider(site, kind, &origin).await?;
        let phone = match (kind.needs_phone(), &payer.phone) {
            (false, _) => None,
            (true, Some(raw)) => {
                Some(app::domain::payments::mpesa_phone(raw).ok_or_else(|| {
                    PaymentError::Refused(
                        "Enter a Kenyan mobile number such as 0712 345 678.".into(),
                    )
                })?)
            }
            (true, None) => {
                return Err(PaymentError::Refused(
                    "Enter the phone number to pay from.".into(),
                ));
            }
        };
        let public_id = new_public_id();
        let now = Utc::now();
        {
            let _turn = self.engine.turn().await;
            let mut tx = self.engine.db.begin_write().await?;
            money::check_amount(&mut tx, wallet, amount, now).await?;
            insert_pending(
                &mut tx,
                &Pending {
                    public_id: &public_id,
                    site,
                    wallet,
                    kind,
                    channel: payer.channel,
                    amount,
                    currency: &currency,
                    payer: payer.user,
                    phone: phone.as_deref(),
                },
                now,
            )
            .await?;
            tx.commit().await?;
        }
        let request = CheckoutRequest {
            public_id: public_id.clone(),
            amount,
            currency: currency.clone(),
            digits,
            description: format!("Prepaid top-up, account {number}"),
            account_reference: number,
            return_url: format!("{origin}/payments/{public_id}"),
            callback_url: format!(
                "{origin}/hooks/mpesa/stk/{public_id}/{}",
                self.url_token(&format!("stk:{public_id}"))
            ),
            phone,
            email: payer.email.clone(),
        };
        match provider.checkout(&request).await {
            Ok(checkout) => {
                self.record_checkout(&public_id, &checkout).await?;
                Ok(Started {
                    public_id,
                    redirect: checkout.redirect,
                })
            }
            Err(error) => {
                tracing::warn!(%error, provider = kind.as_str(), "checkout failed");
                self.record_failure(&public_id, &error.to_string()).await?;
                Err(error.into())
            }
        }
    }

    /// The site, currency, its minor digits and the account's number for a wallet.
    async fn wallet_site(&self, wallet: i64) -> Result<(i64, String, u32, String), PaymentError> {
        let row: Option<(i64, String)> = on_db!(&self.engine.db, pool => {
            sqlx::query_as("SELECT w.site_id, s.currency FROM wallets w JOIN sites s ON s.id = w.site_id WHERE w.account_id = $1 AND w.closed_at IS NULL")
                .bind(wallet)
                .fetch_optional(pool)
                .await
        })?;
        let (site, currency) = row.ok_or(EngineError::NotFound("account"))?;
        let digits = digits_of(&currency);
        Ok((
            site,
            currency,
            digits,
            crate::ledger::account_number(wallet),
        ))
    }

    async fn record_checkout(
        &self,
        public_id: &str,
        checkout: &provider::Checkout,
    ) -> Result<(), sqlx::Error> {
        let now = Utc::now();
        on_db_write!(&self.engine.db, pool => {
            sqlx::query("UPDATE payments SET provider_reference = $1, checkout_url = $2, updated_at = $3 WHERE public_id = $4")
                .bind(&checkout.reference)
                .bind(&checkout.redirect)
                .bind(now)
                .bind(public_id)
                .execute(pool)
                .await
                .map(|_| ())
        })
    }

    async fn record_failure(&self, public_id: &str, failure: &str) -> Result<(), sqlx::Error> {
        let now = Utc::now();
        on_db_write!(&self.engine.db, pool => {
            sqlx::query("UPDATE payments SET status = 'failed', failure = $1, updated_at = $2 WHERE public_id = $3 AND status = 'pending'")
                .bind(failure)
                .bind(now)
                .bind(public_id)
                .execute(pool)
                .await
                .map(|_| ())
        })
    }
}

/// Who pays, and from where.
#[derive(Clone, Debug, Default)]
pub struct Payer {
    pub user: Option<i64>,
    pub channel: Channel,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// The origin the payer's browser used.
    pub origin: String,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Channel {
    #[default]
    Resident,
    Public,
    Paybill,
    Bank,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Resident => "resident",
            Channel::Public => "public",
            Channel::Paybill => "paybill",
            Channel::Bank => "bank",
        }
    }
}

/// A payment just started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Started {
    pub public_id: String,
    pub redirect: Option<String>,
}

/// How many places a stored currency code's minor unit has.
/// `changes` laid over `stored`: keys replaced, keys given as empty strings removed.
fn merge(stored: Value, changes: &Value) -> Value {
    let mut merged = match stored {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    for (key, value) in changes.as_object().into_iter().flatten() {
        if value.as_str() == Some("") {
            merged.remove(key);
        } else {
            merged.insert(key.clone(), value.clone());
        }
    }
    Value::Object(merged)
}

pub(crate) fn digits_of(currency: &str) -> u32 {
    app::domain::Currency::parse(currency)
        .map(|c| app::domain::minor_digits(&c))
        .unwrap_or(2)
}

/// A payment's public name.
fn new_public_id() -> String {
    crate::secrets::public_id("pay")
}

pub(crate) struct Pending<'a> {
    pub public_id: &'a str,
    pub site: i64,
    pub wallet: i64,
    pub kind: ProviderKind,
    pub channel: Channel,
    pub amount: Minor,
    pub currency: &'a str,
    pub payer: Option<i64>,
    pub phone: Option<&'a str>,
}

pub(crate) async fn insert_pending(
    tx: &mut Tx,
    pending: &Pending<'_>,
    now: chrono::DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    on_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO payments (public_id, site_id, wallet_account_id, provider, channel, amount_minor, \
             currency, payer_user_id, payer_phone, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
        )
        .bind(pending.public_id)
        .bind(pending.site)
        .bind(pending.wallet)
        .bind(pending.kind.as_str())
        .bind(pending.channel.as_str())
        .bind(pending.amount.0)
        .bind(pending.currency)
        .bind(pending.payer)
        .bind(pending.phone)
        .bind(now)
        .fetch_one(&mut *conn)
        .await
    })
}
