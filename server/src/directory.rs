//! The site model as people see it: the engine side of `app::ports::DirectoryPort`.
//! Authorisation is decided by the server functions before these run; the resident query is
//! bound to the caller's own occupancies all the same.

mod places;
mod sites;
mod units;

use crate::{db::Db, internal, on_db};
use app::{
    domain::{
        BuildingId, Caller, MeterId, OrgId, SiteId, UnitId, Utility,
        views::{
            BuildingView, MeterView, ResidentHome, ResidentUnit, SiteOverview, SiteSummary,
            UnitRow, UtilityCount,
        },
    },
    error::AppError,
};
use chrono::Utc;
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
pub struct Directory {
    db: Db,
    /// Told when a resident's details are corrected: they are part of who a caller is.
    callers: crate::auth::callers::Callers,
}

#[derive(sqlx::FromRow)]
struct MeterRow {
    id: i64,
    unit_id: i64,
    utility: String,
    serial: String,
    unit_of_measure: String,
    multiplier: String,
}

impl MeterRow {
    fn into_view(self) -> Option<(i64, MeterView)> {
        let utility = self.utility.parse::<Utility>().ok()?;
        Some((
            self.unit_id,
            MeterView {
                id: MeterId(self.id),
                utility,
                serial: self.serial,
                unit_of_measure: self.unit_of_measure,
                multiplier: self.multiplier,
            },
        ))
    }
}

#[derive(sqlx::FromRow)]
struct SiteRow {
    id: i64,
    name: String,
    time_zone: String,
    currency: String,
    locale: String,
    buildings: i64,
    units: i64,
    meters: i64,
}

impl From<SiteRow> for SiteSummary {
    fn from(row: SiteRow) -> Self {
        SiteSummary {
            id: SiteId(row.id),
            name: row.name,
            time_zone: row.time_zone,
            currency: row.currency,
            locale: row.locale,
            buildings: row.buildings,
            units: row.units,
            meters: row.meters,
        }
    }
}

const SITE_SUMMARY: &str = "SELECT s.id, s.name, s.time_zone, s.currency, s.locale, \
    (SELECT COUNT(*) FROM buildings b WHERE b.site_id = s.id) AS buildings, \
    (SELECT COUNT(*) FROM units u JOIN buildings b ON b.id = u.building_id WHERE b.site_id = s.id) AS units, \
    (SELECT COUNT(*) FROM meters m JOIN units u ON u.id = m.unit_id JOIN buildings b ON b.id = u.building_id \
      WHERE b.site_id = s.id AND m.removed_at IS NULL) AS meters \
    FROM sites s";

/// Groups meters by the unit they belong to.
fn meters_by_unit(rows: Vec<MeterRow>) -> BTreeMap<i64, Vec<MeterView>> {
    let mut by_unit: BTreeMap<i64, Vec<MeterView>> = BTreeMap::new();
    for (unit, meter) in rows.into_iter().filter_map(MeterRow::into_view) {
        by_unit.entry(unit).or_default().push(meter);
    }
    by_unit
}

impl Directory {
    pub fn new(db: Db, callers: crate::auth::callers::Callers) -> Self {
        Self { db, callers }
    }
}

#[async_trait::async_trait]
impl app::ports::DirectoryPort for Directory {
    async fn unit_card(&self, unit: UnitId) -> Result<app::domain::unit_card::UnitCard, AppError> {
        self.load_unit_card(unit).await
    }

    async fn edit_unit(
        &self,
        caller: &Caller,
        unit: UnitId,
        edit: &app::domain::unit_card::UnitEdit,
    ) -> Result<bool, AppError> {
        self.change_unit(caller, unit, edit).await
    }

    async fn add_building(
        &self,
        caller: &Caller,
        site: SiteId,
        name: &str,
    ) -> Result<BuildingId, AppError> {
        self.insert_building(caller, site, name).await
    }

    async fn create_site(
        &self,
        caller: &Caller,
        site: app::domain::site_settings::NewSite,
    ) -> Result<SiteId, AppError> {
        self.insert_site(caller, site).await
    }

    async fn site_settings(
        &self,
        site: SiteId,
    ) -> Result<app::domain::site_settings::SiteSettings, AppError> {
        self.load_site_settings(site).await
    }

