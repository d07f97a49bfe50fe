//! Console downloads: `GET /manage/sites/{id}/consumption.csv?from=&to=`, the consumption
//! report's every line for the same people and with the same figures as its page,
//! `GET /manage/sites/{id}/collections.csv?from=&to=`, the collections report's,
//! `GET /manage/sites/{id}/supply.csv?from=&to=`, the warnings and cut-offs report's,
//! `GET /manage/sites/{id}/losses.csv?from=&to=`, the loss report's,
//! `GET /manage/sites/{id}/bands.csv?from=&to=`, use by time-of-use band,
//! `GET /manage/sites/{id}/sheet.csv`, the site's model in the columns its import reads,
//! `GET /manage/sites/{id}/accounts.csv?state=&utility=…`, every account the accounts table's
//! search finds, in its order, and
//! `GET /manage/sites/{id}/meters.csv?utility=&problem=&words=`, every meter the fleet's
//! meters table finds, with its problems, and
//! `GET /meters/{id}/readings.csv?from=&to=`, a meter's readings over some of its site's days.

use super::AppState;
use app::{
    api::reports::access,
    domain::{
        account_table::{CSV_HEADER, QueryFields, csv_line},
        csv,
        meter_table::{self, MeterFields},
        reports::Days,
    },
    error::AppError,
};
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
    Router::new()
        .route("/manage/sites/{site}/consumption.csv", get(consumption_csv))
        .route("/manage/sites/{site}/collections.csv", get(collections_csv))
        .route("/manage/sites/{site}/supply.csv", get(supply_csv))
        .route("/manage/sites/{site}/losses.csv", get(losses_csv))
        .route("/manage/sites/{site}/bands.csv", get(bands_csv))
        .route("/manage/sites/{site}/sheet.csv", get(site_sheet_csv))
        .route("/manage/sites/{site}/accounts.csv", get(accounts_csv))
        .route("/manage/sites/{site}/meters.csv", get(meters_csv))
        .route("/meters/{meter}/readings.csv", get(meter_readings_csv))
}

#[derive(Deserialize)]
struct DaysQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// A report over a site's local days (its CSV text and its days) as a file named for its kind
/// and days.
fn days_csv(kind: &str, report: Result<(String, Days), AppError>) -> Response {
    match report {
        Ok((text, days)) => csv_file(text, &format!("{kind}-{}-{}.csv", days.from, days.to)),
        Err(error) => refused(error),
    }
}

/// A handler for the CSV of a report over a site's local days: the same access check and
/// figures as its page (`access::…` decides who may), as a file named for its kind and days.
macro_rules! days_download {
    ($handler:ident, $kind:literal, $load:path) => {
        async fn $handler(
            State(state): State<AppState>,
            session: Session,
            Path(site): Path<String>,
            Query(days): Query<DaysQuery>,
        ) -> Response {
            let report = async {
                let caller = downloader(&state, &session).await?;
                $load(&state.ports, &caller, &site, &days.from, &days.to).await
            };
            days_csv(
                $kind,
                report.await.map(|report| (report.csv(), report.days)),
            )
        }
    };
}

days_download!(consumption_csv, "consumption", access::consumption);
days_download!(collections_csv, "collections", access::collections);
days_download!(supply_csv, "supply", access::supply);
days_download!(losses_csv, "losses", access::losses);
days_download!(bands_csv, "bands", access::bands);

/// The site's buildings, units, meters and residents in the columns its import reads.
async fn site_sheet_csv(
    State(state): State<AppState>,
    session: Session,
    Path(site): Path<String>,
) -> Response {
    let sheet = async {
        let caller = downloader(&state, &session).await?;
        let site = app::api::sheets::access::sheet_site(&state.ports, &caller, &site).await?;
        state
            .ports
            .sheets
            .export_sheet(site)
            .await
            .map(|text| (site, text))
    };
    match sheet.await {
        Ok((site, text)) => csv_file(text, &format!("site-{}.csv", site.0)),
        Err(error) => refused(error),
    }
}

/// Every account the table's search finds, on one sheet rather than a page at a time.
async fn accounts_csv(
    State(state): State<AppState>,
    session: Session,
    Path(site): Path<String>,
    Query(fields): Query<QueryFields>,
) -> Response {
    let found = async {
        let caller = downloader(&state, &session).await?;
        app::api::account_table::access::accounts(&state.ports, &caller, &site, &fields).await
    };
    match found.await {
        Ok(found) => {
            let accounts = found.query.select(found.accounts);
            let mut text = csv::line(&CSV_HEADER);
            for account in &accounts {
                text.push_str(&csv_line(account));
            }
            csv_file(text, &format!("accounts-{site}.csv"))
        }
        Err(error) => refused(error),
    }
}

async fn meters_csv(
    State(state): State<AppState>,
    session: Session,
    Path(site): Path<String>,
    Query(fields): Query<MeterFields>,
) -> Response {
    let found = async {
        let caller = downloader(&state, &session).await?;
        app::api::meter_table::access::meters(&state.ports, &caller, &site, &fields).await
    };
    match found.await {
        Ok(found) => {
            let now = found.list.read_at;
            let meters = found.query.select(found.list.meters, &found.rules, now);
            let mut text = csv::line(&meter_table::CSV_HEADER);
            for meter in &meters {
                text.push_str(&meter_table::csv_line(
                    meter,
                    &found.list.zone,
                    &found.rules,
                    now,
                ));
            }
            csv_file(text, &format!("meters-{site}.csv"))
        }
        Err(error) => refused(error),
    }
}

async fn meter_readings_csv(
    State(state): State<AppState>,
    session: Session,
    Path(meter): Path<String>,
    Query(days): Query<DaysQuery>,
) -> Response {
    let readings = async {
        let caller = downloader(&state, &session).await?;
        app::api::fleet::access::meter_readings(&state.ports, &caller, &meter, &days.from, &days.to)
            .await
    };
    match readings.await {
        Ok(readings) => csv_file(readings.csv(), &readings.file_name()),
        Err(error) => refused(error),
    }
}

/// The signed-in caller, unless they owe a new password or the second factor their
/// organisation requires: until then they get no data (as the pages hold them).
async fn downloader(state: &AppState, session: &Session) -> Result<app::domain::Caller, AppError> {
    let caller = app::api::caller_in(session, &*state.ports.auth).await?;
    if caller.must_change_password || (caller.two_factor_required && !caller.two_factor) {
        return Err(AppError::Forbidden);
    }
    Ok(caller)
}

fn refused(error: AppError) -> Response {
    match error {
        AppError::Unauthenticated => {
            (StatusCode::UNAUTHORIZED, "sign in to download reports").into_response()
        }
        AppError::Invalid(why) => (StatusCode::UNPROCESSABLE_ENTITY, why).into_response(),
        AppError::Forbidden | AppError::NotFound => {
            (StatusCode::FORBIDDEN, "not yours to see").into_response()
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// A CSV download, never cached: it holds what only its reader may see.
fn csv_file(body: String, name: &str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}
