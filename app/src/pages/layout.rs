//! The header on every page: the platform's name, who is signed in, and sign-out.

use crate::api::auth::{SignOut, who_am_i};
use leptos::prelude::*;
use leptos_router::hooks::use_location;

#[component]
pub fn Header() -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
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
                                {me.is_staff.then(|| view! { <a href="/manage">"Manager console"</a> })}
                                <a href="/notifications">"Notices"</a>
                                <span class="who" title=me.email.clone()>{me.display_name.clone()}</span>
                                <ActionForm action=sign_out>
                                    <button type="submit" class="link-button">"Sign out"</button>
                                </ActionForm>
                            </nav>
                        }
                        .into_any(),
                        _ => view! { <nav class="account"><a href="/sign-in">"Sign in"</a></nav> }.into_any(),
                    }
                })}
            </Suspense>
        </header>
    }
}