    async fn save_site_settings(
        &self,
        caller: &Caller,
        site: SiteId,
        name: &str,
        locale: &str,
        policy: app::domain::supply::SupplyPolicy,
    ) -> Result<bool, AppError> {
        self.change_site(caller, site, name, locale, policy).await
    }

    async fn add_unit(
        &self,
        caller: &Caller,
        site: SiteId,
        building: BuildingId,
        unit: &app::domain::unit_card::UnitEdit,
    ) -> Result<UnitId, AppError> {
        self.insert_unit(caller, site, building, unit).await
    }

    async fn edit_resident(
        &self,
        caller: &Caller,
        unit: UnitId,
        person: app::domain::UserId,
        edit: &app::domain::unit_card::ResidentEdit,
    ) -> Result<bool, AppError> {
        self.change_resident(caller, unit, person, edit).await
    }

    async fn site_org(&self, site: SiteId) -> Result<Option<OrgId>, AppError> {
        let org: Option<i64> = on_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT organisation_id FROM sites WHERE id = $1")
                .bind(site.0)
                .fetch_optional(pool)
                .await
        })
        .map_err(internal)?;
        Ok(org.map(OrgId))
    }

    async fn unit_site(&self, unit: UnitId) -> Result<Option<(SiteId, OrgId)>, AppError> {
        let row: Option<(i64, i64)> = on_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT s.id, s.organisation_id FROM units u \
                 JOIN buildings b ON b.id = u.building_id JOIN sites s ON s.id = b.site_id \
                 WHERE u.id = $1",
            )
            .bind(unit.0)
            .fetch_optional(pool)
            .await
        })
        .map_err(internal)?;
        Ok(row.map(|(site, org)| (SiteId(site), OrgId(org))))
    }

    async fn resident_home(&self, caller: &Caller) -> Result<ResidentHome, AppError> {
        type Row = (
            i64,
            String,
            String,
            String,
            Option<i64>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let now = Utc::now();
        // One statement, a row per meter (one without for a unit that has none): the home
        // page is the one every resident opens.
        let rows: Vec<Row> = on_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT u.id, u.name, b.name, s.name, m.id, m.utility, m.serial, m.unit_of_measure, \
                 m.multiplier FROM occupancies o \
                 JOIN units u ON u.id = o.unit_id JOIN buildings b ON b.id = u.building_id \
                 JOIN sites s ON s.id = b.site_id \
                 LEFT JOIN meters m ON m.unit_id = u.id AND m.removed_at IS NULL \
                 WHERE o.user_id = $1 AND o.starts_at <= $2 AND (o.ends_at IS NULL OR o.ends_at > $2) \
                 ORDER BY s.name, b.name, u.name, u.id, m.utility, m.serial",
            )
            .bind(caller.user_id.0)
            .bind(now)
            .fetch_all(pool)
            .await
        })
        .map_err(internal)?;
        let mut units: Vec<ResidentUnit> = Vec::new();
        for (unit, name, building, site, meter, utility, serial, unit_of_measure, multiplier) in
            rows
        {
            if units.last().is_none_or(|last| last.id != UnitId(unit)) {
                units.push(ResidentUnit {
                    id: UnitId(unit),
                    name,
                    building,
                    site,
                    meters: Vec::new(),
                });
            }
            let (Some(id), Some(utility), Some(serial), Some(unit_of_measure), Some(multiplier)) =
                (meter, utility, serial, unit_of_measure, multiplier)
            else {
                continue;
            };
            let row = MeterRow {
                id,
                unit_id: unit,
                utility,
                serial,
                unit_of_measure,
                multiplier,
            };
            if let (Some((_, view)), Some(last)) = (row.into_view(), units.last_mut()) {
                last.meters.push(view);
            }
        }
        Ok(ResidentHome {
            units,
            staff: caller.is_staff(),
        })
    }

    async fn sites(&self, caller: &Caller) -> Result<Vec<SiteSummary>, AppError> {
        let rows: Vec<SiteRow> = if caller.is_admin() {
            let sql = format!("{SITE_SUMMARY} WHERE s.organisation_id = $1 ORDER BY s.name");
            on_db!(&self.db, pool => sqlx::query_as(&sql).bind(caller.org_id.0).fetch_all(pool).await)
        } else {
            let sql = format!(
                "{SITE_SUMMARY} WHERE s.organisation_id = $1 AND s.id IN \
                 (SELECT site_id FROM role_grants WHERE user_id = $2) ORDER BY s.name"
            );
            on_db!(&self.db, pool => {
                sqlx::query_as(&sql).bind(caller.org_id.0).bind(caller.user_id.0).fetch_all(pool).await
            })
        }
        .map_err(internal)?;
        Ok(rows.into_iter().map(SiteSummary::from).collect())
    }

    async fn audit(
        &self,
        org: OrgId,
        query: &app::domain::audit::AuditQuery,
    ) -> Result<app::domain::audit::AuditPage, AppError> {
        crate::audit::search(&self.db, org, query).await
    }

    async fn site_overview(&self, site: SiteId) -> Result<SiteOverview, AppError> {
        let now = Utc::now();
        let summary_sql = format!("{SITE_SUMMARY} WHERE s.id = $1");
        type Loaded = (
            Option<SiteRow>,
            Vec<(i64, String)>,
            Vec<(i64, i64, String)>,
            Vec<(i64, String)>,
            Vec<MeterRow>,
        );
        let (summary, buildings, units, occupants, meters): Loaded = on_db!(&self.db, pool => {
            let summary = sqlx::query_as(&summary_sql).bind(site.0).fetch_optional(pool).await?;
            let buildings = sqlx::query_as("SELECT id, name FROM buildings WHERE site_id = $1 ORDER BY name")
                .bind(site.0)
                .fetch_all(pool)
                .await?;
            let units = sqlx::query_as(
                "SELECT u.id, u.building_id, u.name FROM units u JOIN buildings b ON b.id = u.building_id \
                 WHERE b.site_id = $1 ORDER BY u.name",
            )
            .bind(site.0)
            .fetch_all(pool)
            .await?;
            let occupants = sqlx::query_as(
                "SELECT o.unit_id, p.display_name FROM occupancies o JOIN users p ON p.id = o.user_id \
                 JOIN units u ON u.id = o.unit_id JOIN buildings b ON b.id = u.building_id \
                 WHERE b.site_id = $1 AND o.starts_at <= $2 AND (o.ends_at IS NULL OR o.ends_at > $2) \
                 ORDER BY p.display_name",
            )
            .bind(site.0)
            .bind(now)
            .fetch_all(pool)
            .await?;
            let meters = sqlx::query_as(
                "SELECT m.id, m.unit_id, m.utility, m.serial, m.unit_of_measure, m.multiplier \
                 FROM meters m JOIN units u ON u.id = m.unit_id JOIN buildings b ON b.id = u.building_id \
                 WHERE b.site_id = $1 AND m.removed_at IS NULL ORDER BY m.utility, m.serial",
            )
            .bind(site.0)
            .fetch_all(pool)
            .await?;
            Ok::<_, sqlx::Error>((summary, buildings, units, occupants, meters))
        })
        .map_err(internal)?;
        let summary = summary.ok_or(AppError::NotFound)?;

        let mut utility_counts: BTreeMap<Utility, i64> = BTreeMap::new();
        let mut meters = meters_by_unit(meters);
        for meter in meters.values().flatten() {
            *utility_counts.entry(meter.utility).or_default() += 1;
        }
        let mut occupants_by_unit: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        for (unit, name) in occupants {
            occupants_by_unit.entry(unit).or_default().push(name);
        }
        let mut units_by_building: BTreeMap<i64, Vec<UnitRow>> = BTreeMap::new();
        for (id, building, name) in units {
            units_by_building
                .entry(building)
                .or_default()
                .push(UnitRow {
                    id: UnitId(id),
                    name,
                    occupants: occupants_by_unit.remove(&id).unwrap_or_default(),
                    meters: meters.remove(&id).unwrap_or_default(),
                });
        }
        Ok(SiteOverview {
            site: summary.into(),
            buildings: buildings
                .into_iter()
                .map(|(id, name)| BuildingView {
                    id: BuildingId(id),
                    name,
                    units: units_by_building.remove(&id).unwrap_or_default(),
                })
                .collect(),
            meters_by_utility: utility_counts
                .into_iter()
                .map(|(utility, meters)| UtilityCount { utility, meters })
                .collect(),
            grantable: Vec::new(),
            may_add_residents: false,
            may_add_places: false,
        })
    }
}
