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
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Instant,
};

/// A token bucket per key: `per_minute` requests a minute on average, in bursts of up to a
/// quarter of that. Kept in this process's memory: with several instances each allows it.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<i64, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute: per_minute.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn capacity(&self) -> f64 {
        f64::from((self.per_minute / 4).max(10))
    }

    /// Takes one request from the key's bucket, or says how many seconds until it may.
    pub fn take(&self, key: i64, now: Instant) -> Result<(), u64> {
        let rate = f64::from(self.per_minute) / 60.0;
        let capacity = self.capacity();
        let mut buckets = self.buckets.lock().expect("rate limiter lock");
        let (tokens, last) = buckets.entry(key).or_insert((capacity, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * rate).min(capacity);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / rate).ceil().max(1.0) as u64)
        }
    }
}

#[derive(Clone)]
pub struct Gate {
    pub keys: ApiKeys,
    pub limiter: Arc<RateLimiter>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_bucket_allows_a_burst_then_refills_at_the_rate() {
        let limiter = RateLimiter::new(120);
        let start = Instant::now();
        let burst = (0..100)
            .take_while(|_| limiter.take(1, start).is_ok())
            .count();
        assert_eq!(burst, 30);
        assert_eq!(limiter.take(1, start), Err(1));
        // Another key has a bucket of its own.
        assert!(limiter.take(2, start).is_ok());
        // Two a second come back.
        let later = start + Duration::from_secs(1);
        assert!(limiter.take(1, later).is_ok());
        assert!(limiter.take(1, later).is_ok());
        assert!(limiter.take(1, later).is_err());
    }
}
