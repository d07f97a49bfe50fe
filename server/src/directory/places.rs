//! Buildings and units added one at a time from the site's page (a whole site comes in by its
//! CSV sheet), each with its audit entry in the transaction that adds it.

use super::Directory;
use crate::{audit::AuditEntry, db::is_unique_violation, internal, on_tx};
use app::{
    domain::{BuildingId, Caller, SiteId, UnitId, unit_card::UnitEdit},
    error::AppError,
};
use serde_json::json;

/// What went wrong inside the transaction: the database, or a refusal to answer with.
enum Failed {
    Db(sqlx::Error),
    Answer(AppError),
}

impl From<sqlx::Error> for Failed {
    fn from(error: sqlx::Error) -> Self {
        Failed::Db(error)
    }
}

impl Directory {
    pub(super) async fn insert_building(
        &self,
        caller: &Caller,
        site: SiteId,
        name: &str,
    ) -> Result<BuildingId, AppError> {
        let mut tx = self.db.begin_write().await.map_err(internal)?;
        let added: Result<i64, Failed> = on_tx!(&mut tx, conn => {
            let org: i64 = sqlx::query_scalar("SELECT organisation_id FROM sites WHERE id = $1")
                .bind(site.0)
                .fetch_one(&mut *conn)
                .await?;
            let id: i64 = sqlx::query_scalar("INSERT INTO buildings (site_id, name) VALUES ($1, $2) RETURNING id")
                .bind(site.0)
                .bind(name)
                .fetch_one(&mut *conn)
                .await
                .map_err(|error| clash(error, format!("The site has a building called {name} already.")))?;
            AuditEntry::new("building_added", "building", id)
                .by(org, Some(caller.user_id.0))
                .after(json!({ "site_id": site.0, "name": name }))
                .append(&mut *conn)
                .await?;
            Ok(id)
        });
        let id = settle(added)?;
        tx.commit().await.map_err(internal)?;
        Ok(BuildingId(id))
    }

    pub(super) async fn insert_unit(
        &self,
        caller: &Caller,
        site: SiteId,
        building: BuildingId,
        unit: &UnitEdit,
    ) -> Result<UnitId, AppError> {
        let mut tx = self.db.begin_write().await.map_err(internal)?;
        let added: Result<i64, Failed> = on_tx!(&mut tx, conn => {
            let place: Option<(String, i64)> = sqlx::query_as(
                "SELECT b.name, s.organisation_id FROM buildings b JOIN sites s ON s.id = b.site_id \
                 WHERE b.id = $1 AND b.site_id = $2",
            )
            .bind(building.0)
            .bind(site.0)
            .fetch_optional(&mut *conn)
            .await?;
            let Some((building_name, org)) = place else {
                return Err(Failed::Answer(AppError::Invalid("Choose one of the site's buildings.".into())));
            };
            let id: i64 = sqlx::query_scalar("INSERT INTO units (building_id, name, kind) VALUES ($1, $2, $3) RETURNING id")
                .bind(building.0)
                .bind(&unit.name)
                .bind(unit.kind)
                .fetch_one(&mut *conn)
                .await
                .map_err(|error| clash(error, format!("{building_name} has a unit called {} already.", unit.name)))?;
            AuditEntry::new("unit_added", "unit", id)
                .by(org, Some(caller.user_id.0))
                .after(json!({ "building": building_name, "name": unit.name, "kind": unit.kind }))
                .append(&mut *conn)
                .await?;
            Ok(id)
        });
        let id = settle(added)?;
        tx.commit().await.map_err(internal)?;
        Ok(UnitId(id))
    }
}

/// A unique name taken already is the caller's conflict to resolve; anything else is ours.
fn clash(error: sqlx::Error, why: String) -> Failed {
    if is_unique_violation(&error) {
        Failed::Answer(AppError::Conflict(why))
    } else {
        Failed::Db(error)
    }
}

fn settle(result: Result<i64, Failed>) -> Result<i64, AppError> {
    match result {
        Ok(id) => Ok(id),
        Err(Failed::Answer(answer)) => Err(answer),
        Err(Failed::Db(error)) => Err(internal(error)),
    }
}
