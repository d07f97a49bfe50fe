//! Sending due deliveries to push services: the notice in the person's language, encrypted
//! for their browser (RFC 8291) and signed with the platform's VAPID key (RFC 8292). A push
//! service that says the subscription is gone (404, 410) loses it; one that is busy or down
//! is tried again later, a few times.

use super::{Notifier, SiteContexts, preferences};
use crate::{
    db::{Db, push_ids},
    on_db_write, on_tx,
};
use app::domain::notices::{Message, NoticeFacts, message};
use chrono::{DateTime, Duration, Utc};
use reqwest::StatusCode;
use sqlx::QueryBuilder;
use std::collections::{HashMap, HashSet};
use web_push::{
    ContentEncoding, SubscriptionInfo, Urgency, VapidSignature, VapidSignatureBuilder,
    WebPushMessageBuilder,
};

/// Tries before a delivery is given up; the waits between them double from 30 seconds.
pub(super) const MAX_ATTEMPTS: i64 = 5;
/// How long a worker may hold a delivery it claimed before another may take it.
const LEASE_MINUTES: i64 = 5;
/// How long a push service keeps a message for a device that is off.
const TTL_SECONDS: u32 = 24 * 3600;

/// What a pass of the dispatcher did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Deliveries made from queued notices.
    pub queued: u64,
    /// Recipients who muted the notice's kind.
    pub muted: u64,
    /// Notices too old to push.
    pub stale: u64,
    pub sent: u64,
    pub retried: u64,
    /// Subscriptions the push service no longer knows, deleted.
    pub gone: u64,
    pub failed: u64,
}

impl DeliveryReport {
    pub fn merge(&mut self, other: DeliveryReport) {
        self.queued += other.queued;
        self.muted += other.muted;
        self.stale += other.stale;
        self.sent += other.sent;
        self.retried += other.retried;
        self.gone += other.gone;
        self.failed += other.failed;
    }
}

/// A claimed delivery with what sending it needs.
type Job = (
    i64,
    i64,
    i64,
    Option<i64>,
    String,
    String,
    String,
    String,
    String,
    i64,
);

enum Outcome {
    Sent,
    Gone,
    Retry(Option<std::time::Duration>, String),
    Failed(String),
}

impl Notifier {
    pub(super) async fn deliver_due(
        &self,
        now: DateTime<Utc>,
    ) -> Result<DeliveryReport, sqlx::Error> {
        let jobs = self.claim(now).await?;
        let mut report = DeliveryReport::default();
        if jobs.is_empty() {
            return Ok(report);
        }
        let mut contexts = SiteContexts::default();
        let mut languages: HashMap<i64, Option<app::domain::i18n::Locale>> = HashMap::new();
        let mut signatures = Signatures::default();
        let mut sends = tokio::task::JoinSet::new();
        for job in jobs {
            let site = job.9;
            let context = contexts.of(self.db(), site).await?;
            let Some(context) = context else {
                continue;
            };
            // One look-up per person per pass, however many devices and notices they have.
            let chosen = match languages.get(&job.2) {
                Some(chosen) => *chosen,
                None => {
                    let chosen = preferences(self.db(), job.2).await?.locale;
                    languages.insert(job.2, chosen);
                    chosen
                }
            };
            let locale = chosen.unwrap_or(context.locale);
            let facts: NoticeFacts = serde_json::from_str(&job.8).unwrap_or_default();
            let money = context.money(locale);
            let words = message(&job.7, &facts, locale, site, &money, &context.clock());
            let signature = signatures.for_endpoint(self, &job.4);
            let notifier = self.clone();
            sends.spawn(async move {
                let outcome = match signature {
                    Ok(signature) => notifier.send(&job, &words, signature).await,
                    Err(error) => Outcome::Failed(format!("could not sign: {error}")),
                };
                (job, outcome)
            });
        }
        let mut outcomes = Vec::new();
        while let Some(joined) = sends.join_next().await {
            if let Ok(sent) = joined {
                outcomes.push(sent);
            }
        }
        self.record(outcomes, now, &mut report).await?;
        Ok(report)
    }

    /// Takes the due deliveries of push (or of the other channels), and any whose worker's
    /// lease ran out, for this worker: their ids.
    pub(super) async fn claim_due(
        &self,
        now: DateTime<Utc>,
        push: bool,
    ) -> Result<Vec<i64>, sqlx::Error> {
        let lease = now + Duration::minutes(LEASE_MINUTES);
        let _turn = self.inner.engine.turn().await;
        on_db_write!(self.db(), pool => {
            sqlx::query_scalar(
                "UPDATE notification_deliveries SET status = 'sending', attempts = attempts + 1, \
                 next_attempt_at = $2 WHERE id IN (SELECT id FROM notification_deliveries \
                 WHERE status IN ('queued', 'sending') AND next_attempt_at <= $1 \
                 AND (channel = 'push') = $3 ORDER BY next_attempt_at, id LIMIT 100) RETURNING id",
            )
            .bind(now)
            .bind(lease)
            .bind(push)
            .fetch_all(pool)
            .await
        })
    }

