//! API keys and webhook subscriptions, for the organisation's admins only: a key opens the
//! whole organisation's data to another system.

// A form's checkboxes arrive as one argument each (absent when not ticked).
#![allow(clippy::too_many_arguments)]

use crate::{domain::integrations, error::AppError};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr::{admin, after_form_post, answer, ports};

#[cfg(feature = "ssr")]
fn id(raw: &str) -> Result<i64, AppError> {
    raw.trim().parse().map_err(|_| AppError::NotFound)
}

/// The organisation's keys and webhooks.
#[server(prefix = "/api", endpoint = "integrations")]
pub async fn load_integrations() -> Result<integrations::Integrations, AppError> {
    answer(
        async {
            let caller = admin().await?;
            ports()?.integrations.overview(caller.org_id).await
        }
        .await,
    )
}

/// Makes an API key: the organisation's with the scopes ticked, or a gateway's for one site.
/// Answers the key, shown this once.
#[server(prefix = "/api", endpoint = "create_api_key")]
pub async fn create_api_key(
    name: String,
    kind: String,
    #[server(default)] site: String,
    #[server(default)] read: Option<String>,
    #[server(default)] write: Option<String>,
    #[server(default)] readings: Option<String>,
    #[server(default)] payments: Option<String>,
) -> Result<String, AppError> {
    use crate::domain::integrations::KeyKind;
    answer(
        async {
            let caller = admin().await?;
            let kind = match kind.as_str() {
                "gateway" => KeyKind::Gateway(
                    site.trim()
                        .parse()
                        .map_err(|_| AppError::Invalid("Choose the gateway's site.".into()))?,
                ),
                _ => KeyKind::Organisation(
                    [
                        ("read", read),
                        ("write", write),
                        ("readings", readings),
                        ("payments", payments),
                    ]
                    .into_iter()
                    .filter(|(_, ticked)| ticked.is_some())
                    .map(|(scope, _)| scope.to_owned())
                    .collect(),
                ),
            };
            ports()?.integrations.create_key(&caller, &name, kind).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "revoke_api_key")]
pub async fn revoke_api_key(key: String) -> Result<(), AppError> {
    answer(
        async {
            let caller = admin().await?;
            ports()?.integrations.revoke_key(&caller, id(&key)?).await?;
            after_form_post("/manage/integrations?revoked");
            Ok(())
        }
        .await,
    )
}

/// Subscribes a URL to the events ticked. Answers the signing secret, shown this once.
#[server(prefix = "/api", endpoint = "subscribe_webhook")]
pub async fn subscribe_webhook(
    url: String,
    #[server(default)] balance_low: Option<String>,
    #[server(default)] supply_cut_off: Option<String>,
    #[server(default)] supply_reconnected: Option<String>,
    #[server(default)] payment_received: Option<String>,
    #[server(default)] alarm_raised: Option<String>,
    #[server(default)] alarm_resolved: Option<String>,
    #[server(default)] move_out_settled: Option<String>,
) -> Result<String, AppError> {
    answer(
        async {
            let caller = admin().await?;
            let events: Vec<String> = [
                ("balance.low", balance_low),
                ("supply.cut_off", supply_cut_off),
                ("supply.reconnected", supply_reconnected),
                ("payment.received", payment_received),
                ("alarm.raised", alarm_raised),
                ("alarm.resolved", alarm_resolved),
                ("move_out.settled", move_out_settled),
            ]
            .into_iter()
            .filter(|(_, ticked)| ticked.is_some())
            .map(|(event, _)| event.to_owned())
            .collect();
            ports()?
                .integrations
                .subscribe(&caller, &url, &events)
                .await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "disable_webhook")]
pub async fn disable_webhook(webhook: String) -> Result<(), AppError> {
    answer(
        async {
            let caller = admin().await?;
            ports()?
                .integrations
                .disable_webhook(&caller, id(&webhook)?)
                .await?;
            after_form_post("/manage/integrations?disabled");
            Ok(())
        }
        .await,
    )
}

/// A webhook's latest deliveries with every attempt.
#[server(prefix = "/api", endpoint = "webhook_deliveries")]
pub async fn load_webhook_deliveries(
    webhook: String,
) -> Result<integrations::WebhookDeliveries, AppError> {
    answer(
        async {
            let caller = admin().await?;
            ports()?
                .integrations
                .deliveries(caller.org_id, id(&webhook)?)
                .await
        }
        .await,
    )
}
