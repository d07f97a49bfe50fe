//! The built-in sandbox provider: a checkout page of our own where a click pays or declines.
//! It behaves like a real provider all the same: its outcome reaches the platform as a
//! callback signed like Stripe's (HMAC-SHA256 over `"{timestamp}.{body}"` in the
//! `Sandbox-Signature` header, with the platform's webhook secret) and goes through the same
//! verification and settlement as any other.

use super::provider::{
    CallbackError, Checkout, CheckoutRequest, Notice, PayoutRequest, PayoutSent, Provider,
    ProviderError, RefundRequest, Subject, int_at, json_body, sign_timestamped, text_at,
    verify_timestamped,
};
use app::domain::{Minor, payments::Reported};
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

pub const SIGNATURE_HEADER: &str = "sandbox-signature";
const TOLERANCE_S: i64 = 300;

pub struct Sandbox {
    /// Where the platform's pages are, for the checkout page's address.
    pub origin: String,
    pub secret: crate::config::Secret,
}

impl Sandbox {
    /// The signature header for a callback body sent at `now`.
    pub fn sign(&self, body: &[u8], now: DateTime<Utc>) -> String {
        sign_timestamped(self.secret.expose().as_bytes(), body, now.timestamp())
    }

    /// The callback the sandbox sends when the payer pays or declines on its page.
    pub fn outcome_body(reference: &str, paid: bool, amount: Minor, currency: &str) -> Value {
        json!({
            "id": format!("evt_{reference}_{}", if paid { "paid" } else { "declined" }),
            "type": if paid { "payment.succeeded" } else { "payment.failed" },
            "reference": reference,
            "amount": amount.0,
            "currency": currency,
        })
    }
}

#[async_trait::async_trait]
impl Provider for Sandbox {
    async fn checkout(&self, request: &CheckoutRequest) -> Result<Checkout, ProviderError> {
        Ok(Checkout {
            reference: format!("sbx_{}", request.public_id),
            redirect: Some(format!(
                "{}/pay/sandbox/{}",
                self.origin.trim_end_matches('/'),
                request.public_id
            )),
        })
    }

    fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Vec<Notice>, CallbackError> {
        let header = headers
            .get(SIGNATURE_HEADER)
            .and_then(|value| value.to_str().ok());
        verify_timestamped(
            header,
            self.secret.expose().as_bytes(),
            body,
            now,
            TOLERANCE_S,
        )?;
        let event = json_body(body)?;
        let event_key = text_at(&event, "/id")?.to_owned();
        let reference = text_at(&event, "/reference")?.to_owned();
        let amount = Minor(int_at(&event, "/amount")?);
        let (report, reversal) = match text_at(&event, "/type")? {
            "payment.succeeded" => (
                Reported::Paid {
                    amount,
                    currency: text_at(&event, "/currency")?.to_uppercase(),
                },
                None,
            ),
            "payment.failed" => (
                Reported::Failed {
                    reason: "Declined in the sandbox.".into(),
                },
                None,
            ),
            "refund.succeeded" => (
                Reported::Refunded { amount },
                Some(text_at(&event, "/refund_id")?.to_owned()),
            ),
            "dispute.created" => (
                Reported::ChargedBack { amount },
                Some(text_at(&event, "/dispute_id")?.to_owned()),
            ),
            other => return Err(CallbackError::Malformed(format!("unknown type {other}"))),
        };
        Ok(vec![Notice {
            event_key: reversal
                .as_ref()
                .map_or(event_key, |id| format!("reversal:{id}")),
            subject: Subject::Checkout(reference),
            report,
            paid_reference: None,
            reversal,
        }])
    }

    async fn refund(&self, request: &RefundRequest) -> Result<String, ProviderError> {
        // The sandbox refunds at once; the refund's id is ours, so it reverses once.
        Ok(format!("sbx_refund_{}", request.reference))
    }

    async fn pay_out(&self, request: &PayoutRequest) -> Result<PayoutSent, ProviderError> {
        // The sandbox pays at once.
        Ok(PayoutSent::Paid(format!(
            "sbx_payout_{}",
            request.reference
        )))
    }
}
