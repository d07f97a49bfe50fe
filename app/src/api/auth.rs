//! Signing in and out, the signed-in person, passwords and creating accounts.

use crate::{
    domain::views::{CreatedAccount, Me},
    error::AppError,
};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr::{
    answer, caller, caller_allowing_initial_password, ports, session, session_failed,
};

/// Signs in with e-mail and password and sends the person to their home page.
#[server(prefix = "/api", endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String) -> Result<(), AppError> {
    answer(
        async {
            let client = super::ssr::client_addr().await?;
            let ports = ports()?;
            let user = ports.auth.sign_in(&email, &password, client).await?;
            super::two_factor::after_first_factor(user).await
        }
        .await,
    )
}

/// Signs the person in on this browser (with whatever proof they gave) and sends them home.
#[cfg(feature = "ssr")]
pub(crate) async fn start_session(user: crate::domain::UserId) -> Result<(), AppError> {
    let ports = ports()?;
    let session = session().await?;
    // A fresh id at every sign-in: an id planted before sign-in (session fixation) is
    // worthless after it.
    session.cycle_id().await.map_err(session_failed)?;
    session
        .insert(super::ssr::USER_KEY, user.0)
        .await
        .map_err(session_failed)?;
    super::ssr::mark_signed_in().await?;
    let caller = ports
        .auth
        .caller(user)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    // The pages speak the person's language: the one they chose for their notices, else the
    // one they picked before signing in, else their site's.
    let settings = ports.notifications.settings(&caller).await?;
    let chosen = crate::pages::locale::cookie_locale();
    super::ssr::remember_language(Some(
        settings
            .preferences
            .locale
            .or(chosen)
            .unwrap_or(settings.site_locale),
    ));
    leptos_axum::redirect(home_path(caller.must_change_password, caller.is_staff()));
    Ok(())
}

/// Where a person lands after signing in.
pub fn home_path(must_change_password: bool, is_staff: bool) -> &'static str {
    match (must_change_password, is_staff) {
        (true, _) => "/account/password",
        (false, true) => "/manage",
        (false, false) => "/",
    }
}

/// Signs out: the session and its cookie are gone.
#[server(prefix = "/api", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    answer(
        async {
            let session = session().await?;
            // This browser's push subscription goes with the person signing out, and so does
            // whatever the browser cached of their pages (shared campus PCs).
            let endpoint = session
                .get::<String>(super::notifications::PUSH_ENDPOINT_KEY)
                .await
                .map_err(session_failed)?;
            if let (Some(endpoint), Ok(caller)) =
                (endpoint, caller_allowing_initial_password().await)
            {
                ports()?
                    .notifications
                    .unsubscribe(&caller, &endpoint)
                    .await?;
            }
            session.flush().await.map_err(session_failed)?;
            super::ssr::remember_language(None);
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.insert_header(
                    axum::http::HeaderName::from_static("clear-site-data"),
                    axum::http::HeaderValue::from_static("\"cache\", \"storage\""),
                );
            }
            leptos_axum::redirect("/sign-in");
            Ok(())
        }
        .await,
    )
}

/// The signed-in person, or `None`. Never an error for a visitor who is not signed in.
#[server(prefix = "/api", endpoint = "me")]
pub async fn who_am_i() -> Result<Option<Me>, AppError> {
    answer(
        async {
            match caller_allowing_initial_password().await {
                Ok(caller) => Ok(Some(Me {
                    is_staff: caller.is_staff(),
                    display_name: caller.display_name,
                    email: caller.email,
                    must_change_password: caller.must_change_password,
                })),
                Err(AppError::Unauthenticated) => Ok(None),
                Err(other) => Err(other),
            }
        }
        .await,
    )
}

/// Replaces the caller's password; required after signing in with an initial password.
#[server(prefix = "/api", endpoint = "change_password")]
pub async fn change_password(
    current: String,
    new: String,
    confirm: String,
) -> Result<(), AppError> {
    use crate::domain::NewPassword;
    answer(
        async {
            let caller = caller_allowing_initial_password().await?;
            if new != confirm {
                return Err(AppError::invalid(
                    "The new password and its confirmation differ.",
                ));
            }
            let new = NewPassword::parse(&new, &caller.email).map_err(AppError::invalid)?;
            if new.expose() == current {
                return Err(AppError::invalid(
                    "Choose a password different from the current one.",
                ));
            }
            ports()?
                .auth
                .change_password(&caller, &current, new)
                .await?;
            // This session goes on under a new id; the person's other sessions signed in before
            // the change are over (see `caller`).
            session().await?.cycle_id().await.map_err(session_failed)?;
            super::ssr::mark_signed_in().await?;
            leptos_axum::redirect(home_path(false, caller.is_staff()));
            Ok(())
        }
        .await,
    )
}

