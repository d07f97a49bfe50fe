//! Sites, buildings, units, meters and residents of the key's organisation.

use super::{
    Api, Authed, Created, Listed, Page, Paging,
    error::ApiError,
    extract::{Body, Id, Params},
    model::{
        Building, CreatedResident, InstalledMeter, InviteBy, Meter, NewBuilding, NewMeter,
        NewResident, NewUnit, Resident, Site, Transport, Unit, UnitKind, UtilityKind,
    },
    page_of,
};
use crate::{
    db::{ReadingTime, is_unique_violation},
    fleet::ops,
    on_db, on_db_write,
};
use app::{
    domain::{Email, OrgId, UnitId, access::NewAccount, messaging::Channel},
    ports::NewAccountRequest,
};
use axum::{Json, extract::State};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

#[derive(sqlx::FromRow)]
struct SiteRow {
    id: i64,
    name: String,
    time_zone: String,
    currency: String,
    locale: String,
    created_at: DateTime<Utc>,
}

impl From<SiteRow> for Site {
    fn from(row: SiteRow) -> Self {
        Site {
            id: row.id,
            name: row.name,
            time_zone: row.time_zone,
            currency: row.currency,
            locale: row.locale,
            created_at: row.created_at,
        }
    }
}

const SITE_COLUMNS: &str = "id, name, time_zone, currency, locale, created_at";

#[utoipa::path(get, path = "/sites", tag = "directory", params(Paging),
    responses((status = 200, body = Page<Site>)))]
/// The organisation's sites.
pub async fn list_sites(
    State(api): State<Api>,
    Authed(key): Authed,
    Params(paging): Params<Paging>,
) -> Listed<Site> {
    let (after, limit) = paging.bounds()?;
    let rows: Vec<SiteRow> = on_db!(&api.db, pool => {
        sqlx::query_as(&format!(
            "SELECT {SITE_COLUMNS} FROM sites WHERE organisation_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        ))
        .bind(key.org)
        .bind(after)
        .bind(limit + 1)
        .fetch_all(pool)
        .await
    })?;
    Ok(Json(page_of(rows, limit, |row| row.id, Site::from)))
}

#[utoipa::path(get, path = "/sites/{site_id}", tag = "directory",
    params(("site_id" = i64, Path)), responses((status = 200, body = Site)))]
/// One site.
pub async fn get_site(
    State(api): State<Api>,
    Authed(key): Authed,
    Id(site): Id<i64>,
) -> Result<Json<Site>, ApiError> {
    let row: Option<SiteRow> = on_db!(&api.db, pool => {
        sqlx::query_as(&format!(
            "SELECT {SITE_COLUMNS} FROM sites WHERE organisation_id = $1 AND id = $2"
        ))
        .bind(key.org)
        .bind(site)
        .fetch_optional(pool)
        .await
    })?;
    row.map(|row| Json(row.into())).ok_or(ApiError::NotFound)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlaceFilter {
    pub site_id: Option<i64>,
    pub building_id: Option<i64>,
    pub unit_id: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct BuildingRow {
    id: i64,
    site_id: i64,
    name: String,
}

#[utoipa::path(get, path = "/buildings", tag = "directory",
    params(Paging, ("site_id" = Option<i64>, Query)), responses((status = 200, body = Page<Building>)))]
/// The organisation's buildings, of one site if asked.
pub async fn list_buildings(
    State(api): State<Api>,
    Authed(key): Authed,
    Params(paging): Params<Paging>,
    Params(filter): Params<PlaceFilter>,
) -> Listed<Building> {
    let (after, limit) = paging.bounds()?;
    let rows: Vec<BuildingRow> = on_db!(&api.db, pool => {
        sqlx::query_as(
            "SELECT b.id, b.site_id, b.name FROM buildings b JOIN sites s ON s.id = b.site_id \
             WHERE s.organisation_id = $1 AND ($2 IS NULL OR b.site_id = $2) AND b.id > $3 \
             ORDER BY b.id LIMIT $4",
        )
        .bind(key.org)
        .bind(filter.site_id)
        .bind(after)
        .bind(limit + 1)
        .fetch_all(pool)
        .await
    })?;
    Ok(Json(page_of(
        rows,
        limit,
        |row| row.id,
        |row| Building {
            id: row.id,
            site_id: row.site_id,
            name: row.name,
        },
    )))
}

