//! Reports for staff: what a site's units used and what it cost.

use crate::{domain::reports::ConsumptionReport, error::AppError};
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

#[cfg(feature = "ssr")]
pub mod access {
    use crate::{
        domain::{
            Caller,
            reports::{ConsumptionReport, DaysAsked},
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
        let (site, _) = crate::api::ssr::site_where(ports, site, allowed).await?;
        let days = DaysAsked::parse(from, to).map_err(AppError::Invalid)?;
        ports.accounts.consumption(site, days).await
    }
}
