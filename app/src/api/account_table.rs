//! The site's accounts table for staff: filtered, ordered and a page at a time, so a site of
//! thousands of units sends the browser a hundred rows, not every account.

// The search form's seven fields travel as themselves, so the page's address and the server
// function's form are the same; the browser's half of the macro cannot take an `allow` itself.
#![allow(clippy::too_many_arguments)]

use crate::{domain::account_table::AccountPage, error::AppError};
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
            let (query, accounts) = access::accounts(&ports()?, &caller, &site, &fields).await?;
            Ok(query.page_of(accounts))
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
pub mod access {
    use crate::{
        domain::{
            Caller,
            account_table::{AccountQuery, QueryFields},
            views::AccountView,
        },
        error::AppError,
        ports::Ports,
    };

    /// The query and the site's open accounts, if the caller is staff of the site (or its
    /// organisation's admin): the page and the CSV download both come here. An unknown
    /// site and a foreign one answer the same; a bad field is refused before any reading.
    pub async fn accounts(
        ports: &Ports,
        caller: &Caller,
        site: &str,
        fields: &QueryFields,
    ) -> Result<(AccountQuery, Vec<AccountView>), AppError> {
        let allowed = |site, org| caller.can_view_site(site, org);
        let (site, _) = crate::api::ssr::site_where(ports, site, allowed).await?;
        let query = AccountQuery::parse(fields).map_err(AppError::Invalid)?;
        Ok((query, ports.accounts.of_site(site).await?))
    }
}
