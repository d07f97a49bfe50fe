//! M-Pesa through Safaricom's Daraja API: STK push (the payer's phone asks for their PIN)
//! and paybill payments pushed to us with the account or meter number as reference.
//!
//! Daraja signs nothing. So an STK callback is taken only at an unguessable per-payment URL,
//! and believed only after the provider's status query confirms it; a paybill confirmation
//! is taken only at the site's unguessable URL (registered with Safaricom).

use super::provider::{
    CallbackError, Checkout, CheckoutRequest, Notice, PayoutRequest, PayoutResult, PayoutSent,
    Provider, ProviderError, RefundRequest, Subject, json_body, text_at,
};
use app::domain::{Minor, payments::Reported};
use axum::http::HeaderMap;
use base64::{Engine as _, engine::general_purpose::STANDARD};
use chrono::{DateTime, FixedOffset, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};

pub struct Mpesa {
    pub http: reqwest::Client,
    /// `https://api.safaricom.co.ke` in production.
    pub base_url: String,
    pub short_code: String,
    pub consumer_key: crate::config::Secret,
    pub consumer_secret: crate::config::Secret,
    pub passkey: crate::config::Secret,
    /// For B2C payouts: the initiator Safaricom registered, and its encrypted credential.
    /// Without them the site pays move-out refunds by hand.
    pub initiator: Option<(String, crate::config::Secret)>,
    /// The short code B2C payments leave from (often not the paybill's).
    pub payout_short_code: String,
}

/// Daraja's timestamps are Nairobi time.
fn nairobi_timestamp(now: DateTime<Utc>) -> String {
    let east_africa = FixedOffset::east_opt(3 * 3600).expect("a valid offset");
    now.with_timezone(&east_africa)
        .format("%Y%m%d%H%M%S")
        .to_string()
}

/// An amount Daraja wrote as a JSON number or text, in shillings, as minor units.
fn shillings(value: &Value) -> Result<Minor, CallbackError> {
    let text = match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        _ => {
            return Err(CallbackError::Malformed(
                "the amount is not a number".into(),
            ));
        }
    };
    let amount: Decimal = text
        .trim()
        .parse()
        .map_err(|_| CallbackError::Malformed(format!("the amount {text:?} is not a number")))?;
    Minor::from_decimal(amount, 2)
        .ok_or_else(|| CallbackError::Malformed(format!("the amount {text:?} is not exact")))
}

/// Daraja took a request (`ResponseCode` "0"), or refused it with its own words.
fn accepted(answer: &Value, otherwise: &str) -> Result<(), ProviderError> {
    if answer.get("ResponseCode").and_then(Value::as_str) == Some("0") {
        return Ok(());
    }
    Err(ProviderError::Refused(
        answer
            .get("ResponseDescription")
            .and_then(Value::as_str)
            .unwrap_or(otherwise)
            .to_owned(),
    ))
}

impl Mpesa {
    fn password(&self, timestamp: &str) -> String {
        STANDARD.encode(format!(
            "{}{}{timestamp}",
            self.short_code,
            self.passkey.expose()
        ))
    }

