//! Reports drawn from the usage roll-ups.

use super::{
    Api, Authed,
    error::ApiError,
    extract::Params,
    model::{ConsumptionLine, ConsumptionQuery, ConsumptionReport},
    money,
};
use crate::{engine::usage::MICRO, on_db};
use axum::{Json, extract::State};
use rust_decimal::{Decimal, prelude::ToPrimitive};

#[derive(sqlx::FromRow)]
struct LineRow {
    unit_id: i64,
    unit: String,
    building: String,
    utility: String,
    quantity_micro: i64,
    cost_micro: i64,
}

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
    let currency = api.site_currency(query.site_id).await?;
    let digits = crate::payments::digits_of(&currency);
    let rows: Vec<LineRow> = on_db!(&api.db, pool => {
        sqlx::query_as(
            "SELECT u.id AS unit_id, u.name AS unit, b.name AS building, m.utility, \
             CAST(SUM(d.quantity_micro) AS BIGINT) AS quantity_micro, CAST(SUM(d.cost_micro) AS BIGINT) AS cost_micro \
             FROM usage_daily d JOIN meters m ON m.id = d.meter_id JOIN units u ON u.id = m.unit_id \
             JOIN buildings b ON b.id = u.building_id \
             WHERE b.site_id = $1 AND d.day >= $2 AND d.day <= $3 \
             GROUP BY u.id, u.name, b.name, m.utility ORDER BY b.name, u.name, m.utility",
        )
        .bind(query.site_id)
        .bind(query.from)
        .bind(query.to)
        .fetch_all(pool)
        .await
    })?;
    let lines = rows
        .into_iter()
        .map(|row| {
            // The roll-ups keep micro-units; the report's cost is in whole minor units.
            let cost = Decimal::new(row.cost_micro, MICRO + digits).round_dp(digits);
            let minor = (cost * Decimal::from(10_i64.pow(digits)))
                .to_i64()
                .unwrap_or_default();
            ConsumptionLine {
                unit_id: row.unit_id,
                unit: row.unit,
                building: row.building,
                utility: row.utility,
                quantity: Decimal::new(row.quantity_micro, MICRO)
                    .normalize()
                    .to_string(),
                cost: money(minor, &currency),
            }
        })
        .collect();
    Ok(Json(ConsumptionReport {
        site_id: query.site_id,
        from: query.from,
        to: query.to,
        lines,
    }))
}
