//! Reading the site model: a resident's own units, the sites a manager may see.

use crate::{
    domain::views::{ResidentHome, SiteOverview, SiteSummary},
    error::AppError,
};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr::{answer, caller, ports, site_where};

/// The units the caller lives in, with their meters. Only their own: the query is bound to
/// the caller's occupancies.
#[server(prefix = "/api", endpoint = "resident_home")]
pub async fn load_resident_home() -> Result<ResidentHome, AppError> {
    answer(
        async {
            let caller = caller().await?;
            ports()?.directory.resident_home(&caller).await
        }
        .await,
    )
}

/// The sites the caller may manage.
#[server(prefix = "/api", endpoint = "my_sites")]
pub async fn my_sites() -> Result<Vec<SiteSummary>, AppError> {
    answer(
        async {
            let caller = caller().await?;
            if !caller.is_staff() {
                return Err(AppError::Forbidden);
            }
            ports()?.directory.sites(&caller).await
        }
        .await,
    )
}

/// One site's buildings, units, meters and counts, for staff granted on it.
#[server(prefix = "/api", endpoint = "site_overview")]
pub async fn load_site_overview(site: String) -> Result<SiteOverview, AppError> {
    use crate::domain::access::NewAccount;
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let (site, org) =
                site_where(&ports, &site, |site, org| caller.can_view_site(site, org)).await?;
            let mut overview = ports.directory.site_overview(site).await?;
            let here = Some((site, org));
            overview.may_add_residents = caller.may_create(NewAccount::Resident, here);
            overview.may_add_places = caller.may_on_site_sheet(site, org);
            overview.grantable = caller.grantable_on(site, org);
            Ok(overview)
        }
        .await,
    )
}

/// Adds a building to the site: for its managers and the organisation's admins.
#[server(prefix = "/api", endpoint = "add_building")]
pub async fn add_building(
    site: String,
    name: String,
) -> Result<crate::domain::BuildingId, AppError> {
    use crate::domain::unit_card::building_name;
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let (site, _) = site_where(&ports, &site, |site, org| {
                caller.may_on_site_sheet(site, org)
            })
            .await?;
            let name = building_name(&name).map_err(AppError::Invalid)?;
            ports.directory.add_building(&caller, site, &name).await
        }
        .await,
    )
}

/// Adds a unit to one of the site's buildings: for its managers and the organisation's admins.
#[server(prefix = "/api", endpoint = "add_unit")]
pub async fn add_unit(
    site: String,
    building: String,
    name: String,
    kind: String,
) -> Result<crate::domain::UnitId, AppError> {
    use crate::domain::{BuildingId, unit_card::UnitEdit};
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let (site, _) = site_where(&ports, &site, |site, org| {
                caller.may_on_site_sheet(site, org)
            })
            .await?;
            let building = building
                .trim()
                .parse()
                .map(BuildingId)
                .map_err(|_| AppError::Invalid("Choose one of the site's buildings.".into()))?;
            let unit = UnitEdit::parse(&name, &kind).map_err(AppError::Invalid)?;
            ports
                .directory
                .add_unit(&caller, site, building, &unit)
                .await
        }
        .await,
    )
}

/// A page of the caller's organisation's audit log (who did what, when, before and after),
/// searched by words and UTC days, older pages by `before` (an id). Admins only: entries span
/// every site of the organisation.
#[server(prefix = "/api", endpoint = "audit_log")]
pub async fn audit_log(
    text: String,
    from: String,
    to: String,
    before: String,
) -> Result<crate::domain::audit::AuditPage, AppError> {
    use crate::domain::audit::AuditQuery;
    answer(
        async {
            let caller = super::ssr::admin().await?;
            let query = AuditQuery::parse(&text, &from, &to, &before)?;
            ports()?.directory.audit(caller.org_id, &query).await
        }
        .await,
    )
}

/// May the caller read the audit log? (The console shows the link only then.)
#[server(prefix = "/api", endpoint = "may_read_audit")]
pub async fn may_read_audit() -> Result<bool, AppError> {
    answer(async { Ok(caller().await?.is_admin()) }.await)
}

#[cfg(feature = "ssr")]
mod unit_guard {
    use crate::{
        domain::{Caller, OrgId, SiteId, UnitId},
        error::AppError,
        ports::Ports,
    };

