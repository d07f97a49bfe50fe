//! Limits every request meets before any handler: its body's size, its time, and, for the
//! few paths a stranger may hammer (signing in, recovery codes, providers' callbacks), how
//! often one client address may call them.

use app::ports::ClientAddr;
use axum::{
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use std::{
    collections::HashMap,
    hash::Hash,
    net::IpAddr,
    sync::{Arc, Mutex},
    time::Instant,
};

/// A token bucket per key: `per_minute` requests a minute on average, in bursts of up to a
/// quarter of that (at least ten). Kept in this process's memory: with several instances,
/// each allows it.
#[derive(Debug)]
pub struct RateLimiter<K> {
    per_minute: u32,
    buckets: Mutex<HashMap<K, (f64, Instant)>>,
}

/// Above this many keys, buckets that have refilled are forgotten (they would allow a full
/// burst anyway), so a stream of new addresses cannot grow the map without end.
const PRUNE_ABOVE: usize = 10_000;

impl<K: Hash + Eq> RateLimiter<K> {
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
    pub fn take(&self, key: K, now: Instant) -> Result<(), u64> {
        let rate = f64::from(self.per_minute) / 60.0;
        let capacity = self.capacity();
        let mut buckets = self.buckets.lock().expect("rate limiter lock");
        if buckets.len() > PRUNE_ABOVE {
            buckets.retain(|_, (tokens, last)| {
                *tokens + now.duration_since(*last).as_secs_f64() * rate < capacity
            });
        }
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

/// The server functions that take a password, a code or a contact: each can be used to guess
/// or to make the platform send messages, so each is limited per address (on top of the
/// per-account throttle on failed sign-ins).
pub const SIGN_IN_PATHS: &[&str] = &[
    "/api/sign_in",
    "/api/sign_in_second_step",
    "/api/request_password_reset",
    "/api/check_reset_link",
    "/api/reset_password",
    "/api/send_sign_in_code",
    "/api/sign_in_with_code",
    "/api/send_phone_code",
    "/api/confirm_phone",
];

/// Where payment providers and message providers call back.
pub const CALLBACK_PREFIXES: &[&str] = &["/hooks/", "/callbacks/"];

pub struct AddressLimits {
    pub sign_in: RateLimiter<IpAddr>,
    pub callbacks: RateLimiter<IpAddr>,
}

impl AddressLimits {
    pub fn new(sign_in_per_minute: u32, callbacks_per_minute: u32) -> Self {
        Self {
            sign_in: RateLimiter::new(sign_in_per_minute),
            callbacks: RateLimiter::new(callbacks_per_minute),
        }
    }

    fn for_path(&self, path: &str) -> Option<&RateLimiter<IpAddr>> {
        if SIGN_IN_PATHS.contains(&path) {
            Some(&self.sign_in)
        } else if CALLBACK_PREFIXES
            .iter()
            .any(|prefix| path.starts_with(prefix))
        {
            Some(&self.callbacks)
        } else {
            None
        }
    }
}

/// Answers 429 with `Retry-After` when the client address has used up its bucket for the
/// path. Runs after [`super::client_addr::resolve`], so behind a trusted proxy the address is
/// the client's, not the proxy's.
pub async fn by_address(
    State(limits): State<Arc<AddressLimits>>,
    request: Request,
    next: Next,
) -> Response {
    let addr = request.extensions().get::<ClientAddr>().map(|addr| addr.0);
    if let (Some(limiter), Some(addr)) = (limits.for_path(request.uri().path()), addr)
        && let Err(retry_after_s) = limiter.take(addr, Instant::now())
    {
        let mut response = (
            StatusCode::TOO_MANY_REQUESTS,
            "too many requests from this address: try again shortly",
        )
            .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
        return response;
    }
    next.run(request).await
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

    #[test]
    fn only_sign_in_and_callback_paths_are_limited_by_address() {
        let limits = AddressLimits::new(30, 600);
        assert!(limits.for_path("/api/sign_in").is_some());
        assert!(limits.for_path("/hooks/stripe/1").is_some());
        assert!(limits.for_path("/callbacks/sms/twilio").is_some());
        assert!(limits.for_path("/api/me").is_none());
        assert!(limits.for_path("/").is_none());
    }

    #[test]
    fn refilled_buckets_are_forgotten_when_there_are_too_many() {
        let limiter = RateLimiter::new(60);
        let start = Instant::now();
        for key in 0..=PRUNE_ABOVE {
            limiter.take(key, start).unwrap();
        }
        limiter
            .take(usize::MAX, start + Duration::from_secs(60))
            .unwrap();
        assert_eq!(limiter.buckets.lock().unwrap().len(), 1);
    }
}
