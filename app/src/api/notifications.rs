//! A person's notification settings, push subscriptions and in-app notices. Everyone signed
//! in manages their own; nobody anyone else's.

#![allow(clippy::too_many_arguments)]

use crate::{
    domain::notices::{InboxLine, NotificationSettings},
    error::AppError,
};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr::{answer, caller, ports, session, session_failed};

/// The session key remembering which push subscription this browser holds, so signing out
/// forgets it (campus PCs are shared).
#[cfg(feature = "ssr")]
pub(crate) const PUSH_ENDPOINT_KEY: &str = "push_endpoint";

#[server(prefix = "/api", endpoint = "notification_settings")]
pub async fn load_notification_settings() -> Result<NotificationSettings, AppError> {
    answer(
        async {
            let caller = caller().await?;
            ports()?.notifications.settings(&caller).await
        }
        .await,
    )
}

/// Keeps this browser's push subscription for the signed-in person.
#[server(prefix = "/api", endpoint = "subscribe_push")]
pub async fn subscribe_push(
    endpoint: String,
    p256dh: String,
    auth: String,
    label: String,
) -> Result<(), AppError> {
    use crate::domain::notices::NewSubscription;
    answer(
        async {
            let caller = caller().await?;
            let subscription = NewSubscription {
                endpoint: endpoint.trim().to_owned(),
                p256dh,
                auth,
                label,
            };
            ports()?
                .notifications
                .subscribe(&caller, subscription)
                .await?;
            session()
                .await?
                .insert(PUSH_ENDPOINT_KEY, endpoint.trim())
                .await
                .map_err(session_failed)
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "unsubscribe_push")]
pub async fn unsubscribe_push(endpoint: String) -> Result<(), AppError> {
    answer(
        async {
            let caller = caller().await?;
            ports()?.notifications.unsubscribe(&caller, &endpoint).await
        }
        .await,
    )
}

/// Saves what the person wants to hear of (a checked box: send it), their quiet hours and
/// language (empty: their site's).
#[server(prefix = "/api", endpoint = "save_notification_settings")]
pub async fn save_notification_settings(
    low_balance: Option<String>,
    cut_off: Option<String>,
    reconnection: Option<String>,
    payments: Option<String>,
    alarms: Option<String>,
    by_sms: Option<String>,
    by_email: Option<String>,
    quiet_from: String,
    quiet_to: String,
    locale: String,
) -> Result<(), AppError> {
    use crate::domain::{
        i18n::Locale,
        notices::{Category, Preferences, QuietHours},
    };
    answer(
        async {
            let caller = caller().await?;
            let chosen = [
                (Category::LowBalance, low_balance),
                (Category::CutOff, cut_off),
                (Category::Reconnection, reconnection),
                (Category::Payments, payments),
                (Category::Alarms, alarms),
            ];
            let muted = chosen
                .into_iter()
                .filter(|(_, on)| on.is_none())
                .map(|(category, _)| category)
                .collect();
            let quiet = QuietHours::parse(&quiet_from, &quiet_to).map_err(AppError::invalid)?;
            let locale = match locale.trim() {
                "" => None,
                tag => Some(
                    Locale::parse(tag)
                        .ok_or_else(|| AppError::invalid("Choose one of the languages listed."))?,
                ),
            };
            let preferences = Preferences {
                muted,
                quiet,
                locale,
                by_sms: by_sms.is_some(),
                by_email: by_email.is_some(),
            };
            let ports = ports()?;
            ports
                .notifications
                .save_preferences(&caller, preferences)
                .await?;
            // The pages follow the language the notices are written in (the site's, when the
            // person chose none: only then is it looked up).
            let page_locale = match locale {
                Some(locale) => locale,
                None => ports.notifications.settings(&caller).await?.site_locale,
            };
            super::ssr::remember_language(Some(page_locale));
            // The browser posted the form itself: the page again, in its new language,
            // saying it is saved.
            super::ssr::after_form_post("/notifications?saved");
            Ok(())
        }
        .await,
    )
}

/// The signed-in person's recent notices, newest first.
#[server(prefix = "/api", endpoint = "my_notices")]
pub async fn my_notices() -> Result<Vec<InboxLine>, AppError> {
    answer(
        async {
            let caller = caller().await?;
            ports()?.notifications.inbox(&caller).await
        }
        .await,
    )
}

/// The notices a site sent, for its managers and operators: per person, kind and channel,
/// with what became of each.
#[server(prefix = "/api", endpoint = "site_deliveries")]
pub async fn site_deliveries(
    site: i64,
    person: String,
    kind: String,
    channel: String,
    failed: String,
    before: String,
) -> Result<crate::domain::messaging::DeliveryPage, AppError> {
    use crate::domain::{
        SiteId,
        messaging::{Channel, DeliveryQuery},
    };
    answer(
        async {
            let caller = caller().await?;
            let site = SiteId(site);
            let ports = ports()?;
            let org = ports.directory.site_org(site).await?;
            if !org.is_some_and(|org| caller.may_on_notices(false, site, org)) {
                return Err(AppError::Forbidden);
            }
            let query = DeliveryQuery {
                person: person.chars().take(100).collect(),
                kind: kind.chars().take(40).collect(),
                channel: Channel::parse(&channel),
                failed_only: !failed.trim().is_empty(),
                before: before.trim().parse().ok(),
            };
            ports.notifications.deliveries(site, &query).await
        }
        .await,
    )
}

/// The channels a site's notices may take besides push, and the address its e-mails come
/// from: for its managers.
#[server(prefix = "/api", endpoint = "save_site_channels")]
pub async fn save_site_channels(
    site: i64,
    sms: Option<String>,
    email: Option<String>,
    email_from: String,
) -> Result<(), AppError> {
    use crate::domain::{Email, SiteId};
    answer(
        async {
            let caller = caller().await?;
            let site = SiteId(site);
            let ports = ports()?;
            let org = ports.directory.site_org(site).await?;
            if !org.is_some_and(|org| caller.may_on_notices(true, site, org)) {
                return Err(AppError::Forbidden);
            }
            let email_from = match email_from.trim() {
                "" => None,
                raw => Some(Email::parse(raw).map_err(AppError::invalid)?),
            };
            ports
                .notifications
                .save_site_channels(&caller, site, sms.is_some(), email.is_some(), email_from)
                .await?;
            super::ssr::after_form_post(&format!("/manage/sites/{}/notices?saved", site.0));
            Ok(())
        }
        .await,
    )
}

/// The demo's sandbox outbox: every SMS and e-mail it would have sent, to anyone. Only the
/// demo has one; elsewhere this is not found.
#[server(prefix = "/api", endpoint = "sandbox_messages")]
pub async fn sandbox_messages() -> Result<Vec<crate::domain::messaging::SandboxMessage>, AppError> {
    answer(
        ports()?
            .notifications
            .sandbox_messages()
            .ok_or(AppError::NotFound),
    )
}
