//! Pages that keep themselves current: a timer that runs only in the browser, only while the
//! page is visible and nobody is typing into it, and stops with the component that started it.

use leptos::prelude::*;
use std::time::Duration;

/// How often a resident's figures are asked for again. Balances move with readings (every few
/// minutes) and payments (seconds after the provider confirms): a quarter minute is prompt for
/// the one without making the other a load.
pub const REFRESH: Duration = Duration::from_secs(10);

/// Calls `tick` every `period` while the page is shown, no text field has the focus and none
/// holds text not yet sent (a refresh re-renders the page's forms and would lose what is
/// being typed). Nothing happens during server rendering: effects run only once the
/// WebAssembly has hydrated the page.
pub fn every(period: Duration, tick: impl Fn() + Clone + 'static) {
    Effect::new(move |_| {
        let tick = tick.clone();
        let handle = set_interval_with_handle(
            move || {
                // A hidden tab asks for nothing; it catches up at its next tick once shown.
                if !document().hidden() && !typing() && !unsent() {
                    tick();
                }
            },
            period,
        );
        if let Ok(handle) = handle {
            on_cleanup(move || handle.clear());
        }
    });
}

/// A signal that counts ticks of [`every`], for resources that refetch on it.
pub fn ticker(period: Duration) -> RwSignal<u64> {
    let tick = RwSignal::new(0_u64);
    every(period, move || tick.update(|n| *n += 1));
    tick
}

/// HTML the server drew, asked for again every `period` by `fetch` and kept in the signal
/// when it changed; one request at a time, and a failed one (offline, server restarting)
/// keeps what is shown.
pub fn redrawn<F, Fut>(initial: String, period: Duration, fetch: F) -> RwSignal<String>
where
    F: Fn() -> Fut + Clone + 'static,
    Fut: std::future::Future<Output = Result<String, crate::error::AppError>> + 'static,
{
    let html = RwSignal::new(initial);
    let asking = StoredValue::new(false);
    every(period, move || {
        if asking.get_value() {
            return;
        }
        asking.set_value(true);
        let fetch = fetch.clone();
        leptos::task::spawn_local(async move {
            if let Ok(fresh) = fetch().await
                && fresh != html.get_untracked()
            {
                html.set(fresh);
            }
            asking.set_value(false);
        });
    });
    html
}

/// Is the focus in a field someone types into?
fn typing() -> bool {
    document().active_element().is_some_and(|element| {
        matches!(
            element.tag_name().to_ascii_uppercase().as_str(),
            "INPUT" | "TEXTAREA" | "SELECT"
        )
    })
}

/// Has text been typed into a field and not sent? Someone who typed a note and then looked
/// elsewhere on the page (the focus gone) would lose it to a redraw just the same.
fn unsent() -> bool {
    use leptos::wasm_bindgen::JsCast;
    use leptos::web_sys::{HtmlInputElement, HtmlTextAreaElement};
    const TYPED: [&str; 7] = [
        "text", "search", "number", "email", "tel", "url", "password",
    ];
    let changed = |tag: &str| {
        let fields = document().get_elements_by_tag_name(tag);
        (0..fields.length())
            .filter_map(|index| fields.item(index))
            .any(|field| {
                if let Some(input) = field.dyn_ref::<HtmlInputElement>() {
                    TYPED.contains(&input.type_().as_str())
                        && input.value() != input.default_value()
                } else if let Some(area) = field.dyn_ref::<HtmlTextAreaElement>() {
                    area.default_value()
                        .is_ok_and(|default| default != area.value())
                } else {
                    false
                }
            })
    };
    changed("input") || changed("textarea")
}
