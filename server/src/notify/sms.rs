//! SMS through an HTTP provider: Africa's Talking's form API or Twilio's, each at a
//! configurable base address (many regional gateways copy one of them). Sending answers with
//! the provider's id for the message; delivery reports later name that id.

use super::messenger::SendError;
use crate::config::{Secret, SmsConfig, SmsProvider};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use reqwest::StatusCode;
use serde::Deserialize;

#[derive(Clone, Debug)]
pub struct SmsGateway {
    provider: SmsProvider,
    url: String,
    account: String,
    key: Secret,
    from: Option<String>,
    callback_token: Option<Secret>,
    /// Where delivery reports should go (Twilio takes it with each message), if the platform
    /// knows its public address.
    status_callback: Option<String>,
    client: reqwest::Client,
}

/// What a delivery report says of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Report {
    Delivered,
    Failed(String),
    /// On its way still (sent to the network, buffered): nothing to record.
    Pending,
}

impl SmsGateway {
    pub fn new(config: &SmsConfig, public_url: Option<&str>, client: reqwest::Client) -> Self {
        SmsGateway {
            provider: config.provider,
            url: config.url.clone(),
            account: config.account.clone(),
            key: config.key.clone(),
            from: config.from.clone(),
            callback_token: config.callback_token.clone(),
            status_callback: public_url.map(|url| format!("{url}{TWILIO_REPORTS}")),
            client,
        }
    }

    pub fn provider(&self) -> SmsProvider {
        self.provider
    }

    /// Hands one message to the provider; `Ok` carries its id for the message.
    pub async fn send(&self, to: &str, text: &str) -> Result<String, SendError> {
        match self.provider {
            SmsProvider::AfricasTalking => self.send_africas_talking(to, text).await,
            SmsProvider::Twilio => self.send_twilio(to, text).await,
        }
    }

