//! Where SMS providers report delivery. Outside the session and Origin checks (providers have
//! neither): Twilio's reports prove themselves by their signature, Africa's Talking's (which
//! are not signed) by the secret in the address the operator gave it.
//!
//! Answers: 200 when the report was taken (a repeat, or one about a message that is not ours,
//! changes nothing), 400 when it makes no sense, 404 when it is not believed, 503 when it
//! could not be recorded (the provider will try again).

use super::{
    Notifier,
    sms::{AFRICAS_TALKING_REPORTS, Report, TWILIO_REPORTS},
};
use axum::{
    Form, Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    routing::post,
};

pub fn router(notifier: Notifier) -> Router {
    Router::new()
        .route(
            &format!("{AFRICAS_TALKING_REPORTS}/{{token}}"),
            post(africas_talking),
        )
        .route(TWILIO_REPORTS, post(twilio))
        .with_state(notifier)
}

type Answer = (StatusCode, &'static str);

async fn africas_talking(
    State(notifier): State<Notifier>,
    Path(token): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Answer {
    let Some(gateway) = notifier.messenger().sms() else {
        return (StatusCode::NOT_FOUND, "not found");
    };
    match gateway.africas_talking_report(&token, &fields) {
        None => (StatusCode::NOT_FOUND, "not found"),
        Some(read) => take(&notifier, read).await,
    }
}

async fn twilio(
    State(notifier): State<Notifier>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Answer {
    let Some(gateway) = notifier.messenger().sms() else {
        return (StatusCode::NOT_FOUND, "not found");
    };
    // Twilio signs the address it called: the one given with each message when the public
    // address is configured, else this server as the request names it.
    let url = match gateway.twilio_callback() {
        Some(url) => url.to_owned(),
        None => {
            let host = headers
                .get(axum::http::header::HOST)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default();
            format!("http://{host}{TWILIO_REPORTS}")
        }
    };
    let Some(signature) = headers
        .get("x-twilio-signature")
        .and_then(|value| value.to_str().ok())
    else {
        return (StatusCode::FORBIDDEN, "the report is not signed");
    };
    match gateway.twilio_report(&url, signature, &fields) {
        None => (StatusCode::FORBIDDEN, "the signature does not match"),
        Some(read) => take(&notifier, read).await,
    }
}

async fn take(notifier: &Notifier, read: Result<(String, Report), &'static str>) -> Answer {
    let (id, report) = match read {
        Ok(read) => read,
        Err(why) => return (StatusCode::BAD_REQUEST, why),
    };
    match notifier
        .record_report(&id, report, chrono::Utc::now())
        .await
    {
        Ok(true) => (StatusCode::OK, "recorded"),
        Ok(false) => (StatusCode::OK, "not a message of ours; ignored"),
        Err(error) => {
            tracing::warn!(%error, "could not record a delivery report");
            (StatusCode::SERVICE_UNAVAILABLE, "try again later")
        }
    }
}
