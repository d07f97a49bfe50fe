//! What a site's notices did: every delivery with its person, channel, address (masked) and
//! state, for its managers; and the channels the site lets its notices take.

use super::{Notifier, site_context};
use crate::{audit::AuditEntry, internal, on_db, on_db_write};
use app::{
    domain::{
        Caller, Email, SiteId,
        messaging::{
            Channel, DeliveryLine, DeliveryPage, DeliveryQuery, SiteChannels, mask_email,
            mask_phone,
        },
    },
    error::AppError,
};
use chrono::{DateTime, Utc};
use serde_json::json;

const PAGE: i64 = 50;

/// The search's conditions; `$1` is the site, `$2`…`$5` the person, kind, channel and
/// failures-only.
const MATCHING: &str = "FROM notification_deliveries d \
     JOIN notifications n ON n.id = d.notification_id JOIN users u ON u.id = d.user_id \
     LEFT JOIN push_subscriptions ps ON ps.id = d.subscription_id \
     LEFT JOIN wallets w ON w.account_id = n.wallet_account_id LEFT JOIN units un ON un.id = w.unit_id \
     WHERE n.site_id = $1 \
     AND ($2 = '' OR lower(u.display_name) LIKE $2 OR u.email LIKE $2 OR COALESCE(u.phone, '') LIKE $2) \
     AND ($3 = '' OR n.kind LIKE $3 || '%') AND ($4 = '' OR d.channel = $4) \
     AND (NOT $5 OR d.status = 'failed')";

type Row = (
    i64,
    DateTime<Utc>,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    i64,
    Option<String>,
);

impl Notifier {
    pub(super) async fn delivery_page(
        &self,
        site: SiteId,
        query: &DeliveryQuery,
    ) -> Result<DeliveryPage, AppError> {
        let db = self.db();
        let context = site_context(db, site.0)
            .await
            .map_err(internal)?
            .ok_or(AppError::Forbidden)?;
        let person = match query.person.trim() {
            "" => String::new(),
            text => format!("%{}%", text.to_lowercase().replace(['%', '_'], "")),
        };
        let kind = query.kind.trim().to_owned();
        let channel = query.channel.map(Channel::as_str).unwrap_or_default();
        let (rows, totals): (Vec<Row>, Vec<(String, i64)>) = on_db!(db, pool => {
            let rows = sqlx::query_as(&format!(
                "SELECT d.id, d.created_at, u.display_name, un.name, n.kind, d.channel, d.address, ps.label, \
                 d.status, d.attempts, d.error {MATCHING} AND ($6 IS NULL OR d.id < $6) \
                 ORDER BY d.id DESC LIMIT {}",
                PAGE + 1
            ))
            .bind(site.0)
            .bind(&person)
            .bind(&kind)
            .bind(channel)
            .bind(query.failed_only)
            .bind(query.before)
            .fetch_all(pool)
            .await?;
            let totals = sqlx::query_as(&format!(
                "SELECT d.status, COUNT(*) {MATCHING} GROUP BY d.status ORDER BY d.status"
            ))
            .bind(site.0)
            .bind(&person)
            .bind(&kind)
            .bind(channel)
            .bind(query.failed_only)
            .fetch_all(pool)
            .await?;
            Ok::<_, sqlx::Error>((rows, totals))
        })
        .map_err(internal)?;
        let older = (rows.len() as i64 > PAGE).then(|| rows[PAGE as usize - 1].0);
        let lines = rows
            .into_iter()
            .take(PAGE as usize)
            .map(|row| line(row, context.zone))
            .collect();
        let messenger = &self.inner.messenger;
        Ok(DeliveryPage {
            lines,
            older,
            totals,
            channels: SiteChannels {
                sms: context.sms,
                email: context.email,
                email_from: context.email_from,
                sms_configured: messenger.can_send(Channel::Sms),
                email_configured: messenger.can_send(Channel::Email),
            },
            zone: context.zone.name().to_owned(),
        })
    }

    pub(super) async fn store_site_channels(
        &self,
        caller: &Caller,
        site: SiteId,
        sms: bool,
        email: bool,
        email_from: Option<Email>,
    ) -> Result<(), AppError> {
        let before = site_context(self.db(), site.0)
            .await
            .map_err(internal)?
            .ok_or(AppError::Forbidden)?;
        let from = email_from.map(String::from);
        let entry = AuditEntry::new("site_channels_changed", "site", site.0)
            .by(caller.org_id.0, Some(caller.user_id.0))
            .before(json!({ "sms": before.sms, "email": before.email, "email_from": before.email_from }))
            .after(json!({ "sms": sms, "email": email, "email_from": from }));
        let _turn = self.inner.engine.turn().await;
        on_db_write!(self.db(), pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("UPDATE sites SET sms_enabled = $1, email_enabled = $2, email_from = $3 WHERE id = $4")
                .bind(sms)
                .bind(email)
                .bind(&from)
                .bind(site.0)
                .execute(&mut *tx)
                .await?;
            entry.append(&mut *tx).await?;
            tx.commit().await
        })
        .map_err(internal)
    }
}

fn line(
    (id, at, person, unit, kind, channel, address, label, status, attempts, error): Row,
    zone: chrono_tz::Tz,
) -> DeliveryLine {
    let channel = Channel::parse(&channel).unwrap_or(Channel::Push);
    let to = match channel {
        Channel::Push => label
            .filter(|label| !label.is_empty())
            .unwrap_or_else(|| "a browser".into()),
        Channel::Sms => address.as_deref().map(mask_phone).unwrap_or_default(),
        Channel::Email => address.as_deref().map(mask_email).unwrap_or_default(),
    };
    DeliveryLine {
        id,
        at: at.with_timezone(&zone).naive_local(),
        person,
        unit,
        kind,
        channel,
        to,
        status,
        attempts,
        error,
    }
}
