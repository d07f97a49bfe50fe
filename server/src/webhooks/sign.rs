//! How a receiver knows a webhook came from us: `Prepaid-Signature: t={unix seconds},v1={hex}`
//! where `v1` is HMAC-SHA256, keyed with the subscription's secret (the whole `whsec_…`
//! string), of `{t}.{body}`. A receiver recomputes it, compares in constant time, and refuses
//! a `t` more than five minutes from its clock (a replayed old delivery).

use ring::hmac;

pub const HEADER: &str = "prepaid-signature";

pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut context = hmac::Context::with_key(&key);
    context.update(timestamp.to_string().as_bytes());
    context.update(b".");
    context.update(body);
    let tag = context.sign();
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

/// What a receiver does (used by the tests, and the reference for the documentation).
pub fn verify(secret: &str, header: &str, body: &[u8], now: i64) -> bool {
    let mut timestamp = None;
    let mut given = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => given = Some(value),
            _ => {}
        }
    }
    let (Some(timestamp), Some(given)) = (timestamp, given) else {
        return false;
    };
    if (now - timestamp).abs() > 300 {
        return false;
    }
    let expected = signature(secret, timestamp, body);
    let expected = expected.rsplit("v1=").next().unwrap_or_default();
    crate::secrets::same_bytes(expected.as_bytes(), given.as_bytes())
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
