//! Adjustments on four eyes for a site's managers and admins: the requests waiting and lately
//! decided, and approving, refusing or withdrawing one. Asking is on the account page (one
//! account) and the accounts table (every account a search finds).

use crate::{
    domain::adjustments::{RequestBook, RequestState},
    error::AppError,
};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr::answer;

/// The caller and the site named by `site`, if they may ask for and decide its adjustments.
#[cfg(feature = "ssr")]
pub(crate) async fn adjustment_site(
    site: &str,
) -> Result<
    (
        crate::ports::Ports,
        crate::domain::Caller,
        crate::domain::SiteId,
    ),
    AppError,
> {
    let ports = super::ssr::ports()?;
    let caller = super::ssr::caller().await?;
    let (site, _) = super::ssr::site_where(&ports, site, |site, org| {
        caller.may_on_adjustments(site, org)
    })
    .await?;
    Ok((ports, caller, site))
}

/// The site's adjustment requests waiting for a second person, and the latest decided.
#[server(prefix = "/api", endpoint = "adjustment_book")]
pub async fn load_adjustment_book(site: String) -> Result<RequestBook, AppError> {
    answer(
        async {
            let (ports, caller, site) = adjustment_site(&site).await?;
            ports.accounts.adjustment_book(&caller, site).await
        }
        .await,
    )
}

/// Approves (`approve`: posts each account's adjustment) or refuses (`refuse`; the asker's own
/// is withdrawn) a waiting request of the site.
#[server(prefix = "/api", endpoint = "decide_adjustment")]
pub async fn decide_adjustment(
    site: String,
    request: String,
    decision: String,
) -> Result<RequestState, AppError> {
    use crate::domain::four_eyes::Decision;
    answer(
        async {
            let (ports, caller, site) = adjustment_site(&site).await?;
            let request: i64 = request
                .trim()
                .parse()
                .map_err(|_| AppError::Invalid("That is not a request.".to_owned()))?;
            let decision: Decision = decision.parse().map_err(AppError::Invalid)?;
            ports
                .accounts
                .decide_adjustments(&caller, site, request, decision)
                .await
        }
        .await,
    )
}
