//! `GET /account/my-data.json`: the signed-in person's own data as a download, the same
//! document `prepaid export` prints for an operator.

use super::AppState;
use crate::export;
use axum::{
    Router,
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new().route("/account/my-data.json", get(my_data))
}

async fn my_data(State(state): State<AppState>, session: Session) -> Response {
    let caller = match app::api::caller_in(&session, &*state.ports.auth).await {
        Ok(caller) => caller,
        Err(app::error::AppError::Unauthenticated) => {
            return (StatusCode::UNAUTHORIZED, "sign in to download your data").into_response();
        }
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let document = match export::person(&state.db, caller.user_id.0).await {
        Ok(Some(document)) => document,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(error) => {
            tracing::error!(%error, "could not export a person's data");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let name = format!(
        "attachment; filename=\"my-data-{}.json\"",
        chrono::Utc::now().format("%Y-%m-%d")
    );
    let mut response = axum::Json(document).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&name) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}
