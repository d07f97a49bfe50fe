//! Sites created by the organisation's admins and kept by their managers: the name, clock,
//! currency and language, and the supply rules, each change audited with what it was before.

use super::Directory;
use crate::{audit::AuditEntry, db::is_unique_violation, internal, on_db, on_tx};
use app::{
    domain::{
        Caller, Currency, SiteId, minor_digits,
        site_settings::{NewSite, SiteSettings, locale_tag, site_name, unknown_zone},
        supply::SupplyPolicy,
    },
    error::AppError,
};
use chrono::Utc;
use serde_json::json;

impl Directory {
    pub(super) async fn insert_site(
        &self,
        caller: &Caller,
        site: NewSite,
    ) -> Result<SiteId, AppError> {
        if site.time_zone.parse::<chrono_tz::Tz>().is_err() {
            return Err(AppError::Invalid(unknown_zone(&site.time_zone)));
        }
        let now = Utc::now();
        let org = caller.org_id.0;
        let mut tx = self.db.begin_write().await.map_err(internal)?;
        let added: Result<i64, sqlx::Error> = on_tx!(&mut tx, conn => {
            sqlx::query_scalar(
                "INSERT INTO sites (organisation_id, name, time_zone, currency, locale, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(org)
            .bind(&site.name)
            .bind(&site.time_zone)
            .bind(site.currency.as_str())
            .bind(&site.locale)
            .bind(now)
            .fetch_one(&mut *conn)
            .await
        });
        let id = match added {
            Err(error) if is_unique_violation(&error) => {
                return Err(AppError::Conflict(format!(
                    "The organisation has a site called {} already.",
                    site.name
                )));
            }
            other => other.map_err(internal)?,
        };
        AuditEntry::new("site_created", "site", id)
            .by(org, Some(caller.user_id.0))
            .after(json!({
                "name": site.name, "time_zone": site.time_zone,
                "currency": site.currency.as_str(), "locale": site.locale,
            }))
            .insert_tx(&mut tx)
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        Ok(SiteId(id))
    }

    pub(super) async fn load_site_settings(&self, site: SiteId) -> Result<SiteSettings, AppError> {
        type Row = (String, String, String, String, Option<String>);
        let row: Option<Row> = on_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT s.name, s.time_zone, s.currency, s.locale, p.policy FROM sites s \
                 LEFT JOIN site_policies p ON p.site_id = s.id WHERE s.id = $1",
            )
            .bind(site.0)
            .fetch_optional(pool)
            .await
        })
        .map_err(internal)?;
        let (name, time_zone, currency, locale, policy) = row.ok_or(AppError::NotFound)?;
        let policy = match policy {
            Some(json) => serde_json::from_str(&json).map_err(internal)?,
            None => SupplyPolicy::default(),
        };
        Ok(SiteSettings {
            site,
            name,
            time_zone,
            digits: Currency::parse(&currency)
                .map(|currency| minor_digits(&currency))
                .map_err(internal)?,
            currency,
            locale,
            policy,
            may_edit: false,
        })
    }

    pub(super) async fn change_site(
        &self,
        caller: &Caller,
        site: SiteId,
        name: &str,
        locale: &str,
        policy: SupplyPolicy,
    ) -> Result<bool, AppError> {
        let name = site_name(name).map_err(AppError::Invalid)?;
        let locale = locale_tag(locale).map_err(AppError::Invalid)?;
        let before = self.load_site_settings(site).await?;
        if before.name == name && before.locale == locale && before.policy == policy {
            return Ok(false);
        }
        let json = serde_json::to_string(&policy).map_err(internal)?;
        let now = Utc::now();
        let mut tx = self.db.begin_write().await.map_err(internal)?;
        let renamed: Result<(), sqlx::Error> = on_tx!(&mut tx, conn => {
            sqlx::query("UPDATE sites SET name = $2, locale = $3 WHERE id = $1")
                .bind(site.0)
                .bind(&name)
                .bind(&locale)
                .execute(&mut *conn)
                .await?;
            sqlx::query(
                "INSERT INTO site_policies (site_id, policy, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (site_id) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at",
            )
            .bind(site.0)
            .bind(&json)
            .bind(now)
            .execute(&mut *conn)
            .await
            .map(|_| ())
        });
        match renamed {
            Err(error) if is_unique_violation(&error) => {
                return Err(AppError::Conflict(format!(
                    "The organisation has a site called {name} already."
                )));
            }
            other => other.map_err(internal)?,
        }
        AuditEntry::new("site_settings_changed", "site", site.0)
            .by(caller.org_id.0, Some(caller.user_id.0))
            .before(
                json!({ "name": before.name, "locale": before.locale, "policy": before.policy }),
            )
            .after(json!({ "name": name, "locale": locale, "policy": policy }))
            .insert_tx(&mut tx)
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        Ok(true)
    }
}
