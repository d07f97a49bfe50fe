//! Events come from what the engine records anyway: the notices it queues (low balance,
//! cut-off, reconnection, payment, move-out) and the alarms table (raised, resolved). Each
//! subscription scans its organisation's since it last did, less a margin for transactions
//! that committed late, and the unique (subscription, event) row makes a rescan harmless.

use super::Webhooks;
use crate::{on_db, on_db_write};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

/// How far back each scan looks again: longer than any transaction stays open.
const MARGIN_MINUTES: i64 = 10;

/// The webhook event a notice of this kind is, if any.
pub fn event_of_notice(kind: &str) -> Option<&'static str> {
    match kind {
        _ if kind.starts_with("low_balance_") || kind == "few_days_left" => Some("balance.low"),
        "cut_off" | "restricted" | "protected_at_zero" => Some("supply.cut_off"),
        "reconnected" => Some("supply.reconnected"),
        "payment_received" => Some("payment.received"),
        "moved_out" => Some("move_out.settled"),
        _ => None,
    }
}

#[derive(sqlx::FromRow)]
struct Subscription {
    id: i64,
    organisation_id: i64,
    events: String,
    created_at: DateTime<Utc>,
    scanned_until: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct Notice {
    id: i64,
    site_id: i64,
    wallet_account_id: Option<i64>,
    kind: String,
    body: String,
    created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct Alarm {
    id: i64,
    site_id: i64,
    unit_id: Option<i64>,
    meter_id: Option<i64>,
    kind: String,
    severity: String,
    detail: String,
    opened_at: DateTime<Utc>,
    resolved_at: Option<DateTime<Utc>>,
}

/// One event as a subscriber receives it.
struct Event {
    id: String,
    kind: &'static str,
    at: DateTime<Utc>,
    data: Value,
}

impl Event {
    fn payload(&self, org: i64) -> String {
        json!({
            "id": self.id,
            "type": self.kind,
            "created_at": self.at,
            "organisation_id": org,
            "data": self.data,
        })
        .to_string()
    }
}

fn notice_event(notice: Notice) -> Option<Event> {
    let kind = event_of_notice(&notice.kind)?;
    let mut data = json!({
        "site_id": notice.site_id,
        "account_id": notice.wallet_account_id,
        "notice": notice.kind,
    });
    if let (Value::Object(data), Ok(Value::Object(facts))) =
        (&mut data, serde_json::from_str::<Value>(&notice.body))
    {
        for (name, value) in facts {
            // A keypad token is for the resident alone, never for another system.
            if name != "token" && !data.contains_key(&name) {
                data.insert(name, value);
            }
        }
    }
    Some(Event {
        id: format!("notice-{}", notice.id),
        kind,
        at: notice.created_at,
        data,
    })
}

fn alarm_events(alarm: &Alarm, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Event> {
    let data = json!({
        "alarm_id": alarm.id,
        "site_id": alarm.site_id,
        "unit_id": alarm.unit_id,
        "meter_id": alarm.meter_id,
        "kind": alarm.kind,
        "severity": alarm.severity,
        "detail": alarm.detail,
    });
    let within = |at: DateTime<Utc>| at > from && at <= to;
    let mut events = Vec::new();
    if within(alarm.opened_at) {
        events.push(Event {
            id: format!("alarm-{}-raised", alarm.id),
            kind: "alarm.raised",
            at: alarm.opened_at,
            data: data.clone(),
        });
    }
    if let Some(resolved_at) = alarm.resolved_at.filter(|at| within(*at)) {
        events.push(Event {
            id: format!("alarm-{}-resolved", alarm.id),
            kind: "alarm.resolved",
            at: resolved_at,
            data,
        });
    }
    events
}

impl Webhooks {
    /// Hands out the events each enabled subscription has not had yet; returns how many new
    /// deliveries were queued.
    pub async fn scan(&self, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
        let subscriptions: Vec<Subscription> = on_db!(self.db(), pool => {
            sqlx::query_as(
                "SELECT id, organisation_id, events, created_at, scanned_until FROM webhook_subscriptions \
                 WHERE disabled_at IS NULL",
            )
            .fetch_all(pool)
            .await
        })?;
        let mut queued = 0;
        for subscription in subscriptions {
            queued += self.scan_one(&subscription, now).await?;
        }
        Ok(queued)
    }

    async fn scan_one(
        &self,
        subscription: &Subscription,
        now: DateTime<Utc>,
    ) -> Result<u64, sqlx::Error> {
        let from = (subscription.scanned_until - Duration::minutes(MARGIN_MINUTES))
            .max(subscription.created_at);
        let org = subscription.organisation_id;
        let (notices, alarms): (Vec<Notice>, Vec<Alarm>) = on_db!(self.db(), pool => {
            let notices = sqlx::query_as(
                "SELECT n.id, n.site_id, n.wallet_account_id, n.kind, n.body, n.created_at FROM notifications n \
                 JOIN sites s ON s.id = n.site_id WHERE s.organisation_id = $1 AND n.audience = 'resident' \
                 AND n.created_at > $2 AND n.created_at <= $3 ORDER BY n.id",
            )
            .bind(org)
            .bind(from)
            .bind(now)
            .fetch_all(pool)
            .await?;
            let alarms = sqlx::query_as(
                "SELECT a.id, a.site_id, a.unit_id, a.meter_id, a.kind, a.severity, a.detail, a.opened_at, a.resolved_at \
                 FROM alarms a JOIN sites s ON s.id = a.site_id WHERE s.organisation_id = $1 \
                 AND ((a.opened_at > $2 AND a.opened_at <= $3) OR (a.resolved_at > $2 AND a.resolved_at <= $3)) \
                 ORDER BY a.id",
            )
            .bind(org)
            .bind(from)
            .bind(now)
            .fetch_all(pool)
            .await?;
            Ok::<_, sqlx::Error>((notices, alarms))
        })?;
        let wanted: Vec<&str> = subscription.events.split(',').collect();
        let events: Vec<Event> = notices
            .into_iter()
            .filter_map(notice_event)
            .chain(
                alarms
                    .iter()
                    .flat_map(|alarm| alarm_events(alarm, from, now)),
            )
            .filter(|event| wanted.contains(&event.kind))
            .collect();
        on_db_write!(self.db(), pool => {
            let mut tx = pool.begin().await?;
            let mut queued = 0;
            for event in &events {
                queued += sqlx::query(
                    "INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, payload, next_attempt_at, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (subscription_id, event_id) DO NOTHING",
                )
                .bind(subscription.id)
                .bind(&event.id)
                .bind(event.kind)
                .bind(event.payload(org))
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            sqlx::query("UPDATE webhook_subscriptions SET scanned_until = $1 WHERE id = $2 AND scanned_until < $1")
                .bind(now)
                .bind(subscription.id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(queued)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_map_to_events_and_tokens_stay_behind() {
        assert_eq!(event_of_notice("low_balance_2"), Some("balance.low"));
        assert_eq!(event_of_notice("restricted"), Some("supply.cut_off"));
        assert_eq!(event_of_notice("token_issued"), None);
        let event = notice_event(Notice {
            id: 7,
            site_id: 1,
            wallet_account_id: Some(3),
            kind: "payment_received".into(),
            body: r#"{"amount_minor": 500, "token": "123 456"}"#.into(),
            created_at: Utc::now(),
        })
        .unwrap();
        assert_eq!(event.id, "notice-7");
        assert_eq!(event.data["amount_minor"], 500);
        assert_eq!(event.data["account_id"], 3);
        assert!(event.data.get("token").is_none());
    }
}
