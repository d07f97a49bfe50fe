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
