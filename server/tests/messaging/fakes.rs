//! An SMS provider and a mail server on loopback: the provider speaks both Africa's Talking's
//! and Twilio's sending APIs and can be told to fail; the mail server speaks enough SMTP for a
//! real client and keeps every message it accepts.

use axum::{
    Form, Json, Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::json;
use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, Ordering},
};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::TcpListener,
};

/// One message the provider was asked to send.
#[derive(Clone, Debug)]
pub struct Texted {
    pub to: String,
    pub text: String,
    /// The id the provider gave it.
    pub id: String,
}

#[derive(Default)]
struct Provider {
    sent: Mutex<Vec<Texted>>,
    /// Requests answered 503 while failing.
    refused: Mutex<usize>,
    failing: AtomicBool,
}

#[derive(Clone)]
pub struct FakeSms {
    pub url: String,
    state: Arc<Provider>,
}

impl FakeSms {
    pub async fn start() -> FakeSms {
        let state = Arc::new(Provider::default());
        let router = Router::new()
            .route("/version1/messaging", post(africas_talking))
            .route("/2010-04-01/Accounts/{account}/Messages.json", post(twilio))
            .with_state(state.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        FakeSms { url, state }
    }

    pub fn sent(&self) -> Vec<Texted> {
        self.state.sent.lock().unwrap().clone()
    }

    pub fn sent_to(&self, number: &str) -> Vec<Texted> {
        self.sent()
            .into_iter()
            .filter(|sms| sms.to == number)
            .collect()
    }

    pub fn refused(&self) -> usize {
        *self.state.refused.lock().unwrap()
    }

    pub fn fail(&self, failing: bool) {
        self.state.failing.store(failing, Ordering::SeqCst);
    }

    pub fn clear(&self) {
        self.state.sent.lock().unwrap().clear();
    }

    /// Waits until a number has received `count` messages (codes go out after the answer).
    pub async fn await_sent_to(&self, number: &str, count: usize) -> Vec<Texted> {
        for _ in 0..200 {
            let texted = self.sent_to(number);
            if texted.len() >= count {
                return texted;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!(
            "{number} never received {count} messages: {:?}",
            self.sent_to(number)
        );
    }

    /// The six-digit code of the next SMS to a number (the one after `seen` before it).
    pub async fn code_after(&self, number: &str, seen: usize) -> String {
        let texted = self.await_sent_to(number, seen + 1).await;
        texted[seen].text[..6].to_owned()
    }
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
        .unwrap_or_default()
}

fn take(
    state: &Provider,
    form: &[(String, String)],
    to: &str,
    text: &str,
    prefix: &str,
) -> Option<String> {
    if state.failing.load(Ordering::SeqCst) {
        *state.refused.lock().unwrap() += 1;
        return None;
    }
    let mut sent = state.sent.lock().unwrap();
    let id = format!("{prefix}{}", sent.len() + 1);
    sent.push(Texted {
        to: field(form, to).to_owned(),
        text: field(form, text).to_owned(),
        id: id.clone(),
    });
    Some(id)
}

async fn africas_talking(
    State(state): State<Arc<Provider>>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if headers.get("apiKey").and_then(|v| v.to_str().ok()) != Some("at-key")
        || field(&form, "username") != "prepaid"
    {
        return (StatusCode::UNAUTHORIZED, "bad credentials").into_response();
    }
    match take(&state, &form, "to", "message", "ATXid_") {
        None => (StatusCode::SERVICE_UNAVAILABLE, "down").into_response(),
        Some(id) => (
            StatusCode::CREATED,
            Json(json!({ "SMSMessageData": {
                "Message": "Sent to 1/1 Total Cost: KES 0.8000",
                "Recipients": [{ "statusCode": 101, "number": field(&form, "to"), "status": "Success",
                                 "cost": "KES 0.8000", "messageId": id }]
            }})),
        )
            .into_response(),
    }
}

async fn twilio(
    State(state): State<Arc<Provider>>,
    Path(account): Path<String>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    use base64::Engine as _;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("AC123:tw-token")
    );
    if account != "AC123"
        || headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&expected)
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "code": 20003, "message": "Authenticate" })),
        )
            .into_response();
    }
    match take(&state, &form, "To", "Body", "SM") {
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "message": "down" })),
        )
            .into_response(),
        Some(sid) => (
            StatusCode::CREATED,
            Json(json!({ "sid": sid, "status": "queued" })),
        )
            .into_response(),
    }
}

/// One message the mail server accepted.
#[derive(Clone, Debug)]
pub struct Mailed {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent (headers and body, MIME parts undecoded).
    pub data: String,
}

#[derive(Clone)]
pub struct SmtpSink {
    pub url: String,
    mail: Arc<Mutex<Vec<Mailed>>>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("smtp://{}", listener.local_addr().unwrap());
        let mail = Arc::new(Mutex::new(Vec::new()));
        let kept = mail.clone();
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(converse(socket, kept.clone()));
            }
        });
        SmtpSink { url, mail }
    }

    pub fn mail(&self) -> Vec<Mailed> {
        self.mail.lock().unwrap().clone()
    }

    pub fn mail_to(&self, address: &str) -> Vec<Mailed> {
        self.mail()
            .into_iter()
            .filter(|mail| mail.to.iter().any(|to| to.contains(address)))
            .collect()
    }

    pub fn clear(&self) {
        self.mail.lock().unwrap().clear();
    }

    /// Waits until an address has received `count` messages.
    pub async fn await_mail_to(&self, address: &str, count: usize) -> Vec<Mailed> {
        for _ in 0..200 {
            let mailed = self.mail_to(address);
            if mailed.len() >= count {
                return mailed;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("{address} never received {count} e-mails");
    }
}

async fn converse(socket: tokio::net::TcpStream, mail: Arc<Mutex<Vec<Mailed>>>) {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    let _ = write.write_all(b"220 sink.test ESMTP\r\n").await;
    let (mut from, mut to) = (String::new(), Vec::new());
    while let Ok(Some(line)) = lines.next_line().await {
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            b"250 sink.test\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = line[10..].trim().to_owned();
            b"250 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            to.push(line[8..].trim().to_owned());
            b"250 OK\r\n"
        } else if upper == "DATA" {
            let _ = write.write_all(b"354 go on\r\n").await;
            let mut data = String::new();
            while let Ok(Some(line)) = lines.next_line().await {
                if line == "." {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
                data.push('\n');
            }
            mail.lock().unwrap().push(Mailed {
                from: std::mem::take(&mut from),
                to: std::mem::take(&mut to),
                data,
            });
            b"250 accepted\r\n"
        } else if upper == "QUIT" {
            let _ = write.write_all(b"221 bye\r\n").await;
            return;
        } else {
            b"250 OK\r\n"
        };
        if write.write_all(reply).await.is_err() {
            return;
        }
    }
}

/// A quoted-printable body made readable: soft line breaks joined, `=XX` decoded.
pub fn unquote(data: &str) -> String {
    let joined = data.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
