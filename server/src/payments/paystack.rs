//! Paystack: transactions initialised with our own reference, webhooks signed in
//! `x-paystack-signature` (HMAC-SHA512 of the raw body with the secret key), refunds by
//! transaction reference.

use super::provider::{
    CallbackError, Checkout, CheckoutRequest, Notice, Provider, ProviderError, RefundRequest,
    Subject, int_at, json_body, signature, text_at,
};
use app::domain::{Minor, payments::Reported};
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

pub struct Paystack {
    pub http: reqwest::Client,
    /// `https://api.paystack.co` in production.
    pub base_url: String,
    pub secret_key: crate::config::Secret,
}

impl Paystack {
    async fn post(&self, path: &str, body: &Value) -> Result<Value, ProviderError> {
        let response = self
            .http
            .post(format!("{}{path}", self.base_url.trim_end_matches('/')))
            .bearer_auth(self.secret_key.expose())
            .json(body)
            .send()
            .await?;
        let status = response.status();
        let text = response.text().await?;
        let value: Value = serde_json::from_str(&text)
            .map_err(|_| ProviderError::Garbled(format!("{status}: not JSON")))?;
        if !status.is_success() || value.get("status") != Some(&Value::Bool(true)) {
            let message = value
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("no message");
            return Err(ProviderError::Refused(message.to_owned()));
        }
        Ok(value)
    }
}

#[async_trait::async_trait]
impl Provider for Paystack {
    async fn checkout(&self, request: &CheckoutRequest) -> Result<Checkout, ProviderError> {
        let email = request.email.clone().ok_or_else(|| {
            ProviderError::Refused("Paystack needs the payer's e-mail address.".into())
        })?;
        let answer = self
            .post(
                "/transaction/initialize",
                &json!({
                    "email": email,
                    "amount": request.amount.0,
                    "currency": request.currency,
                    // Our id is the reference: its callbacks name it.
                    "reference": request.public_id,
                    "callback_url": request.return_url,
                    "metadata": { "payment": request.public_id, "account": request.account_reference },
                }),
            )
            .await?;
        let url = answer
            .pointer("/data/authorization_url")
            .and_then(Value::as_str)
            .ok_or_else(|| ProviderError::Garbled("no authorization_url".into()))?;
        Ok(Checkout {
            reference: request.public_id.clone(),
            redirect: Some(url.to_owned()),
        })
    }

    fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        _now: DateTime<Utc>,
    ) -> Result<Vec<Notice>, CallbackError> {
        let given = headers
            .get("x-paystack-signature")
            .and_then(|value| value.to_str().ok())
            .ok_or(CallbackError::Unsigned)?;
        if !signature::verify(
            ring::hmac::HMAC_SHA512,
            self.secret_key.expose().as_bytes(),
            body,
            given,
        ) {
            return Err(CallbackError::BadSignature);
        }
        let event = json_body(body)?;
        let kind = text_at(&event, "/event")?;
        // Paystack's events carry no id of their own: the event and its object's id are one.
        let object_id = event
            .pointer("/data/id")
            .map(|id| id.to_string())
            .ok_or_else(|| CallbackError::Malformed("no /data/id".into()))?;
        let event_key = format!("{kind}:{object_id}");
        Ok(match kind {
            "charge.success" => vec![Notice {
                event_key,
                subject: Subject::Checkout(text_at(&event, "/data/reference")?.to_owned()),
                report: Reported::Paid {
                    amount: Minor(int_at(&event, "/data/amount")?),
                    currency: text_at(&event, "/data/currency")?.to_uppercase(),
                },
                paid_reference: Some(object_id),
                reversal: None,
            }],
            "refund.processed" => vec![Notice {
                event_key: format!("reversal:refund:{object_id}"),
                subject: Subject::Checkout(
                    text_at(&event, "/data/transaction_reference")?.to_owned(),
                ),
                report: Reported::Refunded {
                    amount: Minor(int_at(&event, "/data/amount")?),
                },
                paid_reference: None,
                reversal: Some(format!("refund:{object_id}")),
            }],
            "charge.dispute.create" => {
                let amount = int_at(&event, "/data/refund_amount")
                    .or_else(|_| int_at(&event, "/data/transaction/amount"))?;
                vec![Notice {
                    event_key: format!("reversal:dispute:{object_id}"),
                    subject: Subject::Checkout(
                        text_at(&event, "/data/transaction/reference")?.to_owned(),
                    ),
                    report: Reported::ChargedBack {
                        amount: Minor(amount),
                    },
                    paid_reference: None,
                    reversal: Some(format!("dispute:{object_id}")),
                }]
            }
            _ => Vec::new(),
        })
    }

    async fn refund(&self, request: &RefundRequest) -> Result<String, ProviderError> {
        let answer = self
            .post(
                "/refund",
                &json!({
                    "transaction": request.checkout_reference,
                    "amount": request.amount.0,
                }),
            )
            .await?;
        let id = answer
            .pointer("/data/id")
            .ok_or_else(|| ProviderError::Garbled("no refund id".into()))?;
        Ok(format!("refund:{id}"))
    }
}
