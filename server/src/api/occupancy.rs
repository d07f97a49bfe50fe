//! Move-ins of people already known (a newcomer is `POST /residents`), and move-outs: final
//! readings charged, accounts settled and closed, the rest refunded, owed or carried to the
//! unit moved to.

use super::{
    Api, Authed, Created,
    error::ApiError,
    extract::Body,
    model::{MoveOut, NewMoveIn, NewMoveOut, Resident, SettlementLine},
    money,
};
use crate::{db::is_unique_violation, on_tx};
use crate::{engine::rating::IncomingReading, fleet::ops};
use app::domain::UnitId;
use axum::extract::State;
use chrono::Utc;
use serde_json::json;

#[utoipa::path(post, path = "/move-ins", tag = "occupancy", request_body = NewMoveIn,
    responses((status = 201, body = Resident)))]
/// Moves a known resident who lives nowhere now into a unit: their accounts open at once.
pub async fn create_move_in(
    State(api): State<Api>,
    Authed(key): Authed,
    Body(new): Body<NewMoveIn>,
) -> Created<Resident> {
    let unit = api
        .unit(key.org, new.unit_id)
        .await
        .map_err(ApiError::named("unit"))?;
    let resident = api
        .resident(key.org, new.resident_id)
        .await
        .map_err(ApiError::named("resident"))?;
    if let Some(home) = resident.unit_id {
        return Err(ApiError::Conflict(format!(
            "That resident lives in unit {home} now: move them out first, or move them with \
             `to_unit_id` on their move-out."
        )));
    }
    let now = Utc::now();
    let mut tx = api.db.begin_write().await?;
    on_tx!(&mut tx, conn => {
        sqlx::query("INSERT INTO occupancies (unit_id, user_id, starts_at) VALUES ($1, $2, $3)")
            .bind(unit.id)
            .bind(resident.id)
            .bind(now)
            .execute(&mut *conn)
            .await
            .map(|_| ())
    })
    .map_err(|error| {
        if is_unique_violation(&error) {
            ApiError::Conflict("That resident has just moved in.".into())
        } else {
            error.into()
        }
    })?;
    key.audit("moved_in", "unit", unit.id)
        .after(json!({ "resident_id": resident.id, "api_key": key.prefix }))
        .insert_tx(&mut tx)
        .await?;
    tx.commit().await?;
    api.engine.move_in(UnitId(unit.id)).await?;
    Ok(super::created(api.resident(key.org, resident.id).await?))
}

#[utoipa::path(post, path = "/move-outs", tag = "occupancy", request_body = NewMoveOut,
    responses((status = 201, body = MoveOut)))]
/// Moves a resident out of a unit now and settles their accounts.
pub async fn create_move_out(
    State(api): State<Api>,
    Authed(key): Authed,
    Body(new): Body<NewMoveOut>,
) -> Created<MoveOut> {
    let unit = api
        .unit(key.org, new.unit_id)
        .await
        .map_err(ApiError::named("unit"))?;
    let resident = api
        .resident(key.org, new.resident_id)
        .await
        .map_err(ApiError::named("resident"))?;
    if resident.unit_id != Some(unit.id) {
        return Err(ApiError::Unprocessable(
            "That resident does not live in that unit now.".into(),
        ));
    }
    let to = match new.to_unit_id {
        Some(to) => {
            let to = api
                .unit(key.org, to)
                .await
                .map_err(ApiError::named("unit to move to"))?;
            if to.site_id != unit.site_id || to.id == unit.id {
                return Err(ApiError::Unprocessable(
                    "A resident moves to another unit of the same site.".into(),
                ));
            }
            Some(UnitId(to.id))
        }
        None => None,
    };
    let now = Utc::now();
    let mut final_readings = Vec::new();
    for reading in &new.final_readings {
        let meter = api
            .meter(key.org, reading.meter_id)
            .await
            .map_err(ApiError::named("meter"))?;
        if meter.unit_id != unit.id || meter.removed_at.is_some() {
            return Err(ApiError::Unprocessable(format!(
                "Meter {} is not in service in that unit.",
                meter.id
            )));
        }
        final_readings.push(IncomingReading {
            meter: meter.id,
            taken_at: now,
            register: ops::register(&reading.register)?,
        });
    }
    let settlement = api
        .engine
        .move_out(
            UnitId(unit.id),
            resident.id,
            final_readings,
            to,
            Some(key.created_by),
        )
        .await?;
    let currency = api.site_currency(unit.site_id).await?;
    Ok(super::created(MoveOut {
        unit_id: unit.id,
        resident_id: resident.id,
        lines: settlement
            .wallets
            .iter()
            .map(|wallet| SettlementLine {
                account_id: wallet.account,
                utility: wallet.utility.map(|utility| utility.as_str().to_owned()),
                remainder: money(wallet.remainder.0, &currency),
            })
            .collect(),
        refund: money(settlement.refund.0, &currency),
        debt: money(settlement.debt.0, &currency),
    }))
}
