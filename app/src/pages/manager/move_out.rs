//! `/manage/sites/:id/residents`: everyone living at a site, and moving a batch of them out
//! (one person, a corridor, or a whole campus at the end of term). The settlement is
//! previewed first; what is confirmed is exactly the previewed list.

use crate::api::occupancy::{MoveOutResidents, PreviewMoveOuts, site_occupants};
use crate::domain::money::group_thousands;
use crate::domain::occupancy::{MoveOutBatch, Occupant, Occupants};
use crate::pages::{error_view, form_error};
use leptos::prelude::*;
use leptos_meta::Title;
use std::collections::BTreeSet;

#[component]
pub fn MoveOutPage() -> impl IntoView {
    let id = crate::pages::route_id();
    view! { <MoveOutIsland id/> }
}

/// The residents with their check boxes, the preview and the confirmation: one island, as the
/// three share the selection.
#[island(lazy)]
fn MoveOutIsland(id: String) -> impl IntoView {
    crate::pages::island_ready();
    let site = StoredValue::new(id);
    let preview = ServerAction::<PreviewMoveOuts>::new();
    let commit = ServerAction::<MoveOutResidents>::new();
    let occupants = Resource::new(
        move || (site.get_value(), commit.version().get()),
        |(site, _)| site_occupants(site),
    );
    let selected = RwSignal::new(BTreeSet::<i64>::new());
    // Kept here, so the list read again after a move-out is filtered as before.
    let filter = RwSignal::new(String::new());
    // A preview stands for the selection it was made of; a move-out done empties both.
    Effect::watch(
        move || selected.track(),
        move |_, _, _| preview.value().set(None),
        false,
    );
    Effect::watch(
        move || commit.version().get(),
        move |_, _, _| selected.set(BTreeSet::new()),
        false,
    );
    let chosen =
        move || selected.with(|ids| ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
    view! {
        <Suspense fallback=|| view! { <p>"Loading residents…"</p> }>
            {move || Suspend::new(async move {
                match occupants.await {
                    Ok(list) => view! { <Residents list site=site.get_value() selected filter/> }.into_any(),
                    Err(error) => error_view(error),
                }
            })}
        </Suspense>
        <section class="move-out-batch" aria-live="polite">
            <ActionForm action=preview attr:class="preview-form">
                <input type="hidden" name="site" prop:value=move || site.get_value()/>
                <input type="hidden" name="occupancies" prop:value=chosen/>
                <button type="submit" class="preview-move-out" disabled=move || selected.with(BTreeSet::is_empty) || preview.pending().get()>
                    {move || format!("Preview the move-out of {}", people(selected.with(BTreeSet::len)))}
                </button>
            </ActionForm>
            {form_error(preview.value())}
            {move || preview.value().get().and_then(Result::ok).map(|batch| {
                let ready: Vec<String> = batch.lines.iter().filter(|l| l.problem.is_none()).map(|l| l.id.to_string()).collect();
                let count = ready.len();
                view! {
                    <BatchTable batch/>
                    {(count > 0).then(|| view! {
                        <ActionForm action=commit attr:class="commit-form">
                            <input type="hidden" name="site" value=site.get_value()/>
                            <input type="hidden" name="occupancies" value=ready.join(",")/>
                            <p>"Their accounts close now. Refunds become payouts to make; debts are recovered from their future top-ups at this site. Each is sent a final statement."</p>
                            <button type="submit" class="danger confirm-move-out" disabled=move || commit.pending().get()>
                                {format!("Move out {} now", people(count))}
                            </button>
                        </ActionForm>
                    })}
                }
            })}
            {form_error(commit.value())}
            {move || commit.value().get().and_then(Result::ok).map(|batch| view! {
                <p class="notice moved-out" role="status">
                    {format!("Moved out {}.", people(batch.settled()))}
                    " " <a href=format!("/manage/sites/{}/payments", site.get_value())>"Refunds to pay out are on the payments page."</a>
                </p>
                <BatchTable batch/>
            })}
        </section>
    }
}

fn people(count: usize) -> String {
    match count {
        1 => "1 resident".to_owned(),
        n => format!("{n} residents"),
    }
}

/// The residents, filtered by building, unit, name or e-mail; "select all" takes those shown.
#[component]
fn Residents(
    list: Occupants,
    site: String,
    selected: RwSignal<BTreeSet<i64>>,
    filter: RwSignal<String>,
) -> impl IntoView {
    let all = StoredValue::new(list.occupants.clone());
    let shown_ids = move || {
        let query = filter.get();
        all.with_value(|all| {
            all.iter()
                .filter(|o| o.matches(&query))
                .map(|o| o.id)
                .collect::<Vec<_>>()
        })
    };
    let all_shown_selected = move || {
        let shown = shown_ids();
        !shown.is_empty() && selected.with(|s| shown.iter().all(|id| s.contains(id)))
    };
    let total = list.occupants.len();
    let title = format!("Residents · {}", list.site_name);
    view! {
        <Title text=title.clone()/>
        <p class="breadcrumb"><a href=format!("/manage/sites/{site}")>{list.site_name.clone()}</a></p>
        <h1>{title}</h1>
        <p>"Choose who moves out. The settlement is shown before anything changes: what each has left is refunded, emergency credit taken is repaid from it, and what is still owed becomes their debt. The readings received so far are charged; read the meters from the fleet page first for a later one."</p>
        <div class="filter">
            <label>"Filter residents"
                <input
                    type="search"
                    name="resident-filter"
                    placeholder="Building, unit, name or e-mail"
                    prop:value=move || filter.get()
                    on:input=move |event| filter.set(event_target_value(&event))
                />
            </label>
            <p class="shown">
                {move || format!("Showing {} of {} · {} chosen", shown_ids().len(), total, selected.with(BTreeSet::len))}
            </p>
        </div>
        <table class="account-table resident-table">
            <thead>
                <tr>
                    <th scope="col">
                        <input
                            type="checkbox"
                            class="select-shown"
                            aria-label="Choose everyone shown"
                            prop:checked=all_shown_selected
                            on:change=move |event| {
                                let on = event_target_checked(&event);
                                let shown = shown_ids();
                                selected.update(|s| for id in shown {
                                    if on { s.insert(id); } else { s.remove(&id); }
                                });
                            }
                        />
                    </th>
                    <th scope="col">"Unit"</th>
                    <th scope="col">"Resident"</th>
                    <th scope="col">"Since"</th>
                    <th scope="col" class="num">{format!("Balance ({})", list.currency)}</th>
                </tr>
            </thead>
            <tbody>
                {list.occupants.into_iter().map(|occupant| view! { <ResidentRow occupant filter selected/> }).collect_view()}
            </tbody>
        </table>
        {(total == 0).then(|| view! { <p class="empty">"Nobody lives at this site now."</p> })}
    }
    .into_any()
}

#[component]
fn ResidentRow(
    occupant: Occupant,
    filter: RwSignal<String>,
    selected: RwSignal<BTreeSet<i64>>,
) -> impl IntoView {
    let id = occupant.id;
    let row = StoredValue::new(occupant.clone());
    let hidden = move || !row.with_value(|row| row.matches(&filter.get()));
    view! {
        <tr class="resident-row" class:hidden=hidden data-occupancy=id.to_string()>
            <td>
                <input
                    type="checkbox"
                    name="choose"
                    aria-label=format!("Choose {}", occupant.name)
                    prop:checked=move || selected.with(|s| s.contains(&id))
                    on:change=move |event| {
                        let on = event_target_checked(&event);
                        selected.update(|s| if on { s.insert(id); } else { s.remove(&id); });
                    }
                />
            </td>
            <th scope="row">{format!("{} · {}", occupant.building, occupant.unit)}</th>
            <td>{occupant.name}<br/><small>{occupant.email}</small></td>
            <td>{occupant.since}</td>
            <td class="num" class:negative=occupant.balance_minor < 0>{group_thousands(&occupant.balance)}</td>
        </tr>
    }
}

/// A batch, previewed or done: a line per resident and the totals.
#[component]
fn BatchTable(batch: MoveOutBatch) -> impl IntoView {
    let heading = if batch.done {
        "Settled"
    } else {
        "Settlement if they move out now"
    };
    view! {
        <table class="account-table batch-table" data-done=batch.done.to_string()>
            <caption>{heading}</caption>
            <thead>
                <tr>
                    <th scope="col">"Resident"</th>
                    <th scope="col" class="num">"Accounts closed"</th>
                    <th scope="col" class="num">{format!("Refund ({})", batch.currency)}</th>
                    <th scope="col" class="num">{format!("Debt ({})", batch.currency)}</th>
                    <th scope="col">"Note"</th>
                </tr>
            </thead>
            <tbody>
                {batch.lines.iter().map(|line| view! {
                    <tr class="batch-line" class:refused=line.problem.is_some() data-occupancy=line.id.to_string()>
                        <th scope="row">{if line.who.is_empty() { format!("#{}", line.id) } else { line.who.clone() }}</th>
                        <td class="num">{line.accounts}</td>
                        <td class="num refund">{group_thousands(&line.refund)}</td>
                        <td class="num debt">{group_thousands(&line.debt)}</td>
                        <td class="problem">{line.problem.clone().unwrap_or_default()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
            <tfoot>
                <tr>
                    <th scope="row">{format!("Total, {}", people(batch.settled()))}</th>
                    <td></td>
                    <td class="num refund-total">{group_thousands(&batch.refund_total)}</td>
                    <td class="num debt-total">{group_thousands(&batch.debt_total)}</td>
                    <td></td>
                </tr>
            </tfoot>
        </table>
    }
}
