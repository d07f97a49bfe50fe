//! `/manage/sites/:id/statements?month=YYYY-MM&building=`: every tenant's statement for one
//! month, of the site or one building, to print at once (each on its own sheet of paper):
//! for the site's staff, who post or hand them out.

use crate::api::accounts::load_statement_batch;
use crate::domain::money::group_thousands;
use crate::domain::month_statement::{BATCH_MAX, StatementBatch};
use crate::pages::{error_view, statement::StatementSheet};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn StatementsPage() -> impl IntoView {
    let site = crate::pages::route_id();
    let query = leptos_router::hooks::use_query_map().read_untracked();
    let asked = (
        site.clone(),
        query.get("month").unwrap_or_default(),
        query.get("building").unwrap_or_default(),
    );
    let batch = Resource::new(
        move || asked.clone(),
        |(site, month, building)| load_statement_batch(site, month, building),
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                let site = site.clone();
                Suspend::new(async move {
                    match batch.await {
                        Ok(batch) => view! { <Batch batch site/> }.into_any(),
                        Err(error) => error_view(error),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn Batch(batch: StatementBatch, site: String) -> impl IntoView {
    let title = format!(
        "Statements for {} · {}",
        batch.month.title_in(crate::domain::i18n::Locale::En),
        batch.site_name
    );
    let chosen = batch.building.clone().unwrap_or_default();
    let (opening, closing) = batch.balances();
    let totals = format!(
        "{} statements · opening balances {} {currency} · closing balances {} {currency}",
        batch.statements.len(),
        group_thousands(&batch.money(opening)),
        group_thousands(&batch.money(closing)),
        currency = batch.currency,
    );
    view! {
        <Title text=title.clone()/>
        <div class="screen-only">
            <p class="breadcrumb"><a href=format!("/manage/sites/{site}")>{batch.site_name.clone()}</a></p>
            <h1>{title}</h1>
            <form method="get" action=format!("/manage/sites/{site}/statements") class="card report-days">
                <label>"Month" <input type="month" name="month" value=batch.month.anchor()/></label>
                <label>"Building"
                    <select name="building">
                        <option value="" selected=chosen.is_empty()>"Every building"</option>
                        {batch.buildings.iter().map(|name| view! {
                            <option value=name.clone() selected=*name == chosen>{name.clone()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <button type="submit">"Show"</button>
            </form>
            <p class="where batch-totals" data-statements=batch.statements.len().to_string()>{totals}</p>
            {(batch.left_out > 0).then(|| view! {
                <p class="notice left-out" role="status">
                    {format!("{} more accounts are not shown: a batch holds {BATCH_MAX}. Choose a building.", batch.left_out)}
                </p>
            })}
            <p><button type="button" class="print" data-print="">"Print every statement"</button></p>
        </div>
        {if batch.statements.is_empty() {
            view! { <p class="empty">"No account was open in this month."</p> }.into_any()
        } else {
            view! {
                <div class="statement-batch">
                    {batch.statements.into_iter().map(|statement| view! { <StatementSheet statement alone=false/> }).collect_view()}
                </div>
            }.into_any()
        }}
    }
}
