//! Tariffs from the console: a site's versions and proposals for its staff; proposing a
//! version and approving or refusing another's for its managers and admins.

use crate::{domain::tariff::book::TariffBook, error::AppError};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr::answer;

/// The caller and the site named by `site`, if they may read its tariffs (or, with `change`,
/// propose and decide); with whether they may change them.
#[cfg(feature = "ssr")]
async fn tariff_site(
    site: &str,
    change: bool,
) -> Result<
    (
        crate::ports::Ports,
        crate::domain::Caller,
        crate::domain::SiteId,
        bool,
    ),
    AppError,
> {
    let ports = super::ssr::ports()?;
    let caller = super::ssr::caller().await?;
    let (site, org) = super::ssr::site_where(&ports, site, |site, org| {
        caller.may_on_tariffs(change, site, org)
    })
    .await?;
    let may_change = caller.may_on_tariffs(true, site, org);
    Ok((ports, caller, site, may_change))
}

/// The site's tariff versions per utility and the proposals waiting or decided lately.
#[server(prefix = "/api", endpoint = "tariff_book")]
pub async fn load_tariff_book(site: String) -> Result<TariffBook, AppError> {
    answer(
        async {
            let (ports, caller, site, may_change) = tariff_site(&site, false).await?;
            ports.accounts.tariff_book(&caller, site, may_change).await
        }
        .await,
    )
}

/// Proposes a version of `utility`'s tariff (`definition`, JSON as the editor writes it) for
/// the plan named `plan` (empty: the standard tariff; a new name starts a new plan) starting
/// at `starts` (`YYYY-MM-DDTHH:MM` on the site's clock), for a second person to approve.
/// Returns the proposal's id.
#[server(prefix = "/api", endpoint = "propose_tariff")]
pub async fn propose_tariff(
    site: String,
    #[server(default)] plan: String,
    utility: String,
    starts: String,
    definition: String,
    note: String,
) -> Result<i64, AppError> {
    use crate::domain::tariff::book::NewProposal;
    answer(
        async {
            let (ports, caller, site, _) = tariff_site(&site, true).await?;
            let proposal = NewProposal::parse(&plan, &utility, &starts, &definition, &note)
                .map_err(AppError::Invalid)?;
            ports
                .accounts
                .propose_tariff(&caller, site, &proposal)
                .await
        }
        .await,
    )
}

/// Approves (`approve`: publishes it) or refuses (`refuse`; the proposer's own is withdrawn)
/// a proposal of the site.
#[server(prefix = "/api", endpoint = "decide_tariff")]
pub async fn decide_tariff(
    site: String,
    proposal: String,
    decision: String,
) -> Result<(), AppError> {
    use crate::domain::tariff::book::Decision;
    answer(
        async {
            let (ports, caller, site, _) = tariff_site(&site, true).await?;
            let proposal: i64 = proposal
                .trim()
                .parse()
                .map_err(|_| AppError::Invalid("That is not a proposal.".to_owned()))?;
            let decision: Decision = decision.parse().map_err(AppError::Invalid)?;
            ports
                .accounts
                .decide_tariff(&caller, site, proposal, decision)
                .await
        }
        .await,
    )
}
