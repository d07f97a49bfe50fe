//! STS meters whose tokens come from a vending service: the meter keys stay with the service
//! (an STS key management centre), and the platform asks it for each token over HTTP.
//!
//! The request, documented in the README (*Token meters*):
//! `POST {base}/v1/tokens` with `Authorization: Bearer {key}`, `Idempotency-Key: {reference}`
//! and `{"meter": serial, "kind": "credit" | "set_credit" | "clear_credit" | "disable_payg" |
//! "counter_sync", "units": "61.5" | null, "reference": reference}`; the answer is
//! `{"token": "20 digits"}`. A 4xx is a refusal (its `error` is kept for the manager); a 5xx or
//! no answer is asked again later with the same reference, which the service must answer
//! with the token it already made.

use super::{Order, TokenMeter, TokenVendor, VendError, Vended, VendorKind};
use crate::config::Secret;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::time::Duration;

pub struct StsVending {
    base: String,
    key: Secret,
    http: reqwest::Client,
}

impl StsVending {
    pub fn new(base: &str, key: Secret) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .expect("an HTTP client with rustls");
        Self {
            base: base.trim_end_matches('/').to_owned(),
            key,
            http,
        }
    }
}

#[derive(Deserialize)]
struct Answer {
    token: Option<String>,
    error: Option<String>,
}

#[async_trait::async_trait]
impl TokenVendor for StsVending {
    fn kind(&self) -> VendorKind {
        VendorKind::Sts
    }

    async fn vend(
        &self,
        meter: &TokenMeter,
        reference: &str,
        order: Order,
    ) -> Result<Vended, VendError> {
        let units = order.value().map(|value| {
            (meter.value_step * Decimal::from(value))
                .normalize()
                .to_string()
        });
        let request = serde_json::json!({
            "meter": meter.serial,
            "kind": order.kind(),
            "units": units,
            "reference": reference,
        });
        let response = self
            .http
            .post(format!("{}/v1/tokens", self.base))
            .bearer_auth(self.key.expose())
            .header("Idempotency-Key", reference)
            .json(&request)
            .send()
            .await
            .map_err(|error| VendError::Unavailable(error.without_url().to_string()))?;
        let status = response.status();
        let answer: Option<Answer> = response.json().await.ok();
        if status.is_server_error() {
            return Err(VendError::Unavailable(format!("answered {status}")));
        }
        let answer = answer.ok_or_else(|| {
            VendError::Refused(format!("answered {status} with something unreadable"))
        })?;
        if !status.is_success() {
            let reason = answer.error.unwrap_or_else(|| status.to_string());
            return Err(VendError::Refused(reason));
        }
        let digits: String = answer
            .token
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(VendError::Refused(
                "the service's token is not 20 digits".into(),
            ));
        }
        Ok(Vended {
            digits,
            count: None,
        })
    }
}
