//! Two-factor sign-in for staff: setting an authenticator app up (a secret shown once as a QR
//! code, confirmed by its first code), checking the code after the password, turning it off,
//! and an organisation requiring it of all its staff. Every change is audited.

use super::{AuthService, totp};
use crate::{audit::AuditEntry, internal, on_db, on_db_write};
use app::{
    domain::{Caller, UserId, access::TwoFactorSetup},
    error::AppError,
    ports::ClientAddr,
};
use chrono::Utc;
use ring::rand::SecureRandom;
use serde_json::json;

const ISSUER: &str = "Prepaid";

fn context(user: i64) -> Vec<u8> {
    [b"totp:".as_slice(), &user.to_be_bytes()].concat()
}

fn wrong_code() -> AppError {
    AppError::Invalid(
        "That code is not right, or was used already: type the one your app shows now.".into(),
    )
}

impl AuthService {
    /// Whether the person has a confirmed authenticator, so a password alone does not sign
    /// them in.
    pub(super) async fn has_second_factor(&self, user: UserId) -> Result<bool, AppError> {
        let sealed: Option<Option<String>> = on_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT totp_secret_sealed FROM users WHERE id = $1 AND active")
                .bind(user.0)
                .fetch_optional(pool)
                .await
        })
        .map_err(internal)?;
        Ok(sealed.flatten().is_some())
    }

    /// Checks a code against the confirmed secret (or, with `pending`, the one being set up)
    /// and spends its step: the same code never works twice, even in two racing requests.
    async fn spend_code(&self, user: i64, code: &str, pending: bool) -> Result<bool, AppError> {
        let column = if pending {
            "totp_pending_sealed"
        } else {
            "totp_secret_sealed"
        };
        let row: Option<(Option<String>, Option<i64>)> = on_db!(&self.db, pool => {
            sqlx::query_as(&format!("SELECT {column}, totp_last_step FROM users WHERE id = $1"))
                .bind(user)
                .fetch_optional(pool)
                .await
        })
        .map_err(internal)?;
        let Some((Some(sealed), last_step)) = row else {
            return Ok(false);
        };
        let secret = self
            .vault
            .open_bytes(&context(user), &sealed)
            .map_err(internal)?;
        let Some(step) = totp::accepts(&secret, code, Utc::now().timestamp(), last_step) else {
            return Ok(false);
        };
        let spent = on_db_write!(&self.db, pool => {
            sqlx::query(
                "UPDATE users SET totp_last_step = $1 WHERE id = $2 \
                 AND (totp_last_step IS NULL OR totp_last_step < $1)",
            )
            .bind(step)
            .bind(user)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })
        .map_err(internal)?;
        Ok(spent == 1)
    }

    pub(super) async fn check_second_factor(
        &self,
        user: UserId,
        code: &str,
        client: ClientAddr,
    ) -> Result<(), AppError> {
        let email: String = on_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
                .bind(user.0)
                .fetch_one(pool)
                .await
        })
        .map_err(internal)?;
        // Guessing codes counts against the account like guessing passwords.
        let (address, now) = (client.0.to_string(), Utc::now());
        if let Some(minutes) = self
            .throttle
            .blocked_for(&address, &email, now)
            .await
            .map_err(internal)?
        {
            return Err(AppError::Throttled {
                retry_after_minutes: minutes,
            });
        }
        if !self.spend_code(user.0, code, false).await? {
            self.throttle
                .record_failure(&address, &email, now)
                .await
                .map_err(internal)?;
            return Err(wrong_code());
        }
        self.throttle
            .forgive_account(&email)
            .await
            .map_err(internal)?;
        Ok(())
    }

    pub(super) async fn begin_two_factor(
        &self,
        caller: &Caller,
    ) -> Result<TwoFactorSetup, AppError> {
        if !caller.is_staff() {
            return Err(AppError::Forbidden);
        }
        let mut secret = [0_u8; totp::SECRET_BYTES];
        ring::rand::SystemRandom::new()
            .fill(&mut secret)
            .map_err(|_| AppError::Internal)?;
        let sealed = self
            .vault
            .seal_bytes(&context(caller.user_id.0), &secret)
            .map_err(internal)?;
        on_db_write!(&self.db, pool => {
            sqlx::query("UPDATE users SET totp_pending_sealed = $1 WHERE id = $2")
                .bind(&sealed)
                .bind(caller.user_id.0)
                .execute(pool)
                .await
                .map(|_| ())
        })
        .map_err(internal)?;
        let uri = totp::otpauth_uri(ISSUER, &caller.email, &secret);
        Ok(TwoFactorSetup {
            secret: totp::base32(&secret),
            qr_svg: qr_svg(&uri)?,
            uri,
        })
    }

    pub(super) async fn confirm_two_factor(
        &self,
        caller: &Caller,
        code: &str,
    ) -> Result<(), AppError> {
        if !self.spend_code(caller.user_id.0, code, true).await? {
            return Err(wrong_code());
        }
        let entry = AuditEntry::new("two_factor_enabled", "user", caller.user_id.0)
            .by(caller.org_id.0, Some(caller.user_id.0));
        self.set_secret(caller.user_id.0, true, entry).await
    }

    pub(super) async fn disable_two_factor(
        &self,
        caller: &Caller,
        code: &str,
    ) -> Result<(), AppError> {
        if caller.two_factor_required {
            return Err(AppError::Invalid(
                "Your organisation requires two-factor sign-in: it cannot be turned off.".into(),
            ));
        }
        if !self.spend_code(caller.user_id.0, code, false).await? {
            return Err(wrong_code());
        }
        let entry = AuditEntry::new("two_factor_disabled", "user", caller.user_id.0)
            .by(caller.org_id.0, Some(caller.user_id.0));
        self.set_secret(caller.user_id.0, false, entry).await
    }

    /// Moves the pending secret in (or clears both), with its audit entry.
    async fn set_secret(&self, user: i64, enable: bool, entry: AuditEntry) -> Result<(), AppError> {
        let sql = if enable {
            "UPDATE users SET totp_secret_sealed = totp_pending_sealed, totp_pending_sealed = NULL \
             WHERE id = $1"
        } else {
            "UPDATE users SET totp_secret_sealed = NULL, totp_pending_sealed = NULL WHERE id = $1"
        };
        let set = on_db!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(sql).bind(user).execute(&mut *tx).await?;
            entry.append(&mut *tx).await?;
            tx.commit().await
        });
        self.callers.changed(user);
        set.map_err(internal)
    }

    pub(super) async fn require_two_factor(
        &self,
        caller: &Caller,
        required: bool,
    ) -> Result<(), AppError> {
        if !caller.is_admin() {
            return Err(AppError::Forbidden);
        }
        let entry = AuditEntry::new("staff_two_factor_set", "organisation", caller.org_id.0)
            .by(caller.org_id.0, Some(caller.user_id.0))
            .after(json!({ "required": required }));
        let set = on_db_write!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("UPDATE organisations SET staff_two_factor = $1 WHERE id = $2")
                .bind(required)
                .bind(caller.org_id.0)
                .execute(&mut *tx)
                .await?;
            entry.append(&mut *tx).await?;
            tx.commit().await
        });
        self.callers.organisation_changed(caller.org_id.0);
        set.map_err(internal)
    }
}

/// The address as a QR code, in SVG: drawn here, so the secret never leaves the server but
/// to the person setting it up.
fn qr_svg(uri: &str) -> Result<String, AppError> {
    let code = qrcode::QrCode::new(uri.as_bytes()).map_err(internal)?;
    Ok(code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build())
}
