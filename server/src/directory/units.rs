//! One unit on its own: what its page shows, and a manager's corrections to it and to its
//! residents' details, each written with its audit entry in one transaction.

use super::{Directory, MeterRow};
use crate::{audit::AuditEntry, db::is_unique_violation, internal, on_db, on_tx};
use app::{
    domain::{
        Caller, Currency, Minor, SiteId, UnitId, UserId,
        ids::AccountId,
        minor_digits,
        supply::SupplyState,
        unit_card::{ResidentEdit, ResidentLine, UnitAccount, UnitCard, UnitEdit},
    },
    error::AppError,
};
use chrono::{DateTime, Utc};
use serde_json::json;

#[derive(sqlx::FromRow)]
struct UnitRow {
    id: i64,
    name: String,
    kind: String,
    building: String,
    site_id: i64,
    site_name: String,
    organisation_id: i64,
    time_zone: String,
    currency: String,
    tariff_plan: String,
}

const UNIT: &str = "SELECT u.id, u.name, u.kind, b.name AS building, b.site_id, s.name AS site_name, \
    s.organisation_id, s.time_zone, s.currency, u.tariff_plan FROM units u JOIN buildings b ON b.id = u.building_id \
    JOIN sites s ON s.id = b.site_id WHERE u.id = $1";

#[derive(sqlx::FromRow)]
struct ResidentRow {
    id: i64,
    display_name: String,
    email: String,
    phone: Option<String>,
    starts_at: DateTime<Utc>,
    settled: bool,
}

const RESIDENTS: &str = "SELECT p.id, p.display_name, p.email, p.phone, o.starts_at, \
    p.password_changed_at IS NOT NULL AS settled FROM occupancies o JOIN users p ON p.id = o.user_id \
    WHERE o.unit_id = $1 AND o.starts_at <= $2 AND (o.ends_at IS NULL OR o.ends_at > $2) \
    ORDER BY p.display_name, p.id";

impl ResidentRow {
    fn line(self, tz: chrono_tz::Tz) -> ResidentLine {
        ResidentLine {
            id: UserId(self.id),
            display_name: self.display_name,
            email: self.email,
            phone: self.phone,
            since: self.starts_at.with_timezone(&tz).date_naive(),
            settled: self.settled,
        }
    }
}

impl Directory {
    pub(super) async fn load_unit_card(&self, unit: UnitId) -> Result<UnitCard, AppError> {
        let now = Utc::now();
        type Loaded = (
            Option<UnitRow>,
            Vec<MeterRow>,
            Vec<(i64, Option<String>, i64, String)>,
            Vec<ResidentRow>,
        );
        let (row, meters, accounts, residents): Loaded = on_db!(&self.db, pool => {
            let row = sqlx::query_as(UNIT).bind(unit.0).fetch_optional(pool).await?;
            let meters = sqlx::query_as(
                "SELECT id, unit_id, utility, serial, unit_of_measure, multiplier FROM meters \
                 WHERE unit_id = $1 AND removed_at IS NULL ORDER BY utility, serial",
            )
            .bind(unit.0)
            .fetch_all(pool)
            .await?;
            let accounts = sqlx::query_as(
                "SELECT w.account_id, a.utility, a.balance_minor, w.supply_state FROM wallets w \
                 JOIN accounts a ON a.id = w.account_id WHERE w.unit_id = $1 AND w.closed_at IS NULL \
                 ORDER BY a.utility, w.account_id",
            )
            .bind(unit.0)
            .fetch_all(pool)
            .await?;
            let residents = sqlx::query_as(RESIDENTS).bind(unit.0).bind(now).fetch_all(pool).await?;
            Ok::<_, sqlx::Error>((row, meters, accounts, residents))
        })
        .map_err(internal)?;
        let row = row.ok_or(AppError::NotFound)?;
        let tz = crate::engine::time_zone(&row.time_zone).map_err(internal)?;
        let digits = Currency::parse(&row.currency)
            .map(|currency| minor_digits(&currency))
            .map_err(internal)?;
        Ok(UnitCard {
            id: UnitId(row.id),
            site: SiteId(row.site_id),
            site_name: row.site_name,
            building: row.building,
            name: row.name,
            kind: row.kind,
            meters: meters
                .into_iter()
                .filter_map(MeterRow::into_view)
                .map(|(_, meter)| meter)
                .collect(),
            accounts: accounts
                .into_iter()
                .map(|(id, utility, balance, state)| UnitAccount {
                    id: AccountId(id),
                    utility: utility.and_then(|utility| utility.parse().ok()),
                    balance: Minor(balance).format(digits),
                    balance_minor: balance,
                    currency: row.currency.clone(),
                    state: SupplyState::parse(&state).unwrap_or(SupplyState::On),
                })
                .collect(),
            residents: residents.into_iter().map(|r| r.line(tz)).collect(),
            may_edit: false,
            plan: crate::engine::setup::stored_plan(&row.tariff_plan).map_err(internal)?,
            plans: Vec::new(),
        })
    }

