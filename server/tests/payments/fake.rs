//! A fake payment provider on loopback: just enough of Stripe's, Paystack's and Daraja's
//! APIs to start checkouts, answer status queries, take refunds and pay people, recording
//! every call.

use axum::{
    Form, Json, Router,
    extract::State,
    http::HeaderMap,
    routing::{get, post},
};
use serde_json::{Value, json};
use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

#[derive(Default)]
pub struct Calls {
    /// (path, body as JSON or form fields)
    pub seen: Vec<(String, Value)>,
    /// What Daraja's status query answers: "0" paid, anything else not.
    pub stk_result: String,
    pub counter: u64,
    /// Daraja's B2C answers a gateway's error page instead of JSON.
    pub b2c_garbled: bool,
}

#[derive(Clone, Default)]
pub struct Fake {
    pub calls: Arc<Mutex<Calls>>,
}

impl Fake {
    pub fn seen(&self, path: &str) -> Vec<Value> {
        let calls = self.calls.lock().unwrap();
        calls
            .seen
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, body)| body.clone())
            .collect()
    }

    pub fn set_stk_result(&self, code: &str) {
        self.calls.lock().unwrap().stk_result = code.to_owned();
    }

    fn record(&self, path: &str, body: Value) -> u64 {
        let mut calls = self.calls.lock().unwrap();
        calls.seen.push((path.to_owned(), body));
        calls.counter += 1;
        calls.counter
    }
}

/// Starts the fake; answers its base URL.
pub async fn start() -> (String, Fake) {
    let fake = Fake::default();
    fake.set_stk_result("1032");
    let router = Router::new()
        .route("/v1/checkout/sessions", post(stripe_session))
        .route("/v1/refunds", post(stripe_refund))
        .route("/transaction/initialize", post(paystack_initialize))
        .route("/refund", post(paystack_refund))
        .route("/oauth/v1/generate", get(daraja_token))
        .route("/mpesa/stkpush/v1/processrequest", post(daraja_push))
        .route("/mpesa/stkpushquery/v1/query", post(daraja_query))
        .route("/mpesa/b2c/v3/paymentrequest", post(daraja_b2c))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (format!("http://{addr}"), fake)
}

fn bearer(headers: &HeaderMap) -> String {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

async fn stripe_session(
    State(fake): State<Fake>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Json<Value> {
    let mut body = json!(form);
    body["authorization"] = json!(bearer(&headers));
    let n = fake.record("/v1/checkout/sessions", body);
    Json(
        json!({ "id": format!("cs_test_{n}"), "url": format!("https://checkout.test/cs_test_{n}") }),
    )
}

async fn stripe_refund(
    State(fake): State<Fake>,
    Form(form): Form<HashMap<String, String>>,
) -> Json<Value> {
    let n = fake.record("/v1/refunds", json!(form));
    Json(json!({ "id": format!("re_test_{n}"), "status": "succeeded" }))
}

async fn paystack_initialize(State(fake): State<Fake>, Json(body): Json<Value>) -> Json<Value> {
    let reference = body["reference"].clone();
    fake.record("/transaction/initialize", body);
    Json(json!({ "status": true, "message": "ok", "data": {
        "authorization_url": format!("https://paystack.test/{}", reference.as_str().unwrap_or("")),
        "reference": reference,
    }}))
}

async fn paystack_refund(State(fake): State<Fake>, Json(body): Json<Value>) -> Json<Value> {
    let n = fake.record("/refund", body);
    Json(json!({ "status": true, "message": "ok", "data": { "id": 9000 + n } }))
}

async fn daraja_token(State(fake): State<Fake>, headers: HeaderMap) -> Json<Value> {
    fake.record(
        "/oauth/v1/generate",
        json!({ "authorization": bearer(&headers) }),
    );
    Json(json!({ "access_token": "daraja-token", "expires_in": "3599" }))
}

async fn daraja_push(State(fake): State<Fake>, Json(body): Json<Value>) -> Json<Value> {
    let n = fake.record("/mpesa/stkpush/v1/processrequest", body);
    Json(json!({
        "MerchantRequestID": format!("m-{n}"),
        "CheckoutRequestID": format!("ws_CO_{n}"),
        "ResponseCode": "0",
        "ResponseDescription": "Success. Request accepted for processing",
        "CustomerMessage": "Success",
    }))
}

async fn daraja_query(State(fake): State<Fake>, Json(body): Json<Value>) -> Json<Value> {
    fake.record("/mpesa/stkpushquery/v1/query", body);
    let code = fake.calls.lock().unwrap().stk_result.clone();
    Json(json!({ "ResponseCode": "0", "ResultCode": code, "ResultDesc": "queried" }))
}

async fn daraja_b2c(State(fake): State<Fake>, Json(body): Json<Value>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let originator = body["OriginatorConversationID"].clone();
    let n = fake.record("/mpesa/b2c/v3/paymentrequest", body);
    if fake.calls.lock().unwrap().b2c_garbled {
        return (
            axum::http::StatusCode::BAD_GATEWAY,
            "<html>upstream timed out</html>",
        )
            .into_response();
    }
    Json(json!({
        "ConversationID": format!("AG_{n}"),
        "OriginatorConversationID": originator,
        "ResponseCode": "0",
        "ResponseDescription": "Accept the service request successfully.",
    }))
    .into_response()
}
