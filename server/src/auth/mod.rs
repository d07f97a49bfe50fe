//! Sign-in, callers, passwords and accounts: the engine side of `app::ports::AuthPort`.

pub mod accounts;
pub mod callers;
pub mod password;
pub mod people;
pub mod recovery;
pub mod sessions;
pub mod staff;
pub mod throttle;
pub mod totp;
mod two_factor;

use crate::{audit::AuditEntry, db::Db, internal, on_db, on_db_write};
use app::{
    domain::{
        Caller, Email, Grant, NewPassword, OrgId, Role, SiteId, UserId, messaging::PhoneNumber,
    },
    error::AppError,
    ports::ClientAddr,
};
use chrono::Utc;
use password::PasswordHashString;
use throttle::Throttle;

#[derive(Clone, Debug)]
pub struct AuthService {
    db: Db,
    callers: callers::Callers,
    throttle: Throttle,
    recovery: recovery::Recovery,
    /// Seals the authenticator secrets of two-factor sign-in.
    vault: std::sync::Arc<crate::tokens::vault::Vault>,
}

#[derive(sqlx::FromRow)]
struct Credentials {
    id: i64,
    organisation_id: i64,
    password_hash: String,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    organisation_id: i64,
    email: String,
    display_name: String,
    must_change_password: bool,
    password_changed_at: Option<chrono::DateTime<Utc>>,
    signed_out_at: Option<chrono::DateTime<Utc>>,
    two_factor: bool,
    staff_two_factor: bool,
    /// A role grant of the user's (none: a resident).
    role: Option<String>,
    site_id: Option<i64>,
}

impl AuthService {
    pub fn new(
        db: Db,
        throttle: Throttle,
        messenger: crate::notify::Messenger,
        vault: std::sync::Arc<crate::tokens::vault::Vault>,
        callers: callers::Callers,
    ) -> Self {
        let recovery = recovery::Recovery::new(db.clone(), messenger, callers.clone());
        Self {
            db,
            callers,
            throttle,
            recovery,
            vault,
        }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    fn staff_change<'a>(&'a self, by: &'a Caller, org: OrgId, site: SiteId) -> staff::Change<'a> {
        staff::Change {
            db: &self.db,
            callers: &self.callers,
            by,
            org,
            site,
        }
    }

    async fn credentials(&self, email: &Email) -> Result<Option<Credentials>, sqlx::Error> {
        on_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT id, organisation_id, password_hash FROM users WHERE email = $1 AND active",
            )
            .bind(email.as_str())
            .fetch_optional(pool)
            .await
        })
    }

    async fn load_caller(&self, user: UserId) -> Result<Option<Caller>, sqlx::Error> {
        // One statement, a row per role grant (one with none for a resident): every server
        // function and page starts here.
        let rows: Vec<UserRow> = on_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT u.id, u.organisation_id, u.email, u.display_name, u.must_change_password, \
                 u.password_changed_at, u.signed_out_at, u.totp_secret_sealed IS NOT NULL AS two_factor, \
                 o.staff_two_factor, g.role, g.site_id FROM users u \
                 JOIN organisations o ON o.id = u.organisation_id \
                 LEFT JOIN role_grants g ON g.user_id = u.id WHERE u.id = $1 AND u.active",
            )
            .bind(user.0)
            .fetch_all(pool)
            .await
        })?;
        let grants: Vec<(String, Option<i64>)> = rows
            .iter()
            .filter_map(|row| Some((row.role.clone()?, row.site_id)))
            .collect();
        Ok(rows.into_iter().next().map(|row| Caller {
            two_factor: row.two_factor,
            two_factor_required: row.staff_two_factor && !grants.is_empty(),
            user_id: UserId(row.id),
            org_id: OrgId(row.organisation_id),
            email: row.email,
            display_name: row.display_name,
            must_change_password: row.must_change_password,
            // `None` is less than any moment: the later of the two, if either.
            sessions_valid_from: row.password_changed_at.max(row.signed_out_at),
            grants: grants
                .into_iter()
                .filter_map(|(role, site)| {
                    // A role this build does not know grants nothing.
                    Some(Grant {
                        role: role.parse::<Role>().ok()?,
                        site: site.map(SiteId),
                    })
                })
                .collect(),
        }))
    }
}

