//! Reports for staff: what a site's units used and what it cost; what money it received;
//! how often supply was warned about, cut off and put back; what bulk meters lost; how use
//! fell across the time-of-use bands.

use crate::{
    domain::{
        band_report::BandReport, collections::CollectionsReport, losses::LossReport,
        reports::ConsumptionReport, supply_report::SupplyReport,
    },
    error::AppError,
};
use leptos::prelude::*;

/// The site's consumption over its local days `from` to `to` (`YYYY-MM-DD`, either empty:
/// this month so far), for staff of the site and admins.
#[server(prefix = "/api", endpoint = "consumption_report")]
pub async fn load_consumption(
    site: String,
    from: String,
    to: String,
) -> Result<ConsumptionReport, AppError> {
    use super::ssr::{answer, caller, ports};
    answer(
        async {
            let caller = caller().await?;
            access::consumption(&ports()?, &caller, &site, &from, &to).await
        }
        .await,
    )
}

/// The money the site received over its local days `from` to `to` (either empty: this month
/// so far), by day and by how it came, and what its residents owe now: for the site's
/// managers and cashiers, and admins.
#[server(prefix = "/api", endpoint = "collections_report")]
pub async fn load_collections(
    site: String,
    from: String,
    to: String,
) -> Result<CollectionsReport, AppError> {
    use super::ssr::{answer, caller, ports};
    answer(
        async {
            let caller = caller().await?;
            access::collections(&ports()?, &caller, &site, &from, &to).await
        }
        .await,
    )
}

/// Low-balance warnings, cut-offs and reconnections over the site's local days `from` to `to`
/// (either empty: this month so far), the accounts cut most often and those cut now: for the
/// site's staff and admins.
#[server(prefix = "/api", endpoint = "supply_report")]
pub async fn load_supply_report(
    site: String,
    from: String,
    to: String,
) -> Result<SupplyReport, AppError> {
    use super::ssr::{answer, caller, ports};
    answer(
        async {
            let caller = caller().await?;
            access::supply(&ports()?, &caller, &site, &from, &to).await
        }
        .await,
    )
}

/// Each master meter of the site against the meters it feeds over its local days `from` to
/// `to` (either empty: this month so far): for the site's staff and admins.
#[server(prefix = "/api", endpoint = "losses_report")]
pub async fn load_losses(site: String, from: String, to: String) -> Result<LossReport, AppError> {
    use super::ssr::{answer, caller, ports};
    answer(
        async {
            let caller = caller().await?;
            access::losses(&ports()?, &caller, &site, &from, &to).await
        }
        .await,
    )
}

/// What each unit of the site used in each time-of-use band over its local days `from` to
/// `to` (either empty: this month so far): for the site's staff and admins.
#[server(prefix = "/api", endpoint = "bands_report")]
pub async fn load_bands(site: String, from: String, to: String) -> Result<BandReport, AppError> {
    use super::ssr::{answer, caller, ports};
    answer(
        async {
            let caller = caller().await?;
            access::bands(&ports()?, &caller, &site, &from, &to).await
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
pub mod access {
    use crate::{
        domain::{
            Caller, OrgId, SiteId,
            access::PaymentAction,
            band_report::BandReport,
            collections::CollectionsReport,
            losses::LossReport,
            reports::{ConsumptionReport, DaysAsked},
            supply_report::SupplyReport,
        },
        error::AppError,
        ports::Ports,
    };

    /// The report, if the caller is staff of the site (or its organisation's admin): the
    /// page's server function and the CSV download both come here. An unknown site and a
    /// foreign one answer the same.
    pub async fn consumption(
        ports: &Ports,
        caller: &Caller,
        site: &str,
        from: &str,
        to: &str,
    ) -> Result<ConsumptionReport, AppError> {
        let allowed = |site, org| caller.can_view_site(site, org);
        let (site, days) = site_days(ports, site, from, to, allowed).await?;
        ports.accounts.consumption(site, days).await
    }

    /// The warnings and cut-offs report, for the same people as the consumption report.
    pub async fn supply(
        ports: &Ports,
        caller: &Caller,
        site: &str,
        from: &str,
        to: &str,
    ) -> Result<SupplyReport, AppError> {
        let allowed = |site, org| caller.can_view_site(site, org);
        let (site, days) = site_days(ports, site, from, to, allowed).await?;
        ports.accounts.supply_report(site, days).await
    }

    /// The loss report, for the same people as the consumption report.
    pub async fn bands(
        ports: &Ports,
        caller: &Caller,
        site: &str,
        from: &str,
        to: &str,
    ) -> Result<BandReport, AppError> {
        let allowed = |site, org| caller.can_view_site(site, org);
        let (site, days) = site_days(ports, site, from, to, allowed).await?;
        ports.accounts.bands(site, days).await
    }

    pub async fn losses(
        ports: &Ports,
        caller: &Caller,
        site: &str,
        from: &str,
        to: &str,
    ) -> Result<LossReport, AppError> {
        let allowed = |site, org| caller.can_view_site(site, org);
        let (site, days) = site_days(ports, site, from, to, allowed).await?;
        ports.accounts.losses(site, days).await
    }

    /// The collections report, if the caller may see the site's payments (its managers and
    /// cashiers, the organisation's admins): the page and the CSV download both come here.
    pub async fn collections(
        ports: &Ports,
        caller: &Caller,
        site: &str,
        from: &str,
        to: &str,
    ) -> Result<CollectionsReport, AppError> {
        let allowed = |site, org| caller.may_on_payments(PaymentAction::View, site, org);
        let (site, days) = site_days(ports, site, from, to, allowed).await?;
        ports.accounts.collections(site, days).await
    }

    /// The site, if `allowed` lets the caller see it (an unknown site and a foreign one answer
    /// the same), and the days asked.
    async fn site_days(
        ports: &Ports,
        site: &str,
        from: &str,
        to: &str,
        allowed: impl FnOnce(SiteId, OrgId) -> bool,
    ) -> Result<(SiteId, DaysAsked), AppError> {
        let (site, _) = crate::api::ssr::site_where(ports, site, allowed).await?;
        let days = DaysAsked::parse(from, to).map_err(AppError::Invalid)?;
        Ok((site, days))
    }
}
