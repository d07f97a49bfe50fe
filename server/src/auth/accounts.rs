//! Creating accounts: by staff in the console, and by the operations CLI.

use super::{password, recovery::Recovery};
use crate::{audit::AuditEntry, db::Db, db::is_unique_violation, internal, on_db_write};
use app::{
    domain::{Role, UserId, access::NewAccount, views::CreatedAccount},
    error::AppError,
    ports::NewAccountRequest,
};
use chrono::Utc;
use serde_json::json;

/// Creates the account with a fresh initial password that must be changed at first sign-in,
/// its role grant or occupancy, and the audit entry, in one transaction. `actor` is `None`
/// when the operations CLI creates the account. Returns the new person's id beside what the
/// creator is shown.
pub async fn create(
    db: &Db,
    actor: Option<UserId>,
    request: NewAccountRequest,
) -> Result<(i64, CreatedAccount), AppError> {
    let initial_password = password::initial_password();
    let hash = password::hash(initial_password.clone()).await;
    let now = Utc::now();
    let (role, site): (Option<Role>, Option<i64>) = match request.account {
        NewAccount::Resident => (None, None),
        NewAccount::Staff(role) => (Some(role), request.site.map(|site| site.0)),
    };
    let result: Result<i64, sqlx::Error> = on_db_write!(db, pool => {
        let mut tx = pool.begin().await?;
        let user_id: i64 = sqlx::query_scalar(
            "INSERT INTO users (organisation_id, email, display_name, password_hash, \
             must_change_password, active, created_at, phone) VALUES ($1, $2, $3, $4, TRUE, TRUE, $5, $6) \
             RETURNING id",
        )
        .bind(request.org.0)
        .bind(request.email.as_str())
        .bind(&request.display_name)
        .bind(&hash.0)
        .bind(now)
        .bind(request.phone.as_ref().map(|phone| phone.as_str()))
        .fetch_one(&mut *tx)
        .await?;
        if let Some(role) = role {
            sqlx::query("INSERT INTO role_grants (user_id, role, site_id, granted_at) VALUES ($1, $2, $3, $4)")
                .bind(user_id)
                .bind(role.as_str())
                .bind(site)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(unit) = request.unit {
            sqlx::query("INSERT INTO occupancies (unit_id, user_id, starts_at) VALUES ($1, $2, $3)")
                .bind(unit.0)
                .bind(user_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        let entry = AuditEntry::new("account_created", "user", user_id)
            .by(request.org.0, actor.map(|actor| actor.0))
            .after(json!({
                // The e-mail address is personal data; the audit keeps who and what, by id.
                "role": role.map(Role::as_str).unwrap_or("resident"),
                "site_id": site,
                "unit_id": request.unit.map(|unit| unit.0),
            }));
        entry.append(&mut *tx).await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(user_id)
    });
    match result {
        Ok(user) => Ok((
            user,
            CreatedAccount {
                email: request.email.to_string(),
                initial_password: Some(initial_password),
                invited: None,
                invite_failed: None,
            },
        )),
        Err(error) if is_unique_violation(&error) => Err(AppError::Conflict(
            "An account with that e-mail address or phone number already exists.".into(),
        )),
        Err(error) => Err(internal(error)),
    }
}

/// Creates the account as [`create`] does and, when the request asks, sends the newcomer an
/// invitation instead of handing over the initial password (kept, and the failure said, if
/// the invitation could not be sent).
pub async fn create_inviting(
    db: &Db,
    recovery: &Recovery,
    actor: Option<UserId>,
    request: NewAccountRequest,
) -> Result<(i64, CreatedAccount), AppError> {
    let invite_by = request.invite_by;
    let (user, mut created) = create(db, actor, request).await?;
    if let Some(channel) = invite_by {
        match recovery.invite(user, channel).await {
            Ok(to) => {
                created.invited = Some(to);
                created.initial_password = None;
            }
            Err(error) => {
                tracing::warn!(user, %error, "could not send an invitation");
                created.invite_failed = Some(error.to_string());
            }
        }
    }
    Ok((user, created))
}