    async fn send_africas_talking(&self, to: &str, text: &str) -> Result<String, SendError> {
        let mut form = vec![
            ("username", self.account.as_str()),
            ("to", to),
            ("message", text),
        ];
        if let Some(from) = &self.from {
            form.push(("from", from));
        }
        let response = self
            .client
            .post(format!("{}/version1/messaging", self.url))
            .header("apiKey", self.key.expose())
            .header("Accept", "application/json")
            .form(&form)
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status();
        if !status.is_success() {
            return Err(refused_or_retry(status));
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Answer {
            #[serde(rename = "SMSMessageData")]
            data: Data,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Data {
            recipients: Vec<Recipient>,
            #[serde(default)]
            message: String,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Recipient {
            status_code: u16,
            #[serde(default)]
            status: String,
            #[serde(default)]
            message_id: String,
        }
        let answer: Answer = response
            .json()
            .await
            .map_err(|error| SendError::Retry(format!("unreadable answer: {error}")))?;
        let Some(recipient) = answer.data.recipients.into_iter().next() else {
            return Err(SendError::Refused(format!(
                "no recipient accepted: {}",
                answer.data.message
            )));
        };
        match recipient.status_code {
            // Processed, sent, queued.
            100..=102 => Ok(recipient.message_id),
            // Out of credit or the provider's own trouble: worth another try later.
            405 | 500..=599 => Err(SendError::Retry(format!(
                "provider said {} ({})",
                recipient.status, recipient.status_code
            ))),
            code => Err(SendError::Refused(format!(
                "provider refused: {} ({code})",
                recipient.status
            ))),
        }
    }

    async fn send_twilio(&self, to: &str, text: &str) -> Result<String, SendError> {
        let mut form = vec![("To", to), ("Body", text)];
        if let Some(from) = &self.from {
            form.push(("From", from));
        }
        if let Some(callback) = &self.status_callback {
            form.push(("StatusCallback", callback));
        }
        let response = self
            .client
            .post(format!(
                "{}/2010-04-01/Accounts/{}/Messages.json",
                self.url, self.account
            ))
            .basic_auth(&self.account, Some(self.key.expose()))
            .form(&form)
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status();
        if !status.is_success() {
            #[derive(Deserialize, Default)]
            struct Problem {
                #[serde(default)]
                message: String,
            }
            let problem: Problem = response.json().await.unwrap_or_default();
            return Err(match refused_or_retry(status) {
                SendError::Refused(why) if !problem.message.is_empty() => {
                    SendError::Refused(format!("{why}: {}", problem.message))
                }
                other => other,
            });
        }
        #[derive(Deserialize)]
        struct Created {
            sid: String,
        }
        let created: Created = response
            .json()
            .await
            .map_err(|error| SendError::Retry(format!("unreadable answer: {error}")))?;
        Ok(created.sid)
    }

    /// Reads an Africa's Talking delivery report, at an address that carries the configured
    /// token. `None`: not believed (no token configured, or the wrong one).
    pub fn africas_talking_report(
        &self,
        token: &str,
        fields: &[(String, String)],
    ) -> Option<Result<(String, Report), &'static str>> {
        let expected = self.callback_token.as_ref()?;
        if self.provider != SmsProvider::AfricasTalking
            || !crate::secrets::same_bytes(expected.expose().as_bytes(), token.as_bytes())
        {
            return None;
        }
        let field = |name: &str| field(fields, name);
        let Some(id) = field("id").filter(|id| !id.is_empty()) else {
            return Some(Err("the report names no message id"));
        };
        let report = match field("status").unwrap_or_default() {
            "Success" => Report::Delivered,
            "Failed" | "Rejected" | "AbsentSubscriber" | "Expired" => {
                let reason = field("failureReason").unwrap_or("no reason given");
                Report::Failed(format!("{}: {reason}", field("status").unwrap_or_default()))
            }
            "Sent" | "Submitted" | "Buffered" => Report::Pending,
            _ => return Some(Err("the report's status is not one Africa's Talking sends")),
        };
        Some(Ok((id.to_owned(), report)))
    }

    /// Reads a Twilio status callback after checking its `X-Twilio-Signature`: HMAC-SHA1 with
    /// the auth token over the full address and every field, sorted by name, name then value.
    pub fn twilio_report(
        &self,
        url: &str,
        signature: &str,
        fields: &[(String, String)],
    ) -> Option<Result<(String, Report), &'static str>> {
        if self.provider != SmsProvider::Twilio
            || !twilio_signature_valid(self.key.expose(), url, fields, signature)
        {
            return None;
        }
        let field = |name: &str| field(fields, name);
        let Some(id) = field("MessageSid").filter(|id| !id.is_empty()) else {
            return Some(Err("the report names no MessageSid"));
        };
        let report = match field("MessageStatus").unwrap_or_default() {
            "delivered" => Report::Delivered,
            status @ ("failed" | "undelivered") => {
                let code = field("ErrorCode").unwrap_or("none");
                Report::Failed(format!("{status} (error {code})"))
            }
            "accepted" | "queued" | "sending" | "sent" | "scheduled" => Report::Pending,
            _ => return Some(Err("the report's status is not one Twilio sends")),
        };
        Some(Ok((id.to_owned(), report)))
    }

    /// The address this gateway's reports are expected at, as the provider calls it.
    pub fn twilio_callback(&self) -> Option<&str> {
        self.status_callback.as_deref()
    }
}

/// A form field's value, if the report has it.
fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// Where Twilio's status callbacks come in.
pub const TWILIO_REPORTS: &str = "/callbacks/sms/twilio";
/// Where Africa's Talking's delivery reports come in (followed by `/{token}`).
pub const AFRICAS_TALKING_REPORTS: &str = "/callbacks/sms/africastalking";

pub fn twilio_signature(auth_token: &str, url: &str, fields: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = fields.iter().collect();
    sorted.sort();
    let mut signed = url.to_owned();
    for (name, value) in sorted {
        signed.push_str(name);
        signed.push_str(value);
    }
    let key = ring::hmac::Key::new(
        ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        auth_token.as_bytes(),
    );
    STANDARD.encode(ring::hmac::sign(&key, signed.as_bytes()).as_ref())
}

fn twilio_signature_valid(
    auth_token: &str,
    url: &str,
    fields: &[(String, String)],
    signature: &str,
) -> bool {
    let expected = twilio_signature(auth_token, url, fields);
    crate::secrets::same_bytes(expected.as_bytes(), signature.trim().as_bytes())
}

fn unreachable(error: reqwest::Error) -> SendError {
    SendError::Retry(format!("provider unreachable: {error}"))
}

/// Busy, down or limiting: later. Anything else the provider refused for good.
fn refused_or_retry(status: StatusCode) -> SendError {
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        SendError::Retry(format!("provider failed ({status})"))
    } else {
        SendError::Refused(format!("provider refused the message ({status})"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of Twilio's documentation on validating requests: this token, address and
    /// fields give this signature.
    #[test]
    fn twilio_signatures_match_the_documented_example() {
        let fields: Vec<(String, String)> = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let signature = twilio_signature("12345", url, &fields);
        assert_eq!(signature, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
        assert!(twilio_signature_valid("12345", url, &fields, &signature));
        assert!(!twilio_signature_valid("12346", url, &fields, &signature));
    }
}
