//! The cash desk: whoever takes cash at a site (its cashiers and managers, the organisation's
//! admins) sees their open shift and closes it with what they counted; managers and admins
//! see every cashier's closes.

use crate::{
    domain::cash_desk::{CashDesk, ClosedShift},
    error::AppError,
};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr::answer;

/// The caller and the site named by `site`, if they take cash there (its cashiers and
/// managers, the organisation's admins); with the site's organisation.
#[cfg(feature = "ssr")]
async fn desk_site(
    site: &str,
) -> Result<
    (
        crate::ports::Ports,
        crate::domain::Caller,
        crate::domain::SiteId,
        crate::domain::OrgId,
    ),
    AppError,
> {
    use crate::domain::access::PaymentAction;
    let ports = super::ssr::ports()?;
    let caller = super::ssr::caller().await?;
    let (site, org) = super::ssr::site_where(&ports, site, |site, org| {
        caller.may_on_payments(PaymentAction::View, site, org)
    })
    .await?;
    Ok((ports, caller, site, org))
}

/// The caller's open shift at the site, and the closed shifts they may see.
#[server(prefix = "/api", endpoint = "cash_desk")]
pub async fn load_cash_desk(site: String) -> Result<CashDesk, AppError> {
    use crate::domain::access::PaymentAction;
    answer(
        async {
            let (ports, caller, site, org) = desk_site(&site).await?;
            let everyone = caller.may_on_payments(PaymentAction::Manage, site, org);
            ports.accounts.cash_desk(&caller, site, everyone).await
        }
        .await,
    )
}

/// Closes the caller's shift with the cash they counted; `after` is the close the shift the
/// page showed follows, so the same form sent twice closes once.
#[server(prefix = "/api", endpoint = "close_shift")]
pub async fn close_shift(
    site: String,
    #[server(default)] after: String,
    counted: String,
    #[server(default)] note: String,
) -> Result<ClosedShift, AppError> {
    answer(
        async {
            let (ports, caller, site, _) = desk_site(&site).await?;
            ports
                .accounts
                .close_shift(&caller, site, &after, &counted, &note)
                .await
        }
        .await,
    )
}

/// Voids a cash receipt the caller took in their open shift (the wrong account, the wrong
/// amount): its top-up is reversed and the receipt kept, marked void with `reason`. Answers
/// whether this call voided it (`false`: voided already by the same form).
#[server(prefix = "/api", endpoint = "void_receipt")]
pub async fn void_receipt(site: String, receipt: String, reason: String) -> Result<bool, AppError> {
    answer(
        async {
            let (ports, caller, site, _) = desk_site(&site).await?;
            let receipt: i64 = receipt
                .trim()
                .trim_start_matches('#')
                .parse()
                .map_err(|_| AppError::Invalid("That is not a receipt number.".to_owned()))?;
            ports
                .accounts
                .void_receipt(&caller, site, receipt, &reason)
                .await
        }
        .await,
    )
}

/// Approves or refuses (the site's managers and the organisation's admins) or withdraws (the
/// one who took it) cash above the site's limit waiting for a second person. Approved, it is
/// credited as the taker's receipt. Answers the request's state.
#[server(prefix = "/api", endpoint = "decide_cash")]
pub async fn decide_cash(
    site: String,
    request: String,
    decision: String,
) -> Result<crate::domain::adjustments::RequestState, AppError> {
    use crate::domain::{access::PaymentAction, four_eyes::Decision};
    answer(
        async {
            let (ports, caller, site, org) = desk_site(&site).await?;
            let may_decide = caller.may_on_payments(PaymentAction::Manage, site, org);
            let request: i64 = request
                .trim()
                .parse()
                .map_err(|_| AppError::Invalid("That request is not known.".to_owned()))?;
            let decision: Decision = decision.parse().map_err(AppError::Invalid)?;
            ports
                .accounts
                .decide_cash(&caller, site, request, decision, may_decide)
                .await
        }
        .await,
    )
}

/// Sets the amount above which cash taken at the site waits for a second person's approval
/// (empty or zero: none). The organisation's admins only: a manager who could raise it could
/// take any cash alone. Answers the limit as set.
#[server(prefix = "/api", endpoint = "set_cash_limit")]
pub async fn set_cash_limit(site: String, limit: String) -> Result<String, AppError> {
    answer(
        async {
            let ports = super::ssr::ports()?;
            let caller = super::ssr::caller().await?;
            let (site, _) = super::ssr::site_where(&ports, &site, |_, org| {
                caller.is_admin() && org == caller.org_id
            })
            .await?;
            ports.accounts.set_cash_limit(&caller, site, &limit).await
        }
        .await,
    )
}
