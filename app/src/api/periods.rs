//! Closed accounting periods: the site's closes for its staff; closing the books through a
//! day for its managers and the organisation's admins.

use crate::{domain::periods::Periods, error::AppError};
use leptos::prelude::*;

/// The site's closes, newest first, and whether the caller may close the books.
#[server(prefix = "/api", endpoint = "periods")]
pub async fn load_periods(site: String) -> Result<Periods, AppError> {
    use super::ssr::{answer, caller, ports, site_where};
    answer(
        async {
            let (caller, ports) = (caller().await?, ports()?);
            let (site, org) =
                site_where(&ports, &site, |site, org| caller.can_view_site(site, org)).await?;
            let mut periods = ports.accounts.periods(site).await?;
            periods.may_close = caller.may_on_adjustments(site, org);
            Ok(periods)
        }
        .await,
    )
}

/// Closes the site's books through `through` (`YYYY-MM-DD` on the site's clock), a day that
/// has ended: nothing is posted in the closed period afterwards, and no receipt taken in it is
/// voided. A close is never undone; the same close sent twice closes once. Answers whether this
/// call closed it.
#[server(prefix = "/api", endpoint = "close_period")]
pub async fn close_period(site: String, through: String) -> Result<bool, AppError> {
    use super::ssr::{answer, caller, ports, site_where};
    use crate::domain::periods::parse_through;
    answer(
        async {
            let (caller, ports) = (caller().await?, ports()?);
            let (site, _) = site_where(&ports, &site, |site, org| {
                caller.may_on_adjustments(site, org)
            })
            .await?;
            let through = parse_through(&through).map_err(AppError::Invalid)?;
            ports.accounts.close_period(&caller, site, through).await
        }
        .await,
    )
}
