//! Move-outs from the console: the residents of a site, and a batch of them moved out and
//! settled (previewed first). Managers of the site and admins only.

use crate::{
    domain::occupancy::{MoveOutBatch, Occupants},
    error::AppError,
};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr::{answer, caller, ports};

/// The site, if the caller may move its residents out.
#[cfg(feature = "ssr")]
async fn managed_site(
    ports: &crate::ports::Ports,
    caller: &crate::domain::Caller,
    site: &str,
) -> Result<crate::domain::SiteId, AppError> {
    use crate::domain::access::AccountAction;
    let allowed = |site, org| caller.may_on_account(AccountAction::MoveOut, site, org, None);
    Ok(super::ssr::site_where(ports, site, allowed).await?.0)
}

/// Everyone living at the site now.
#[server(prefix = "/api", endpoint = "site_occupants")]
pub async fn site_occupants(site: String) -> Result<Occupants, AppError> {
    answer(
        async {
            let ports = ports()?;
            let site = managed_site(&ports, &caller().await?, &site).await?;
            ports.accounts.occupants(site).await
        }
        .await,
    )
}

/// What moving out the residents of `occupancies` (ids, separated by commas) would settle
/// now. Nothing changes.
#[server(prefix = "/api", endpoint = "preview_move_outs")]
pub async fn preview_move_outs(
    site: String,
    occupancies: String,
) -> Result<MoveOutBatch, AppError> {
    batch(site, occupancies, false).await
}

/// Moves the residents of `occupancies` out now: accounts settled and closed, refunds
/// payable and debts recorded, each resident sent their final statement.
#[server(prefix = "/api", endpoint = "move_out_residents")]
pub async fn move_out_residents(
    site: String,
    occupancies: String,
) -> Result<MoveOutBatch, AppError> {
    batch(site, occupancies, true).await
}

#[cfg(feature = "ssr")]
async fn batch(site: String, occupancies: String, commit: bool) -> Result<MoveOutBatch, AppError> {
    use crate::domain::occupancy::OccupancyList;
    answer(
        async {
            let ports = ports()?;
            let caller = caller().await?;
            let site = managed_site(&ports, &caller, &site).await?;
            let list: OccupancyList = occupancies.parse().map_err(AppError::Invalid)?;
            ports.accounts.move_out(&caller, site, &list, commit).await
        }
        .await,
    )
}
