//! Server-function errors that arise before the function runs (form fields missing or
//! malformed) leave the framework as 500s. Their body is our `AppError`: answer with its own
//! status instead, so malformed input is a 4xx, never a 500.

use app::error::AppError;
use axum::{body::Body, extract::Request, http::StatusCode, middleware::Next, response::Response};

const SERVER_FN_ERROR_HEADER: &str = "serverfnerror";
const MAX_ERROR_BODY: usize = 64 * 1024;

pub async fn status_from_body(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        return Response::from_parts(parts, Body::empty());
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes)
        && let Ok(status) = StatusCode::from_u16(error.status())
    {
        parts.status = status;
    }
    Response::from_parts(parts, Body::from(bytes))
}
