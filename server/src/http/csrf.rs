//! Cross-site request forgery defence: a state-changing request must come from a page of
//! this platform, as its `Origin` (or, failing that, `Referer`) header shows. Browsers set
//! these and scripts on other sites cannot forge them. A request with neither is refused.

use axum::{
    extract::{Request, State},
    http::{HeaderMap, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use std::sync::Arc;

/// The origins accepted besides the request's own host.
#[derive(Clone, Debug, Default)]
pub struct AllowedOrigins {
    pub public_origin: Option<String>,
}

pub async fn check(
    State(allowed): State<Arc<AllowedOrigins>>,
    request: Request,
    next: Next,
) -> Response {
    if is_safe(request.method()) || same_origin(request.headers(), &allowed) {
        return next.run(request).await;
    }
    tracing::warn!(
        method = %request.method(),
        path = %request.uri().path(),
        "refused a state-changing request from another origin"
    );
    (
        StatusCode::FORBIDDEN,
        "This request did not come from a page of this site.",
    )
        .into_response()
}

fn is_safe(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

pub fn same_origin(headers: &HeaderMap, allowed: &AllowedOrigins) -> bool {
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok())
        .filter(|origin| *origin != "null")
        .map(str::to_owned)
        .or_else(|| {
            let referer = headers.get(header::REFERER)?.to_str().ok()?;
            origin_of(referer)
        });
    let Some(origin) = origin else { return false };
    if allowed.public_origin.as_deref() == Some(origin.as_str()) {
        return true;
    }
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok());
    match (host, origin.split_once("://")) {
        (Some(host), Some((scheme, authority))) => {
            matches!(scheme, "http" | "https") && authority.eq_ignore_ascii_case(host)
        }
        _ => false,
    }
}

/// `scheme://authority` of a URL, or `None` if it has none.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    (!authority.is_empty()).then(|| format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn the_sites_own_origin_passes() {
        let h = headers(&[
            (header::HOST, "127.0.0.1:3000"),
            (header::ORIGIN, "http://127.0.0.1:3000"),
        ]);
        assert!(same_origin(&h, &AllowedOrigins::default()));
    }

    #[test]
    fn another_origin_is_refused() {
        let h = headers(&[
            (header::HOST, "127.0.0.1:3000"),
            (header::ORIGIN, "http://evil.example"),
        ]);
        assert!(!same_origin(&h, &AllowedOrigins::default()));
    }

    #[test]
    fn a_missing_or_null_origin_falls_back_to_the_referer_or_is_refused() {
        let host = (header::HOST, "127.0.0.1:3000");
        assert!(!same_origin(
            &headers(std::slice::from_ref(&host)),
            &AllowedOrigins::default()
        ));
        assert!(!same_origin(
            &headers(&[host.clone(), (header::ORIGIN, "null")]),
            &AllowedOrigins::default()
        ));
        let via_referer = headers(&[host, (header::REFERER, "http://127.0.0.1:3000/sign-in?x=1")]);
        assert!(same_origin(&via_referer, &AllowedOrigins::default()));
    }

    #[test]
    fn the_configured_public_origin_passes_behind_a_proxy_that_rewrites_host() {
        let h = headers(&[
            (header::HOST, "10.0.0.5:3000"),
            (header::ORIGIN, "https://prepaid.example.org"),
        ]);
        let allowed = AllowedOrigins {
            public_origin: Some("https://prepaid.example.org".into()),
        };
        assert!(same_origin(&h, &allowed));
        assert!(!same_origin(&h, &AllowedOrigins::default()));
    }
}
