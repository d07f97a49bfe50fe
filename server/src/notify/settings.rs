//! The notifications port: a person's devices, preferences and in-app list. Everyone manages
//! only their own, so the caller is the authorisation.

use super::{Notifier, site_context};
use crate::{internal, on_db, on_db_write};
use app::{
    domain::{
        Caller, Role,
        i18n::Locale,
        messaging::Channel,
        notices::{
            Category, Device, InboxLine, NewSubscription, NoticeFacts, NotificationSettings,
            Preferences, QuietHours, message,
        },
        zone::SiteZone,
    },
    error::AppError,
    ports::NotificationsPort,
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, NaiveTime, Utc};

/// Preferences from their stored row; a damaged field reads as its default.
pub(super) fn from_row(
    (muted, from, to, locale, by_sms, by_email): (
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        bool,
        bool,
    ),
) -> Preferences {
    let muted: Vec<String> = serde_json::from_str(&muted).unwrap_or_default();
    let time =
        |raw: Option<String>| raw.and_then(|raw| NaiveTime::parse_from_str(&raw, "%H:%M").ok());
    Preferences {
        muted: muted
            .iter()
            .filter_map(|raw| Category::parse(raw))
            .collect(),
        quiet: time(from)
            .zip(time(to))
            .map(|(from, to)| QuietHours { from, to }),
        locale: locale.as_deref().and_then(Locale::parse),
        by_sms,
        by_email,
    }
}

/// The site a person's settings are shown for: where they live (or lived last), else the
/// first they work at, else their organisation's first.
async fn home_site(db: &crate::db::Db, caller: &Caller) -> Result<Option<i64>, sqlx::Error> {
    let lived: Option<i64> = on_db!(db, pool => {
        sqlx::query_scalar(
            "SELECT b.site_id FROM occupancies o JOIN units u ON u.id = o.unit_id \
             JOIN buildings b ON b.id = u.building_id WHERE o.user_id = $1 \
             ORDER BY o.ends_at IS NULL DESC, o.starts_at DESC LIMIT 1",
        )
        .bind(caller.user_id.0)
        .fetch_optional(pool)
        .await
    })?;
    if lived.is_some() {
        return Ok(lived);
    }
    if let Some(site) = caller.grants.iter().find_map(|grant| grant.site) {
        return Ok(Some(site.0));
    }
    on_db!(db, pool => {
        sqlx::query_scalar("SELECT id FROM sites WHERE organisation_id = $1 ORDER BY id LIMIT 1")
            .bind(caller.org_id.0)
            .fetch_optional(pool)
            .await
    })
}

/// The browser's keys, checked: a P-256 point and a 16-byte secret (RFC 8291).
fn check_keys(subscription: &NewSubscription) -> Result<(), AppError> {
    let decode = |raw: &str| URL_SAFE_NO_PAD.decode(raw.trim().trim_end_matches('='));
    let point = decode(&subscription.p256dh)
        .ok()
        .filter(|bytes| p256::PublicKey::from_sec1_bytes(bytes).is_ok());
    let auth = decode(&subscription.auth)
        .ok()
        .filter(|bytes| bytes.len() == 16);
    match (point, auth) {
        (Some(_), Some(_)) => Ok(()),
        _ => Err(AppError::invalid(
            "The browser's push keys are malformed; subscribe again.",
        )),
    }
}

