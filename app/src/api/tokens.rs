//! Keypad meters' tokens: a resident's own (and sending one again), a payment's, and a meter's
//! key and engineering tokens for the managers of its site.

use crate::{
    domain::tokens::{MeterTokens, NewDeviceKey, TokenView},
    error::AppError,
};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr::{after_form_post, answer, caller, ports};

/// An account's tokens, for whoever may see the account.
#[server(prefix = "/api", endpoint = "account_tokens")]
pub async fn account_tokens(account: String) -> Result<Vec<TokenView>, AppError> {
    use crate::domain::access::AccountAction;
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let (id, _) =
                super::accounts::guard::allow(&ports, &caller, &account, AccountAction::View)
                    .await?;
            ports.tokens.account_tokens(id).await
        }
        .await,
    )
}

/// Sends one of the account's tokens to its resident's devices again.
#[server(prefix = "/api", endpoint = "resend_token")]
pub async fn resend_token(account: String, token: String) -> Result<(), AppError> {
    use crate::domain::access::AccountAction;
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let (id, _) =
                super::accounts::guard::allow(&ports, &caller, &account, AccountAction::View)
                    .await?;
            ports.tokens.resend(id, token.trim()).await?;
            after_form_post(&format!("/accounts/{account}?token_sent#tokens"));
            Ok(())
        }
        .await,
    )
}

/// A meter's token set-up and history, for the staff who may see the meter.
#[server(prefix = "/api", endpoint = "meter_tokens")]
pub async fn load_meter_tokens(meter: String) -> Result<MeterTokens, AppError> {
    use crate::domain::MeterAction;
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let (id, place) =
                super::fleet::guard::meter(&ports, &caller, &meter, MeterAction::View).await?;
            if place.occupant.is_some() {
                return Err(AppError::Forbidden); // residents see their tokens on the account
            }
            ports.tokens.meter_tokens(id).await
        }
        .await,
    )
}

/// Makes a meter a keypad meter (managers). A generated key is answered once, to be
/// programmed into the device; it is stored sealed and never shown again.
#[server(prefix = "/api", endpoint = "provision_token_meter")]
pub async fn provision_token_meter(
    meter: String,
    vendor: String,
    key: String,
    starting_code: String,
    #[server(default)] extended: Option<String>,
    #[server(default)] restricted: Option<String>,
    value_step: String,
) -> Result<Option<NewDeviceKey>, AppError> {
    use crate::domain::{MeterAction, tokens::TokenSetup};
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let (id, _) =
                super::fleet::guard::meter(&ports, &caller, &meter, MeterAction::Manage).await?;
            let setup = TokenSetup::parse(
                &vendor,
                &key,
                &starting_code,
                extended.is_some(),
                restricted.is_some(),
                &value_step,
            )
            .map_err(AppError::Invalid)?;
            ports.tokens.provision(id, setup, caller.user_id).await
        }
        .await,
    )
}

/// Asks for an engineering token (managers): counter sync and disabling pay-as-you-go are made
/// at once; setting or clearing credit waits for a second manager.
#[server(prefix = "/api", endpoint = "order_token")]
pub async fn order_token(meter: String, kind: String, value: String) -> Result<String, AppError> {
    use crate::domain::MeterAction;
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let (id, _) =
                super::fleet::guard::meter(&ports, &caller, &meter, MeterAction::Manage).await?;
            let value = match value.trim() {
                "" => None,
                raw => Some(raw.parse::<u32>().map_err(|_| {
                    AppError::Invalid("The value is a whole number of steps.".into())
                })?),
            };
            let token = ports
                .tokens
                .order(id, kind.trim(), value, caller.user_id)
                .await?;
            after_form_post(&format!("/meters/{meter}#tokens"));
            Ok(token)
        }
        .await,
    )
}

/// Approves a token another manager asked for.
#[server(prefix = "/api", endpoint = "approve_token")]
pub async fn approve_token(meter: String, token: String) -> Result<(), AppError> {
    use crate::domain::MeterAction;
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let (id, _) =
                super::fleet::guard::meter(&ports, &caller, &meter, MeterAction::Manage).await?;
            ports
                .tokens
                .approve(id, token.trim(), caller.user_id)
                .await?;
            after_form_post(&format!("/meters/{meter}#tokens"));
            Ok(())
        }
        .await,
    )
}
