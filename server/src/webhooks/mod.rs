//! Outgoing webhooks: an organisation subscribes URLs to events; each event becomes one
//! delivery per subscription (a unique row, however often the sources are scanned), signed
//! with the subscription's secret and retried with backoff until the receiver answers 2xx.

pub mod scan;
pub mod send;
pub mod sign;

use crate::{
    audit::AuditEntry, db::Db, internal, on_db, on_db_write, on_tx, secrets, tokens::vault::Vault,
};
use app::{
    domain::integrations::{
        AttemptView, DeliveryView, WebhookDeliveries, WebhookView, is_event_type,
    },
    error::AppError,
};
use chrono::{DateTime, Utc};
use serde_json::json;
use std::{fmt, net::IpAddr, sync::Arc, time::Duration};

#[derive(Clone)]
pub struct Webhooks {
    db: Db,
    vault: Arc<Vault>,
    http: reqwest::Client,
    to_private: bool,
}

impl fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Webhooks(..)")
    }
}

/// The secret a receiver verifies signatures with, shown once. `Debug` does not show it.
pub struct NewSubscription {
    pub id: i64,
    pub secret: String,
}

impl fmt::Debug for NewSubscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NewSubscription({}, ..)", self.id)
    }
}

/// The webhooks' HTTP client; with `pinned`, one that reaches that host only at that address
/// (checked just before), so a second look-up cannot send it elsewhere.
pub(crate) fn client(pinned: Option<(&str, std::net::SocketAddr)>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        // A receiver that redirects is answered as a failure, not followed elsewhere.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("Prepaid-Webhooks/1");
    if let Some((host, addr)) = pinned {
        builder = builder.resolve(host, addr);
    }
    builder
        .build()
        .expect("the HTTP client's TLS set-up is static")
}

/// The vault's context for a subscription's secret: a sealed secret copied onto another
/// subscription's row does not open.
fn context(subscription: i64) -> Vec<u8> {
    format!("webhook:{subscription}").into_bytes()
}

/// A receiver's address: http(s), at most 500 characters; unless allowed, https only and not
/// a loopback, private or link-local address, so a subscription cannot probe the network the
/// platform runs in.
pub fn check_url(raw: &str, to_private: bool) -> Result<String, AppError> {
    let raw = raw.trim();
    let invalid =
        |why: &str| AppError::Invalid(format!("That webhook address will not do: {why}."));
    if raw.len() > 500 {
        return Err(invalid("it is longer than 500 characters"));
    }
    let url = reqwest::Url::parse(raw).map_err(|_| invalid("it is not a URL"))?;
    match url.scheme() {
        "https" => {}
        "http" if to_private => {}
        _ => return Err(invalid("it must start with https://")),
    }
    let host = url.host_str().ok_or_else(|| invalid("it has no host"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("it must not carry a user name or password"));
    }
    if !to_private {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let private_ip = bare.parse::<IpAddr>().is_ok_and(is_private);
        // "localhost." is "localhost": a final dot does not change a name.
        let host = host.trim_end_matches('.');
        let local_name = host == "localhost"
            || [".localhost", ".local", ".internal"]
                .iter()
                .any(|suffix| host.ends_with(suffix));
        if private_ip || local_name {
            return Err(invalid("it points into a private network"));
        }
    }
    Ok(url.to_string())
}

/// Loopback, private, link-local, unspecified, broadcast and shared (CGNAT) addresses: where a
/// webhook must not reach, so that a subscription cannot probe the operator's own network.
pub(crate) fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => {
            ip.is_loopback()
                || ip.is_private()
                || ip.is_link_local()
                || ip.is_unspecified()
                || ip.is_broadcast()
                || ip.octets()[0] == 100 && (ip.octets()[1] & 0xc0) == 64
        }
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(v4) => is_private(IpAddr::V4(v4)),
            None => {
                ip.is_loopback()
                    || ip.is_unspecified()
                    || (ip.segments()[0] & 0xfe00) == 0xfc00
                    || (ip.segments()[0] & 0xffc0) == 0xfe80
            }
        },
    }
}

#[derive(sqlx::FromRow)]
struct SubscriptionRow {
    id: i64,
    url: String,
    events: String,
    created_at: DateTime<Utc>,
    disabled_at: Option<DateTime<Utc>>,
    delivered: i64,
    queued: i64,
    failed: i64,
}

