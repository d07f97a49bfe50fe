//! Integrations as the admin pages show them: API keys, webhook subscriptions and their
//! deliveries. The secrets themselves appear only once, in the answer that made them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The events an organisation may subscribe a URL to, with what each means.
pub const EVENT_TYPES: [(&str, &str); 7] = [
    (
        "balance.low",
        "An account's credit ran low (each warning level, and a few days left)",
    ),
    (
        "supply.cut_off",
        "Supply was cut (or restricted) for want of credit",
    ),
    ("supply.reconnected", "Supply came back after a top-up"),
    ("payment.received", "A payment was credited to an account"),
    ("alarm.raised", "A meter or the platform raised an alarm"),
    ("alarm.resolved", "An alarm was resolved"),
    (
        "move_out.settled",
        "A resident moved out and their accounts were settled",
    ),
];

pub fn is_event_type(name: &str) -> bool {
    EVENT_TYPES.iter().any(|(event, _)| *event == name)
}

/// The scopes an organisation's key may have, with what each allows.
pub const SCOPES: [(&str, &str); 4] = [
    (
        "read",
        "Read sites, units, meters, residents, accounts, readings, payments, alarms, reports",
    ),
    (
        "write",
        "Create buildings, units, meters and residents; move-outs; acknowledge and resolve alarms",
    ),
    ("readings", "Post meter readings and alarms"),
    ("payments", "Record top-ups received elsewhere"),
];

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyView {
    pub id: i64,
    pub name: String,
    /// Public: the key starts `ppk_{prefix}_`.
    pub prefix: String,
    pub scopes: Vec<String>,
    /// A gateway's key: the site it reports for.
    pub site: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhookView {
    pub id: i64,
    pub url: String,
    pub events: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub delivered: i64,
    pub queued: i64,
    pub failed: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Integrations {
    pub keys: Vec<ApiKeyView>,
    pub webhooks: Vec<WebhookView>,
    /// The sites a gateway's key may be made for.
    pub sites: Vec<(i64, String)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttemptView {
    pub at: DateTime<Utc>,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeliveryView {
    pub id: i64,
    pub event_id: String,
    pub event_type: String,
    /// queued, delivered or failed.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub attempts: Vec<AttemptView>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhookDeliveries {
    pub webhook: WebhookView,
    /// Newest first, the latest 100.
    pub deliveries: Vec<DeliveryView>,
}

/// What to make a key for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyKind {
    /// The organisation's, with these scopes.
    Organisation(Vec<String>),
    /// A meter gateway's, for one site's readings.
    Gateway(i64),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_are_known_by_name() {
        assert!(is_event_type("alarm.raised"));
        assert!(!is_event_type("alarm"));
        let mut names: Vec<_> = EVENT_TYPES.iter().map(|(name, _)| *name).collect();
        names.dedup();
        assert_eq!(names.len(), EVENT_TYPES.len());
    }
}
