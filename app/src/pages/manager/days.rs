//! What every report over a site's local days shares: the days asked in the page's address,
//! and the head of the page (breadcrumb, title, the days form, where the figures come from and
//! the CSV download of the same days).

use crate::domain::reports::Days;
use crate::error::AppError;
use crate::pages::{error_view, percent_encode};
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Serialize, de::DeserializeOwned};
use std::future::Future;

/// The site of the route and the `from` and `to` of the address (each possibly empty).
pub fn asked() -> (String, String, String) {
    let query = leptos_router::hooks::use_query_map().read_untracked();
    (
        crate::pages::route_id(),
        query.get("from").unwrap_or_default(),
        query.get("to").unwrap_or_default(),
    )
}

/// A report page over the days in the address: `load` (the report's server function, given
/// the site and the days) fetches it, and `draw` lays it out with the site's id; an error is
/// shown as such.
pub fn days_report<T, Fut, V>(
    load: fn(String, String, String) -> Fut,
    draw: fn(T, String) -> V,
) -> impl IntoView
where
    T: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
    Fut: Future<Output = Result<T, AppError>> + Send + 'static,
    V: IntoView + 'static,
{
    let asked = asked();
    let site = asked.0.clone();
    let report = Resource::new(
        move || asked.clone(),
        move |(site, from, to)| load(site, from, to),
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                let site = site.clone();
                Suspend::new(async move {
                    match report.await {
                        Ok(report) => draw(report, site).into_any(),
                        Err(error) => error_view(error),
                    }
                })
            }}
        </Suspense>
    }
}

/// `report` names both the page (`/manage/sites/:id/{page}`) and its file (`{report}.csv`).
#[component]
pub fn DaysHead(
    site: String,
    site_name: String,
    title: String,
    page: &'static str,
    report: &'static str,
    days: Days,
    /// Where the figures come from, after "The site's local days … to …, ".
    source: &'static str,
    download: &'static str,
) -> impl IntoView {
    let (from, to) = (days.from.to_string(), days.to.to_string());
    let csv = format!(
        "/manage/sites/{site}/{report}.csv?from={}&to={}",
        percent_encode(&from),
        percent_encode(&to)
    );
    view! {
        <Title text=title.clone()/>
        <p class="breadcrumb"><a href=format!("/manage/sites/{site}")>{site_name}</a></p>
        <h1>{title}</h1>
        <form method="get" action=format!("/manage/sites/{site}/{page}") class="card report-days">
            <label>"First day" <input type="date" name="from" value=from.clone()/></label>
            <label>"Last day" <input type="date" name="to" value=to.clone()/></label>
            <button type="submit">"Show"</button>
        </form>
        <p class="where">{format!("The site's local days {from} to {to}, {source}.")}</p>
        <p><a class="button csv-download" href=csv download=format!("{report}-{from}-{to}.csv")>{download}</a></p>
    }
}
