//! `GET /healthz`: is this instance up, and can it reach its database?

use super::AppState;
use axum::{Json, Router, extract::State, http::StatusCode, routing::get};
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(health))
}

async fn health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let reachable = state.db.ping().await;
    let status = if reachable.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    if let Err(error) = &reachable {
        tracing::error!(%error, "health check: the database is unreachable");
    }
    let body = json!({
        "status": if reachable.is_ok() { "ok" } else { "degraded" },
        "version": env!("CARGO_PKG_VERSION"),
        "database": {
            "backend": state.db.backend(),
            "reachable": reachable.is_ok(),
        },
    });
    (status, Json(body))
}
