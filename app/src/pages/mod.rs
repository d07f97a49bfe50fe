//! The pages: residents' under `resident/`, staff's under `manager/`, shared ones here.

pub mod accounts;
pub mod faults;
pub mod fleet;
pub mod layout;
pub mod live;
pub mod locale;
pub mod manager;
pub mod not_found;
pub mod notifications;
pub mod password;
pub mod payments;
pub mod payouts;
pub mod planner;
pub mod resident;
pub mod sign_in;
pub mod usage;
pub mod words;

use crate::error::AppError;
use leptos::prelude::*;
use leptos_router::components::Redirect;

/// How a page answers an error from its data: signed-out visitors go to the sign-in page,
/// people with an initial password to the password page, everything else is said in words.
pub fn error_view(error: AppError) -> AnyView {
    let l = locale::use_locale();
    match error {
        AppError::Unauthenticated => view! { <Redirect path="/sign-in"/> }.into_any(),
        AppError::PasswordChangeRequired => {
            view! { <Redirect path="/account/password"/> }.into_any()
        }
        AppError::Forbidden => view! {
            <section class="notice notice-denied" role="alert">
                <h1>{words::NOT_ALLOWED.get(l)}</h1>
                <p>{words::NOT_ALLOWED_WHY.get(l)}</p>
                <p><a href="/">{words::BACK_HOME.get(l)}</a></p>
            </section>
        }
        .into_any(),
        other => view! {
            <section class="notice notice-error" role="alert">
                <h1>{words::SOMETHING_WRONG.get(l)}</h1>
                <p>{other.to_string()}</p>
            </section>
        }
        .into_any(),
    }
}

/// The message under a form after its action failed; nothing while it has not.
pub fn form_error<T, S>(value: S) -> impl IntoView
where
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
    T: 'static,
{
    move || {
        value.get().and_then(Result::err).map(|error| {
            view! { <p class="form-error" role="alert">{error.to_string()}</p> }
        })
    }
}