fn name_of(raw: &str, what: &str) -> Result<String, ApiError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(ApiError::Unprocessable(format!(
            "Give the {what} a name of 1 to 80 characters."
        )));
    }
    Ok(name.to_owned())
}

fn duplicate(what: &str) -> impl Fn(sqlx::Error) -> ApiError + '_ {
    move |error| {
        if is_unique_violation(&error) {
            ApiError::Conflict(format!("A {what} with that name exists already there."))
        } else {
            error.into()
        }
    }
}

#[utoipa::path(post, path = "/buildings", tag = "directory", request_body = NewBuilding,
    responses((status = 201, body = Building)))]
/// Adds a building to a site.
pub async fn create_building(
    State(api): State<Api>,
    Authed(key): Authed,
    Body(new): Body<NewBuilding>,
) -> Created<Building> {
    let name = name_of(&new.name, "building")?;
    api.site_of_org(key.org, new.site_id).await?;
    let id: i64 = on_db_write!(&api.db, pool => {
        let mut tx = pool.begin().await?;
        let id: i64 = sqlx::query_scalar("INSERT INTO buildings (site_id, name) VALUES ($1, $2) RETURNING id")
            .bind(new.site_id)
            .bind(&name)
            .fetch_one(&mut *tx)
            .await?;
        key.audit("building_created", "building", id)
            .after(json!({ "site_id": new.site_id, "name": name, "api_key": key.prefix }))
            .append(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(id)
    })
    .map_err(duplicate("building"))?;
    Ok(super::created(Building {
        id,
        site_id: new.site_id,
        name,
    }))
}

#[derive(sqlx::FromRow)]
struct UnitRow {
    id: i64,
    site_id: i64,
    building_id: i64,
    name: String,
    kind: String,
    occupied: bool,
}

impl From<UnitRow> for Unit {
    fn from(row: UnitRow) -> Self {
        Unit {
            id: row.id,
            site_id: row.site_id,
            building_id: row.building_id,
            name: row.name,
            kind: row.kind,
            occupied: row.occupied,
        }
    }
}

const UNIT_SELECT: &str = "SELECT u.id, b.site_id, u.building_id, u.name, u.kind, \
    EXISTS (SELECT 1 FROM occupancies o WHERE o.unit_id = u.id AND o.ends_at IS NULL) AS occupied \
    FROM units u JOIN buildings b ON b.id = u.building_id JOIN sites s ON s.id = b.site_id \
    WHERE s.organisation_id = $1";

#[utoipa::path(get, path = "/units", tag = "directory",
    params(Paging, ("site_id" = Option<i64>, Query), ("building_id" = Option<i64>, Query)),
    responses((status = 200, body = Page<Unit>)))]
/// The organisation's units, of one site or building if asked.
pub async fn list_units(
    State(api): State<Api>,
    Authed(key): Authed,
    Params(paging): Params<Paging>,
    Params(filter): Params<PlaceFilter>,
) -> Listed<Unit> {
    let (after, limit) = paging.bounds()?;
    let rows: Vec<UnitRow> = on_db!(&api.db, pool => {
        sqlx::query_as(&format!(
            "{UNIT_SELECT} AND ($2 IS NULL OR b.site_id = $2) AND ($3 IS NULL OR u.building_id = $3) \
             AND u.id > $4 ORDER BY u.id LIMIT $5"
        ))
        .bind(key.org)
        .bind(filter.site_id)
        .bind(filter.building_id)
        .bind(after)
        .bind(limit + 1)
        .fetch_all(pool)
        .await
    })?;
    Ok(Json(page_of(rows, limit, |row| row.id, Unit::from)))
}

#[utoipa::path(get, path = "/units/{unit_id}", tag = "directory",
    params(("unit_id" = i64, Path)), responses((status = 200, body = Unit)))]
/// One unit.
pub async fn get_unit(
    State(api): State<Api>,
    Authed(key): Authed,
    Id(unit): Id<i64>,
) -> Result<Json<Unit>, ApiError> {
    api.unit(key.org, unit).await.map(Json)
}

#[utoipa::path(post, path = "/units", tag = "directory", request_body = NewUnit,
    responses((status = 201, body = Unit)))]
