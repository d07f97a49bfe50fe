//! From the outbox to deliveries: each queued notice becomes one delivery per device of each
//! person it concerns who wants it, and one SMS and one e-mail where they asked for them (or
//! have no device to push to), due at once or when their quiet hours end.

use super::{DeliveryReport, Notifier, STALE_AFTER_HOURS, preferences, site_context};
use crate::{db::Db, on_db, on_tx};
use app::domain::{
    i18n::Locale,
    messaging::{Channel, Reach, channels_for},
    notices::{NoticeFacts, message},
};
use chrono::{DateTime, Duration, TimeZone, Utc};

/// A queued notice: id, site, wallet, audience, kind, body, when.
type Queued = (i64, i64, Option<i64>, String, String, String, DateTime<Utc>);

/// One delivery to make: to whom, how (a push device, or a number or address), from when.
struct Planned {
    user: i64,
    channel: Channel,
    subscription: Option<i64>,
    address: Option<String>,
    due: DateTime<Utc>,
}

impl Notifier {
    pub(super) async fn fan_out(&self, now: DateTime<Utc>) -> Result<DeliveryReport, sqlx::Error> {
        let db = self.db();
        let queued: Vec<Queued> = on_db!(db, pool => {
            sqlx::query_as(
                "SELECT id, site_id, wallet_account_id, audience, kind, body, created_at \
                 FROM notifications WHERE status = 'queued' ORDER BY id LIMIT 200",
            )
            .fetch_all(pool)
            .await
        })?;
        let mut report = DeliveryReport::default();
        for notice in queued {
            self.fan_out_one(notice, now, &mut report).await?;
        }
        Ok(report)
    }

    async fn fan_out_one(
        &self,
        (id, site, wallet, audience, kind, body, created_at): Queued,
        now: DateTime<Utc>,
        report: &mut DeliveryReport,
    ) -> Result<(), sqlx::Error> {
        let db = self.db();
        let stale = created_at < now - Duration::hours(STALE_AFTER_HOURS);
        let mut planned = Vec::new();
        if stale {
            report.stale += 1;
        } else if let Some(context) = site_context(db, site).await? {
            for user in recipients(db, site, wallet, &audience).await? {
                let wanted = preferences(db, user).await?;
                if !wanted.wants(&kind) {
                    report.muted += 1;
                    continue;
                }
                let local = now.with_timezone(&context.zone).naive_local();
                let due = wanted
                    .held_until(&kind, local)
                    .and_then(|end| context.zone.from_local_datetime(&end).earliest())
                    .map_or(now, |end| end.with_timezone(&Utc));
                let devices = subscriptions(db, user).await?;
                let (email, phone) = contact(db, user).await?;
                let messenger = &self.inner.messenger;
                let reach = Reach {
                    push_devices: !devices.is_empty(),
                    wants_sms: wanted.by_sms,
                    wants_email: wanted.by_email,
                    has_phone: phone.is_some(),
                    site_sms: context.sms && messenger.can_send(Channel::Sms),
                    site_email: context.email && messenger.can_send(Channel::Email),
                };
                for channel in channels_for(reach) {
                    let address = match channel {
                        Channel::Push => {
                            planned.extend(devices.iter().map(|&subscription| Planned {
                                user,
                                channel,
                                subscription: Some(subscription),
                                address: None,
                                due,
                            }));
                            continue;
                        }
                        Channel::Sms => phone.clone(),
                        Channel::Email => Some(email.clone()),
                    };
                    planned.push(Planned {
                        user,
                        channel,
                        subscription: None,
                        address,
                        due,
                    });
                }
            }
        }
        let facts: NoticeFacts = serde_json::from_str(&body).unwrap_or_default();
        let topic = message(&kind, &facts, Locale::En, site, &|_| String::new(), &|at| {
            at.naive_utc()
        })
        .topic()
        .map(str::to_owned);

        let _turn = self.inner.engine.turn().await;
        let mut tx = db.begin_write().await?;
        // Taken first: a notice another worker handed out meanwhile is left alone (its
        // deliveries, and which of them a newer notice replaced, are that worker's).
        let status = if stale { "failed" } else { "sent" };
        let taken = on_tx!(&mut tx, conn => {
            sqlx::query("UPDATE notifications SET status = $1 WHERE id = $2 AND status = 'queued'")
                .bind(status)
                .bind(id)
                .execute(&mut *conn)
                .await
                .map(|done| done.rows_affected() == 1)
        })?;
        if !taken {
            return Ok(());
        }
        for delivery in &planned {
            on_tx!(&mut tx, conn => {
                // A newer balance notice replaces one still waiting for the same device, or
                // the same person's phone or mailbox.
                if let Some(topic) = &topic {
                    sqlx::query(
                        "UPDATE notification_deliveries SET status = 'replaced' \
                         WHERE topic = $1 AND status = 'queued' AND channel = $2 \
                         AND (subscription_id = $3 OR ($3 IS NULL AND user_id = $4))",
                    )
                    .bind(topic)
                    .bind(delivery.channel.as_str())
                    .bind(delivery.subscription)
                    .bind(delivery.user)
                    .execute(&mut *conn)
                    .await?;
                }
                sqlx::query(
                    "INSERT INTO notification_deliveries \
                     (notification_id, channel, subscription_id, user_id, topic, address, next_attempt_at, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
                )
                .bind(id)
                .bind(delivery.channel.as_str())
                .bind(delivery.subscription)
                .bind(delivery.user)
                .bind(&topic)
                .bind(&delivery.address)
                .bind(delivery.due)
                .bind(now)
                .execute(&mut *conn)
                .await
                .map(|_| ())
            })?;
        }
        tx.commit().await?;
        report.queued += planned.len() as u64;
        Ok(())
    }
}

