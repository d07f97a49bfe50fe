//! The browser's side of Web Push, in `public/pwa.js` (`window.prepaidPwa`): asking for
//! permission, subscribing with the platform's VAPID key, unsubscribing; and reading a chosen
//! file's text. Plain JavaScript
//! there keeps web-sys' large push and service-worker bindings out of the WebAssembly.

use crate::domain::notices::NewSubscription;

#[cfg(feature = "hydrate")]
mod js {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen(js_namespace = prepaidPwa)]
    extern "C" {
        #[wasm_bindgen(catch, js_name = chosenFileText)]
        pub async fn chosen_file_text(input: &JsValue) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(catch, js_name = pushSupported)]
        pub async fn push_supported() -> Result<JsValue, JsValue>;
        #[wasm_bindgen(catch, js_name = currentEndpoint)]
        pub async fn current_endpoint() -> Result<JsValue, JsValue>;
        #[wasm_bindgen(catch)]
        pub async fn subscribe(vapid_key: &str) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(catch)]
        pub async fn unsubscribe() -> Result<JsValue, JsValue>;
    }

    /// What a JavaScript error says, for the person who clicked.
    pub fn say(error: JsValue) -> String {
        js_sys::Reflect::get(&error, &"message".into())
            .ok()
            .and_then(|message| message.as_string())
            .or_else(|| error.as_string())
            .unwrap_or_else(|| "the browser refused".to_owned())
    }

    pub fn field(object: &JsValue, name: &str) -> String {
        js_sys::Reflect::get(object, &name.into())
            .ok()
            .and_then(|value| value.as_string())
            .unwrap_or_default()
    }
}

/// The text of the file chosen in the file input an event came from (read in the browser:
/// nothing is uploaded until the page sends it).
#[cfg(feature = "hydrate")]
pub async fn chosen_file_text(target: &wasm_bindgen::JsValue) -> Result<String, String> {
    let text = js::chosen_file_text(target).await.map_err(js::say)?;
    Ok(text.as_string().unwrap_or_default())
}

/// Whether this browser can receive push notices (false on the server and where pwa.js is
/// missing).
pub async fn push_supported() -> bool {
    #[cfg(feature = "hydrate")]
    {
        js::push_supported()
            .await
            .ok()
            .and_then(|value| value.as_bool())
            .unwrap_or(false)
    }
    #[cfg(not(feature = "hydrate"))]
    false
}

/// The endpoint this browser is subscribed with, if it is.
pub async fn current_endpoint() -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        js::current_endpoint()
            .await
            .ok()
            .and_then(|value| value.as_string())
    }
    #[cfg(not(feature = "hydrate"))]
    None
}

/// Asks for permission and subscribes this browser.
pub async fn subscribe(vapid_key: &str) -> Result<NewSubscription, String> {
    #[cfg(feature = "hydrate")]
    {
        let object = js::subscribe(vapid_key).await.map_err(js::say)?;
        Ok(NewSubscription {
            endpoint: js::field(&object, "endpoint"),
            p256dh: js::field(&object, "p256dh"),
            auth: js::field(&object, "auth"),
            label: js::field(&object, "label"),
        })
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = vapid_key;
        Err("push notices are set up in the browser".to_owned())
    }
}

/// Unsubscribes this browser; the endpoint it had, if any.
pub async fn unsubscribe() -> Result<Option<String>, String> {
    #[cfg(feature = "hydrate")]
    {
        let endpoint = js::unsubscribe().await.map_err(js::say)?;
        Ok(endpoint.as_string())
    }
    #[cfg(not(feature = "hydrate"))]
    Ok(None)
}
