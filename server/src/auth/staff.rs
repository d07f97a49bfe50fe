//! Who holds which role on a site, and giving or taking one away. A grant changes what a
//! person may do on their very next request: each change drops this instance's copy of the
//! person and tells the others ([`Callers::changed`]).

use super::callers::Callers;
use crate::{audit::AuditEntry, db::Db, internal, on_db, on_tx};
use app::{
    domain::{
        Caller, Email, OrgId, Role, SiteId, UserId,
        staff::{Granted, SiteStaff, StaffLine},
    },
    error::AppError,
};
use chrono::{DateTime, Utc};
use serde_json::json;

#[derive(sqlx::FromRow)]
struct Holder {
    id: i64,
    display_name: String,
    email: String,
    role: String,
    granted_at: DateTime<Utc>,
    two_factor: bool,
}

/// The site's staff and the organisation's admins: active people only.
pub async fn of_site(db: &Db, site: SiteId) -> Result<SiteStaff, AppError> {
    let place: Option<(String, String, i64)> = on_db!(db, pool => {
        sqlx::query_as("SELECT name, time_zone, organisation_id FROM sites WHERE id = $1")
            .bind(site.0)
            .fetch_optional(pool)
            .await
    })
    .map_err(internal)?;
    let (site_name, zone, org) = place.ok_or(AppError::NotFound)?;
    let zone = crate::engine::time_zone(&zone).map_err(internal)?;
    let holders: Vec<Holder> = on_db!(db, pool => {
        sqlx::query_as(
            "SELECT u.id, u.display_name, u.email, g.role, g.granted_at, \
             u.totp_secret_sealed IS NOT NULL AS two_factor FROM role_grants g \
             JOIN users u ON u.id = g.user_id WHERE u.active \
             AND (g.site_id = $1 OR (g.site_id IS NULL AND u.organisation_id = $2))",
        )
        .bind(site.0)
        .bind(org)
        .fetch_all(pool)
        .await
    })
    .map_err(internal)?;
    let lines = holders
        .into_iter()
        // A role this build does not know is not shown as if it were another.
        .filter_map(|holder| {
            Some(StaffLine {
                role: holder.role.parse().ok()?,
                person: UserId(holder.id),
                name: holder.display_name,
                email: holder.email,
                since: holder.granted_at.with_timezone(&zone).date_naive(),
                two_factor: holder.two_factor,
            })
        })
        .collect();
    let mut staff = SiteStaff {
        site_name,
        lines,
        grantable: Vec::new(),
        viewer: UserId(0),
    };
    staff.sort();
    Ok(staff)
}

/// Where a grant or a removal happens, and by whom.
pub struct Change<'a> {
    pub db: &'a Db,
    pub callers: &'a Callers,
    pub by: &'a Caller,
    pub org: OrgId,
    pub site: SiteId,
}

impl Change<'_> {
    /// Gives `role` on the site to the active person with this e-mail address in the
    /// organisation. Giving it again changes nothing.
    pub async fn grant(&self, email: &Email, role: Role) -> Result<Granted, AppError> {
        if !role.is_per_site() {
            return Err(AppError::invalid(
                "The admin role covers the whole organisation: it is not given on a site.",
            ));
        }
        let mut tx = self.db.begin_write().await.map_err(internal)?;
        let person: Option<i64> = on_tx!(&mut tx, conn => {
            sqlx::query_scalar("SELECT id FROM users WHERE email = $1 AND organisation_id = $2 AND active")
                .bind(email.as_str())
                .bind(self.org.0)
                .fetch_optional(&mut *conn)
                .await
        })
        .map_err(internal)?;
        // Someone in another organisation answers like nobody, so addresses cannot be probed.
        let person = person.ok_or_else(|| {
            AppError::invalid(
                "Nobody in your organisation signs in with that e-mail address: add them as a new person instead.",
            )
        })?;
        let added = on_tx!(&mut tx, conn => {
            sqlx::query(
                "INSERT INTO role_grants (user_id, role, site_id, granted_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(person)
            .bind(role.as_str())
            .bind(self.site.0)
            .bind(Utc::now())
            .execute(&mut *conn)
            .await
            .map(|done| done.rows_affected())
        })
        .map_err(internal)?;
        if added == 0 {
            return Ok(Granted::Already);
        }
        self.audit(&mut tx, "role_granted", person, role).await?;
        tx.commit().await.map_err(internal)?;
        self.callers.changed(person);
        Ok(Granted::Now)
    }

    /// Takes `role` on the site away from `person`; answers whether they held it.
    pub async fn revoke(&self, person: UserId, role: Role) -> Result<bool, AppError> {
        if person == self.by.user_id {
            return Err(AppError::invalid(
                "Another manager or an admin takes your own role away.",
            ));
        }
        let mut tx = self.db.begin_write().await.map_err(internal)?;
        let removed = on_tx!(&mut tx, conn => {
            sqlx::query("DELETE FROM role_grants WHERE user_id = $1 AND role = $2 AND site_id = $3")
                .bind(person.0)
                .bind(role.as_str())
                .bind(self.site.0)
                .execute(&mut *conn)
                .await
                .map(|done| done.rows_affected())
        })
        .map_err(internal)?;
        if removed == 0 {
            return Ok(false);
        }
        self.audit(&mut tx, "role_revoked", person.0, role).await?;
        tx.commit().await.map_err(internal)?;
        self.callers.changed(person.0);
        Ok(true)
    }

    async fn audit(
        &self,
        tx: &mut crate::db::Tx,
        action: &'static str,
        person: i64,
        role: Role,
    ) -> Result<(), AppError> {
        AuditEntry::new(action, "user", person)
            .by(self.org.0, Some(self.by.user_id.0))
            .after(json!({ "role": role.as_str(), "site_id": self.site.0 }))
            .insert_tx(tx)
            .await
            .map_err(internal)
    }
}
