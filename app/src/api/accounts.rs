//! Prepaid accounts: balances and statements for residents and staff, cash top-ups and
//! adjustments for staff, emergency credit and the gas confirmation for residents.

use crate::{
    domain::views::{AccountDetail, AccountView, Receipt},
    error::AppError,
};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr::{answer, caller, ports};

#[cfg(feature = "ssr")]
pub(crate) mod guard {
    use crate::{
        domain::{AccountId, Caller, access::AccountAction},
        error::AppError,
        ports::{AccountPlace, Ports},
    };

    /// Checks the caller may act on the account. An unknown account and a foreign one
    /// answer the same, so ids cannot be probed.
    pub async fn allow(
        ports: &Ports,
        caller: &Caller,
        account: &str,
        action: AccountAction,
    ) -> Result<(AccountId, AccountPlace), AppError> {
        let account: AccountId = account.parse().map_err(|_| AppError::Forbidden)?;
        let place = ports
            .accounts
            .place(account, caller.user_id)
            .await?
            .ok_or(AppError::Forbidden)?;
        if caller.may_on_account(action, place.site, place.org, place.occupant) {
            Ok((account, place))
        } else {
            Err(AppError::Forbidden)
        }
    }
}

/// The resident's live home (banners, alarms, credit cards) as HTML in the request's
/// language, drawn by the same components as the first page: the page's island swaps it in,
/// so the browser needs no code for cards, dates or amounts.
#[server(prefix = "/api", endpoint = "live_home")]
pub async fn live_home() -> Result<String, AppError> {
    let accounts = my_accounts().await?;
    let alarms = crate::api::fleet::my_alarms().await?;
    Ok(crate::pages::resident::home::live_html(accounts, alarms))
}

/// An account's statement lines that a filter lets through (what they were: `LineKind`;
/// from and to: days, `YYYY-MM-DD`, either empty), drawn as HTML.
#[server(prefix = "/api", endpoint = "statement_html")]
pub async fn statement_html(
    account: String,
    what: String,
    from: String,
    to: String,
) -> Result<String, AppError> {
    use crate::domain::views::{LineKind, StatementFilter};
    let detail = load_account(account).await?;
    let filter = StatementFilter {
        what: LineKind::parse(&what),
        from,
        to,
    };
    let lines = detail
        .lines
        .into_iter()
        .filter(|line| filter.keeps(line))
        .collect();
    Ok(crate::pages::accounts::statement_drawing(
        lines,
        detail.account.currency,
        false,
    ))
}

/// An account's usage chart for one span (`day`, `month`, `year`), period (a day inside it;
/// empty for the current one) and measure (`quantity`, `cost`), drawn as HTML.
#[server(prefix = "/api", endpoint = "usage_html")]
pub async fn usage_html(
    account: String,
    span: String,
    day: String,
    measure: String,
) -> Result<String, AppError> {
    let chart = account_usage(account, span, day).await;
    if let Err(AppError::Unauthenticated | AppError::Forbidden) = &chart {
        return chart.map(|_| String::new());
    }
    Ok(crate::pages::usage::drawing_html(
        chart,
        crate::pages::usage::Measure::parse(&measure),
    ))
}

/// The caller's own prepaid accounts.
#[server(prefix = "/api", endpoint = "my_accounts")]
pub async fn my_accounts() -> Result<Vec<AccountView>, AppError> {
    answer(
        async {
            let caller = caller().await?;
            ports()?.accounts.mine(&caller).await
        }
        .await,
    )
}

/// Every open resident account of a site, for staff granted on it.
#[server(prefix = "/api", endpoint = "site_accounts")]
pub async fn site_accounts(site: String) -> Result<Vec<AccountView>, AppError> {
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let (site, _) =
                super::ssr::site_where(&ports, &site, |site, org| caller.can_view_site(site, org))
                    .await?;
            ports.accounts.of_site(site).await
        }
        .await,
    )
}

/// An account's statement for one month (`YYYY-MM`; empty for the current month), for its
/// resident (also after they moved out) and the site's staff.
#[server(prefix = "/api", endpoint = "month_statement")]
pub async fn load_month_statement(
    account: String,
    month: String,
) -> Result<crate::domain::month_statement::MonthStatement, AppError> {
    use crate::domain::{access::AccountAction, month_statement::Month};
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let (id, _) = guard::allow(&ports, &caller, &account, AccountAction::View).await?;
            let month = Month::parse(&month).map_err(AppError::Invalid)?;
            ports.accounts.month_statement(id, month).await
        }
        .await,
    )
}

/// Every tenant's statement for one month (`YYYY-MM`; empty for the current one), of the
/// site or one of its buildings (empty for all), to print at once: for the site's staff.
#[server(prefix = "/api", endpoint = "statement_batch")]
pub async fn load_statement_batch(
    site: String,
    month: String,
    building: String,
) -> Result<crate::domain::month_statement::StatementBatch, AppError> {
    use crate::domain::month_statement::Month;
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let (site, _) =
                super::ssr::site_where(&ports, &site, |site, org| caller.can_view_site(site, org))
                    .await?;
            let month = Month::parse(&month).map_err(AppError::Invalid)?;
            let building = Some(building.trim().to_owned()).filter(|name| !name.is_empty());
            ports.accounts.statement_batch(site, building, month).await
        }
        .await,
    )
}

