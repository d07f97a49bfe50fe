//! Where providers call us back. These routes sit outside the session and Origin checks
//! (providers have neither); each request proves itself by its signature or, for Daraja's
//! unsigned callbacks, by the unguessable token in its URL.
//!
//! Answers: 2xx when the callback was taken (a repeat included), 4xx when it was refused and
//! nothing changed, 5xx when we could not decide (the provider will try again).

use super::{PaymentError, Payments, provider::CallbackError, settle::Settled};
use app::domain::payments::ProviderKind;
use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::json;

pub fn router(payments: Payments) -> Router {
    Router::new()
        .route("/hooks/mpesa/stk/{payment}/{token}", post(mpesa_stk))
        .route("/hooks/mpesa/c2b/{site}/{token}", post(mpesa_c2b))
        .route("/hooks/mpesa/validate/{site}/{token}", post(mpesa_validate))
        .route("/hooks/payout/{payout}/{token}", post(payout_result))
        .route("/hooks/{provider}/{site}", post(signed))
        .with_state(payments)
}

/// Stripe, Paystack and the sandbox: signed callbacks to the site's address.
async fn signed(
    State(payments): State<Payments>,
    Path((provider, site)): Path<(String, i64)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let kind = match ProviderKind::parse(&provider) {
        Some(kind @ (ProviderKind::Stripe | ProviderKind::Paystack | ProviderKind::Sandbox)) => {
            kind
        }
        _ => return refused(&provider, CallbackError::NotEnabled.into()),
    };
    match payments.receive(site, kind, &headers, &body, None).await {
        Ok(settled) => taken(&provider, &settled, Json(json!({ "received": true }))),
        Err(error) => refused(&provider, error),
    }
}

/// An STK push's result, at the payment's own unguessable address.
async fn mpesa_stk(
    State(payments): State<Payments>,
    Path((payment, token)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !payments.check_url_token(&format!("stk:{payment}"), &token) {
        return refused("mpesa", CallbackError::Unknown.into());
    }
    let site = match payments.site_of_payment(&payment).await {
        Ok(Some(site)) => site,
        Ok(None) => return refused("mpesa", CallbackError::Unknown.into()),
        Err(error) => return refused("mpesa", error),
    };
    match payments
        .receive(site, ProviderKind::Mpesa, &headers, &body, Some(&payment))
        .await
    {
        Ok(settled) => taken("mpesa", &settled, daraja_accepted()),
        Err(error) => refused("mpesa", error),
    }
}

/// A paybill payment's confirmation, at the site's unguessable address.
async fn mpesa_c2b(
    State(payments): State<Payments>,
    Path((site, token)): Path<(i64, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !payments.check_url_token(&format!("c2b:{site}"), &token) {
        return refused("mpesa", CallbackError::Unknown.into());
    }
    match payments
        .receive(site, ProviderKind::Mpesa, &headers, &body, None)
        .await
    {
        Ok(settled) => taken("mpesa", &settled, daraja_accepted()),
        Err(error) => refused("mpesa", error),
    }
}

/// Daraja asks before it takes a paybill payment: we turn away references that name no
/// account, so the payer's money never leaves their phone.
async fn mpesa_validate(
    State(payments): State<Payments>,
    Path((site, token)): Path<(i64, String)>,
    body: Bytes,
) -> Response {
    if !payments.check_url_token(&format!("c2b:{site}"), &token) {
        return refused("mpesa", CallbackError::Unknown.into());
    }
    let reference = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|body| body.get("BillRefNumber")?.as_str().map(str::to_owned));
    let known = match reference {
        Some(reference) => payments.names_account(site, &reference).await,
        None => Ok(false),
    };
    match known {
        Ok(true) => daraja_accepted().into_response(),
        Ok(false) => {
            Json(json!({ "ResultCode": "C2B00012", "ResultDesc": "Rejected" })).into_response()
        }
        Err(error) => refused("mpesa", error.into()),
    }
}

/// A payout's result (M-Pesa B2C), at the payout's own unguessable address.
async fn payout_result(
    State(payments): State<Payments>,
    Path((payout, token)): Path<(i64, String)>,
    body: Bytes,
) -> Response {
    if !payments.check_url_token(&format!("payout:{payout}"), &token) {
        return refused("payout", CallbackError::Unknown.into());
    }
    match payments.payout_result(payout, &body).await {
        Ok(outcome) => {
            tracing::info!(payout, ?outcome, "payout result taken");
            daraja_accepted().into_response()
        }
        Err(PaymentError::Engine(crate::engine::EngineError::NotFound(_))) => {
            refused("payout", CallbackError::Unknown.into())
        }
        Err(error) => refused("payout", error),
    }
}

fn daraja_accepted() -> Json<serde_json::Value> {
    Json(json!({ "ResultCode": 0, "ResultDesc": "Accepted" }))
}

fn taken(provider: &str, settled: &[Settled], body: Json<serde_json::Value>) -> Response {
    for outcome in settled {
        tracing::info!(provider, ?outcome, "payment callback settled");
    }
    (StatusCode::OK, body).into_response()
}

fn refused(provider: &str, error: PaymentError) -> Response {
    let status = match &error {
        PaymentError::Callback(CallbackError::Unknown | CallbackError::NotEnabled) => {
            StatusCode::NOT_FOUND
        }
        PaymentError::Callback(
            CallbackError::Unsigned | CallbackError::BadSignature | CallbackError::Stale,
        ) => StatusCode::UNAUTHORIZED,
        PaymentError::Callback(CallbackError::Malformed(_)) => StatusCode::BAD_REQUEST,
        PaymentError::Callback(CallbackError::NotConfirmed) => StatusCode::CONFLICT,
        PaymentError::Misconfigured(..) => StatusCode::NOT_FOUND,
        PaymentError::Provider(_) => StatusCode::BAD_GATEWAY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    // A refusal says why; an internal failure says nothing of our insides.
    let message = if status.is_server_error() {
        tracing::error!(provider, %error, "payment callback could not be settled");
        "The callback could not be settled now; send it again later.".to_owned()
    } else {
        tracing::warn!(provider, %error, "payment callback refused");
        error.to_string()
    };
    (status, Json(json!({ "error": message }))).into_response()
}
