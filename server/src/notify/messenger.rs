//! The senders beside Web Push: an SMS provider and a mail server, each present when the
//! operator configured one. Notices go through them from the outbox; one-time codes and links
//! (account recovery, phone sign-in, invitations) go at once, while the person waits.

use super::{
    mail::{Email, MailConfigError, Mailer},
    sandbox::SandboxOutbox,
    sms::SmsGateway,
};
use crate::config::Config;
use app::domain::messaging::Channel;
use std::sync::Arc;

/// Why a message did not go.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The provider was unreachable, busy or failing: try again later.
    #[error("{0}")]
    Retry(String),
    /// The provider refused it for good (a bad number, a rejected sender).
    #[error("{0}")]
    Refused(String),
}

#[derive(Clone, Debug)]
pub struct Messenger {
    sms: Option<SmsGateway>,
    mail: Option<Mailer>,
    /// With the demo, what has no real sender goes here.
    sandbox: Option<Arc<SandboxOutbox>>,
    public_url: Option<String>,
}

impl Messenger {
    pub fn new(config: &Config, client: reqwest::Client) -> Result<Self, MailConfigError> {
        let sms = config
            .sms
            .as_ref()
            .map(|sms| SmsGateway::new(sms, config.public_url.as_deref(), client));
        let mail = config.smtp.as_ref().map(Mailer::new).transpose()?;
        let sandbox = (config.demo && (sms.is_none() || mail.is_none()))
            .then(|| Arc::new(SandboxOutbox::default()));
        Ok(Messenger {
            sms,
            mail,
            sandbox,
            public_url: Some(
                config
                    .public_url
                    .clone()
                    .unwrap_or_else(|| format!("http://{}", config.listen)),
            ),
        })
    }

    /// Whether the platform can send on this channel at all (push always can; the demo's
    /// sandbox stands in for what is not configured).
    pub fn can_send(&self, channel: Channel) -> bool {
        match channel {
            Channel::Push => true,
            Channel::Sms => self.sms.is_some() || self.sandbox.is_some(),
            Channel::Email => self.mail.is_some() || self.sandbox.is_some(),
        }
    }

    /// The demo's sandbox outbox, when it stands in for a sender.
    pub fn sandbox(&self) -> Option<&SandboxOutbox> {
        self.sandbox.as_deref()
    }

    pub fn sms(&self) -> Option<&SmsGateway> {
        self.sms.as_ref()
    }

    pub async fn send_sms(&self, to: &str, text: &str) -> Result<String, SendError> {
        match (&self.sms, &self.sandbox) {
            (Some(gateway), _) => gateway.send(to, text).await,
            (None, Some(sandbox)) => Ok(sandbox.keep(Channel::Sms, to, None, text)),
            (None, None) => Err(SendError::Refused("no SMS provider is configured".into())),
        }
    }

    pub async fn send_email(&self, email: &Email) -> Result<(), SendError> {
        match (&self.mail, &self.sandbox) {
            (Some(mailer), _) => mailer.send(email).await,
            (None, Some(sandbox)) => {
                let mut text = email.text.clone();
                if let Some(attachment) = &email.attachment {
                    text.push_str(&format!(
                        "\n\n--- attached: {} ---\n{}",
                        attachment.file_name, attachment.text
                    ));
                }
                sandbox.keep(Channel::Email, &email.to, Some(&email.subject), &text);
                Ok(())
            }
            (None, None) => Err(SendError::Refused("no mail server is configured".into())),
        }
    }

    /// A page's full address, for links in messages read outside the browser.
    pub fn link(&self, path: &str) -> String {
        match &self.public_url {
            Some(base) => format!("{base}{path}"),
            None => path.to_owned(),
        }
    }
}