/// Creates an account for someone else: a resident moving into a unit, or staff on a site
/// (or, for admins, another admin). Nobody can sign themselves up.
#[server(prefix = "/api", endpoint = "create_account")]
pub async fn create_account(
    email: String,
    display_name: String,
    role: String,
    site: String,
    unit: String,
    phone: Option<String>,
    invite: Option<String>,
) -> Result<CreatedAccount, AppError> {
    use crate::{
        domain::{
            Email, Role, SiteId, UnitId,
            access::NewAccount,
            messaging::{Channel, PhoneNumber},
        },
        ports::NewAccountRequest,
    };
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let email = Email::parse(&email).map_err(AppError::invalid)?;
            let display_name = display_name.trim().to_owned();
            if display_name.is_empty() || display_name.chars().count() > 100 {
                return Err(AppError::invalid(
                    "Enter the person's name (at most 100 characters).",
                ));
            }
            let phone = phone
                .as_deref()
                .filter(|raw| !raw.trim().is_empty())
                .map(PhoneNumber::parse)
                .transpose()
                .map_err(AppError::invalid)?;
            let invite_by = match invite.as_deref().map(str::trim).unwrap_or_default() {
                "" | "none" => None,
                "email" => Some(Channel::Email),
                "sms" if phone.is_some() => Some(Channel::Sms),
                "sms" => {
                    return Err(AppError::invalid(
                        "Give the mobile number the invitation should go to.",
                    ));
                }
                _ => return Err(AppError::invalid("Choose how to send the invitation.")),
            };
            let account = match role.trim() {
                "resident" => NewAccount::Resident,
                other => NewAccount::Staff(other.parse::<Role>().map_err(AppError::invalid)?),
            };
            let (site, unit) = match account {
                NewAccount::Resident => {
                    let unit: UnitId = unit.parse().map_err(|_| {
                        AppError::invalid("Choose the unit the resident moves into.")
                    })?;
                    let (site, org) = ports
                        .directory
                        .unit_site(unit)
                        .await?
                        .ok_or(AppError::Forbidden)?;
                    (Some((site, org)), Some(unit))
                }
                NewAccount::Staff(role) if role.is_per_site() => {
                    let site: SiteId = site
                        .parse()
                        .map_err(|_| AppError::invalid("Choose the site for this role."))?;
                    let org = ports
                        .directory
                        .site_org(site)
                        .await?
                        .ok_or(AppError::Forbidden)?;
                    (Some((site, org)), None)
                }
                NewAccount::Staff(_) => (None, None),
            };
            // Unknown units and sites answer like foreign ones: Forbidden, so ids cannot be probed.
            if !caller.may_create(account, site) {
                return Err(AppError::Forbidden);
            }
            let request = NewAccountRequest {
                org: caller.org_id,
                email,
                display_name,
                account,
                site: site.map(|(site, _)| site),
                unit,
                phone,
                invite_by,
            };
            let created = ports.auth.create_account(&caller, request).await?;
            if let Some(unit) = unit {
                // Move-in: the new resident's prepaid accounts open now.
                ports.accounts.move_in(unit).await?;
            }
            Ok(created)
        }
        .await,
    )
}

/// Switches the pages to another language (the chooser at the foot of every page, a plain
/// form so it works before the WebAssembly has loaded), then goes back to the page it was
/// sent from. A signed-in person's notices follow.
#[server(prefix = "/api", endpoint = "choose_language")]
pub async fn choose_language(lang: String, back: String) -> Result<(), AppError> {
    use crate::domain::i18n::Locale;
    answer(
        async {
            let locale = Locale::parse(&lang)
                .ok_or_else(|| AppError::invalid("Choose one of the languages listed."))?;
            if let Ok(caller) = caller().await {
                let ports = ports()?;
                let mut preferences = ports.notifications.settings(&caller).await?.preferences;
                preferences.locale = Some(locale);
                ports
                    .notifications
                    .save_preferences(&caller, preferences)
                    .await?;
            }
            super::ssr::remember_language(Some(locale));
            leptos_axum::redirect(local_path(&back));
            Ok(())
        }
        .await,
    )
}

/// `back` when it is a path on this site; the home page otherwise, so the chooser cannot be
/// made to send people elsewhere (`//evil.example`, `https://…`).
pub fn local_path(back: &str) -> &str {
    let on_site = back.starts_with('/') && !back.starts_with("//") && !back.starts_with("/\\");
    if on_site { back } else { "/" }
}

#[cfg(test)]
mod tests {
    use super::{home_path, local_path};

    #[test]
    fn the_language_chooser_only_goes_back_to_this_site() {
        assert_eq!(local_path("/accounts/7?span=day"), "/accounts/7?span=day");
        assert_eq!(local_path("//evil.example/x"), "/");
        assert_eq!(local_path("/\\evil.example"), "/");
        assert_eq!(local_path("https://evil.example"), "/");
        assert_eq!(local_path(""), "/");
    }

    #[test]
    fn people_land_where_their_role_works() {
        assert_eq!(home_path(true, true), "/account/password");
        assert_eq!(home_path(false, true), "/manage");
        assert_eq!(home_path(false, false), "/");
    }
}
