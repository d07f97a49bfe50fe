#![recursion_limit = "256"]

//! The browser entry: takes over the server-rendered page (hydration). Hydration waits for
//! the code of a lazily loaded route (the staff pages) when the page opened on one.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_lazy(app::App);
}
