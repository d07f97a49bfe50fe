//! Pages that keep themselves current: a timer that runs only in the browser, only while the
//! page is visible, and stops with the component that started it.

use leptos::prelude::*;
use std::time::Duration;

/// How often a resident's figures are asked for again. Balances move with readings (every few
/// minutes) and payments (seconds after the provider confirms): a quarter minute is prompt for
/// the one without making the other a load.
pub const REFRESH: Duration = Duration::from_secs(10);

/// Calls `tick` every `period` while the page is shown. Nothing happens during server
/// rendering: effects run only once the WebAssembly has hydrated the page.
pub fn every(period: Duration, tick: impl Fn() + Clone + 'static) {
    Effect::new(move |_| {
        let tick = tick.clone();
        let handle = set_interval_with_handle(
            move || {
                // A hidden tab asks for nothing; it catches up at its next tick once shown.
                if !document().hidden() {
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
