//! What every API request passes before its handler: the key (401 without a valid one), the
//! key's rate limit (429), and, per group of routes, the scope the group needs (403).

use super::{
    error::ApiError,
    keys::{ApiKeys, KeyHolder, Scope},
};
use axum::{
    extract::{Request, State},
    http::header,
    middleware::Next,
    response::{IntoResponse, Response},
};
use std::{sync::Arc, time::Instant};

pub use crate::http::limits::RateLimiter;

#[derive(Clone)]
pub struct Gate {
    pub keys: ApiKeys,
    pub limiter: Arc<RateLimiter<i64>>,
}

/// Finds the key, counts the request against it, and hands the holder to what follows.
pub async fn authenticate(State(gate): State<Gate>, mut request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim);
    let holder = match presented {
        Some(presented) => match gate.keys.authenticate(presented).await {
            Ok(Some(holder)) => holder,
            Ok(None) => return ApiError::Unauthenticated.into_response(),
            Err(error) => return ApiError::from(error).into_response(),
        },
        None => return ApiError::Unauthenticated.into_response(),
    };
    if let Err(retry_after_s) = gate.limiter.take(holder.id, Instant::now()) {
        return ApiError::RateLimited { retry_after_s }.into_response();
    }
    request.extensions_mut().insert(holder);
    next.run(request).await
}

/// Lets through only holders of `scope`.
pub async fn require(State(scope): State<Scope>, request: Request, next: Next) -> Response {
    match request.extensions().get::<KeyHolder>() {
        Some(holder) if holder.may(scope) => next.run(request).await,
        Some(_) => ApiError::Forbidden.into_response(),
        None => ApiError::Unauthenticated.into_response(),
    }
}
