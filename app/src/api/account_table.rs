//! The site's accounts table for staff: filtered, ordered and a page at a time, so a site of
//! thousands of units sends the browser a hundred rows, not every account.

// The search form's seven fields travel as themselves, so the page's address and the server
// function's form are the same; the browser's half of the macro cannot take an `allow` itself.
#![allow(clippy::too_many_arguments)]

use crate::{
    domain::{account_table::AccountPage, common_charges::SharedCharge, tariff::plan::PlanMove},
    error::AppError,
};
use leptos::prelude::*;

/// One page of the site's open accounts, as the search form asks (each field may be empty).
#[server(prefix = "/api", endpoint = "account_table")]
pub async fn account_table(
    site: String,
    #[server(default)] state: String,
    #[server(default)] utility: String,
    #[server(default)] building: String,
    #[server(default)] words: String,
    #[server(default)] sort: String,
    #[server(default)] order: String,
    #[server(default)] page: String,
) -> Result<AccountPage, AppError> {
    use super::ssr::{answer, caller, ports};
    use crate::domain::account_table::QueryFields;
    let fields = QueryFields {
        state,
        utility,
        building,
        words,
        sort,
        order,
        page,
    };
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let found = access::accounts(&ports, &caller, &site, &fields).await?;
            let mut page = found.query.page_of(found.accounts);
            page.may_adjust = caller.may_on_adjustments(found.site, found.org);
            page.may_notify = caller.may_send_notices(found.site, found.org);
            if caller.may_on_tariffs(true, found.site, found.org) {
                let plans = ports.accounts.site_plans(found.site).await?;
                page.plans = plans.into_iter().map(|used| used.plan).collect();
            }
            if page.may_adjust || page.may_notify {
                page.form_nonce = ports.accounts.form_nonce();
            }
            Ok(page)
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
pub mod access {
    use crate::{
        domain::{
            AccountId, Caller, OrgId, SiteId,
            account_table::{AccountQuery, QueryFields},
            views::AccountView,
        },
        error::AppError,
        ports::Ports,
    };

    /// What a search found: the site, its organisation, the query and the site's open accounts.
    pub struct Found {
        pub site: SiteId,
        pub org: OrgId,
        pub query: AccountQuery,
        pub accounts: Vec<AccountView>,
    }

    /// The query and the site's open accounts, if the caller is staff of the site (or its
    /// organisation's admin): the page, the CSV download and the batch adjustment all come
    /// here. An unknown site and a foreign one answer the same; a bad field is refused
    /// before any reading.
    pub async fn accounts(
        ports: &Ports,
        caller: &Caller,
        site: &str,
        fields: &QueryFields,
    ) -> Result<Found, AppError> {
        let allowed = |site, org| caller.can_view_site(site, org);
        let (site, org) = crate::api::ssr::site_where(ports, site, allowed).await?;
        let query = AccountQuery::parse(fields).map_err(AppError::Invalid)?;
        let accounts = ports.accounts.of_site(site).await?;
        Ok(Found {
            site,
            org,
            query,
            accounts,
        })
    }

    /// The site and the accounts a batch action (adjust, send a notice) acts on: every page
    /// of the search, if the caller `may` act on the site and the search still finds as many
    /// as they saw (`expected`); otherwise nothing is done and they look again.
    pub async fn batch(
        ports: &Ports,
        caller: &Caller,
        site: &str,
        fields: &QueryFields,
        expected: &str,
        may: fn(&Caller, SiteId, OrgId) -> bool,
    ) -> Result<(SiteId, Vec<AccountId>), AppError> {
        let search = accounts(ports, caller, site, fields).await?;
        if !may(caller, search.site, search.org) {
            return Err(AppError::Forbidden);
        }
        Ok((search.site, search.into_accounts(expected)?))
    }

    /// The caller, the site and the accounts of a batch action, as [`batch`] finds them: the
    /// start of every batch server function.
    pub async fn caller_batch(
        site: &str,
        fields: &QueryFields,
        expected: &str,
        may: fn(&Caller, SiteId, OrgId) -> bool,
    ) -> Result<(Ports, Caller, SiteId, Vec<AccountId>), AppError> {
        let (caller, ports) = (crate::api::ssr::caller().await?, crate::api::ssr::ports()?);
        let (site, found) = batch(&ports, &caller, site, fields, expected, may).await?;
        Ok((ports, caller, site, found))
    }

    impl Found {
        fn into_accounts(self, expected: &str) -> Result<Vec<AccountId>, AppError> {
            let found: Vec<_> = self
                .query
                .select(self.accounts)
                .into_iter()
                .map(|account| account.id)
                .collect();
            if expected.trim() != found.len().to_string() {
                return Err(AppError::Conflict(format!(
                    "The search now finds {} accounts, not {}: look at them again.",
                    found.len(),
                    expected.trim()
                )));
            }
            Ok(found)
        }
    }
}

/// Asks for one adjustment (signed amount, reason) on every account the search finds, for a
/// second person to approve. `expected` is how many the manager saw: if the search now finds
/// another number, nothing is asked and they look again.
#[server(prefix = "/api", endpoint = "adjust_found_accounts")]
pub async fn adjust_found_accounts(
    site: String,
    #[server(default)] state: String,
    #[server(default)] utility: String,
    #[server(default)] building: String,
    #[server(default)] words: String,
    amount: String,
    reason: String,
    nonce: String,
    expected: String,
) -> Result<i64, AppError> {
    use super::ssr::answer;
    use crate::domain::{Caller, account_table::QueryFields};
    let fields = QueryFields::search(state, utility, building, words);
    answer(
        async {
            let may = Caller::may_on_adjustments;
            let (ports, caller, site, found) =
                access::caller_batch(&site, &fields, &expected, may).await?;
            ports
                .accounts
                .request_adjustments(&caller, site, &found, &amount, &reason, &nonce)
                .await
        }
        .await,
    )
}

/// Shares a common charge (`amount`, more than zero) across every account the search finds,
/// `equally` or `by_use` of the utility `measure` over the site's local days `from` to `to`,
/// and asks for the shares as one request for a second person to approve. `expected` is how
/// many accounts the manager saw, as for a batch adjustment. Answers every account's share.
#[server(prefix = "/api", endpoint = "share_found_accounts")]
pub async fn share_found_accounts(
    site: String,
    #[server(default)] state: String,
    #[server(default)] utility: String,
    #[server(default)] building: String,
    #[server(default)] words: String,
    amount: String,
    #[server(default)] rule: String,
    #[server(default)] measure: String,
    #[server(default)] from: String,
    #[server(default)] to: String,
    reason: String,
    nonce: String,
    expected: String,
) -> Result<SharedCharge, AppError> {
    use super::ssr::answer;
    use crate::domain::{Caller, account_table::QueryFields, common_charges::Sharing};
    let fields = QueryFields::search(state, utility, building, words);
    answer(
        async {
            let may = Caller::may_on_adjustments;
            let (ports, caller, site, found) =
                access::caller_batch(&site, &fields, &expected, may).await?;
            let sharing = Sharing::parse(&rule, &measure, &from, &to).map_err(AppError::Invalid)?;
            ports
                .accounts
                .share_charge(&caller, site, &found, &amount, sharing, &reason, &nonce)
                .await
        }
        .await,
    )
}

/// Puts the units of every account the search finds on one of the site's tariff plans
/// (`plan` empty: the standard tariff), for the site's managers and the organisation's
/// admins: the plan was approved by a second person when it was published. `expected` is how
/// many accounts the manager saw, as for a batch adjustment.
#[server(prefix = "/api", endpoint = "plan_found_accounts")]
pub async fn plan_found_accounts(
    site: String,
    #[server(default)] state: String,
    #[server(default)] utility: String,
    #[server(default)] building: String,
    #[server(default)] words: String,
    plan: String,
    #[server(default)] nonce: String,
    expected: String,
) -> Result<PlanMove, AppError> {
    use super::ssr::answer;
    use crate::domain::{account_table::QueryFields, tariff::Plan};
    let fields = QueryFields::search(state, utility, building, words);
    // The batch forms share their fields; putting units on a plan twice changes nothing the
    // second time, so this one needs no nonce.
    let _ = nonce;
    answer(
        async {
            let (ports, caller, site, found) =
                access::caller_batch(&site, &fields, &expected, |caller, site, org| {
                    caller.may_on_tariffs(true, site, org)
                })
                .await?;
            let plan = Plan::parse(&plan).map_err(|e| AppError::Invalid(e.to_string()))?;
            ports
                .accounts
                .put_accounts_on_plan(&caller, site, &found, &plan)
                .await
        }
        .await,
    )
}

/// Sends a notice (heading and text) to the homes of every account the search finds, at once:
/// a notice moves no money, so it needs no second person. `expected` is how many accounts the
/// manager saw, as for a batch adjustment. Answers how many homes it is for.
#[server(prefix = "/api", endpoint = "notify_found_accounts")]
pub async fn notify_found_accounts(
    site: String,
    #[server(default)] state: String,
    #[server(default)] utility: String,
    #[server(default)] building: String,
    #[server(default)] words: String,
    heading: String,
    text: String,
    nonce: String,
    expected: String,
) -> Result<usize, AppError> {
    use super::ssr::answer;
    use crate::domain::{Caller, account_table::QueryFields};
    let fields = QueryFields::search(state, utility, building, words);
    answer(
        async {
            let may = Caller::may_send_notices;
            let (ports, caller, site, found) =
                access::caller_batch(&site, &fields, &expected, may).await?;
            ports
                .accounts
                .send_notice(&caller, site, &found, &heading, &text, &nonce)
                .await
        }
        .await,
    )
}
