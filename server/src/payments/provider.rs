//! The one door every payment provider goes through: start a checkout, verify and read a
//! callback, confirm a payment by asking the provider, refund.

use app::domain::{Minor, payments::Reported};
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};

/// What a checkout needs to know about the payment.
#[derive(Clone, Debug)]
pub struct CheckoutRequest {
    /// Our unguessable id of the payment; providers echo it back as metadata.
    pub public_id: String,
    pub amount: Minor,
    pub currency: String,
    pub digits: u32,
    /// What the payer sees on the provider's page.
    pub description: String,
    /// The account or meter number the money is for (M-Pesa's account reference).
    pub account_reference: String,
    /// Where the provider sends the payer back to (our payment status page).
    pub return_url: String,
    /// Where the provider calls us back.
    pub callback_url: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// How the payer goes on after a checkout started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkout {
    /// The provider's reference of this payment: what its callbacks name.
    pub reference: String,
    /// A page to send the payer to; none when the provider asks the payer's phone.
    pub redirect: Option<String>,
}

/// Which payment a callback is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    /// The reference the checkout answered.
    Checkout(String),
    /// The provider's own id of the money once paid (refunds and disputes name it).
    Paid(String),
    /// Money pushed to us with an account or meter number as its reference (paybill).
    Pushed {
        account_reference: String,
        /// The provider's unique id of the transfer.
        reference: String,
        amount: Minor,
        currency: String,
    },
}

/// One thing a verified callback says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// Unique per provider for this event: a repeat carries the same key.
    pub event_key: String,
    pub subject: Subject,
    pub report: Reported,
    /// The provider's id of the money, when the callback carries one (kept for refunds).
    pub paid_reference: Option<String>,
    /// The provider's id of a refund or dispute: one reversal per id, whoever started it.
    pub reversal: Option<String>,
}

/// Why a callback was refused. Each answers a 4xx and changes nothing.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CallbackError {
    #[error("the callback is not signed")]
    Unsigned,
    #[error("the callback's signature does not match")]
    BadSignature,
    #[error("the callback's timestamp is outside the tolerance")]
    Stale,
    #[error("the callback is malformed: {0}")]
    Malformed(String),
    #[error("the callback names no payment we know")]
    Unknown,
    #[error("this provider is not enabled for the site")]
    NotEnabled,
    #[error("the provider did not confirm the payment")]
    NotConfirmed,
}

/// A provider's API answered badly or could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("the payment provider could not be reached: {0}")]
    Unreachable(String),
    /// The request went out but no clear answer came back (a time-out): the provider may
    /// or may not have acted on it.
    #[error("the payment provider gave no clear answer: {0}")]
    NoAnswer(String),
    #[error("the payment provider refused: {0}")]
    Refused(String),
    #[error("the payment provider's answer was not understood: {0}")]
    Garbled(String),
    #[error("this provider cannot do that")]
    Unsupported,
}

impl ProviderError {
    /// Whether the provider may have acted on the request despite the error.
    pub fn is_uncertain(&self) -> bool {
        matches!(self, ProviderError::NoAnswer(_) | ProviderError::Garbled(_))
    }
}

impl From<reqwest::Error> for ProviderError {
    fn from(error: reqwest::Error) -> Self {
        // The URL may carry nothing secret, but the error text is enough.
        let connect = error.is_connect() || error.is_builder();
        let text = error.without_url().to_string();
        if connect {
            ProviderError::Unreachable(text)
        } else {
            ProviderError::NoAnswer(text)
        }
    }
}

/// A refund asked of the provider.
#[derive(Clone, Debug)]
pub struct RefundRequest {
    /// The checkout reference and, once paid, the provider's id of the money.
    pub checkout_reference: String,
    pub paid_reference: Option<String>,
    pub amount: Minor,
    pub currency: String,
    pub digits: u32,
    /// Ours: the provider's idempotency key where it takes one.
    pub reference: String,
}

