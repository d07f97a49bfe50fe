//! The header on every page: the platform's name, who is signed in, and sign-out.

use crate::api::auth::{SignOut, who_am_i};
use crate::domain::i18n::Locale;
use crate::pages::{locale::use_locale, words::*};
use leptos::prelude::*;
use leptos_router::hooks::use_location;

#[component]
pub fn Header() -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    let l = use_locale();
    // Sign-in and sign-out end in a client-side navigation: re-read who is signed in on each.
    let path = use_location().pathname;
    let me = Resource::new(
        move || (path.get(), sign_out.version().get()),
        |_| who_am_i(),
    );
    view! {
        <header class="top">
            <a class="brand" href="/">"Prepaid"</a>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match me.await {
                        Ok(Some(me)) => view! {
                            <nav class="account">
                                {me.is_staff.then(|| view! { <a href="/manage">{MANAGER_CONSOLE.get(l)}</a> })}
                                <a href="/notifications">{NOTICES.get(l)}</a>
                                <span class="who" title=me.email.clone()>{me.display_name.clone()}</span>
                                <ActionForm action=sign_out>
                                    <button type="submit" class="link-button">{SIGN_OUT.get(l)}</button>
                                </ActionForm>
                            </nav>
                        }
                        .into_any(),
                        _ => view! { <nav class="account"><a href="/sign-in">{SIGN_IN.get(l)}</a></nav> }.into_any(),
                    }
                })}
            </Suspense>
        </header>
    }
}

/// The language chooser at the foot of every page: a plain form, so it works before the
/// WebAssembly has loaded; the server remembers the choice and sends the page back in it.
#[component]
pub fn Languages() -> impl IntoView {
    let here = use_locale();
    let path = use_location().pathname;
    view! {
        <footer class="languages">
            <form method="post" action="/api/choose_language" aria-label=LANGUAGE.get(here)>
                <input type="hidden" name="back" value=move || path.get()/>
                {Locale::ALL.into_iter().map(|locale| view! {
                    <button
                        type="submit"
                        name="lang"
                        value=locale.tag()
                        lang=locale.tag()
                        class="link-button"
                        aria-pressed=(locale == here).to_string()
                    >
                        {locale.name()}
                    </button>
                }).collect_view()}
            </form>
        </footer>
    }
}
