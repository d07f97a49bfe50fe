//! Stripe, or anything that speaks its API: Checkout Sessions for paying, webhooks signed in
//! the `Stripe-Signature` header (HMAC-SHA256 over `"{timestamp}.{body}"`), refunds by
//! payment intent.

use super::provider::{
    CallbackError, Checkout, CheckoutRequest, Notice, Provider, ProviderError, RefundRequest,
    Subject, int_at, json_body, text_at, verify_timestamped,
};
use app::domain::{Minor, payments::Reported};
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// How old a webhook may be, as Stripe's own libraries default to.
pub const TOLERANCE_S: i64 = 300;

pub struct Stripe {
    pub http: reqwest::Client,
    /// `https://api.stripe.com` in production.
    pub base_url: String,
    pub secret_key: crate::config::Secret,
    pub webhook_secret: crate::config::Secret,
}

#[derive(Deserialize)]
struct Session {
    id: String,
    url: Option<String>,
}

#[derive(Deserialize)]
struct Refund {
    id: String,
}

impl Stripe {
    async fn post<T: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        form: &[(String, String)],
        idempotency_key: &str,
    ) -> Result<T, ProviderError> {
        let response = self
            .http
            .post(format!("{}{path}", self.base_url.trim_end_matches('/')))
            .bearer_auth(self.secret_key.expose())
            .header("Idempotency-Key", idempotency_key)
            .form(form)
            .send()
            .await?;
        let status = response.status();
        let body = response.text().await?;
        if !status.is_success() {
            return Err(ProviderError::Refused(error_message(&body, status)));
        }
        serde_json::from_str(&body).map_err(|error| ProviderError::Garbled(error.to_string()))
    }
}

/// Stripe's error message, or the status when the body has none.
fn error_message(body: &str, status: reqwest::StatusCode) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.pointer("/error/message")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| status.to_string())
}

#[async_trait::async_trait]
impl Provider for Stripe {
    async fn checkout(&self, request: &CheckoutRequest) -> Result<Checkout, ProviderError> {
        let form: Vec<(String, String)> = [
            ("mode", "payment".to_owned()),
            ("client_reference_id", request.public_id.clone()),
            ("metadata[payment]", request.public_id.clone()),
            ("success_url", request.return_url.clone()),
            ("cancel_url", request.return_url.clone()),
            (
                "line_items[0][price_data][currency]",
                request.currency.to_lowercase(),
            ),
            (
                "line_items[0][price_data][unit_amount]",
                request.amount.0.to_string(),
            ),
            (
                "line_items[0][price_data][product_data][name]",
                request.description.clone(),
            ),
            ("line_items[0][quantity]", "1".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let session: Session = self
            .post("/v1/checkout/sessions", &form, &request.public_id)
            .await?;
        let url = session
            .url
            .ok_or_else(|| ProviderError::Garbled("the session has no url".into()))?;
        Ok(Checkout {
            reference: session.id,
            redirect: Some(url),
        })
    }

    fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Vec<Notice>, CallbackError> {
        let header = headers
            .get("stripe-signature")
            .and_then(|value| value.to_str().ok());
        verify_timestamped(
            header,
            self.webhook_secret.expose().as_bytes(),
            body,
            now,
            TOLERANCE_S,
        )?;
        let event = json_body(body)?;
        let event_key = text_at(&event, "/id")?.to_owned();
        let object = "/data/object";
        let notice = |subject, report, paid_reference| {
            vec![Notice {
                event_key: event_key.clone(),
                subject,
                report,
                paid_reference,
                reversal: None,
            }]
        };
        let reversal = |subject, report, id: &str| {
            vec![Notice {
                event_key: format!("reversal:{id}"),
                subject,
                report,
                paid_reference: None,
                reversal: Some(id.to_owned()),
            }]
        };
        let intent = |pointer: &str| {
            event
                .pointer(pointer)
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        };
        Ok(match text_at(&event, "/type")? {
            "checkout.session.completed" | "checkout.session.async_payment_succeeded" => {
                // A completed session may still wait for a bank debit: only "paid" is money.
                if text_at(&event, &format!("{object}/payment_status"))? != "paid" {
                    return Ok(Vec::new());
                }
                notice(
                    Subject::Checkout(text_at(&event, &format!("{object}/id"))?.to_owned()),
                    Reported::Paid {
                        amount: Minor(int_at(&event, &format!("{object}/amount_total"))?),
                        currency: text_at(&event, &format!("{object}/currency"))?.to_uppercase(),
                    },
                    intent(&format!("{object}/payment_intent")),
                )
            }
            "checkout.session.async_payment_failed" | "checkout.session.expired" => notice(
                Subject::Checkout(text_at(&event, &format!("{object}/id"))?.to_owned()),
                Reported::Failed {
                    reason: "The payment did not go through.".into(),
                },
                None,
            ),
            // One event per refund (created, then updated as it settles): the refund's id keys
            // the reversal, so its events and our own request for it reverse once.
            "refund.created" | "refund.updated" => {
                if text_at(&event, &format!("{object}/status"))? != "succeeded" {
                    return Ok(Vec::new());
                }
                reversal(
                    Subject::Paid(text_at(&event, &format!("{object}/payment_intent"))?.to_owned()),
                    Reported::Refunded {
                        amount: Minor(int_at(&event, &format!("{object}/amount"))?),
                    },
                    text_at(&event, &format!("{object}/id"))?,
                )
            }
            "charge.dispute.created" => reversal(
                Subject::Paid(text_at(&event, &format!("{object}/payment_intent"))?.to_owned()),
                Reported::ChargedBack {
                    amount: Minor(int_at(&event, &format!("{object}/amount"))?),
                },
                text_at(&event, &format!("{object}/id"))?,
            ),
            // Stripe sends many kinds of events; those we do not act on are acknowledged.
            _ => Vec::new(),
        })
    }

    async fn refund(&self, request: &RefundRequest) -> Result<String, ProviderError> {
        let intent = request
            .paid_reference
            .clone()
            .ok_or_else(|| ProviderError::Refused("the payment has no payment intent".into()))?;
        let form = vec![
            ("payment_intent".to_owned(), intent),
            ("amount".to_owned(), request.amount.0.to_string()),
        ];
        let refund: Refund = self.post("/v1/refunds", &form, &request.reference).await?;
        Ok(refund.id)
    }
}