/// Money sent to a person: a move-out refund.
#[derive(Clone, Debug)]
pub struct PayoutRequest {
    /// Ours, new for each try: the provider's idempotency key where it takes one.
    pub reference: String,
    pub amount: Minor,
    pub currency: String,
    /// Where the money goes: a phone number for M-Pesa.
    pub destination: Option<String>,
    /// Where the provider reports the outcome, when it does so later.
    pub result_url: String,
    pub remarks: String,
}

/// How far a payout got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PayoutSent {
    /// The money has gone; the provider's id of the transfer.
    Paid(String),
    /// Accepted; the outcome arrives at the result URL. The provider's id of the request.
    Accepted(String),
}

/// A provider's later word on a payout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayoutResult {
    /// The provider's id of the request, as [`PayoutSent::Accepted`] answered it.
    pub request: String,
    /// The provider's id of the transfer when it went through; `None` when it failed.
    pub paid: Option<String>,
    pub description: String,
}

#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    /// Starts a payment at the provider.
    async fn checkout(&self, request: &CheckoutRequest) -> Result<Checkout, ProviderError>;

    /// Checks a callback's signature (or, for unsigned ones, its shape) and reads it.
    fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Vec<Notice>, CallbackError>;

    /// Whether a callback that cannot be signed must be confirmed by asking the provider
    /// before money is credited.
    fn must_confirm(&self) -> bool {
        false
    }

    /// Asks the provider whether the payment with this checkout reference succeeded.
    async fn confirm(&self, _checkout_reference: &str) -> Result<bool, ProviderError> {
        Err(ProviderError::Unsupported)
    }

    /// Asks the provider to give money back; answers the provider's refund id.
    async fn refund(&self, request: &RefundRequest) -> Result<String, ProviderError>;

    /// Sends money to a person. Only providers whose kind [`pays_out`] do.
    ///
    /// [`pays_out`]: app::domain::payments::ProviderKind::pays_out
    async fn pay_out(&self, _request: &PayoutRequest) -> Result<PayoutSent, ProviderError> {
        Err(ProviderError::Unsupported)
    }

    /// Reads a payout's result posted to its result URL.
    fn payout_result(&self, _body: &[u8]) -> Result<PayoutResult, CallbackError> {
        Err(CallbackError::Unknown)
    }
}

/// HMAC signatures, compared in constant time.
pub mod signature {
    use ring::hmac;

    pub fn sha256_hex(key: &[u8], message: &[u8]) -> String {
        hex(hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), message).as_ref())
    }

    pub fn sha512_hex(key: &[u8], message: &[u8]) -> String {
        hex(hmac::sign(&hmac::Key::new(hmac::HMAC_SHA512, key), message).as_ref())
    }

    /// Does `given` (hex) sign `message`? Constant time in the signature's bytes.
    pub fn verify(algorithm: hmac::Algorithm, key: &[u8], message: &[u8], given: &str) -> bool {
        let Some(bytes) = unhex(given) else {
            return false;
        };
        hmac::verify(&hmac::Key::new(algorithm, key), message, &bytes).is_ok()
    }

    pub fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn unhex(text: &str) -> Option<Vec<u8>> {
        if !text.len().is_multiple_of(2) {
            return None;
        }
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
            .collect()
    }
}

/// Reads a `t=…,v1=…` signature header (Stripe's, and the sandbox's): the timestamp and
/// every `v1` signature; checks the timestamp is within `tolerance_s` of `now`.
pub fn timestamped_signatures(
    header: Option<&str>,
    now: DateTime<Utc>,
    tolerance_s: i64,
) -> Result<(i64, Vec<String>), CallbackError> {
    let header = header.ok_or(CallbackError::Unsigned)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => signatures.push(value.to_owned()),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(CallbackError::Unsigned)?;
    if signatures.is_empty() {
        return Err(CallbackError::Unsigned);
    }
    if (now.timestamp() - timestamp).abs() > tolerance_s {
        return Err(CallbackError::Stale);
    }
    Ok((timestamp, signatures))
}

/// Makes a `t=…,v1=…` header: HMAC-SHA256 over `"{t}.{body}"` (the sandbox's callbacks and
/// the platform's outgoing webhooks).
pub fn sign_timestamped(secret: &[u8], body: &[u8], timestamp: i64) -> String {
    let mut signed = format!("{timestamp}.").into_bytes();
    signed.extend_from_slice(body);
    let v1 = signature::sha256_hex(secret, &signed);
    format!("t={timestamp},v1={v1}")
}