/// Adds a unit to a building.
pub async fn create_unit(
    State(api): State<Api>,
    Authed(key): Authed,
    Body(new): Body<NewUnit>,
) -> Created<Unit> {
    let name = name_of(&new.name, "unit")?;
    let kind = new.kind.unwrap_or(UnitKind::Flat).as_str();
    let building_org: Option<i64> = on_db!(&api.db, pool => {
        sqlx::query_scalar(
            "SELECT s.organisation_id FROM buildings b JOIN sites s ON s.id = b.site_id WHERE b.id = $1",
        )
        .bind(new.building_id)
        .fetch_optional(pool)
        .await
    })?;
    if building_org != Some(key.org) {
        return Err(ApiError::Unprocessable("No such building.".into()));
    }
    let id: i64 = on_db_write!(&api.db, pool => {
        let mut tx = pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO units (building_id, name, kind) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(new.building_id)
        .bind(&name)
        .bind(kind)
        .fetch_one(&mut *tx)
        .await?;
        key.audit("unit_created", "unit", id)
            .after(json!({ "building_id": new.building_id, "name": name, "kind": kind, "api_key": key.prefix }))
            .append(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(id)
    })
    .map_err(duplicate("unit"))?;
    Ok(super::created(api.unit(key.org, id).await?))
}

#[derive(sqlx::FromRow)]
pub(super) struct MeterRow {
    id: i64,
    site_id: i64,
    unit_id: i64,
    utility: String,
    serial: String,
    unit_of_measure: String,
    multiplier: String,
    transport: String,
    installed_at: DateTime<Utc>,
    removed_at: Option<DateTime<Utc>>,
    online: Option<bool>,
    relay: Option<String>,
    battery_pct: Option<i64>,
    last_reading_at: Option<ReadingTime>,
    last_register: Option<String>,
}

impl From<MeterRow> for Meter {
    fn from(row: MeterRow) -> Self {
        Meter {
            id: row.id,
            site_id: row.site_id,
            unit_id: row.unit_id,
            utility: row.utility,
            serial: row.serial,
            unit_of_measure: row.unit_of_measure,
            multiplier: row.multiplier,
            transport: row.transport,
            installed_at: row.installed_at,
            removed_at: row.removed_at,
            online: row.online,
            relay: row.relay,
            battery_pct: row.battery_pct,
            last_reading_at: row.last_reading_at.map(|ReadingTime(at)| at),
            last_register: row.last_register,
        }
    }
}

pub(super) const METER_SELECT: &str = "SELECT m.id, b.site_id, m.unit_id, m.utility, m.serial, \
    m.unit_of_measure, m.multiplier, m.transport, m.installed_at, m.removed_at, st.online, \
    st.relay_reported AS relay, CAST(st.battery_pct AS BIGINT) AS battery_pct, \
    ms.last_reading_at, ms.last_register \
    FROM meters m JOIN units u ON u.id = m.unit_id JOIN buildings b ON b.id = u.building_id \
    JOIN sites s ON s.id = b.site_id LEFT JOIN meter_status st ON st.meter_id = m.id \
    LEFT JOIN meter_states ms ON ms.meter_id = m.id WHERE s.organisation_id = $1";

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MeterFilter {
    pub site_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub utility: Option<UtilityKind>,
}

#[utoipa::path(get, path = "/meters", tag = "directory",
    params(Paging, MeterFilter), responses((status = 200, body = Page<Meter>)))]
/// The organisation's meters (removed ones too), with their last status.
pub async fn list_meters(
    State(api): State<Api>,
    Authed(key): Authed,
    Params(paging): Params<Paging>,
    Params(filter): Params<MeterFilter>,
) -> Listed<Meter> {
    let (after, limit) = paging.bounds()?;
    let rows: Vec<MeterRow> = on_db!(&api.db, pool => {
        sqlx::query_as(&format!(
            "{METER_SELECT} AND ($2 IS NULL OR b.site_id = $2) AND ($3 IS NULL OR m.unit_id = $3) \
             AND ($4 IS NULL OR m.utility = $4) AND m.id > $5 ORDER BY m.id LIMIT $6"
        ))
        .bind(key.org)
        .bind(filter.site_id)
        .bind(filter.unit_id)
        .bind(filter.utility.map(UtilityKind::as_str))
        .bind(after)
        .bind(limit + 1)
        .fetch_all(pool)
        .await
    })?;
    Ok(Json(page_of(rows, limit, |row| row.id, Meter::from)))
}