    async fn token(&self) -> Result<String, ProviderError> {
        let response = self
            .http
            .get(format!(
                "{}/oauth/v1/generate?grant_type=client_credentials",
                self.base_url.trim_end_matches('/')
            ))
            .basic_auth(
                self.consumer_key.expose(),
                Some(self.consumer_secret.expose()),
            )
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(ProviderError::Refused(format!(
                "sign-in to Daraja answered {}",
                response.status()
            )));
        }
        let body: Value = response.json().await?;
        body.get("access_token")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| ProviderError::Garbled("no access_token".into()))
    }

    async fn post(&self, path: &str, body: &Value) -> Result<Value, ProviderError> {
        let token = self.token().await?;
        let response = self
            .http
            .post(format!("{}{path}", self.base_url.trim_end_matches('/')))
            .bearer_auth(token)
            .json(body)
            .send()
            .await?;
        let status = response.status();
        let value: Value = response
            .json()
            .await
            .map_err(|_| ProviderError::Garbled(format!("{status}: not JSON")))?;
        if !status.is_success() {
            let message = value
                .get("errorMessage")
                .and_then(Value::as_str)
                .unwrap_or("no message");
            return Err(ProviderError::Refused(message.to_owned()));
        }
        Ok(value)
    }

    /// An STK push's result, as posted to the payment's own callback URL.
    fn read_stk(callback: &Value) -> Result<Vec<Notice>, CallbackError> {
        let checkout = text_at(callback, "/CheckoutRequestID")?.to_owned();
        let code = callback
            .get("ResultCode")
            .map(|code| code.to_string().trim_matches('"').to_owned())
            .ok_or_else(|| CallbackError::Malformed("no ResultCode".into()))?;
        if code != "0" {
            let reason = callback
                .get("ResultDesc")
                .and_then(Value::as_str)
                .unwrap_or("The payment was not completed.");
            return Ok(vec![Notice {
                event_key: format!("stk:{checkout}:{code}"),
                subject: Subject::Checkout(checkout),
                report: Reported::Failed {
                    reason: reason.to_owned(),
                },
                paid_reference: None,
                reversal: None,
            }]);
        }
        let items = callback
            .pointer("/CallbackMetadata/Item")
            .and_then(Value::as_array)
            .ok_or_else(|| CallbackError::Malformed("no CallbackMetadata".into()))?;
        let item = |name: &str| {
            items
                .iter()
                .find(|item| item.get("Name").and_then(Value::as_str) == Some(name))
                .and_then(|item| item.get("Value"))
        };
        let amount =
            shillings(item("Amount").ok_or_else(|| CallbackError::Malformed("no Amount".into()))?)?;
        let receipt = item("MpesaReceiptNumber")
            .and_then(Value::as_str)
            .map(str::to_owned);
        Ok(vec![Notice {
            event_key: format!("stk:{checkout}:0"),
            subject: Subject::Checkout(checkout),
            report: Reported::Paid {
                amount,
                currency: "KES".into(),
            },
            paid_reference: receipt,
            reversal: None,
        }])
    }

    /// A paybill payment's confirmation.
    fn read_c2b(body: &Value) -> Result<Vec<Notice>, CallbackError> {
        let reference = text_at(body, "/TransID")?.to_owned();
        let amount = shillings(
            body.get("TransAmount")
                .ok_or_else(|| CallbackError::Malformed("no TransAmount".into()))?,
        )?;
        Ok(vec![Notice {
            event_key: format!("c2b:{reference}"),
            subject: Subject::Pushed {
                account_reference: text_at(body, "/BillRefNumber")?.trim().to_owned(),
                reference: reference.clone(),
                amount,
                currency: "KES".into(),
            },
            report: Reported::Paid {
                amount,
                currency: "KES".into(),
            },
            paid_reference: Some(reference),
            reversal: None,
        }])
    }
}

#[async_trait::async_trait]
impl Provider for Mpesa {
    async fn checkout(&self, request: &CheckoutRequest) -> Result<Checkout, ProviderError> {
        let phone = request.phone.clone().ok_or_else(|| {
            ProviderError::Refused("M-Pesa needs the payer's phone number.".into())
        })?;
        if request.currency != "KES" || request.amount.0 % 100 != 0 {
            return Err(ProviderError::Refused(
                "M-Pesa takes whole shillings only.".into(),
            ));
        }
        let timestamp = nairobi_timestamp(Utc::now());
        // Daraja shows at most 12 characters of the account reference.
        let account: String = request.account_reference.chars().take(12).collect();
        let answer = self
            .post(
                "/mpesa/stkpush/v1/processrequest",
                &json!({
                    "BusinessShortCode": self.short_code,
                    "Password": self.password(&timestamp),
                    "Timestamp": timestamp,
                    "TransactionType": "CustomerPayBillOnline",
                    "Amount": request.amount.0 / 100,
                    "PartyA": phone,
                    "PartyB": self.short_code,
                    "PhoneNumber": phone,
                    "CallBackURL": request.callback_url,
                    "AccountReference": account,
                    "TransactionDesc": "Prepaid top-up",
                }),
            )
            .await?;
        accepted(&answer, "the push was not accepted")?;
        let reference = answer
            .get("CheckoutRequestID")
            .and_then(Value::as_str)
            .ok_or_else(|| ProviderError::Garbled("no CheckoutRequestID".into()))?;
        Ok(Checkout {
            reference: reference.to_owned(),
            redirect: None,
        })
    }

    fn verify(
        &self,
        _headers: &HeaderMap,
        body: &[u8],
        _now: DateTime<Utc>,
    ) -> Result<Vec<Notice>, CallbackError> {
        let body = json_body(body)?;
        match body.pointer("/Body/stkCallback") {
            Some(callback) => Self::read_stk(callback),
            None => Self::read_c2b(&body),
        }
    }

    fn must_confirm(&self) -> bool {
        true
    }

    async fn confirm(&self, checkout_reference: &str) -> Result<bool, ProviderError> {
        let timestamp = nairobi_timestamp(Utc::now());
        let answer = self
            .post(
                "/mpesa/stkpushquery/v1/query",
                &json!({
                    "BusinessShortCode": self.short_code,
                    "Password": self.password(&timestamp),
                    "Timestamp": timestamp,
                    "CheckoutRequestID": checkout_reference,
                }),
            )
            .await?;
        let code = answer
            .get("ResultCode")
            .map(|code| code.to_string().trim_matches('"').to_owned());
        Ok(code.as_deref() == Some("0"))
    }

    async fn refund(&self, _request: &RefundRequest) -> Result<String, ProviderError> {
        // Daraja's reversal API needs an initiator's encrypted credential; a site refunds
        // M-Pesa payments by hand and records them as such.
        Err(ProviderError::Unsupported)
    }