    /// The due push deliveries with what sending each needs, read together; one whose device
    /// is gone is marked so.
    async fn claim(&self, now: DateTime<Utc>) -> Result<Vec<Job>, sqlx::Error> {
        let claimed = self.claim_due(now, true).await?;
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        on_db_write!(self.db(), pool => {
            let mut select = QueryBuilder::new(
                "SELECT d.id, d.attempts, d.user_id, d.subscription_id, s.endpoint, s.p256dh, s.auth, \
                 n.kind, n.body, n.site_id FROM notification_deliveries d \
                 JOIN push_subscriptions s ON s.id = d.subscription_id \
                 JOIN notifications n ON n.id = d.notification_id WHERE d.id",
            );
            push_ids(&mut select, claimed.iter().copied());
            select.push(" ORDER BY d.id");
            let jobs: Vec<Job> = select.build_query_as().fetch_all(pool).await?;
            let found: HashSet<i64> = jobs.iter().map(|job| job.0).collect();
            let gone: Vec<i64> = claimed.into_iter().filter(|id| !found.contains(id)).collect();
            if !gone.is_empty() {
                let mut update =
                    QueryBuilder::new("UPDATE notification_deliveries SET status = 'gone' WHERE id");
                push_ids(&mut update, gone);
                update.build().execute(pool).await?;
            }
            Ok(jobs)
        })
    }

    async fn send(&self, job: &Job, words: &Message, signature: VapidSignature) -> Outcome {
        let (_, _, _, _, endpoint, p256dh, auth, kind, _, _) = job;
        let Ok(url) = self.inner.endpoints.check(endpoint) else {
            return Outcome::Failed("endpoint no longer allowed".into());
        };
        let payload = serde_json::json!({
            "title": words.title,
            "body": words.body,
            "tag": words.tag,
            "url": words.url,
            "kind": kind,
            "urgent": words.urgent,
        })
        .to_string();
        let built = encrypt(
            url.as_str(),
            p256dh,
            auth,
            payload.as_bytes(),
            words,
            signature,
        );
        let message = match built {
            Ok(message) => message,
            Err(error) => return Outcome::Failed(format!("could not encrypt: {error}")),
        };
        let mut request = self
            .inner
            .client
            .post(url)
            .header("TTL", message.ttl.to_string());
        if let Some(urgency) = message.urgency {
            request = request.header("Urgency", urgency.to_string());
        }
        if let Some(topic) = &message.topic {
            request = request.header("Topic", topic);
        }
        let Some(body) = message.payload else {
            return Outcome::Failed("no payload".into());
        };
        request = request
            .header("Content-Encoding", body.content_encoding.to_str())
            .header("Content-Type", "application/octet-stream");
        for (name, value) in &body.crypto_headers {
            request = request.header(*name, value);
        }
        match request.body(body.content).send().await {
            Ok(response) => outcome_of(response),
            Err(error) => Outcome::Retry(None, format!("push service unreachable: {error}")),
        }
    }

    /// Writes what became of a pass's sends, in one transaction: the sent ones together,
    /// the rest one by one (they are few). Subscriptions found gone are deleted after it.
    async fn record(
        &self,
        outcomes: Vec<(Job, Outcome)>,
        now: DateTime<Utc>,
        report: &mut DeliveryReport,
    ) -> Result<(), sqlx::Error> {
        let mut sent = Vec::new();
        let mut gone = Vec::new();
        let _turn = self.inner.engine.turn().await;
        let mut tx = self.db().begin_write().await?;
        for ((id, attempts, _, subscription, endpoint, ..), outcome) in outcomes {
            let (status, next, error) = match outcome {
                Outcome::Sent => {
                    report.sent += 1;
                    sent.push((id, subscription));
                    continue;
                }
                Outcome::Gone => {
                    report.gone += 1;
                    tracing::info!(delivery = id, "push subscription gone; deleted");
                    gone.push(endpoint);
                    continue;
                }
                Outcome::Retry(after, error) if attempts < MAX_ATTEMPTS => {
                    report.retried += 1;
                    let asked = after
                        .and_then(|after| Duration::from_std(after).ok())
                        .unwrap_or_default();
                    let next = now + backoff(attempts).max(asked).min(Duration::hours(6));
                    tracing::warn!(delivery = id, attempts, %error, "push failed; will retry");
                    ("queued", Some(next), error)
                }
                Outcome::Retry(_, error) | Outcome::Failed(error) => {
                    report.failed += 1;
                    tracing::warn!(delivery = id, attempts, %error, "push given up");
                    ("failed", None, error)
                }
            };
            on_tx!(&mut tx, conn => {
                sqlx::query(
                    "UPDATE notification_deliveries SET status = $1, \
                     next_attempt_at = COALESCE($2, next_attempt_at), error = $3 WHERE id = $4",
                )
                .bind(status)
                .bind(next)
                .bind(&error)
                .bind(id)
                .execute(&mut *conn)
                .await
                .map(|_| ())
            })?;
        }
        for chunk in sent.chunks(crate::ledger::CHUNK) {
            on_tx!(&mut tx, conn => {
                let mut deliveries = QueryBuilder::new(
                    "UPDATE notification_deliveries SET status = 'sent', sent_at = ",
                );
                deliveries.push_bind(now).push(", error = NULL WHERE id");
                push_ids(&mut deliveries, chunk.iter().map(|(id, _)| *id));
                deliveries.build().execute(&mut *conn).await?;
                let mut subscriptions =
                    QueryBuilder::new("UPDATE push_subscriptions SET last_sent_at = ");
                subscriptions.push_bind(now).push(" WHERE id");
                push_ids(&mut subscriptions, chunk.iter().filter_map(|(_, subscription)| *subscription));
                subscriptions.build().execute(&mut *conn).await.map(|_| ())
            })?;
        }
        tx.commit().await?;
        for endpoint in gone {
            forget_subscription(self.db(), &endpoint, None).await?;
        }
        Ok(())
    }
}

