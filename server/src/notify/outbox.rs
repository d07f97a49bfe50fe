//! Sending due SMS and e-mail deliveries: the notice in the person's language, an SMS kept to
//! one segment, an e-mail in text and HTML from the site's sender (a move-out statement
//! attached). Each is tried again with backoff when the provider is down, and recorded:
//! queued, sent (with the provider's id), then delivered or failed when a report says so.

use super::{
    DeliveryReport, Notifier, SiteContext, SiteContexts,
    deliver::{MAX_ATTEMPTS, backoff},
    mail::{Attachment, Email, html_of},
    messenger::SendError,
    preferences,
    sms::Report,
};
use crate::{on_db, on_db_write};
use app::domain::{
    i18n::Locale,
    messaging::Channel,
    notices::{Message, NoticeFacts, message},
};
use chrono::{DateTime, Utc};

/// A claimed delivery: id, attempts, person, channel, address, kind, body, site.
type Job = (i64, i64, i64, String, String, String, String, i64);

/// What one message needs besides its delivery: the words, and the e-mail's extras.
struct Rendered {
    words: Message,
    locale: Locale,
    attachment: Option<Attachment>,
    from: Option<String>,
}

impl Notifier {
    pub(super) async fn deliver_messages(
        &self,
        now: DateTime<Utc>,
    ) -> Result<DeliveryReport, sqlx::Error> {
        let jobs = self.claim_messages(now).await?;
        let mut report = DeliveryReport::default();
        let mut contexts = SiteContexts::default();
        let mut sends = tokio::task::JoinSet::new();
        for job in jobs {
            let site = job.7;
            let context = contexts.of(self.db(), site).await?;
            let Some(context) = context else {
                continue;
            };
            let chosen = preferences(self.db(), job.2).await?.locale;
            let rendered = render(&job, &context, chosen.unwrap_or(context.locale));
            let notifier = self.clone();
            sends.spawn(async move {
                let outcome = notifier.send_message(&job, &rendered).await;
                (job, outcome)
            });
        }
        while let Some(joined) = sends.join_next().await {
            let Ok((job, outcome)) = joined else {
                continue;
            };
            self.record_message(&job, outcome, now, &mut report).await?;
        }
        Ok(report)
    }

    /// The due SMS and e-mail deliveries with what sending each needs.
    async fn claim_messages(&self, now: DateTime<Utc>) -> Result<Vec<Job>, sqlx::Error> {
        let claimed = self.claim_due(now, false).await?;
        on_db!(self.db(), pool => {
            let mut jobs = Vec::with_capacity(claimed.len());
            for id in claimed {
                let job: Job = sqlx::query_as(
                    "SELECT d.id, d.attempts, d.user_id, d.channel, d.address, n.kind, n.body, n.site_id \
                     FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id \
                     WHERE d.id = $1",
                )
                .bind(id)
                .fetch_one(pool)
                .await?;
                jobs.push(job);
            }
            Ok(jobs)
        })
    }

    /// `Ok` holds the provider's id for the message, if it gives one.
    async fn send_message(
        &self,
        job: &Job,
        rendered: &Rendered,
    ) -> Result<Option<String>, SendError> {
        let (_, _, _, channel, address, ..) = job;
        let messenger = &self.inner.messenger;
        match Channel::parse(channel) {
            Some(Channel::Sms) => {
                let sms = rendered.words.sms();
                messenger.send_sms(address, &sms.text).await.map(Some)
            }
            Some(Channel::Email) => {
                let link = messenger.link(&rendered.words.url);
                let email = Email {
                    to: address.clone(),
                    from: rendered.from.clone(),
                    subject: rendered.words.title.clone(),
                    text: format!(
                        "{}\n\n{}\n",
                        rendered.words.body,
                        open_link(rendered.locale, &link)
                    ),
                    html: html_of(&rendered.words.title, &rendered.words.body, Some(&link)),
                    attachment: rendered.attachment.clone(),
                };
                messenger.send_email(&email).await.map(|()| None)
            }
            _ => Err(SendError::Refused(format!("no sender for {channel}"))),
        }
    }