    /// A B2C "business payment" to the person's phone. Daraja answers at once that it took
    /// the request; the outcome arrives later at the result URL.
    async fn pay_out(&self, request: &PayoutRequest) -> Result<PayoutSent, ProviderError> {
        let (initiator, credential) = self.initiator.as_ref().ok_or_else(|| {
            ProviderError::Refused(
                "M-Pesa payouts need the site's initiator_name setting and security_credential \
                 secret; record this refund as paid by hand instead."
                    .into(),
            )
        })?;
        let phone = request
            .destination
            .as_deref()
            .and_then(app::domain::payments::mpesa_phone)
            .ok_or_else(|| ProviderError::Refused("Give the M-Pesa phone number to pay.".into()))?;
        if request.currency != "KES" || request.amount.0 % 100 != 0 {
            return Err(ProviderError::Refused(
                "M-Pesa pays whole shillings only; pay this by hand.".into(),
            ));
        }
        let answer = self
            .post(
                "/mpesa/b2c/v3/paymentrequest",
                &json!({
                    "OriginatorConversationID": request.reference,
                    "InitiatorName": initiator,
                    "SecurityCredential": credential.expose(),
                    "CommandID": "BusinessPayment",
                    "Amount": request.amount.0 / 100,
                    "PartyA": self.payout_short_code,
                    "PartyB": phone,
                    "Remarks": request.remarks.chars().take(100).collect::<String>(),
                    "QueueTimeOutURL": request.result_url,
                    "ResultURL": request.result_url,
                    "Occasion": "Move-out refund",
                }),
            )
            .await?;
        accepted(&answer, "the payment was not accepted")?;
        answer
            .get("ConversationID")
            .and_then(Value::as_str)
            .map(|id| PayoutSent::Accepted(id.to_owned()))
            .ok_or_else(|| ProviderError::Garbled("no ConversationID".into()))
    }

    /// A B2C result (or a queue time-out, which carries a failing code).
    fn payout_result(&self, body: &[u8]) -> Result<PayoutResult, CallbackError> {
        let body = json_body(body)?;
        let result = body
            .get("Result")
            .ok_or_else(|| CallbackError::Malformed("no Result".into()))?;
        let request = text_at(result, "/ConversationID")?.to_owned();
        let code = result
            .get("ResultCode")
            .map(|code| code.to_string().trim_matches('"').to_owned())
            .ok_or_else(|| CallbackError::Malformed("no ResultCode".into()))?;
        let description = result
            .get("ResultDesc")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let paid = if code == "0" {
            Some(text_at(result, "/TransactionID")?.to_owned())
        } else {
            None
        };
        Ok(PayoutResult {
            request,
            paid,
            description,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_read_exactly_whether_number_or_text() {
        assert_eq!(shillings(&json!(150)), Ok(Minor(15_000)));
        assert_eq!(shillings(&json!("99.50")), Ok(Minor(9_950)));
        assert_eq!(shillings(&json!(1.0)), Ok(Minor(100)));
        assert!(shillings(&json!("9.999")).is_err());
        assert!(shillings(&json!(null)).is_err());
    }

    #[test]
    fn a_failed_push_is_read_as_a_failure() {
        let body = json!({"Body": {"stkCallback": {
            "MerchantRequestID": "m", "CheckoutRequestID": "ws_CO_1",
            "ResultCode": 1032, "ResultDesc": "Request cancelled by user"}}});
        let notices = Mpesa::read_stk(&body["Body"]["stkCallback"]).unwrap();
        assert_eq!(notices[0].event_key, "stk:ws_CO_1:1032");
        assert!(matches!(notices[0].report, Reported::Failed { .. }));
    }

    #[test]
    fn payout_results_are_read_as_paid_or_failed() {
        let mpesa = Mpesa {
            http: reqwest::Client::new(),
            base_url: String::new(),
            short_code: "600000".into(),
            consumer_key: crate::config::Secret::new("k"),
            consumer_secret: crate::config::Secret::new("s"),
            passkey: crate::config::Secret::new("p"),
            initiator: None,
            payout_short_code: "600000".into(),
        };
        let paid = json!({"Result": {"ResultType": 0, "ResultCode": 0, "ResultDesc": "done",
            "ConversationID": "AG_1", "TransactionID": "NLJ41HAY6Q"}});
        let read = mpesa.payout_result(paid.to_string().as_bytes()).unwrap();
        assert_eq!(
            (read.request.as_str(), read.paid.as_deref()),
            ("AG_1", Some("NLJ41HAY6Q"))
        );
        let failed = json!({"Result": {"ResultCode": "2001", "ResultDesc": "The initiator information is invalid.",
            "ConversationID": "AG_2"}});
        let read = mpesa.payout_result(failed.to_string().as_bytes()).unwrap();
        assert_eq!(read.paid, None);
        assert_eq!(read.description, "The initiator information is invalid.");
        assert!(mpesa.payout_result(b"{}").is_err());
        assert!(mpesa.payout_result(b"not json").is_err());
    }
}