    /// The unit, if the caller passes `allowed` on its site. An unknown unit and a foreign
    /// one answer the same, so ids cannot be probed.
    pub async fn unit_where(
        ports: &Ports,
        unit: &str,
        allowed: impl Fn(SiteId, OrgId) -> bool,
    ) -> Result<UnitId, AppError> {
        Ok(unit_and_site_where(ports, unit, allowed).await?.0)
    }

    /// [`unit_where`], with the unit's site.
    pub async fn unit_and_site_where(
        ports: &Ports,
        unit: &str,
        allowed: impl Fn(SiteId, OrgId) -> bool,
    ) -> Result<(UnitId, SiteId), AppError> {
        let unit: UnitId = unit.parse().map_err(|_| AppError::Forbidden)?;
        match ports.directory.unit_site(unit).await? {
            Some((site, org)) if allowed(site, org) => Ok((unit, site)),
            _ => Err(AppError::Forbidden),
        }
    }

    pub fn may_edit(caller: &Caller) -> impl Fn(SiteId, OrgId) -> bool + '_ {
        |site, org| caller.may_on_site_sheet(site, org)
    }
}

/// One unit with its meters, open accounts and residents, for the site's staff; whether the
/// caller may correct it (its managers and the organisation's admins).
#[server(prefix = "/api", endpoint = "unit_card")]
pub async fn load_unit_card(unit: String) -> Result<crate::domain::unit_card::UnitCard, AppError> {
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let id =
                unit_guard::unit_where(&ports, &unit, |site, org| caller.can_view_site(site, org))
                    .await?;
            let mut card = ports.directory.unit_card(id).await?;
            card.may_edit = caller.may_on_site_sheet(card.site, caller.org_id);
            if caller.may_on_tariffs(true, card.site, caller.org_id) {
                let plans = ports.accounts.site_plans(card.site).await?;
                card.plans = plans.into_iter().map(|used| used.plan).collect();
            }
            Ok(card)
        }
        .await,
    )
}

/// Renames a unit or changes its kind. Sending the same twice changes it once.
#[server(prefix = "/api", endpoint = "edit_unit")]
pub async fn edit_unit(unit: String, name: String, kind: String) -> Result<bool, AppError> {
    use crate::domain::unit_card::UnitEdit;
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let id = unit_guard::unit_where(&ports, &unit, unit_guard::may_edit(&caller)).await?;
            let edit = UnitEdit::parse(&name, &kind).map_err(AppError::Invalid)?;
            ports.directory.edit_unit(&caller, id, &edit).await
        }
        .await,
    )
}

/// Puts the unit on one of its site's tariff plans (`plan` empty: the standard tariff), for
/// the site's managers and the organisation's admins. Its meters are priced by the plan from
/// their next reading. Answers whether anything changed.
#[server(prefix = "/api", endpoint = "set_unit_plan")]
pub async fn set_unit_plan(unit: String, plan: String) -> Result<bool, AppError> {
    use crate::domain::tariff::Plan;
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let allowed = |site, org| caller.may_on_tariffs(true, site, org);
            let (id, site) = unit_guard::unit_and_site_where(&ports, &unit, allowed).await?;
            let plan = Plan::parse(&plan).map_err(|e| AppError::Invalid(e.to_string()))?;
            let moved = ports
                .accounts
                .put_units_on_plan(&caller, site, &[id], &plan)
                .await?;
            Ok(moved.moved > 0)
        }
        .await,
    )
}

/// Corrects the name, e-mail address or mobile number of someone living in the unit; the
/// last two only until they have chosen their own password.
#[server(prefix = "/api", endpoint = "edit_resident")]
pub async fn edit_resident(
    unit: String,
    person: String,
    display_name: String,
    email: String,
    phone: Option<String>,
) -> Result<bool, AppError> {
    use crate::domain::{UserId, unit_card::ResidentEdit};
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let id = unit_guard::unit_where(&ports, &unit, unit_guard::may_edit(&caller)).await?;
            let person: UserId = person.parse().map_err(|_| AppError::NotFound)?;
            let edit = ResidentEdit::parse(&display_name, phone.as_deref().unwrap_or(""), &email)
                .map_err(AppError::Invalid)?;
            ports
                .directory
                .edit_resident(&caller, id, person, &edit)
                .await
        }
        .await,
    )
}
