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
    use crate::domain::{Role, access::NewAccount};
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let (site, org) =
                site_where(&ports, &site, |site, org| caller.can_view_site(site, org)).await?;
            let mut overview = ports.directory.site_overview(site).await?;
            let here = Some((site, org));
            overview.may_add_residents = caller.may_create(NewAccount::Resident, here);
            overview.grantable = [Role::Manager, Role::Operator, Role::Cashier]
                .into_iter()
                .filter(|&role| caller.may_create(NewAccount::Staff(role), here))
                .collect();
            Ok(overview)
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
            let caller = caller().await?;
            if !caller.is_admin() {
                return Err(AppError::Forbidden);
            }
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
