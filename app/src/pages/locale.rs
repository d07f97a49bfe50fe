//! The language a page speaks. The server picks it from the request (the language cookie,
//! else the browser's `Accept-Language`) and writes it into `<html lang>`; the browser reads it
//! back from there when it takes the page over, so both sides render the same words.

use crate::domain::i18n::Locale;
use leptos::prelude::*;

/// The request's language; called by the shell (for `<html lang>`) and by `App`.
pub fn request_locale() -> Locale {
    #[cfg(feature = "ssr")]
    {
        use axum::http::{header, request::Parts};
        let Some(parts) = use_context::<Parts>() else {
            return Locale::default();
        };
        let header = |name, separator| {
            parts
                .headers
                .get_all(name)
                .iter()
                .filter_map(|value| value.to_str().ok())
                .collect::<Vec<_>>()
                .join(separator)
        };
        cookie_locale()
            .or_else(|| Locale::from_accept_language(&header(header::ACCEPT_LANGUAGE, ",")))
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        document()
            .document_element()
            .and_then(|html| html.get_attribute("lang"))
            .map(|tag| Locale::from_tag(&tag))
            .unwrap_or_default()
    }
}

/// The language the request's cookie names, if any (the one chosen earlier).
#[cfg(feature = "ssr")]
pub fn cookie_locale() -> Option<Locale> {
    use_context::<axum::http::request::Parts>()?
        .headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(Locale::from_cookies)
}

/// The page's language: as `App` provided it on the server; in an island in the browser,
/// where no context from the page reaches, read back from `<html lang>`.
pub fn use_locale() -> Locale {
    use_context::<Locale>().unwrap_or_else(request_locale)
}
