//! The organisation's people, for its admins: who holds which roles where, and switching a
//! person's sign-in off when they leave (or on again when they come back).

use crate::{
    domain::people::{OrgPeople, Switched},
    error::AppError,
};
use leptos::prelude::*;

/// The organisation's staff and everyone whose sign-in is switched off.
#[server(prefix = "/api", endpoint = "organisation_people")]
pub async fn load_people() -> Result<OrgPeople, AppError> {
    use super::ssr::{admin, answer, ports};
    answer(
        async {
            let caller = admin().await?;
            let mut people = ports()?.auth.organisation_people(caller.org_id).await?;
            people.viewer = caller.user_id;
            Ok(people)
        }
        .await,
    )
}

/// Switches the sign-in of the person with this e-mail address off (`active` is "false") or
/// on ("true"). Sent twice, the second changes nothing.
#[server(prefix = "/api", endpoint = "set_person_active")]
pub async fn set_person_active(email: String, active: String) -> Result<Switched, AppError> {
    use super::ssr::{admin, answer, ports};
    use crate::domain::Email;
    answer(
        async {
            let caller = admin().await?;
            let active = match active.trim() {
                "true" => true,
                "false" => false,
                _ => {
                    return Err(AppError::invalid(
                        "Say whether to switch the sign-in on or off.",
                    ));
                }
            };
            let email = Email::parse(&email).map_err(AppError::invalid)?;
            ports()?
                .auth
                .set_person_active(&caller, caller.org_id, &email, active)
                .await
        }
        .await,
    )
}
