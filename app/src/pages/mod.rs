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
pub mod outbox;
pub mod password;
pub mod payments;
pub mod payouts;
pub mod planner;
pub mod recovery;
pub mod resident;
pub mod sign_in;
pub mod statement;
pub mod tokens;
pub mod two_factor;
pub mod usage;
pub mod words;

use crate::error::AppError;
use leptos::prelude::*;

/// How a page answers an error from its data: signed-out visitors go to the sign-in page,
/// people with an initial password to the password page, everything else is said in words.
pub fn error_view(error: AppError) -> AnyView {
    let l = locale::use_locale();
    match error {
        AppError::Unauthenticated => redirect("/sign-in"),
        AppError::PasswordChangeRequired => redirect("/account/password"),
        AppError::TwoFactorSetupRequired => redirect("/account/two-factor"),
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

/// Empties `form` each time its action succeeds, so that the next entry starts blank. For
/// forms that add or send something: the last entry's values left in place invite sending it
/// again with a second click, or editing one field and sending the rest unread.
pub fn reset_after_success<T, S>(value: S, form: NodeRef<leptos::html::Form>)
where
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
    T: 'static,
{
    Effect::new(move |_| {
        if matches!(value.get(), Some(Ok(_)))
            && let Some(form) = form.get_untracked()
        {
            form.reset();
        }
    });
}

/// The page's `:id`, read on the server where the router runs (islands get it as a prop).
pub fn route_id() -> String {
    route_id_named("id")
}

/// A named part of the page's route (`:token`).
pub fn route_id_named(name: &str) -> String {
    leptos_router::hooks::use_params_map()
        .read_untracked()
        .get(name)
        .unwrap_or_default()
}

/// Sends the browser elsewhere: from the server with the response's status and `Location`,
/// from an island (no router runs in the browser) by loading the page.
fn redirect(path: &'static str) -> AnyView {
    #[cfg(feature = "ssr")]
    {
        view! { <leptos_router::components::Redirect path/> }.into_any()
    }
    #[cfg(not(feature = "ssr"))]
    {
        go(path);
        ().into_any()
    }
}

/// Loads `url` in the browser: no client-side router runs in islands mode.
pub fn go(url: &str) {
    let _ = window().location().set_href(url);
}

/// The element an event came from, for islands that listen on a wrapper around markup the
/// server drew (one listener for every control inside).
pub fn event_element(ev: &leptos::ev::Event) -> Option<leptos::web_sys::Element> {
    use leptos::wasm_bindgen::JsCast;
    ev.target()
        .and_then(|target| target.dyn_into::<leptos::web_sys::Element>().ok())
}

/// Text percent-encoded for a URL's query or a `data:` URL: all but unreserved characters.
pub fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// Called first thing by every island: once hydrated it counts itself on `<body>` as
/// `data-islands`, so a test (or pwa.js) can wait until every `leptos-island` is live,
/// lazily loaded ones included.
pub fn island_ready() {
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let count = body
                .get_attribute("data-islands")
                .and_then(|count| count.parse::<u32>().ok())
                .unwrap_or(0);
            let _ = body.set_attribute("data-islands", &(count + 1).to_string());
        }
    });
}
