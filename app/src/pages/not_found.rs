use crate::pages::{locale::use_locale, words::*};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    let l = use_locale();
    view! {
        <Title text=NOT_FOUND.get(l)/>
        <section class="notice">
            <h1>{NOT_FOUND.get(l)}</h1>
            <p>{NOT_FOUND_WHY.get(l)}</p>
            <p><a href="/">{BACK_HOME.get(l)}</a></p>
        </section>
    }
}
