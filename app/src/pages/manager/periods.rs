//! `/manage/sites/:id/periods`: the site's closed accounting periods, and closing the books
//! through a day for its managers and admins. Once closed, nothing is posted in the period and
//! no receipt taken in it is voided; a close is never undone.

use crate::api::periods::{ClosePeriod, load_periods};
use crate::domain::periods::Periods;
use crate::pages::{error_view, form_error};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn PeriodsPage() -> impl IntoView {
    let id = crate::pages::route_id();
    view! { <PeriodsIsland id/> }
}

#[island(lazy)]
fn PeriodsIsland(id: String) -> impl IntoView {
    crate::pages::island_ready();
    let close = ServerAction::<ClosePeriod>::new();
    let site = StoredValue::new(id);
    let periods = Resource::new(
        move || (site.get_value(), close.version().get()),
        |(site, _)| load_periods(site),
    );
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match periods.await {
                    Ok(periods) => view! { <Closes periods site=site.get_value() close/> }.into_any(),
                    Err(error) => error_view(error),
                }
            })}
        </Transition>
    }
}

#[component]
fn Closes(periods: Periods, site: String, close: ServerAction<ClosePeriod>) -> impl IntoView {
    let title = format!("Closed periods · {}", periods.site_name);
    let status = match periods.closed_through() {
        Some(day) => format!("The books are closed through {day}."),
        None => "No period has been closed yet.".to_owned(),
    };
    let suggested = periods
        .suggested()
        .map(|day| day.to_string())
        .unwrap_or_default();
    let last_day = periods
        .today
        .pred_opt()
        .unwrap_or(periods.today)
        .to_string();
    view! {
        <Title text=title.clone()/>
        <p class="breadcrumb"><a href=format!("/manage/sites/{site}")>{periods.site_name.clone()}</a></p>
        <h1>{title}</h1>
        <p class="closed-through" data-through=periods.closed_through().map(|d| d.to_string()).unwrap_or_default()>{status}</p>
        <p class="hint">"Closing the books through a day keeps that day and everything before it as it stands: nothing more is posted in it and no receipt taken in it is voided, so its statements and collections do not change. A close is never undone; a mistake found later is corrected by an adjustment in the open period."</p>
        {periods.may_close.then(|| view! {
            <ActionForm action=close attr:class="card close-period-form">
                <input type="hidden" name="site" value=site.clone()/>
                <label>"Close the books through (the site's days)"
                    <input type="date" name="through" required value=suggested.clone() max=last_day.clone()/>
                </label>
                <button type="submit" disabled=move || close.pending().get()>"Close the books"</button>
            </ActionForm>
            {form_error(close.value())}
            {move || close.value().get().and_then(Result::ok).map(|closed| view! {
                <p class="notice" role="status">{if closed { "Closed." } else { "That day was closed already." }}</p>
            })}
        })}
        {if periods.closes.is_empty() {
            view! { <p class="empty">"Nothing closed."</p> }.into_any()
        } else {
            view! {
                <table class="account-table period-table">
                    <thead><tr>
                        <th scope="col">"Closed through"</th>
                        <th scope="col" class="num">"Ledger transactions"</th>
                        <th scope="col">"Closed by"</th>
                        <th scope="col">"On"</th>
                    </tr></thead>
                    <tbody>
                        {periods.closes.iter().map(|close| view! {
                            <tr class="period-line" data-through=close.through.to_string()>
                                <th scope="row">{close.through.to_string()}</th>
                                <td class="num">{close.transactions}</td>
                                <td>{close.closed_by.clone()}</td>
                                <td>{close.closed_at_local.format("%Y-%m-%d %H:%M").to_string()}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
    }
}