/// The platform's VAPID signatures of one pass, one per push service: a signature names the
/// service (its origin) and lasts hours, so every message to that service may carry it, and
/// signing (ECDSA) is a good part of what a message costs.
#[derive(Default)]
struct Signatures(HashMap<String, VapidSignature>);

impl Signatures {
    fn for_endpoint(
        &mut self,
        notifier: &Notifier,
        endpoint: &str,
    ) -> Result<VapidSignature, web_push::WebPushError> {
        // RFC 8292's audience is the endpoint's origin, port included; the crate drops the
        // port, which only real push services (all on 443) would forgive.
        let audience = reqwest::Url::parse(endpoint)
            .map(|url| url.origin().ascii_serialization())
            .map_err(|_| web_push::WebPushError::InvalidUri)?;
        if let Some(signature) = self.0.get(&audience) {
            return Ok(signature.clone());
        }
        let subscription = SubscriptionInfo::new(endpoint, "", "");
        let mut builder = VapidSignatureBuilder::from_base64(
            notifier.inner.vapid_private_key.expose(),
            &subscription,
        )?;
        builder.add_claim("sub", notifier.inner.subject.as_str());
        builder.add_claim("aud", audience.as_str());
        let signature = builder.build()?;
        self.0.insert(audience, signature.clone());
        Ok(signature)
    }
}

/// The message for one browser: the payload encrypted for its keys (a fresh ephemeral key
/// and salt each time), with the pass's signature for its push service.
fn encrypt(
    endpoint: &str,
    p256dh: &str,
    auth: &str,
    payload: &[u8],
    words: &Message,
    signature: VapidSignature,
) -> Result<web_push::WebPushMessage, web_push::WebPushError> {
    let subscription = SubscriptionInfo::new(endpoint, p256dh, auth);
    let mut builder = WebPushMessageBuilder::new(&subscription);
    builder.set_payload(ContentEncoding::Aes128Gcm, payload);
    builder.set_vapid_signature(signature);
    builder.set_ttl(TTL_SECONDS);
    builder.set_urgency(if words.urgent {
        Urgency::High
    } else {
        Urgency::Normal
    });
    if let Some(topic) = words.topic() {
        builder.set_topic(topic.to_owned());
    }
    builder.build()
}

/// The wait after a failed try: 30 seconds, doubling with each one.
pub(super) fn backoff(attempts: i64) -> Duration {
    Duration::seconds(30 << (attempts - 1).clamp(0, 10))
}

fn outcome_of(response: reqwest::Response) -> Outcome {
    let status = response.status();
    if status.is_success() {
        return Outcome::Sent;
    }
    match status {
        StatusCode::NOT_FOUND | StatusCode::GONE => Outcome::Gone,
        StatusCode::TOO_MANY_REQUESTS => {
            let after = response
                .headers()
                .get("Retry-After")
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.trim().parse::<u64>().ok())
                .map(std::time::Duration::from_secs);
            Outcome::Retry(after, "push service asked to slow down (429)".into())
        }
        status if status.is_server_error() => {
            Outcome::Retry(None, format!("push service failed ({status})"))
        }
        status => Outcome::Failed(format!("push service refused the message ({status})")),
    }
}

/// Deletes a subscription; what was waiting for it will not be sent. With `user`, only if it
/// is theirs.
pub(super) async fn forget_subscription(
    db: &Db,
    endpoint: &str,
    user: Option<i64>,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_write().await?;
    crate::on_tx!(&mut tx, conn => {
        let id: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM push_subscriptions WHERE endpoint = $1 AND ($2 IS NULL OR user_id = $2)",
        )
        .bind(endpoint)
        .bind(user)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(id) = id else {
            return Ok(());
        };
        sqlx::query(
            "UPDATE notification_deliveries SET status = 'gone' WHERE subscription_id = $1 AND status IN ('queued', 'sending')",
        )
        .bind(id)
        .execute(&mut *conn)
        .await?;
        sqlx::query("UPDATE notification_deliveries SET subscription_id = NULL WHERE subscription_id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
        sqlx::query("DELETE FROM push_subscriptions WHERE id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await
            .map(|_| ())
    })?;
    tx.commit().await
}
