//! The integration API, `/api/v1`: the same engine the pages use, for property-management
//! and ERP systems, meter gateways and vendors' clouds. JSON, cursor pages, one error shape,
//! API keys with scopes, idempotent writes; its OpenAPI document is made from this code and
//! served at `/api/v1/openapi.json`, readable at `/api/v1/docs`.

pub mod accounts;
pub mod alarms;
pub mod directory;
pub mod error;
pub mod extract;
pub mod guard;
pub mod idempotency;
pub mod keys;
pub mod model;
pub mod occupancy;
pub mod openapi;
pub mod payments;
pub mod readings;
pub mod reports;

use crate::{auth::recovery::Recovery, db::Db, engine::Engine, fleet::Fleet, on_db};
use axum::{
    Json, Router,
    extract::FromRequestParts,
    http::{StatusCode, request::Parts},
    middleware::{from_fn_with_state, map_response},
    response::Response,
    routing::{get, post},
};
use error::ApiError;
use keys::{ApiKeys, KeyHolder, Scope};
pub use model::{Page, Paging};
use std::sync::Arc;

/// What the API's handlers reach.
#[derive(Clone)]
pub struct Api {
    pub db: Db,
    pub engine: Engine,
    pub fleet: Fleet,
    pub recovery: Recovery,
}

/// The key holder a request was authenticated as.
pub struct Authed(pub KeyHolder);

impl<S: Send + Sync> FromRequestParts<S> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<KeyHolder>()
            .cloned()
            .map(Authed)
            .ok_or(ApiError::Unauthenticated)
    }
}

pub type Listed<T> = Result<Json<Page<T>>, ApiError>;
pub type Created<T> = Result<(StatusCode, Json<T>), ApiError>;

fn created<T>(value: T) -> (StatusCode, Json<T>) {
    (StatusCode::CREATED, Json(value))
}

impl Paging {
    /// The id to start after and the page size.
    fn bounds(&self) -> Result<(i64, i64), ApiError> {
        let limit = self.limit.unwrap_or(50);
        if !(1..=200).contains(&limit) {
            return Err(ApiError::bad("limit is 1 to 200."));
        }
        let after = match &self.cursor {
            None => 0,
            Some(cursor) => cursor
                .parse::<i64>()
                .ok()
                .filter(|after| *after >= 0)
                .ok_or_else(|| ApiError::bad("That cursor is not one this API gave."))?,
        };
        Ok((after, limit))
    }
}

/// A page from rows fetched with one more than `limit`: the extra one says there is more.
fn page_of<R, T>(
    mut rows: Vec<R>,
    limit: i64,
    id: impl Fn(&R) -> i64,
    view: impl Fn(R) -> T,
) -> Page<T> {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = more
        .then(|| rows.last().map(|row| id(row).to_string()))
        .flatten();
    Page {
        data: rows.into_iter().map(view).collect(),
        next_cursor,
    }
}

fn money(minor: i64, currency: &str) -> model::Money {
    let digits = crate::payments::digits_of(currency);
    model::Money {
        amount: app::domain::Minor(minor).format(digits),
        currency: currency.to_owned(),
        minor,
    }
}

impl Api {
    async fn site_currency(&self, site: i64) -> Result<String, ApiError> {
        let currency: Option<String> = on_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT currency FROM sites WHERE id = $1")
                .bind(site)
                .fetch_optional(pool)
                .await
        })?;
        currency.ok_or(ApiError::NotFound)
    }
}

/// Settings of the API.
#[derive(Clone, Copy, Debug)]
pub struct ApiSettings {
    /// Requests a minute per key.
    pub requests_per_minute: u32,
}

/// The API's routes, each group behind the scope it needs; writes behind idempotency.
pub fn router(api: Api, keys: ApiKeys, settings: ApiSettings) -> Router {
    let db = api.db.clone();
    let scoped = |scope: Scope, routes: Router<Api>| {
        routes.route_layer(from_fn_with_state(scope, guard::require))
    };
    let writes = |routes: Router<Api>| {
        routes.route_layer(from_fn_with_state(db.clone(), idempotency::layer))
    };
    let read = Router::new()
        .route("/sites", get(directory::list_sites))
        .route("/sites/{site_id}", get(directory::get_site))
        .route("/buildings", get(directory::list_buildings))
        .route("/units", get(directory::list_units))
        .route("/units/{unit_id}", get(directory::get_unit))
        .route("/meters", get(directory::list_meters))
        .route("/meters/{meter_id}", get(directory::get_meter))
        .route("/meters/{meter_id}/readings", get(accounts::list_readings))
        .route("/residents", get(directory::list_residents))
        .route("/residents/{resident_id}", get(directory::get_resident))
        .route("/accounts", get(accounts::list_accounts))
        .route("/accounts/{account_id}", get(accounts::get_account))
        .route(
            "/accounts/{account_id}/transactions",
            get(accounts::list_transactions),
        )
        .route("/accounts/{account_id}/usage", get(accounts::get_usage))
        .route("/payments", get(payments::list_payments))
        .route("/alarms", get(alarms::list_alarms))
        .route("/reports/consumption", get(reports::consumption));
    let write = Router::new()
        .route("/buildings", post(directory::create_building))
        .route("/units", post(directory::create_unit))
        .route("/meters", post(directory::create_meter))
        .route("/residents", post(directory::create_resident))
        .route("/move-ins", post(occupancy::create_move_in))
        .route("/move-outs", post(occupancy::create_move_out))
        .route(
            "/alarms/{alarm_id}/acknowledge",
            post(alarms::acknowledge_alarm),
        )
        .route("/alarms/{alarm_id}/resolve", post(alarms::resolve_alarm));
    let payments = Router::new().route("/top-ups", post(payments::create_top_up));
    let readings = Router::new().route("/readings", post(readings::post_readings));

    let gate = guard::Gate {
        keys,
        limiter: Arc::new(guard::RateLimiter::new(settings.requests_per_minute)),
    };
    // Reads and writes share paths (GET and POST /units): merged, each method keeps its scope.
    let protected = Router::new()
        .merge(scoped(Scope::Read, read))
        .merge(scoped(Scope::Write, writes(write)))
        .merge(scoped(Scope::Payments, writes(payments)))
        .merge(scoped(Scope::Readings, writes(readings)))
        .route_layer(from_fn_with_state(gate, guard::authenticate))
        .with_state(api);
    let v1 = Router::new()
        .merge(protected)
        .merge(openapi::router())
        .fallback(|| async { ApiError::NotFound })
        .layer(map_response(no_store));
    Router::new().nest("/api/v1", v1)
}

/// Answers about accounts and people are not for shared caches.
async fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .entry(axum::http::header::CACHE_CONTROL)
        .or_insert(axum::http::HeaderValue::from_static("no-store"));
    response
}
