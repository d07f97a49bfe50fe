//! How a receiver knows a webhook came from us: `Prepaid-Signature: t={unix seconds},v1={hex}`
//! where `v1` is HMAC-SHA256, keyed with the subscription's secret (the whole `whsec_…`
//! string), of `{t}.{body}`. A receiver recomputes it, compares in constant time, and refuses
//! a `t` more than five minutes from its clock (a replayed old delivery).

use crate::payments::provider::{sign_timestamped, verify_timestamped};
use chrono::DateTime;

pub const HEADER: &str = "prepaid-signature";
/// How far from the receiver's clock a signature's time may be.
const TOLERANCE_S: i64 = 300;

/// The same `t=…,v1=…` scheme the payment callbacks use, keyed with the webhook's secret.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    sign_timestamped(secret.as_bytes(), body, timestamp)
}

/// What a receiver does (used by the tests, and the reference for the documentation).
pub fn verify(secret: &str, header: &str, body: &[u8], now: i64) -> bool {
    let Some(now) = DateTime::from_timestamp(now, 0) else {
        return false;
    };
    verify_timestamped(Some(header), secret.as_bytes(), body, now, TOLERANCE_S).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_its_secret_body_and_time() {
        let header = signature("whsec_one", 1_700_000_000, b"{\"a\":1}");
        assert!(header.starts_with("t=1700000000,v1="));
        assert!(verify("whsec_one", &header, b"{\"a\":1}", 1_700_000_100));
        assert!(!verify("whsec_two", &header, b"{\"a\":1}", 1_700_000_100));
        assert!(!verify("whsec_one", &header, b"{\"a\":2}", 1_700_000_100));
        assert!(!verify("whsec_one", &header, b"{\"a\":1}", 1_700_000_301));
        assert!(!verify("whsec_one", "v1=00", b"{\"a\":1}", 1_700_000_000));
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_time_dot_body() {
        // Computed independently: printf '1.{}' | openssl dgst -sha256 -hmac k
        assert_eq!(
            signature("k", 1, b"{}"),
            "t=1,v1=3dd49b2593d0f9a349e9e71c4bde3e2b862c2be4003fe9b4ba81332029310158"
        );
    }
}
