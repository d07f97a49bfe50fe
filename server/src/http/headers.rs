//! Security headers on every response. Pages get a Content-Security-Policy naming a nonce made
//! here for that response alone, which the page's scripts carry (see `app::csp`); anything
//! else that has none gets one that allows nothing to run.

use app::csp::PageNonce;
use axum::{
    extract::{Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, header},
    middleware::Next,
    response::Response,
};
use std::sync::Arc;

/// For responses that set no policy of their own: HTML of ours without scripts (the API's
/// docs page, error texts) may use its own styles and images; nothing else may load anything.
const HTML_WITHOUT_SCRIPTS: &str = "default-src 'none'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const NOTHING: &str = "default-src 'none'; frame-ancestors 'none'";
/// Scripts: a policy on a script matters only when it runs as a worker, where the service
/// worker fetches and caches this origin's pages and bundle.
const WORKER: &str = "default-src 'self'";

pub struct SecurityHeaders {
    /// `Strict-Transport-Security`, sent when the platform's public address is `https://`
    /// (behind a TLS-terminating proxy): browsers then never try plain HTTP again.
    pub hsts: bool,
}

/// For the pages' router: makes the response's nonce before the page renders, hands it to the
/// page, and sends the policy naming it with the HTML that comes back. The header is set here,
/// not by the page through the framework's response options, so a page's scripts and its
/// policy cannot part ways on the way out.
pub async fn page_policy(mut request: Request, next: Next) -> Response {
    let nonce: Arc<str> = leptos::nonce::Nonce::new().to_string().into();
    request
        .extensions_mut()
        .insert(PageNonce(Arc::clone(&nonce)));
    let mut response = next.run(request).await;
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|kind| kind.starts_with("text/html"));
    if html && let Ok(policy) = HeaderValue::from_str(&app::csp::policy(&nonce)) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    response
}

pub async fn add(
    State(settings): State<Arc<SecurityHeaders>>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::REFERRER_POLICY, "same-origin");
    set(
        headers,
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        let kind = headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        let policy = if kind.starts_with("text/html") {
            HTML_WITHOUT_SCRIPTS
        } else if kind.starts_with("text/javascript") || kind.starts_with("application/javascript")
        {
            WORKER
        } else {
            NOTHING
        };
        set(headers, header::CONTENT_SECURITY_POLICY, policy);
    }
    if settings.hsts {
        set(
            headers,
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=63072000; includeSubDomains",
        );
    }
    response
}

fn set(headers: &mut HeaderMap, name: HeaderName, value: &'static str) {
    headers
        .entry(name)
        .or_insert(HeaderValue::from_static(value));
}