/// Stores a new password (hashed off the async threads) with its audit entry, in one
/// transaction: the person is no longer asked to change it, and failed sign-ins no longer
/// throttle their account.
pub(crate) async fn store_password(
    db: &Db,
    callers: &callers::Callers,
    user: i64,
    email: &str,
    new: &NewPassword,
    entry: AuditEntry,
    now: chrono::DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let hash = password::hash(new.expose().to_owned()).await;
    let stored = on_db_write!(db, pool => {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "UPDATE users SET password_hash = $1, must_change_password = FALSE, \
             password_changed_at = $2 WHERE id = $3",
        )
        .bind(&hash.0)
        .bind(now)
        .bind(user)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM sign_in_failures WHERE scope = 'account' AND key = $1")
            .bind(email)
            .execute(&mut *tx)
            .await?;
        entry.append(&mut *tx).await?;
        tx.commit().await
    });
    // Even after an error: a commit whose answer was lost may have happened.
    callers.changed(user);
    stored
}

#[async_trait::async_trait]
impl app::ports::AuthPort for AuthService {
    async fn sign_in(
        &self,
        email: &str,
        password: &str,
        client: ClientAddr,
    ) -> Result<UserId, AppError> {
        let email = Email::parse(email).map_err(AppError::invalid)?;
        let address = client.0.to_string();
        let now = Utc::now();
        if let Some(minutes) = self
            .throttle
            .blocked_for(&address, email.as_str(), now)
            .await
            .map_err(internal)?
        {
            return Err(AppError::Throttled {
                retry_after_minutes: minutes,
            });
        }
        let credentials = self.credentials(&email).await.map_err(internal)?;
        let stored = credentials
            .as_ref()
            .map(|c| PasswordHashString(c.password_hash.clone()));
        if !password::verify(password.to_owned(), stored).await {
            self.throttle
                .record_failure(&address, email.as_str(), now)
                .await
                .map_err(internal)?;
            return Err(AppError::BadCredentials);
        }
        let credentials = credentials.expect("verify is false without stored credentials");
        self.throttle
            .forgive_account(email.as_str())
            .await
            .map_err(internal)?;
        let entry = AuditEntry::new("signed_in", "user", credentials.id)
            .by(credentials.organisation_id, Some(credentials.id))
            .from_addr(address);
        entry.record(&self.db).await.map_err(internal)?;
        Ok(UserId(credentials.id))
    }

    async fn caller(&self, user: UserId) -> Result<Option<Caller>, AppError> {
        let ticket = match self.callers.find(user.0) {
            callers::Found::Kept(caller) => return Ok(Some(caller)),
            callers::Found::Read(ticket) => ticket,
        };
        let caller = self.load_caller(user).await.map_err(internal)?;
        if let Some(caller) = &caller {
            self.callers.offer(user.0, caller, ticket);
        }
        Ok(caller)
    }