impl From<SubscriptionRow> for WebhookView {
    fn from(row: SubscriptionRow) -> Self {
        WebhookView {
            id: row.id,
            url: row.url,
            events: row.events.split(',').map(str::to_owned).collect(),
            created_at: row.created_at,
            disabled_at: row.disabled_at,
            delivered: row.delivered,
            queued: row.queued,
            failed: row.failed,
        }
    }
}

const SUBSCRIPTION_SELECT: &str = "SELECT w.id, w.url, w.events, w.created_at, w.disabled_at, \
    CAST((SELECT COUNT(*) FROM webhook_deliveries d WHERE d.subscription_id = w.id AND d.status = 'delivered') AS BIGINT) AS delivered, \
    CAST((SELECT COUNT(*) FROM webhook_deliveries d WHERE d.subscription_id = w.id AND d.status = 'queued') AS BIGINT) AS queued, \
    CAST((SELECT COUNT(*) FROM webhook_deliveries d WHERE d.subscription_id = w.id AND d.status = 'failed') AS BIGINT) AS failed \
    FROM webhook_subscriptions w WHERE w.organisation_id = $1";

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: i64,
    event_id: String,
    event_type: String,
    status: String,
    created_at: DateTime<Utc>,
    next_attempt_at: DateTime<Utc>,
    delivered_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    delivery_id: i64,
    at: DateTime<Utc>,
    status_code: Option<i64>,
    error: Option<String>,
    duration_ms: i64,
}