#[utoipa::path(get, path = "/meters/{meter_id}", tag = "directory",
    params(("meter_id" = i64, Path)), responses((status = 200, body = Meter)))]
/// One meter.
pub async fn get_meter(
    State(api): State<Api>,
    Authed(key): Authed,
    Id(meter): Id<i64>,
) -> Result<Json<Meter>, ApiError> {
    api.meter(key.org, meter).await.map(Json)
}

#[utoipa::path(post, path = "/meters", tag = "directory", request_body = NewMeter,
    responses((status = 201, body = InstalledMeter)))]
/// Installs a meter on a unit: its first register is the baseline, and an occupant's
/// account opens for it.
pub async fn create_meter(
    State(api): State<Api>,
    Authed(key): Authed,
    Body(new): Body<NewMeter>,
) -> Created<InstalledMeter> {
    let unit = api
        .unit(key.org, new.unit_id)
        .await
        .map_err(ApiError::named("unit"))?;
    let utility = new.utility.as_str();
    let transport = match new.transport.unwrap_or(Transport::Mqtt) {
        Transport::Mqtt => "mqtt",
        Transport::Simulator => "simulator",
    };
    let meter = ops::NewMeter::parse(
        &new.serial,
        utility,
        new.multiplier.as_deref().unwrap_or("1"),
        new.first_register.as_deref().unwrap_or("0"),
        transport,
        false,
        false,
    )?;
    let installed = api.fleet.install(key.created_by, unit.id, meter).await?;
    Ok(super::created(InstalledMeter {
        meter: api.meter(key.org, installed.id).await?,
        broker_password: installed.broker_password,
    }))
}

#[derive(sqlx::FromRow)]
struct ResidentRow {
    id: i64,
    display_name: String,
    email: String,
    phone: Option<String>,
    unit_id: Option<i64>,
    moved_in_at: Option<DateTime<Utc>>,
}

impl From<ResidentRow> for Resident {
    fn from(row: ResidentRow) -> Self {
        Resident {
            id: row.id,
            display_name: row.display_name,
            email: row.email,
            phone: row.phone,
            unit_id: row.unit_id,
            moved_in_at: row.moved_in_at,
        }
    }
}

/// Residents are the organisation's people without a staff role.
const RESIDENT_SELECT: &str = "SELECT p.id, p.display_name, p.email, p.phone, o.unit_id, \
    o.starts_at AS moved_in_at FROM users p \
    LEFT JOIN occupancies o ON o.user_id = p.id AND o.ends_at IS NULL \
    LEFT JOIN units u ON u.id = o.unit_id LEFT JOIN buildings b ON b.id = u.building_id \
    WHERE p.organisation_id = $1 AND NOT EXISTS (SELECT 1 FROM role_grants g WHERE g.user_id = p.id)";

#[utoipa::path(get, path = "/residents", tag = "directory",
    params(Paging, ("site_id" = Option<i64>, Query), ("unit_id" = Option<i64>, Query)),
    responses((status = 200, body = Page<Resident>)))]
/// The organisation's residents; with `site_id` or `unit_id`, those living there now.
pub async fn list_residents(
    State(api): State<Api>,
    Authed(key): Authed,
    Params(paging): Params<Paging>,
    Params(filter): Params<PlaceFilter>,
) -> Listed<Resident> {
    let (after, limit) = paging.bounds()?;
    let rows: Vec<ResidentRow> = on_db!(&api.db, pool => {
        sqlx::query_as(&format!(
            "{RESIDENT_SELECT} AND ($2 IS NULL OR b.site_id = $2) AND ($3 IS NULL OR o.unit_id = $3) \
             AND p.id > $4 ORDER BY p.id LIMIT $5"
        ))
        .bind(key.org)
        .bind(filter.site_id)
        .bind(filter.unit_id)
        .bind(after)
        .bind(limit + 1)
        .fetch_all(pool)
        .await
    })?;
    Ok(Json(page_of(rows, limit, |row| row.id, Resident::from)))
}

#[utoipa::path(get, path = "/residents/{resident_id}", tag = "directory",
    params(("resident_id" = i64, Path)), responses((status = 200, body = Resident)))]