/// One account with its statement.
#[server(prefix = "/api", endpoint = "account")]
pub async fn load_account(account: String) -> Result<AccountDetail, AppError> {
    use crate::domain::access::AccountAction;
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let (id, place) = guard::allow(&ports, &caller, &account, AccountAction::View).await?;
            let record = ports.accounts.detail(id).await?;
            let may = |action| caller.may_on_account(action, place.site, place.org, place.occupant);
            let staff = place.occupant.is_none();
            Ok(AccountDetail {
                account: record.account,
                zone: record.zone,
                lines: record.lines,
                // Notices meant for managers stay with staff.
                notices: record
                    .notices
                    .into_iter()
                    .filter(|notice| staff || notice.audience == "resident")
                    .collect(),
                commands: record.commands,
                may_take_cash: may(AccountAction::CashTopUp),
                may_adjust: may(AccountAction::Adjust),
                may_choose: may(AccountAction::ResidentChoice),
                form_nonce: ports.accounts.form_nonce(),
            })
        }
        .await,
    )
}

/// An account's usage for its graphs: `span` is day, month or year; `day` (YYYY-MM-DD) picks
/// which one, today's by default.
#[server(prefix = "/api", endpoint = "account_usage")]
pub async fn account_usage(
    account: String,
    span: String,
    day: String,
) -> Result<crate::domain::usage::UsageChart, AppError> {
    use crate::domain::{access::AccountAction, usage::Span};
    use chrono::{Datelike, NaiveDate};
    answer(
        async {
            let caller = caller().await?;
            let span = Span::parse(&span)
                .ok_or_else(|| AppError::invalid("Choose a day, a month or a year."))?;
            let day = match day.trim() {
                "" => None,
                raw => Some(
                    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                        .ok()
                        .filter(|day| (2000..=2200).contains(&day.year()))
                        .ok_or_else(|| AppError::invalid("Write the date as YYYY-MM-DD."))?,
                ),
            };
            let ports = ports()?;
            let (id, _) = guard::allow(&ports, &caller, &account, AccountAction::View).await?;
            ports.accounts.usage(id, span, day).await
        }
        .await,
    )
}

/// What the account's planner prices with: its tariff, where the cycle stands, its recent use
/// and the advice drawn from it. `None` when the account cannot be priced as one utility.
#[server(prefix = "/api", endpoint = "account_planner")]
pub async fn account_planner(
    account: String,
) -> Result<Option<crate::domain::planner::Planner>, AppError> {
    use crate::domain::access::AccountAction;
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let (id, _) = guard::allow(&ports, &caller, &account, AccountAction::View).await?;
            ports.accounts.planner(id).await
        }
        .await,
    )
}

/// Cash taken at the desk. `nonce` comes with the form, so sending it twice credits once.
#[server(prefix = "/api", endpoint = "cash_top_up")]
pub async fn cash_top_up(
    account: String,
    amount: String,
    nonce: String,
) -> Result<Receipt, AppError> {
    use crate::domain::access::AccountAction;
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let (id, _) = guard::allow(&ports, &caller, &account, AccountAction::CashTopUp).await?;
            ports
                .accounts
                .cash_top_up(&caller, id, &amount, &nonce)
                .await
        }
        .await,
    )
}

/// Asks for a correction either way, with a reason, for a second person to approve; answers
/// the request's id.
#[server(prefix = "/api", endpoint = "adjust")]
pub async fn adjust_account(
    account: String,
    amount: String,
    reason: String,
    nonce: String,
) -> Result<i64, AppError> {
    use crate::domain::access::AccountAction;
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let (id, place) =
                guard::allow(&ports, &caller, &account, AccountAction::Adjust).await?;
            ports
                .accounts
                .request_adjustments(&caller, place.site, &[id], &amount, &reason, &nonce)
                .await
        }
        .await,
    )
}

/// The resident takes the site's emergency credit; answers the amount taken.
#[server(prefix = "/api", endpoint = "emergency_credit")]
pub async fn take_emergency_credit(account: String) -> Result<String, AppError> {
    use crate::domain::access::AccountAction;
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let (id, _) =
                guard::allow(&ports, &caller, &account, AccountAction::ResidentChoice).await?;
            ports.accounts.take_emergency_credit(&caller, id).await
        }
        .await,
    )
}

/// The resident confirms at the gas meter that it is safe to reopen.
#[server(prefix = "/api", endpoint = "confirm_armed")]
pub async fn confirm_armed(account: String) -> Result<(), AppError> {
    use crate::domain::access::AccountAction;
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let (id, _) =
                guard::allow(&ports, &caller, &account, AccountAction::ResidentChoice).await?;
            ports.accounts.confirm_armed(&caller, id).await
        }
        .await,
    )
}
