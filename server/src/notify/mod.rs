//! Notices to people. The engine queues them (the `notifications` outbox) in the transaction
//! that caused them; here they are handed to each recipient's devices by Web Push, with their
//! preferences and quiet hours applied, retried with backoff, and shown in-app.

mod deliver;
mod endpoint;
mod fan_out;
mod history;
pub mod mail;
pub mod messenger;
mod outbox;
pub mod reports;
pub mod sandbox;
mod settings;
pub mod sms;

pub use deliver::DeliveryReport;
pub use endpoint::EndpointPolicy;
pub use messenger::Messenger;

use crate::{
    config::{Config, Secret},
    db::Db,
    engine::Engine,
};
use app::domain::{i18n::Locale, notices::Preferences};
use chrono::{DateTime, Utc};
use std::{sync::Arc, time::Duration};

/// Notices older than this when they reach the dispatcher are not pushed: a warning about a
/// balance a day ago misleads more than it helps (the in-app list still shows it).
const STALE_AFTER_HOURS: i64 = 24;

#[derive(Clone)]
pub struct Notifier {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    vapid_private_key: Secret,
    vapid_public_key: String,
    subject: String,
    endpoints: EndpointPolicy,
    client: reqwest::Client,
    messenger: Messenger,
}

impl Notifier {
    pub fn new(
        engine: Engine,
        config: &Config,
        vapid_private_key: Secret,
        vapid_public_key: String,
    ) -> Result<Self, mail::MailConfigError> {
        let subject = config
            .push
            .subject
            .clone()
            .or_else(|| config.public_url.clone())
            .unwrap_or_else(|| "mailto:operator@prepaid.invalid".to_owned());
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client with rustls and the system's roots");
        let messenger = Messenger::new(config, client.clone())?;
        Ok(Notifier {
            inner: Arc::new(Inner {
                engine,
                vapid_private_key,
                vapid_public_key,
                subject,
                endpoints: EndpointPolicy::new(&config.push),
                client,
                messenger,
            }),
        })
    }

    /// The SMS and e-mail senders, for messages that go at once.
    pub fn messenger(&self) -> &Messenger {
        &self.inner.messenger
    }

    fn db(&self) -> &Db {
        &self.inner.engine.db
    }

    /// Hands queued notices to devices and sends what is due: one pass of the dispatcher.
    pub async fn run_once(&self, now: DateTime<Utc>) -> Result<DeliveryReport, sqlx::Error> {
        let mut report = self.fan_out(now).await?;
        report.merge(self.deliver_due(now).await?);
        report.merge(self.deliver_messages(now).await?);
        Ok(report)
    }

    /// The dispatcher, every second, for as long as the server runs.
    pub async fn run(self) {
        let mut every = tokio::time::interval(Duration::from_secs(1));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            match self.run_once(Utc::now()).await {
                Ok(report) if report != DeliveryReport::default() => {
                    tracing::info!(?report, "notices dispatched");
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "notice dispatch failed"),
            }
        }
    }
}

/// A recipient's site context: the zone their quiet hours are in, the language notices are
/// written in, the currency amounts are in, and the channels it allows besides push.
#[derive(Clone, Debug)]
struct SiteContext {
    zone: chrono_tz::Tz,
    locale: Locale,
    currency: String,
    sms: bool,
    email: bool,
    email_from: Option<String>,
}

impl SiteContext {
    fn money(&self, locale: Locale) -> impl Fn(i64) -> String + '_ {
        move |minor| {
            let digits = crate::payments::digits_of(&self.currency);
            let plain = app::domain::Minor(minor).format(digits);
            locale.money(&plain, &self.currency)
        }
    }

    /// Puts an instant on the site's clock.
    fn clock(&self) -> impl Fn(DateTime<Utc>) -> chrono::NaiveDateTime + '_ {
        |at| at.with_timezone(&self.zone).naive_local()
    }
}

/// Site contexts looked up once each during a pass, however many notices a site has.
#[derive(Default)]
struct SiteContexts(std::collections::HashMap<i64, Option<SiteContext>>);

impl SiteContexts {
    async fn of(&mut self, db: &Db, site: i64) -> Result<Option<SiteContext>, sqlx::Error> {
        if let Some(known) = self.0.get(&site) {
            return Ok(known.clone());
        }
        let loaded = site_context(db, site).await?;
        self.0.insert(site, loaded.clone());
        Ok(loaded)
    }
}

async fn site_context(db: &Db, site: i64) -> Result<Option<SiteContext>, sqlx::Error> {
    type Row = (String, String, String, bool, bool, Option<String>);
    let row: Option<Row> = crate::on_db!(db, pool => {
        sqlx::query_as(
            "SELECT time_zone, locale, currency, sms_enabled, email_enabled, email_from \
             FROM sites WHERE id = $1",
        )
        .bind(site)
        .fetch_optional(pool)
        .await
    })?;
    Ok(row.map(
        |(zone, locale, currency, sms, email, email_from)| SiteContext {
            zone: zone.parse().unwrap_or(chrono_tz::UTC),
            locale: Locale::from_tag(&locale),
            currency,
            sms,
            email,
            email_from,
        },
    ))
}

/// A person's preferences as stored; none stored means the defaults (everything, any time).
async fn preferences(db: &Db, user: i64) -> Result<Preferences, sqlx::Error> {
    type Row = (
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        bool,
        bool,
    );
    let row: Option<Row> = crate::on_db!(db, pool => {
        sqlx::query_as(
            "SELECT muted, quiet_from, quiet_to, locale, by_sms, by_email \
             FROM notification_preferences WHERE user_id = $1",
        )
        .bind(user)
        .fetch_optional(pool)
        .await
    })?;
    Ok(row.map(settings::from_row).unwrap_or_default())
}