impl Webhooks {
    pub fn new(db: Db, vault: Arc<Vault>, to_private: bool) -> Self {
        let http = client(None);
        Self {
            db,
            vault,
            http,
            to_private,
        }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Subscribes a URL to events for the organisation; the caller is one of its admins.
    pub async fn subscribe(
        &self,
        org: i64,
        actor: i64,
        url: &str,
        events: &[String],
    ) -> Result<NewSubscription, AppError> {
        let url = check_url(url, self.to_private)?;
        let mut events: Vec<String> = events.iter().map(|event| event.trim().to_owned()).collect();
        events.sort();
        events.dedup();
        if events.is_empty() || !events.iter().all(|event| is_event_type(event)) {
            return Err(AppError::Invalid(
                "Choose one or more of the events listed.".into(),
            ));
        }
        let secret = format!("whsec_{}", secrets::link_token());
        let now = Utc::now();
        let vault = self.vault.clone();
        let events_text = events.join(",");
        let id: i64 = on_db_write!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO webhook_subscriptions (organisation_id, url, events, secret_sealed, created_by, created_at, scanned_until) \
                 VALUES ($1, $2, $3, '', $4, $5, $5) RETURNING id",
            )
            .bind(org)
            .bind(&url)
            .bind(&events_text)
            .bind(actor)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            let sealed = vault
                .seal_bytes(&context(id), secret.as_bytes())
                .map_err(|error| sqlx::Error::Protocol(error.to_string()))?;
            sqlx::query("UPDATE webhook_subscriptions SET secret_sealed = $1 WHERE id = $2")
                .bind(sealed)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            AuditEntry::new("webhook_subscribed", "webhook", id)
                .by(org, Some(actor))
                .after(json!({ "url": url, "events": events }))
                .append(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(id)
        })
        .map_err(internal)?;
        Ok(NewSubscription { id, secret })
    }

    /// Stops a subscription: nothing more is handed out, and what waits is not sent.
    pub async fn disable(&self, org: i64, actor: i64, subscription: i64) -> Result<(), AppError> {
        let now = Utc::now();
        let mut tx = self.db.begin_write().await.map_err(internal)?;
        let exists: Option<i64> = on_tx!(&mut tx, conn => {
            sqlx::query_scalar("SELECT id FROM webhook_subscriptions WHERE id = $1 AND organisation_id = $2")
                .bind(subscription)
                .bind(org)
                .fetch_optional(&mut *conn)
                .await
        })
        .map_err(internal)?;
        exists.ok_or(AppError::NotFound)?;
        let changed = on_tx!(&mut tx, conn => {
            sqlx::query("UPDATE webhook_subscriptions SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL")
                .bind(now)
                .bind(subscription)
                .execute(&mut *conn)
                .await
                .map(|done| done.rows_affected())
        })
        .map_err(internal)?;
        if changed > 0 {
            AuditEntry::new("webhook_disabled", "webhook", subscription)
                .by(org, Some(actor))
                .insert_tx(&mut tx)
                .await
                .map_err(internal)?;
        }
        tx.commit().await.map_err(internal)
    }

    pub async fn list(&self, org: i64) -> Result<Vec<WebhookView>, AppError> {
        let rows: Vec<SubscriptionRow> = on_db!(&self.db, pool => {
            sqlx::query_as(&format!("{SUBSCRIPTION_SELECT} ORDER BY w.id DESC"))
                .bind(org)
                .fetch_all(pool)
                .await
        })
        .map_err(internal)?;
        Ok(rows.into_iter().map(WebhookView::from).collect())
    }

    /// A subscription's latest 100 deliveries, newest first, each with its attempts.
    pub async fn deliveries(
        &self,
        org: i64,
        subscription: i64,
    ) -> Result<WebhookDeliveries, AppError> {
        let webhook: Option<SubscriptionRow> = on_db!(&self.db, pool => {
            sqlx::query_as(&format!("{SUBSCRIPTION_SELECT} AND w.id = $2"))
                .bind(org)
                .bind(subscription)
                .fetch_optional(pool)
                .await
        })
        .map_err(internal)?;
        let webhook = webhook.ok_or(AppError::NotFound)?;
        let (deliveries, attempts): (Vec<DeliveryRow>, Vec<AttemptRow>) = on_db!(&self.db, pool => {
            let deliveries = sqlx::query_as(
                "SELECT id, event_id, event_type, status, created_at, next_attempt_at, delivered_at \
                 FROM webhook_deliveries WHERE subscription_id = $1 ORDER BY id DESC LIMIT 100",
            )
            .bind(subscription)
            .fetch_all(pool)
            .await?;
            let attempts = sqlx::query_as(
                "SELECT a.delivery_id, a.at, a.status_code, a.error, a.duration_ms FROM webhook_attempts a \
                 WHERE a.delivery_id IN (SELECT id FROM webhook_deliveries WHERE subscription_id = $1 \
                 ORDER BY id DESC LIMIT 100) ORDER BY a.id",
            )
            .bind(subscription)
            .fetch_all(pool)
            .await?;
            Ok::<_, sqlx::Error>((deliveries, attempts))
        })
        .map_err(internal)?;
        Ok(WebhookDeliveries {
            webhook: webhook.into(),
            deliveries: deliveries
                .into_iter()
                .map(|row| DeliveryView {
                    attempts: attempts
                        .iter()
                        .filter(|attempt| attempt.delivery_id == row.id)
                        .map(|attempt| AttemptView {
                            at: attempt.at,
                            status_code: attempt.status_code,
                            error: attempt.error.clone(),
                            duration_ms: attempt.duration_ms,
                        })
                        .collect(),
                    next_attempt_at: (row.status == "queued").then_some(row.next_attempt_at),
                    id: row.id,
                    event_id: row.event_id,
                    event_type: row.event_type,
                    status: row.status,
                    created_at: row.created_at,
                    delivered_at: row.delivered_at,
                })
                .collect(),
        })
    }

    /// Hands out new events and sends what is due, every two seconds.
    pub async fn run(self) {
        let mut every = tokio::time::interval(Duration::from_secs(2));
        loop {
            every.tick().await;
            let now = Utc::now();
            if let Err(error) = self.scan(now).await {
                tracing::warn!(%error, "scanning events for webhooks failed");
            }
            match self.deliver_due(now).await {
                Ok(report) if report != send::Report::default() => {
                    tracing::info!(?report, "webhooks sent");
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "sending webhooks failed"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_addresses_are_checked() {
        assert!(check_url("https://erp.example.org/hooks/prepaid", false).is_ok());
        for refused in [
            "http://erp.example.org/hooks",
            "https://127.0.0.1/hooks",
            "https://10.1.2.3/",
            "https://192.168.0.10/",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/",
            "https://[fd00::1]/",
            "https://localhost:8080/",
            "https://db.internal/",
            "https://user:pass@erp.example.org/",
            "ftp://erp.example.org/",
            "not a url",
        ] {
            assert!(check_url(refused, false).is_err(), "{refused}");
        }
        assert!(check_url("http://127.0.0.1:9000/hooks", true).is_ok());
        assert!(check_url("https://localhost.:9000/hooks", false).is_err());
        assert!(check_url("https://[::ffff:127.0.0.1]/hooks", false).is_err());
    }
}