/// Who a notice is for: the person living where the wallet is, or the site's staff who watch
/// it (its managers and operators, and the organisation's admins).
async fn recipients(
    db: &Db,
    site: i64,
    wallet: Option<i64>,
    audience: &str,
) -> Result<Vec<i64>, sqlx::Error> {
    if audience == "resident" {
        let Some(wallet) = wallet else {
            return Ok(Vec::new());
        };
        return on_db!(db, pool => {
            sqlx::query_scalar(
                "SELECT o.user_id FROM wallets w JOIN occupancies o ON o.id = w.occupancy_id \
                 JOIN users u ON u.id = o.user_id WHERE w.account_id = $1 AND u.active",
            )
            .bind(wallet)
            .fetch_all(pool)
            .await
        });
    }
    on_db!(db, pool => {
        sqlx::query_scalar(
            "SELECT DISTINCT g.user_id FROM role_grants g JOIN users u ON u.id = g.user_id \
             WHERE u.active AND ((g.site_id = $1 AND g.role IN ('manager', 'operator')) \
             OR (g.role = 'admin' AND u.organisation_id = (SELECT organisation_id FROM sites WHERE id = $1))) \
             ORDER BY g.user_id",
        )
        .bind(site)
        .fetch_all(pool)
        .await
    })
}

async fn subscriptions(db: &Db, user: i64) -> Result<Vec<i64>, sqlx::Error> {
    on_db!(db, pool => {
        sqlx::query_scalar("SELECT id FROM push_subscriptions WHERE user_id = $1 ORDER BY id")
            .bind(user)
            .fetch_all(pool)
            .await
    })
}

/// A person's e-mail address and confirmed phone number.
async fn contact(db: &Db, user: i64) -> Result<(String, Option<String>), sqlx::Error> {
    on_db!(db, pool => {
        sqlx::query_as("SELECT email, phone FROM users WHERE id = $1")
            .bind(user)
            .fetch_one(pool)
            .await
    })
}
