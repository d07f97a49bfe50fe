//! The Content-Security-Policy of every page: scripts run only if they carry this response's
//! nonce (the hydration script, the PWA helper) or were loaded by one that did (the wasm
//! bundle's JS, with `'strict-dynamic'`), and WebAssembly may be compiled; everything else
//! comes from this origin, and no other site may frame the page.

/// The policy for a page whose inline scripts carry `nonce`.
pub fn policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; \
         script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         worker-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The nonce the server made for one response, handed to the page that renders it through the
/// request's extensions. The server sends the policy naming it once the page is rendered, so
/// the header and the page's script tags come from one value that never leaves the request.
#[cfg(feature = "ssr")]
#[derive(Clone, Debug)]
pub struct PageNonce(pub std::sync::Arc<str>);

/// Gives this page's scripts the nonce the server made for the response. Without one (a
/// router built without the server's page layer) the page gets a nonce no policy names, so
/// its scripts are refused rather than allowed.
#[cfg(feature = "ssr")]
pub fn protect_page() {
    use leptos::{nonce::Nonce, prelude::*};
    let given = use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<PageNonce>().cloned());
    match given {
        Some(PageNonce(nonce)) => provide_context(Nonce::from_value(nonce)),
        None => {
            tracing::error!("a page rendered without the nonce its policy needs");
            leptos::nonce::provide_nonce();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_need_the_nonce_and_nothing_may_frame_the_page() {
        let policy = policy("abc");
        assert!(policy.contains("script-src 'nonce-abc' 'strict-dynamic' 'wasm-unsafe-eval';"));
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(!policy.contains("unsafe-inline"));
        assert!(!policy.contains(" 'unsafe-eval'"));
    }
}
