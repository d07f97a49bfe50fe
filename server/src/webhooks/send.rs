//! Sending what is due: each delivery is claimed with a lease (so two workers never send it
//! at once), posted signed, and its attempt recorded. A 2xx answer delivers it; anything else
//! is tried again after 10 s, 30 s, 2 min, 10 min, 30 min, 1 h and 3 h, then given up.

use super::{Webhooks, context, sign};
use crate::{on_db, on_db_write};
use chrono::{DateTime, Duration, Utc};
use std::time::Instant;

pub const MAX_ATTEMPTS: i64 = 8;
const BATCH: i64 = 20;

/// The wait before the next try, after `attempts` have failed.
pub fn backoff(attempts: i64) -> Duration {
    match attempts {
        ..=1 => Duration::seconds(10),
        2 => Duration::seconds(30),
        3 => Duration::minutes(2),
        4 => Duration::minutes(10),
        5 => Duration::minutes(30),
        6 => Duration::hours(1),
        _ => Duration::hours(3),
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub delivered: usize,
    pub retrying: usize,
    pub failed: usize,
}

#[derive(sqlx::FromRow)]
struct Due {
    id: i64,
    subscription_id: i64,
    event_type: String,
    payload: String,
    attempts: i64,
    next_attempt_at: DateTime<Utc>,
    url: String,
    secret_sealed: String,
    disabled: bool,
}

enum Outcome {
    Delivered,
    Retry,
    Failed,
}

impl Webhooks {
    /// Sends every delivery due at `now` (a later `now` in tests stands for time passing).
    pub async fn deliver_due(&self, now: DateTime<Utc>) -> Result<Report, sqlx::Error> {
        let due: Vec<Due> = on_db!(self.db(), pool => {
            sqlx::query_as(
                "SELECT d.id, d.subscription_id, d.event_type, d.payload, d.attempts, d.next_attempt_at, \
                 w.url, w.secret_sealed, (w.disabled_at IS NOT NULL) AS disabled \
                 FROM webhook_deliveries d JOIN webhook_subscriptions w ON w.id = d.subscription_id \
                 WHERE d.status = 'queued' AND d.next_attempt_at <= $1 ORDER BY d.next_attempt_at, d.id LIMIT $2",
            )
            .bind(now)
            .bind(BATCH)
            .fetch_all(pool)
            .await
        })?;
        let mut sends = tokio::task::JoinSet::new();
        for delivery in due {
            // The lease: whoever moves next_attempt_at on from the value read sends it.
            let lease = now + Duration::minutes(2);
            let claimed = on_db_write!(self.db(), pool => {
                sqlx::query(
                    "UPDATE webhook_deliveries SET next_attempt_at = $1 WHERE id = $2 AND status = 'queued' AND next_attempt_at = $3",
                )
                .bind(lease)
                .bind(delivery.id)
                .bind(delivery.next_attempt_at)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
            })?;
            if claimed == 1 {
                let webhooks = self.clone();
                sends.spawn(async move { webhooks.send(delivery, now).await });
            }
        }
        let mut report = Report::default();
        while let Some(sent) = sends.join_next().await {
            match sent {
                Ok(Ok(Outcome::Delivered)) => report.delivered += 1,
                Ok(Ok(Outcome::Retry)) => report.retrying += 1,
                Ok(Ok(Outcome::Failed)) => report.failed += 1,
                Ok(Err(error)) => tracing::warn!(%error, "recording a webhook attempt failed"),
                Err(error) => tracing::warn!(%error, "a webhook send panicked"),
            }
        }
        Ok(report)
    }

    async fn send(&self, delivery: Due, now: DateTime<Utc>) -> Result<Outcome, sqlx::Error> {
        if delivery.disabled {
            self.finish(
                &delivery,
                now,
                None,
                Some("the subscription was disabled"),
                0,
                false,
            )
            .await?;
            return Ok(Outcome::Failed);
        }
        let secret = match self
            .vault
            .open_bytes(&context(delivery.subscription_id), &delivery.secret_sealed)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
        {
            Some(secret) => secret,
            None => {
                tracing::error!(
                    subscription = delivery.subscription_id,
                    "a webhook secret did not open"
                );
                self.finish(
                    &delivery,
                    now,
                    None,
                    Some("the signing secret did not open"),
                    0,
                    false,
                )
                .await?;
                return Ok(Outcome::Failed);
            }
        };
        let http = match self.reach(&delivery.url).await {
            Ok(http) => http,
            Err(why) => {
                let retry = self
                    .finish(&delivery, now, None, Some(why), 0, true)
                    .await?;
                return Ok(if retry {
                    Outcome::Retry
                } else {
                    Outcome::Failed
                });
            }
        };
        let signature =
            sign::signature(&secret, Utc::now().timestamp(), delivery.payload.as_bytes());
        let started = Instant::now();
        let answer = http
            .post(&delivery.url)
            .header("content-type", "application/json")
            .header("prepaid-event", &delivery.event_type)
            .header("prepaid-delivery", delivery.id.to_string())
            .header(sign::HEADER, signature)
            .body(delivery.payload.clone())
            .send()
            .await;
        let took = started.elapsed().as_millis() as i64;
        let (status, error) = match answer {
            Ok(response) if response.status().is_success() => {
                (Some(response.status().as_u16()), None)
            }
            Ok(response) => (
                Some(response.status().as_u16()),
                Some(format!("answered {}", response.status())),
            ),
            Err(error) if error.is_timeout() => (None, Some("no answer within 10 s".to_owned())),
            Err(error) if error.is_connect() => (None, Some("could not connect".to_owned())),
            Err(_) => (None, Some("the request failed".to_owned())),
        };
        let delivered = error.is_none();
        self.finish(&delivery, now, status, error.as_deref(), took, !delivered)
            .await
            .map(|retry| match (delivered, retry) {
                (true, _) => Outcome::Delivered,
                (false, true) => Outcome::Retry,
                (false, false) => Outcome::Failed,
            })
    }

    /// The client to reach a receiver with. The address was checked when it was subscribed,
    /// but a name may since resolve elsewhere (DNS rebinding): it is looked up now, refused if
    /// any address it gives is private, and the request pinned to the address checked.
    async fn reach(&self, url: &str) -> Result<reqwest::Client, &'static str> {
        if self.to_private {
            return Ok(self.http.clone());
        }
        let url = reqwest::Url::parse(url).map_err(|_| "the address is not a URL")?;
        let host = url.host_str().ok_or("the address has no host")?;
        if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
            // A literal address, checked when subscribed; it cannot change.
            return Ok(self.http.clone());
        }
        let port = url.port_or_known_default().unwrap_or(443);
        let addresses: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host, port))
            .await
            .map_err(|_| "the receiver's name did not resolve")?
            .collect();
        match addresses.first() {
            None => Err("the receiver's name did not resolve"),
            Some(_) if addresses.iter().any(|addr| super::is_private(addr.ip())) => {
                Err("the receiver's name resolves to a private address")
            }
            Some(first) => Ok(super::client(Some((host, *first)))),
        }
    }

    /// Records the attempt and moves the delivery on; true if it will be tried again.
    async fn finish(
        &self,
        delivery: &Due,
        now: DateTime<Utc>,
        status: Option<u16>,
        error: Option<&str>,
        took_ms: i64,
        may_retry: bool,
    ) -> Result<bool, sqlx::Error> {
        let attempts = delivery.attempts + 1;
        let retry = may_retry && attempts < MAX_ATTEMPTS;
        let state = match (error, retry) {
            (None, _) => "delivered",
            (Some(_), true) => "queued",
            (Some(_), false) => "failed",
        };
        let at = Utc::now().max(now);
        on_db_write!(self.db(), pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO webhook_attempts (delivery_id, at, status_code, error, duration_ms) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(delivery.id)
            .bind(at)
            .bind(status.map(i64::from))
            .bind(error)
            .bind(took_ms)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE webhook_deliveries SET status = $1, attempts = $2, next_attempt_at = $3, \
                 delivered_at = CASE WHEN $1 = 'delivered' THEN $4 ELSE delivered_at END WHERE id = $5",
            )
            .bind(state)
            .bind(attempts)
            .bind(now + backoff(attempts))
            .bind(at)
            .bind(delivery.id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await
        })?;
        Ok(retry)
    }
}

#[cfg(test)]
mod tests {

    /// A name that passed the check when subscribed but now resolves into the operator's
    /// network is not called (DNS rebinding): "localhost" stands for such a name here.
    #[tokio::test]
    async fn a_name_resolving_to_a_private_address_is_not_called() {
        let db = crate::db::Db::connect("sqlite::memory:").await.unwrap();
        let vault = std::sync::Arc::new(crate::tokens::vault::Vault::from_key(&[7; 32]));
        let guarded = Webhooks::new(db.clone(), vault.clone(), false);
        assert_eq!(
            guarded.reach("https://localhost:9/hook").await.err(),
            Some("the receiver's name resolves to a private address")
        );
        assert!(guarded.reach("https://203.0.113.9/hook").await.is_ok());
        let open = Webhooks::new(db, vault, true);
        assert!(open.reach("http://localhost:9/hook").await.is_ok());
    }

    use super::*;

    #[test]
    fn backoff_grows_then_stays() {
        let waits: Vec<i64> = (1..=MAX_ATTEMPTS)
            .map(|n| backoff(n).num_seconds())
            .collect();
        assert_eq!(waits, vec![10, 30, 120, 600, 1800, 3600, 10800, 10800]);
    }
}
