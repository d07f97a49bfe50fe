//! The site model as a sheet, from the console: a dry run of an import and its commit, for the
//! site's managers and the organisation's admins. The export is a download route beside the
//! consumption report's, authorised by [`access::sheet_site`].

use crate::{
    domain::site_sheet::{ImportCheck, Progress, SheetSummary},
    error::AppError,
};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr::answer;

#[cfg(feature = "ssr")]
pub mod access {
    use crate::{
        domain::{Caller, SiteId},
        error::AppError,
        ports::Ports,
    };

    /// The site named by `site`, if the caller may import and export its sheet. An unknown
    /// site and a foreign one answer the same.
    pub async fn sheet_site(
        ports: &Ports,
        caller: &Caller,
        site: &str,
    ) -> Result<SiteId, AppError> {
        let allowed = |site, org| caller.may_on_site_sheet(site, org);
        Ok(crate::api::ssr::site_where(ports, site, allowed).await?.0)
    }
}

/// The site's name and what it holds, heading its sheet page.
#[server(prefix = "/api", endpoint = "site_sheet_summary")]
pub async fn site_sheet_summary(site: String) -> Result<SheetSummary, AppError> {
    answer(
        async {
            let ports = super::ssr::ports()?;
            let caller = super::ssr::caller().await?;
            let site = access::sheet_site(&ports, &caller, &site).await?;
            let mut summary = ports.sheets.sheet_summary(site).await?;
            summary.import_key = ports.accounts.form_nonce();
            Ok(summary)
        }
        .await,
    )
}

/// What importing `sheet` (CSV text) into the site would add, and every bad line with its reason.
/// Changes nothing.
#[server(prefix = "/api", endpoint = "check_site_sheet")]
pub async fn check_site_sheet(site: String, sheet: String) -> Result<ImportCheck, AppError> {
    answer(
        async {
            let ports = super::ssr::ports()?;
            let caller = super::ssr::caller().await?;
            let site = access::sheet_site(&ports, &caller, &site).await?;
            ports.sheets.check_sheet(site, &sheet).await
        }
        .await,
    )
}

/// Imports `sheet` (CSV text) into the site: every line in one transaction, or nothing when any line
/// is bad (the answer then lists them). With `invite` (a ticked box), new residents are invited
/// by e-mail. Its progress is kept under `key` (the form's, from the page) while it runs.
#[server(prefix = "/api", endpoint = "import_site_sheet")]
pub async fn import_site_sheet(
    site: String,
    sheet: String,
    #[server(default)] invite: Option<String>,
    #[server(default)] key: String,
) -> Result<ImportCheck, AppError> {
    let invite = invite.is_some();
    answer(
        async {
            let ports = super::ssr::ports()?;
            let caller = super::ssr::caller().await?;
            let site = access::sheet_site(&ports, &caller, &site).await?;
            ports
                .sheets
                .import_sheet(&caller, site, &sheet, invite, key.trim())
                .await
        }
        .await,
    )
}

/// Where the site's import under `key` stands, while the page waits for it: `None` before it
/// starts (or on another server process than the one importing).
#[server(prefix = "/api", endpoint = "site_sheet_progress")]
pub async fn site_sheet_progress(site: String, key: String) -> Result<Option<Progress>, AppError> {
    answer(
        async {
            let ports = super::ssr::ports()?;
            let caller = super::ssr::caller().await?;
            let site = access::sheet_site(&ports, &caller, &site).await?;
            Ok(ports.sheets.import_progress(site, key.trim()))
        }
        .await,
    )
}