    async fn change_password(
        &self,
        caller: &Caller,
        current: &str,
        new: NewPassword,
    ) -> Result<(), AppError> {
        let stored: Option<String> = on_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1 AND active")
                .bind(caller.user_id.0)
                .fetch_optional(pool)
                .await
        })
        .map_err(internal)?;
        let stored = stored.map(PasswordHashString);
        if !password::verify(current.to_owned(), stored).await {
            return Err(AppError::invalid("The current password is not right."));
        }
        let entry = AuditEntry::new("password_changed", "user", caller.user_id)
            .by(caller.org_id.0, Some(caller.user_id.0));
        store_password(
            &self.db,
            &self.callers,
            caller.user_id.0,
            &caller.email,
            &new,
            entry,
            Utc::now(),
        )
        .await
        .map_err(internal)
    }

    async fn create_account(
        &self,
        caller: &Caller,
        request: app::ports::NewAccountRequest,
    ) -> Result<app::domain::views::CreatedAccount, AppError> {
        accounts::create_inviting(&self.db, &self.recovery, Some(caller.user_id), request)
            .await
            .map(|(_, created)| created)
    }

    async fn site_staff(&self, site: SiteId) -> Result<app::domain::staff::SiteStaff, AppError> {
        staff::of_site(&self.db, site).await
    }

    async fn grant_role(
        &self,
        caller: &Caller,
        org: OrgId,
        site: SiteId,
        email: &Email,
        role: Role,
    ) -> Result<app::domain::staff::Granted, AppError> {
        self.staff_change(caller, org, site)
            .grant(email, role)
            .await
    }

    async fn revoke_role(
        &self,
        caller: &Caller,
        org: OrgId,
        site: SiteId,
        person: UserId,
        role: Role,
    ) -> Result<bool, AppError> {
        self.staff_change(caller, org, site)
            .revoke(person, role)
            .await
    }

    async fn organisation_people(
        &self,
        org: OrgId,
    ) -> Result<app::domain::people::OrgPeople, AppError> {
        people::of_organisation(&self.db, org).await
    }

    async fn set_person_active(
        &self,
        caller: &Caller,
        org: OrgId,
        email: &Email,
        active: bool,
    ) -> Result<app::domain::people::Switched, AppError> {
        people::set_active(&self.db, &self.callers, caller, org, email, active).await
    }

    async fn request_reset(
        &self,
        contact: &str,
        client: ClientAddr,
    ) -> Result<Option<PhoneNumber>, AppError> {
        self.recovery.request_reset(contact, client).await
    }

    async fn check_reset_link(&self, token: &str) -> Result<Option<String>, AppError> {
        self.recovery.check_link(token).await
    }

    async fn reset_with_link(&self, token: &str, new: &str) -> Result<UserId, AppError> {
        self.recovery.reset_with_link(token, new).await
    }

    async fn reset_with_code(
        &self,
        phone: &str,
        code: &str,
        new: &str,
    ) -> Result<UserId, AppError> {
        self.recovery.reset_with_code(phone, code, new).await
    }

    async fn send_sign_in_code(
        &self,
        phone: &str,
        client: ClientAddr,
    ) -> Result<PhoneNumber, AppError> {
        self.recovery.send_sign_in_code(phone, client).await
    }

    async fn sign_in_with_code(
        &self,
        phone: &str,
        code: &str,
        client: ClientAddr,
    ) -> Result<UserId, AppError> {
        self.recovery.sign_in_with_code(phone, code, client).await
    }

    async fn send_phone_code(
        &self,
        caller: &Caller,
        phone: &str,
        client: ClientAddr,
    ) -> Result<PhoneNumber, AppError> {
        self.recovery.send_phone_code(caller, phone, client).await
    }

    async fn confirm_phone(&self, caller: &Caller, code: &str) -> Result<(), AppError> {
        self.recovery.confirm_phone(caller, code).await
    }

    async fn remove_phone(&self, caller: &Caller) -> Result<(), AppError> {
        self.recovery.remove_phone(caller).await
    }

    async fn has_second_factor(&self, user: UserId) -> Result<bool, AppError> {
        AuthService::has_second_factor(self, user).await
    }

    async fn check_second_factor(
        &self,
        user: UserId,
        code: &str,
        client: ClientAddr,
    ) -> Result<(), AppError> {
        AuthService::check_second_factor(self, user, code, client).await
    }

    async fn begin_two_factor(
        &self,
        caller: &Caller,
    ) -> Result<app::domain::access::TwoFactorSetup, AppError> {
        AuthService::begin_two_factor(self, caller).await
    }

    async fn confirm_two_factor(&self, caller: &Caller, code: &str) -> Result<(), AppError> {
        AuthService::confirm_two_factor(self, caller, code).await
    }

    async fn disable_two_factor(&self, caller: &Caller, code: &str) -> Result<(), AppError> {
        AuthService::disable_two_factor(self, caller, code).await
    }

    async fn staff_must_use_two_factor(&self, caller: &Caller) -> Result<bool, AppError> {
        on_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT staff_two_factor FROM organisations WHERE id = $1")
                .bind(caller.org_id.0)
                .fetch_one(pool)
                .await
        })
        .map_err(internal)
    }

    async fn require_two_factor(&self, caller: &Caller, required: bool) -> Result<(), AppError> {
        AuthService::require_two_factor(self, caller, required).await
    }
}