#[async_trait::async_trait]
impl NotificationsPort for Notifier {
    async fn settings(&self, caller: &Caller) -> Result<NotificationSettings, AppError> {
        let db = self.db();
        let preferences = super::preferences(db, caller.user_id.0)
            .await
            .map_err(internal)?;
        let rows: Vec<(i64, String, String, DateTime<Utc>, Option<DateTime<Utc>>)> =
            on_db!(db, pool => {
                sqlx::query_as(
                    "SELECT id, label, endpoint, created_at, last_sent_at FROM push_subscriptions \
                     WHERE user_id = $1 ORDER BY id",
                )
                .bind(caller.user_id.0)
                .fetch_all(pool)
                .await
            })
            .map_err(internal)?;
        let phone: Option<String> = on_db!(db, pool => {
            sqlx::query_scalar("SELECT phone FROM users WHERE id = $1")
                .bind(caller.user_id.0)
                .fetch_one(pool)
                .await
        })
        .map_err(internal)?;
        let messenger = &self.inner.messenger;
        let site = match home_site(db, caller).await.map_err(internal)? {
            Some(site) => site_context(db, site).await.map_err(internal)?,
            None => None,
        };
        Ok(NotificationSettings {
            preferences,
            devices: rows
                .into_iter()
                .map(|(id, label, endpoint, since, last_sent)| Device {
                    id,
                    label,
                    endpoint,
                    since,
                    last_sent,
                })
                .collect(),
            vapid_public_key: self.inner.vapid_public_key.clone(),
            site_locale: site.as_ref().map(|site| site.locale).unwrap_or_default(),
            phone,
            email: caller.email.clone(),
            sms_available: messenger.can_send(Channel::Sms)
                && site.as_ref().is_some_and(|site| site.sms),
            email_available: messenger.can_send(Channel::Email)
                && site.as_ref().is_some_and(|site| site.email),
            zone: site
                .map(|site| crate::engine::site_zone(site.zone, Utc::now()))
                .unwrap_or_else(SiteZone::utc),
        })
    }

    async fn subscribe(
        &self,
        caller: &Caller,
        subscription: NewSubscription,
    ) -> Result<(), AppError> {
        let endpoint = self
            .inner
            .endpoints
            .check(subscription.endpoint.trim())
            .map_err(AppError::invalid)?;
        check_keys(&subscription)?;
        let label: String = subscription.label.trim().chars().take(80).collect();
        let now = Utc::now();
        let _turn = self.inner.engine.turn().await;
        let mut tx = self.db().begin_write().await.map_err(internal)?;
        crate::on_tx!(&mut tx, conn => {
            // A browser that changes hands takes nothing queued for the last person with it.
            sqlx::query(
                "UPDATE notification_deliveries SET status = 'gone', error = 'subscription moved' \
                 WHERE status = 'queued' AND user_id <> $1 \
                 AND subscription_id = (SELECT id FROM push_subscriptions WHERE endpoint = $2)",
            )
            .bind(caller.user_id.0)
            .bind(endpoint.as_str())
            .execute(&mut *conn)
            .await?;
            sqlx::query(
                "INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, label, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (endpoint) DO UPDATE SET \
                 user_id = excluded.user_id, p256dh = excluded.p256dh, auth = excluded.auth, \
                 label = excluded.label, created_at = excluded.created_at",
            )
            .bind(caller.user_id.0)
            .bind(endpoint.as_str())
            .bind(subscription.p256dh.trim())
            .bind(subscription.auth.trim())
            .bind(&label)
            .bind(now)
            .execute(&mut *conn)
            .await
            .map(|_| ())
        })
        .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        tracing::info!(user = caller.user_id.0, "push subscription kept");
        Ok(())
    }

    async fn unsubscribe(&self, caller: &Caller, endpoint: &str) -> Result<(), AppError> {
        let _turn = self.inner.engine.turn().await;
        super::deliver::forget_subscription(self.db(), endpoint.trim(), Some(caller.user_id.0))
            .await
            .map_err(internal)
    }

    async fn save_preferences(
        &self,
        caller: &Caller,
        preferences: Preferences,
    ) -> Result<(), AppError> {
        let muted: Vec<&str> = preferences
            .muted
            .iter()
            .map(|category| category.as_str())
            .collect();
        let muted = serde_json::to_string(&muted).map_err(internal)?;
        let time = |time: NaiveTime| time.format("%H:%M").to_string();
        let (from, to) = preferences
            .quiet
            .map(|quiet| (time(quiet.from), time(quiet.to)))
            .unzip();
        let _turn = self.inner.engine.turn().await;
        on_db_write!(self.db(), pool => {
            sqlx::query(
                "INSERT INTO notification_preferences \
                 (user_id, muted, quiet_from, quiet_to, locale, by_sms, by_email, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (user_id) DO UPDATE SET \
                 muted = excluded.muted, quiet_from = excluded.quiet_from, quiet_to = excluded.quiet_to, \
                 locale = excluded.locale, by_sms = excluded.by_sms, by_email = excluded.by_email, \
                 updated_at = excluded.updated_at",
            )
            .bind(caller.user_id.0)
            .bind(&muted)
            .bind(from)
            .bind(to)
            .bind(preferences.locale.map(Locale::tag))
            .bind(preferences.by_sms)
            .bind(preferences.by_email)
            .bind(Utc::now())
            .execute(pool)
            .await
            .map(|_| ())
        })
        .map_err(internal)
    }

