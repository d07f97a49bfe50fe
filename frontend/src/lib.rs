#![recursion_limit = "256"]

//! The browser entry. Pages are rendered on the server; only their islands (the parts that
//! change in the browser: live balances, previews, charts, forms with answers) are taken over
//! here, each from its own chunk of WebAssembly fetched when a page has one.

// Links the islands `app` declares into this module, where `hydrate_islands` finds them.
#[allow(unused_imports)]
use app::*;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    // The eager islands are hydrated; lazy ones count themselves in as they are (see
    // `app::pages::island_ready`). The marker tells pwa.js and the tests the page is live.
    if let Some(body) = leptos::prelude::document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
