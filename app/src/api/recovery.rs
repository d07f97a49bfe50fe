//! Getting in without the password: a reset link by e-mail or a code by SMS, signing in with a
//! phone number and an SMS code, and a person confirming their own phone number. The forms
//! post themselves; each step redirects to the next page.

use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr::{answer, caller, client_addr, ports};

/// The next page's address with a phone number in its query (`+` would read as a space).
#[cfg(feature = "ssr")]
fn with_phone(path: &str, phone: &crate::domain::messaging::PhoneNumber) -> String {
    format!("{path}phone={}", phone.as_str().replace('+', "%2B"))
}

/// Asks for a reset link (an e-mail address) or code (a phone number). The next page says a
/// message was sent if the address is known, whether or not it is.
#[server(prefix = "/api", endpoint = "request_password_reset")]
pub async fn request_password_reset(contact: String) -> Result<(), AppError> {
    answer(
        async {
            let client = client_addr().await?;
            match ports()?.auth.request_reset(&contact, client).await? {
                Some(phone) => leptos_axum::redirect(&with_phone("/reset?", &phone)),
                None => leptos_axum::redirect("/forgot?sent"),
            }
            Ok(())
        }
        .await,
    )
}

/// The masked address a reset or invitation link went to, while it still works.
#[server(prefix = "/api", endpoint = "check_reset_link")]
pub async fn check_reset_link(token: String) -> Result<Option<String>, AppError> {
    answer(ports()?.auth.check_reset_link(&token).await)
}

/// A new password with a link, or with a phone number and its code.
#[server(prefix = "/api", endpoint = "reset_password")]
pub async fn reset_password(
    token: Option<String>,
    phone: Option<String>,
    code: Option<String>,
    new: String,
    confirm: String,
) -> Result<(), AppError> {
    answer(
        async {
            if new != confirm {
                return Err(AppError::invalid(
                    "The new password and its confirmation differ.",
                ));
            }
            let auth = ports()?.auth;
            match (token, phone, code) {
                (Some(token), _, _) => auth.reset_with_link(&token, &new).await?,
                (None, Some(phone), Some(code)) => {
                    auth.reset_with_code(&phone, &code, &new).await?
                }
                _ => {
                    return Err(AppError::invalid(
                        "Open the link or type the code you were sent.",
                    ));
                }
            };
            leptos_axum::redirect("/sign-in?reset");
            Ok(())
        }
        .await,
    )
}

/// Sends a sign-in code to a resident's phone.
#[server(prefix = "/api", endpoint = "send_sign_in_code")]
pub async fn send_sign_in_code(phone: String) -> Result<(), AppError> {
    answer(
        async {
            let client = client_addr().await?;
            let phone = ports()?.auth.send_sign_in_code(&phone, client).await?;
            leptos_axum::redirect(&with_phone("/sign-in/phone?sent&", &phone));
            Ok(())
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "sign_in_with_code")]
pub async fn sign_in_with_code(phone: String, code: String) -> Result<(), AppError> {
    answer(
        async {
            let client = client_addr().await?;
            let user = ports()?
                .auth
                .sign_in_with_code(&phone, &code, client)
                .await?;
            super::two_factor::after_first_factor(user).await
        }
        .await,
    )
}

/// Sends a code to a number the signed-in person wants notices and sign-in codes on.
#[server(prefix = "/api", endpoint = "send_phone_code")]
pub async fn send_phone_code(phone: String) -> Result<(), AppError> {
    answer(
        async {
            let caller = caller().await?;
            let client = client_addr().await?;
            let phone = ports()?
                .auth
                .send_phone_code(&caller, &phone, client)
                .await?;
            leptos_axum::redirect(&with_phone("/notifications?", &phone));
            Ok(())
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "confirm_phone")]
pub async fn confirm_phone(code: String) -> Result<(), AppError> {
    answer(
        async {
            let caller = caller().await?;
            ports()?.auth.confirm_phone(&caller, &code).await?;
            leptos_axum::redirect("/notifications?saved");
            Ok(())
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "remove_phone")]
pub async fn remove_phone() -> Result<(), AppError> {
    answer(
        async {
            let caller = caller().await?;
            ports()?.auth.remove_phone(&caller).await?;
            leptos_axum::redirect("/notifications?saved");
            Ok(())
        }
        .await,
    )
}
