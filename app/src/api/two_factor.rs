//! Two-factor sign-in: the code after the password, and staff setting their authenticator app
//! up (or off), and admins requiring it of all their staff.

use crate::{
    domain::access::{TwoFactorSetup, TwoFactorStatus},
    error::AppError,
};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr::{
    PENDING_AT_KEY, PENDING_KEY, after_form_post, answer, caller_allowing_two_factor_setup,
    client_addr, ports, session, session_failed,
};

/// How long the code may follow the password.
#[cfg(feature = "ssr")]
const PENDING_MS: i64 = 5 * 60 * 1000;

/// After the password: signs the person in, or, if they have an authenticator app, keeps
/// them waiting for its code (in a fresh session that is signed in as nobody yet).
#[cfg(feature = "ssr")]
// Server-side only: the time the code must follow the password is the server's.
#[allow(clippy::disallowed_methods)]
pub(crate) async fn after_first_factor(user: crate::domain::UserId) -> Result<(), AppError> {
    if !ports()?.auth.has_second_factor(user).await? {
        return super::auth::start_session(user).await;
    }
    let session = session().await?;
    session.cycle_id().await.map_err(session_failed)?;
    session
        .insert(PENDING_KEY, user.0)
        .await
        .map_err(session_failed)?;
    session
        .insert(PENDING_AT_KEY, chrono::Utc::now().timestamp_millis())
        .await
        .map_err(session_failed)?;
    leptos_axum::redirect("/sign-in/code");
    Ok(())
}

/// The authenticator's code, after the password.
#[server(prefix = "/api", endpoint = "sign_in_second_step")]
// Server-side only, as above.
#[allow(clippy::disallowed_methods)]
pub async fn sign_in_second_step(code: String) -> Result<(), AppError> {
    answer(
        async {
            let session = session().await?;
            let user = session
                .get::<i64>(PENDING_KEY)
                .await
                .map_err(session_failed)?;
            let since = session
                .get::<i64>(PENDING_AT_KEY)
                .await
                .map_err(session_failed)?
                .unwrap_or(0);
            let Some(user) = user.filter(|_| {
                chrono::Utc::now().timestamp_millis() - since < PENDING_MS
            }) else {
                return Err(AppError::invalid(
                    "Sign in with your password again: the code must follow it within five minutes.",
                ));
            };
            let user = crate::domain::UserId(user);
            let client = client_addr().await?;
            ports()?
                .auth
                .check_second_factor(user, &code, client)
                .await?;
            session
                .remove::<i64>(PENDING_KEY)
                .await
                .map_err(session_failed)?;
            super::auth::start_session(user).await
        }
        .await,
    )
}

/// Where the caller stands.
#[server(prefix = "/api", endpoint = "load_two_factor")]
pub async fn load_two_factor() -> Result<TwoFactorStatus, AppError> {
    answer(
        async {
            let caller = caller_allowing_two_factor_setup().await?;
            let organisation_requires = caller.two_factor_required
                || (caller.is_admin() && ports()?.auth.staff_must_use_two_factor(&caller).await?);
            Ok(TwoFactorStatus {
                enabled: caller.two_factor,
                required: caller.two_factor_required,
                is_staff: caller.is_staff(),
                is_admin: caller.is_admin(),
                organisation_requires,
            })
        }
        .await,
    )
}

/// A new secret to scan, pending until confirmed.
#[server(prefix = "/api", endpoint = "begin_two_factor")]
pub async fn begin_two_factor() -> Result<TwoFactorSetup, AppError> {
    answer(
        async {
            let caller = caller_allowing_two_factor_setup().await?;
            ports()?.auth.begin_two_factor(&caller).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "confirm_two_factor")]
pub async fn confirm_two_factor(code: String) -> Result<(), AppError> {
    answer(
        async {
            let caller = caller_allowing_two_factor_setup().await?;
            ports()?.auth.confirm_two_factor(&caller, &code).await?;
            after_form_post("/account/two-factor?on");
            Ok(())
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "disable_two_factor")]
pub async fn disable_two_factor(code: String) -> Result<(), AppError> {
    answer(
        async {
            let caller = caller_allowing_two_factor_setup().await?;
            ports()?.auth.disable_two_factor(&caller, &code).await?;
            after_form_post("/account/two-factor");
            Ok(())
        }
        .await,
    )
}

/// An admin's rule for all the organisation's staff.
#[server(prefix = "/api", endpoint = "require_staff_two_factor")]
pub async fn require_staff_two_factor(required: Option<String>) -> Result<(), AppError> {
    answer(
        async {
            let caller = caller_allowing_two_factor_setup().await?;
            ports()?
                .auth
                .require_two_factor(&caller, required.is_some())
                .await?;
            after_form_post("/account/two-factor");
            Ok(())
        }
        .await,
    )
}