    pub(super) async fn change_unit(
        &self,
        caller: &Caller,
        unit: UnitId,
        edit: &UnitEdit,
    ) -> Result<bool, AppError> {
        let mut tx = self.db.begin_write().await.map_err(internal)?;
        let result: Result<bool, sqlx::Error> = on_tx!(&mut tx, conn => {
            let row: UnitRow = sqlx::query_as(UNIT).bind(unit.0).fetch_one(&mut *conn).await?;
            if row.name == edit.name && row.kind == edit.kind {
                return Ok(false);
            }
            sqlx::query("UPDATE units SET name = $1, kind = $2 WHERE id = $3")
                .bind(&edit.name)
                .bind(edit.kind)
                .bind(unit.0)
                .execute(&mut *conn)
                .await?;
            AuditEntry::new("unit_edited", "unit", unit.0)
                .by(row.organisation_id, Some(caller.user_id.0))
                .before(json!({ "name": row.name, "kind": row.kind }))
                .after(json!({ "name": edit.name, "kind": edit.kind }))
                .append(&mut *conn)
                .await?;
            Ok(true)
        });
        match result {
            Ok(changed) => {
                tx.commit().await.map_err(internal)?;
                Ok(changed)
            }
            Err(error) if is_unique_violation(&error) => Err(AppError::Conflict(format!(
                "The building already has a unit called {}.",
                edit.name
            ))),
            Err(error) => Err(internal(error)),
        }
    }

    pub(super) async fn change_resident(
        &self,
        caller: &Caller,
        unit: UnitId,
        person: UserId,
        edit: &ResidentEdit,
    ) -> Result<bool, AppError> {
        let now = Utc::now();
        let mut tx = self.db.begin_write().await.map_err(internal)?;
        let found: (UnitRow, Vec<ResidentRow>) = on_tx!(&mut tx, conn => {
            let row = sqlx::query_as(UNIT).bind(unit.0).fetch_one(&mut *conn).await?;
            let residents = sqlx::query_as(RESIDENTS).bind(unit.0).bind(now).fetch_all(&mut *conn).await?;
            Ok::<_, sqlx::Error>((row, residents))
        })
        .map_err(internal)?;
        let (row, residents) = found;
        let tz = crate::engine::time_zone(&row.time_zone).map_err(internal)?;
        // Only someone who lives in the unit now: the id of anyone else answers as not found.
        let resident = residents
            .into_iter()
            .find(|resident| resident.id == person.0)
            .ok_or(AppError::NotFound)?
            .line(tz);
        let changed = edit.changes(&resident).map_err(AppError::Invalid)?;
        if changed.is_empty() {
            return Ok(false);
        }
        let result: Result<(), sqlx::Error> = on_tx!(&mut tx, conn => {
            sqlx::query("UPDATE users SET display_name = $1, email = $2, phone = $3 WHERE id = $4")
                .bind(&edit.display_name)
                .bind(edit.email.as_str())
                .bind(edit.phone.as_ref().map(|phone| phone.as_str()))
                .bind(person.0)
                .execute(&mut *conn)
                .await?;
            // Personal data stays out of the log: who, whose, and which fields.
            AuditEntry::new("resident_edited", "user", person.0)
                .by(row.organisation_id, Some(caller.user_id.0))
                .after(json!({ "unit_id": unit.0, "changed": changed }))
                .append(&mut *conn)
                .await
        });
        match result {
            Ok(()) => {
                let committed = tx.commit().await;
                self.callers.changed(person.0);
                committed.map_err(internal)?;
                Ok(true)
            }
            Err(error) if is_unique_violation(&error) => Err(AppError::Conflict(
                "Another account already uses that e-mail address or mobile number.".into(),
            )),
            Err(error) => Err(internal(error)),
        }
    }
}
