//! Reports drawn from the usage roll-ups (the engine's, as the console shows them).

use super::{
    Api, Authed,
    error::ApiError,
    extract::Params,
    model::{ConsumptionLine, ConsumptionQuery, ConsumptionReport},
    money,
};
use crate::engine::usage::MICRO;
use app::domain::{SiteId, reports::DaysAsked};
use axum::{Json, extract::State};
use rust_decimal::Decimal;

#[utoipa::path(get, path = "/reports/consumption", tag = "reports", params(ConsumptionQuery),
    responses((status = 200, body = ConsumptionReport)))]
/// Consumption and its cost per unit and utility over local days of a site.
pub async fn consumption(
    State(api): State<Api>,
    Authed(key): Authed,
    Params(query): Params<ConsumptionQuery>,
) -> Result<Json<ConsumptionReport>, ApiError> {
    if query.to < query.from || (query.to - query.from).num_days() > 400 {
        return Err(ApiError::Unprocessable(
            "`to` is on or after `from`, at most 400 days later.".into(),
        ));
    }
    api.site_of_org(key.org, query.site_id)
        .await
        .map_err(|_| ApiError::NotFound)?;
    let days = DaysAsked {
        from: Some(query.from),
        to: Some(query.to),
    };
    let report = api.engine.consumption(SiteId(query.site_id), days).await?;
    let lines = report
        .lines
        .into_iter()
        .map(|line| ConsumptionLine {
            unit_id: line.unit_id,
            unit: line.unit,
            building: line.building,
            utility: line.utility.as_str().to_owned(),
            quantity: Decimal::new(line.quantity_micro, MICRO)
                .normalize()
                .to_string(),
            cost: money(line.cost.0, &report.currency),
        })
        .collect();
    Ok(Json(ConsumptionReport {
        site_id: query.site_id,
        from: query.from,
        to: query.to,
        lines,
    }))
}
