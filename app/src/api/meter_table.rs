//! The site's meters for staff: link, relay or valve, battery and last reading of each, the
//! site's meter health, filtered and a page at a time. Staff who may see a site's meters
//! (managers, operators, cashiers, the organisation's admins) read it; nobody else.

use crate::{domain::meter_table::SiteMeters, error::AppError};
use leptos::prelude::*;

/// One page of the site's meters, as the form asks (each field may be empty).
#[server(prefix = "/api", endpoint = "site_meters")]
pub async fn load_site_meters(
    site: String,
    #[server(default)] utility: String,
    #[server(default)] problem: String,
    #[server(default)] words: String,
    #[server(default)] page: String,
) -> Result<SiteMeters, AppError> {
    use super::ssr::{answer, caller, ports};
    use crate::domain::meter_table::MeterFields;
    let fields = MeterFields {
        utility,
        problem,
        words,
        page,
    };
    answer(
        async {
            let caller = caller().await?;
            let found = access::meters(&ports()?, &caller, &site, &fields).await?;
            let list = found.list;
            Ok(SiteMeters {
                site: found.site,
                site_name: list.site_name,
                zone: list.zone,
                page: found.query.page_of(list.meters, &found.rules, list.read_at),
                query: found.query,
            })
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
pub mod access {
    use crate::{
        domain::{
            Caller, MeterAction, SiteId,
            fleet::FleetRules,
            meter_table::{MeterFields, MeterList, MeterQuery},
        },
        error::AppError,
        ports::Ports,
    };

    /// What the page and the CSV download both read.
    pub struct Found {
        pub site: SiteId,
        pub query: MeterQuery,
        pub rules: FleetRules,
        pub list: MeterList,
    }

    /// The query, the site's fleet rules and its meters, if the caller may see the site's
    /// meters. An unknown site and a foreign one answer the same; a bad field is refused
    /// before anything is read.
    pub async fn meters(
        ports: &Ports,
        caller: &Caller,
        site: &str,
        fields: &MeterFields,
    ) -> Result<Found, AppError> {
        let (site, _) =
            crate::api::fleet::guard::site(ports, caller, site, MeterAction::View).await?;
        let query = MeterQuery::parse(fields).map_err(AppError::Invalid)?;
        Ok(Found {
            site,
            query,
            rules: ports.fleet.rules(site).await?,
            list: ports.fleet.site_meters(site).await?,
        })
    }
}