    async fn record_message(
        &self,
        job: &Job,
        outcome: Result<Option<String>, SendError>,
        now: DateTime<Utc>,
        report: &mut DeliveryReport,
    ) -> Result<(), sqlx::Error> {
        let (id, attempts, _, channel, ..) = job;
        let _turn = self.inner.engine.turn().await;
        let db = self.db();
        match outcome {
            Ok(reference) => {
                report.sent += 1;
                on_db_write!(db, pool => {
                    sqlx::query(
                        "UPDATE notification_deliveries SET status = 'sent', sent_at = $1, error = NULL, \
                         provider_ref = $2 WHERE id = $3",
                    )
                    .bind(now)
                    .bind(reference)
                    .bind(id)
                    .execute(pool)
                    .await
                    .map(|_| ())
                })
            }
            Err(SendError::Retry(error)) if *attempts < MAX_ATTEMPTS => {
                report.retried += 1;
                tracing::warn!(delivery = id, channel, attempts, %error, "message failed; will retry");
                on_db_write!(db, pool => {
                    sqlx::query(
                        "UPDATE notification_deliveries SET status = 'queued', next_attempt_at = $1, error = $2 WHERE id = $3",
                    )
                    .bind(now + backoff(*attempts))
                    .bind(&error)
                    .bind(id)
                    .execute(pool)
                    .await
                    .map(|_| ())
                })
            }
            Err(SendError::Retry(error) | SendError::Refused(error)) => {
                report.failed += 1;
                tracing::warn!(delivery = id, channel, attempts, %error, "message given up");
                on_db_write!(db, pool => {
                    sqlx::query("UPDATE notification_deliveries SET status = 'failed', error = $1 WHERE id = $2")
                        .bind(&error)
                        .bind(id)
                        .execute(pool)
                        .await
                        .map(|_| ())
                })
            }
        }
    }

    /// Records what an SMS provider reported of a message. Only a message still `sent` moves
    /// (to `delivered` or `failed`), so a repeated or late report changes nothing. `false`:
    /// no message of ours has that id.
    pub async fn record_report(
        &self,
        provider_ref: &str,
        report: Report,
        now: DateTime<Utc>,
    ) -> Result<bool, sqlx::Error> {
        let _turn = self.inner.engine.turn().await;
        on_db_write!(self.db(), pool => {
            let known: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM notification_deliveries WHERE channel = 'sms' AND provider_ref = $1",
            )
            .bind(provider_ref)
            .fetch_optional(pool)
            .await?;
            let Some(id) = known else {
                return Ok(false);
            };
            match report {
                Report::Delivered => {
                    sqlx::query(
                        "UPDATE notification_deliveries SET status = 'delivered', delivered_at = $1 \
                         WHERE id = $2 AND status = 'sent'",
                    )
                    .bind(now)
                    .bind(id)
                    .execute(pool)
                    .await?;
                }
                Report::Failed(why) => {
                    sqlx::query(
                        "UPDATE notification_deliveries SET status = 'failed', error = $1 \
                         WHERE id = $2 AND status = 'sent'",
                    )
                    .bind(why)
                    .bind(id)
                    .execute(pool)
                    .await?;
                }
                Report::Pending => {}
            }
            Ok(true)
        })
    }
}

fn render(job: &Job, context: &SiteContext, locale: Locale) -> Rendered {
    let (_, _, _, _, _, kind, body, site) = job;
    let facts: NoticeFacts = serde_json::from_str(body).unwrap_or_default();
    let money = context.money(locale);
    let words = message(kind, &facts, locale, *site, &money, &context.clock());
    let attachment = facts.statement.as_ref().map(|statement| Attachment {
        file_name: format!(
            "move-out-{}-{}.txt",
            statement
                .unit
                .replace(|c: char| !c.is_ascii_alphanumeric(), "-"),
            statement.date
        ),
        text: statement.document(locale, &money),
    });
    Rendered {
        words,
        locale,
        attachment,
        from: context.email_from.clone(),
    }
}

fn open_link(locale: Locale, link: &str) -> String {
    match locale {
        Locale::En => format!("Open: {link}"),
        Locale::Sw => format!("Fungua: {link}"),
        Locale::Zh => format!("打开：{link}"),
    }
}