/// One resident.
pub async fn get_resident(
    State(api): State<Api>,
    Authed(key): Authed,
    Id(resident): Id<i64>,
) -> Result<Json<Resident>, ApiError> {
    api.resident(key.org, resident).await.map(Json)
}

#[utoipa::path(post, path = "/residents", tag = "occupancy", request_body = NewResident,
    responses((status = 201, body = CreatedResident)))]
/// Creates a resident who moves into a unit now: their accounts open at once, and they get an
/// invitation or an initial password.
pub async fn create_resident(
    State(api): State<Api>,
    Authed(key): Authed,
    Body(new): Body<NewResident>,
) -> Created<CreatedResident> {
    let email =
        Email::parse(&new.email).map_err(|error| ApiError::Unprocessable(error.to_string()))?;
    let display_name = new.display_name.trim().to_owned();
    if display_name.is_empty() || display_name.chars().count() > 120 {
        return Err(ApiError::Unprocessable(
            "Give the resident's name (1 to 120 characters).".into(),
        ));
    }
    let phone = new
        .phone
        .as_deref()
        .map(app::domain::messaging::PhoneNumber::parse)
        .transpose()
        .map_err(|error| ApiError::Unprocessable(error.to_string()))?;
    let invite_by = match new.invite_by {
        None => None,
        Some(InviteBy::Email) => Some(Channel::Email),
        Some(InviteBy::Sms) if phone.is_some() => Some(Channel::Sms),
        Some(InviteBy::Sms) => {
            return Err(ApiError::Unprocessable(
                "An invitation by SMS needs the resident's phone number.".into(),
            ));
        }
    };
    let unit = api
        .unit(key.org, new.unit_id)
        .await
        .map_err(ApiError::named("unit"))?;
    let request = NewAccountRequest {
        org: OrgId(key.org),
        email,
        display_name,
        account: NewAccount::Resident,
        site: Some(app::domain::SiteId(unit.site_id)),
        unit: Some(UnitId(unit.id)),
        phone,
        invite_by,
    };
    let (person, created) = crate::auth::accounts::create_inviting(
        &api.db,
        &api.recovery,
        Some(app::domain::UserId(key.created_by)),
        request,
    )
    .await?;
    api.engine.move_in(UnitId(unit.id)).await?;
    Ok(super::created(CreatedResident {
        resident: api.resident(key.org, person).await?,
        initial_password: created.initial_password,
        invited: created.invited,
    }))
}

impl Api {
    pub(super) async fn site_of_org(&self, org: i64, site: i64) -> Result<(), ApiError> {
        let found: Option<i64> = on_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT id FROM sites WHERE id = $1 AND organisation_id = $2")
                .bind(site)
                .bind(org)
                .fetch_optional(pool)
                .await
        })?;
        found
            .map(|_| ())
            .ok_or_else(|| ApiError::Unprocessable("No such site.".into()))
    }

    pub(super) async fn unit(&self, org: i64, unit: i64) -> Result<Unit, ApiError> {
        let row: Option<UnitRow> = on_db!(&self.db, pool => {
            sqlx::query_as(&format!("{UNIT_SELECT} AND u.id = $2"))
                .bind(org)
                .bind(unit)
                .fetch_optional(pool)
                .await
        })?;
        row.map(Unit::from).ok_or(ApiError::NotFound)
    }

    pub(super) async fn meter(&self, org: i64, meter: i64) -> Result<Meter, ApiError> {
        let row: Option<MeterRow> = on_db!(&self.db, pool => {
            sqlx::query_as(&format!("{METER_SELECT} AND m.id = $2"))
                .bind(org)
                .bind(meter)
                .fetch_optional(pool)
                .await
        })?;
        row.map(Meter::from).ok_or(ApiError::NotFound)
    }

    pub(super) async fn resident(&self, org: i64, person: i64) -> Result<Resident, ApiError> {
        let row: Option<ResidentRow> = on_db!(&self.db, pool => {
            sqlx::query_as(&format!("{RESIDENT_SELECT} AND p.id = $2"))
                .bind(org)
                .bind(person)
                .fetch_optional(pool)
                .await
        })?;
        row.map(Resident::from).ok_or(ApiError::NotFound)
    }
}
