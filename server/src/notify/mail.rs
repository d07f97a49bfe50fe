//! E-mail over SMTP: plain text with an HTML alternative, from the site's sender address,
//! with a file attached when there is one (a move-out statement).

use super::messenger::SendError;
use crate::config::SmtpConfig;
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Attachment as Part, Mailbox, MultiPart, header::ContentType},
};
use std::time::Duration;

#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The transport holds the server's credentials.
        f.debug_struct("Mailer").field("from", &self.from).finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MailConfigError {
    #[error("PREPAID_SMTP_URL is not a mail server address lettre understands: {0}")]
    Url(lettre::transport::smtp::Error),
    #[error("PREPAID_MAIL_FROM is not an address such as Prepaid <no-reply@example.org>: {0}")]
    From(lettre::address::AddressError),
}

/// One e-mail to send.
#[derive(Clone, Debug)]
pub struct Email {
    pub to: String,
    /// The site's sender address, if it has one.
    pub from: Option<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub attachment: Option<Attachment>,
}

#[derive(Clone, Debug)]
pub struct Attachment {
    pub file_name: String,
    pub text: String,
}

impl Mailer {
    pub fn new(config: &SmtpConfig) -> Result<Self, MailConfigError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(config.url.expose())
            .map_err(MailConfigError::Url)?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        let from = config.from.parse().map_err(MailConfigError::From)?;
        Ok(Mailer { transport, from })
    }

    pub async fn send(&self, email: &Email) -> Result<(), SendError> {
        let from = email
            .from
            .as_deref()
            .and_then(|from| from.parse::<Mailbox>().ok())
            .unwrap_or_else(|| self.from.clone());
        let to: Mailbox = email
            .to
            .parse()
            .map_err(|error| SendError::Refused(format!("not an address: {error}")))?;
        let body = MultiPart::alternative_plain_html(email.text.clone(), email.html.clone());
        let body = match &email.attachment {
            Some(attachment) => MultiPart::mixed().multipart(body).singlepart(
                Part::new(attachment.file_name.clone())
                    .body(attachment.text.clone(), ContentType::TEXT_PLAIN),
            ),
            None => body,
        };
        let message = Message::builder()
            .from(from)
            .to(to)
            .subject(email.subject.clone())
            .multipart(body)
            .map_err(|error| SendError::Refused(format!("could not build the e-mail: {error}")))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(error) if error.is_permanent() => Err(SendError::Refused(format!(
                "the mail server refused it: {error}"
            ))),
            Err(error) => Err(SendError::Retry(format!("mail server: {error}"))),
        }
    }
}

/// A plain text as a small HTML document: paragraphs kept, everything escaped, the link made
/// clickable where the text has it (and added at the end where it does not).
pub fn html_of(title: &str, text: &str, link: Option<&str>) -> String {
    let escape = |raw: &str| {
        raw.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let anchor = link.map(|link| {
        let link = escape(link);
        (link.clone(), format!("<a href=\"{link}\">{link}</a>"))
    });
    let mut html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.5\">\
         <h1 style=\"font-size:1.2em\">{}</h1>",
        escape(title)
    );
    let mut linked = false;
    for paragraph in text.split("\n\n").filter(|p| !p.trim().is_empty()) {
        let mut paragraph = escape(paragraph.trim()).replace('\n', "<br>");
        if let Some((plain, anchor)) = &anchor
            && paragraph.contains(plain.as_str())
        {
            paragraph = paragraph.replace(plain.as_str(), anchor);
            linked = true;
        }
        html.push_str(&format!("<p>{paragraph}</p>"));
    }
    if let Some((_, anchor)) = anchor.filter(|_| !linked) {
        html.push_str(&format!("<p>{anchor}</p>"));
    }
    html.push_str("</body></html>");
    html
}

#[cfg(test)]
mod tests {
    use super::html_of;

    #[test]
    fn html_escapes_the_text_and_links_the_link_once() {
        let html = html_of(
            "A <b> title",
            "Hello,\n\nChoose here:\nhttps://x.test/reset/t?a=1&b=2\n\nThanks",
            Some("https://x.test/reset/t?a=1&b=2"),
        );
        assert!(html.contains("<h1 style=\"font-size:1.2em\">A &lt;b&gt; title</h1>"));
        assert!(html.contains(
            "Choose here:<br><a href=\"https://x.test/reset/t?a=1&amp;b=2\">https://x.test/reset/t?a=1&amp;b=2</a></p>"
        ));
        assert_eq!(html.matches("<a href").count(), 1);
        let appended = html_of("T", "Body", Some("https://x.test/accounts/7"));
        assert!(appended.ends_with("<p><a href=\"https://x.test/accounts/7\">https://x.test/accounts/7</a></p></body></html>"));
    }
}