/// Checks a `t=…,v1=…` header: HMAC-SHA256 over `"{t}.{body}"`, any `v1` may match.
pub fn verify_timestamped(
    header: Option<&str>,
    secret: &[u8],
    body: &[u8],
    now: DateTime<Utc>,
    tolerance_s: i64,
) -> Result<(), CallbackError> {
    let (timestamp, signatures) = timestamped_signatures(header, now, tolerance_s)?;
    let mut signed = format!("{timestamp}.").into_bytes();
    signed.extend_from_slice(body);
    signatures
        .iter()
        .any(|given| signature::verify(ring::hmac::HMAC_SHA256, secret, &signed, given))
        .then_some(())
        .ok_or(CallbackError::BadSignature)
}

/// Reads a JSON body or says why not.
pub fn json_body(body: &[u8]) -> Result<serde_json::Value, CallbackError> {
    serde_json::from_slice(body).map_err(|error| CallbackError::Malformed(error.to_string()))
}

/// A string at a JSON pointer, or a malformed-callback error naming it.
pub fn text_at<'a>(value: &'a serde_json::Value, pointer: &str) -> Result<&'a str, CallbackError> {
    value
        .pointer(pointer)
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| CallbackError::Malformed(format!("no text at {pointer}")))
}

/// An integer at a JSON pointer.
pub fn int_at(value: &serde_json::Value, pointer: &str) -> Result<i64, CallbackError> {
    value
        .pointer(pointer)
        .and_then(serde_json::Value::as_i64)
        .ok_or_else(|| CallbackError::Malformed(format!("no integer at {pointer}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn timestamped_headers_are_checked_for_age_and_signature() {
        let now = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
        let body = br#"{"id":"evt_1"}"#;
        let good = signature::sha256_hex(b"whsec_test", b"1700000000.{\"id\":\"evt_1\"}");
        let header = format!("t=1700000000,v1=deadbeef,v1={good}");
        assert_eq!(
            verify_timestamped(Some(&header), b"whsec_test", body, now, 300),
            Ok(())
        );
        assert_eq!(
            verify_timestamped(Some(&header), b"other", body, now, 300),
            Err(CallbackError::BadSignature)
        );
        let later = now + chrono::Duration::seconds(301);
        assert_eq!(
            verify_timestamped(Some(&header), b"whsec_test", body, later, 300),
            Err(CallbackError::Stale)
        );
        assert_eq!(
            verify_timestamped(None, b"whsec_test", body, now, 300),
            Err(CallbackError::Unsigned)
        );
        assert_eq!(
            verify_timestamped(Some("t=1700000000"), b"whsec_test", body, now, 300),
            Err(CallbackError::Unsigned)
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2_000))]
        /// Any change to a signed body, any byte anywhere, is refused.
        #[test]
        fn a_tampered_body_never_verifies(
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 1..200),
            at in proptest::prelude::any::<proptest::sample::Index>(),
            flip in 1u8..=255,
        ) {
            let now = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
            let mut signed = b"1700000000.".to_vec();
            signed.extend_from_slice(&body);
            let header = format!("t=1700000000,v1={}", signature::sha256_hex(b"secret", &signed));
            proptest::prop_assert!(verify_timestamped(Some(&header), b"secret", &body, now, 300).is_ok());
            let mut tampered = body.clone();
            let i = at.index(tampered.len());
            tampered[i] ^= flip;
            proptest::prop_assert_eq!(
                verify_timestamped(Some(&header), b"secret", &tampered, now, 300),
                Err(CallbackError::BadSignature)
            );
        }
    }

    #[test]
    fn malformed_hex_never_verifies() {
        assert!(!signature::verify(
            ring::hmac::HMAC_SHA512,
            b"k",
            b"m",
            "zz"
        ));
        assert!(!signature::verify(
            ring::hmac::HMAC_SHA512,
            b"k",
            b"m",
            "abc"
        ));
    }
}
