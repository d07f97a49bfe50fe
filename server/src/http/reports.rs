//! `GET /manage/sites/{id}/consumption.csv?from=&to=`: the consumption report's every line
//! as a download, for the same people and with the same figures as its page.

use super::AppState;
use app::error::AppError;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new().route("/manage/sites/{site}/consumption.csv", get(consumption_csv))
}

#[derive(Deserialize)]
struct DaysQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

async fn consumption_csv(
    State(state): State<AppState>,
    session: Session,
    Path(site): Path<String>,
    Query(days): Query<DaysQuery>,
) -> Response {
    let report = async {
        let caller = app::api::caller_in(&session, &*state.ports.auth).await?;
        // Staff still on an initial password, or owing the second factor their organisation
        // requires, get no data until they have done that (as the pages hold them).
        if caller.must_change_password || (caller.two_factor_required && !caller.two_factor) {
            return Err(AppError::Forbidden);
        }
        app::api::reports::access::consumption(&state.ports, &caller, &site, &days.from, &days.to)
            .await
    };
    let report = match report.await {
        Ok(report) => report,
        Err(AppError::Unauthenticated) => {
            return (StatusCode::UNAUTHORIZED, "sign in to download reports").into_response();
        }
        Err(AppError::Invalid(why)) => {
            return (StatusCode::UNPROCESSABLE_ENTITY, why).into_response();
        }
        Err(AppError::Forbidden | AppError::NotFound) => {
            return (StatusCode::FORBIDDEN, "not yours to see").into_response();
        }
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let name = format!(
        "attachment; filename=\"consumption-{}-{}.csv\"",
        report.days.from, report.days.to
    );
    let mut response = report.csv().into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&name) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}