    async fn deliveries(
        &self,
        site: app::domain::SiteId,
        query: &app::domain::messaging::DeliveryQuery,
    ) -> Result<app::domain::messaging::DeliveryPage, AppError> {
        self.delivery_page(site, query).await
    }

    fn sandbox_messages(&self) -> Option<Vec<app::domain::messaging::SandboxMessage>> {
        self.inner
            .messenger
            .sandbox()
            .map(|sandbox| sandbox.latest())
    }

    async fn save_site_channels(
        &self,
        caller: &Caller,
        site: app::domain::SiteId,
        sms: bool,
        email: bool,
        email_from: Option<app::domain::Email>,
    ) -> Result<(), AppError> {
        self.store_site_channels(caller, site, sms, email, email_from)
            .await
    }

    async fn inbox(&self, caller: &Caller) -> Result<Vec<InboxLine>, AppError> {
        let db = self.db();
        let staffed = staffed_sites(db, caller).await.map_err(internal)?;
        type Row = (DateTime<Utc>, String, String, i64);
        let resident: Vec<Row> = on_db!(db, pool => {
            sqlx::query_as(
                "SELECT n.created_at, n.kind, n.body, n.site_id FROM notifications n \
                 JOIN wallets w ON w.account_id = n.wallet_account_id \
                 JOIN occupancies o ON o.id = w.occupancy_id \
                 WHERE n.audience = 'resident' AND o.user_id = $1 ORDER BY n.id DESC LIMIT 30",
            )
            .bind(caller.user_id.0)
            .fetch_all(pool)
            .await
        })
        .map_err(internal)?;
        let mut staff: Vec<Row> = Vec::new();
        for site in staffed {
            let rows: Vec<Row> = on_db!(db, pool => {
                sqlx::query_as(
                    "SELECT created_at, kind, body, site_id FROM notifications \
                     WHERE audience = 'managers' AND site_id = $1 ORDER BY id DESC LIMIT 30",
                )
                .bind(site)
                .fetch_all(pool)
                .await
            })
            .map_err(internal)?;
            staff.extend(rows);
        }
        let mut rows: Vec<Row> = resident.into_iter().chain(staff).collect();
        rows.sort_by_key(|row| std::cmp::Reverse(row.0));
        rows.truncate(30);
        let preferences = super::preferences(db, caller.user_id.0)
            .await
            .map_err(internal)?;
        let mut lines = Vec::with_capacity(rows.len());
        let mut contexts = super::SiteContexts::default();
        for (at, kind, body, site) in rows {
            let context = contexts.of(db, site).await.map_err(internal)?;
            let Some(context) = context else {
                continue;
            };
            let locale = preferences.locale.unwrap_or(context.locale);
            let facts: NoticeFacts = serde_json::from_str(&body).unwrap_or_default();
            let money = context.money(locale);
            let message = message(&kind, &facts, locale, site, &money, &context.clock());
            lines.push(InboxLine {
                at,
                local: at.with_timezone(&context.zone).naive_local(),
                kind,
                message,
            });
        }
        Ok(lines)
    }
}

/// The sites whose managers' notices this person receives: where they manage or operate, or
/// every site of the organisation for its admins.
pub(super) async fn staffed_sites(
    db: &crate::db::Db,
    caller: &Caller,
) -> Result<Vec<i64>, sqlx::Error> {
    if caller.is_admin() {
        return on_db!(db, pool => {
            sqlx::query_scalar("SELECT id FROM sites WHERE organisation_id = $1 ORDER BY id")
                .bind(caller.org_id.0)
                .fetch_all(pool)
                .await
        });
    }
    Ok(caller
        .grants
        .iter()
        .filter(|grant| matches!(grant.role, Role::Manager | Role::Operator))
        .filter_map(|grant| grant.site.map(|site| site.0))
        .collect())
}
