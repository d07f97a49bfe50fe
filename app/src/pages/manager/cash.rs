//! `/manage/sites/:id/cash`: the cash desk. The caller's open shift (every cash receipt they
//! issued since their last close, and what the drawer should hold) with the form that closes
//! it, the closed shifts, over or short, for the site's managers to check, and cash above the
//! site's limit waiting for a second person (with the limit, set by the organisation's admins).

use crate::api::cash_desk::{CloseShift, DecideCash, SetCashLimit, VoidReceipt, load_cash_desk};
use crate::domain::Minor;
use crate::domain::adjustments::RequestState;
use crate::domain::cash_desk::{CashDesk, CashRequest, ClosedShift, Count, NOTE_MAX};
use crate::pages::{error_view, form_error, locale::use_locale};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn CashDeskPage() -> impl IntoView {
    let id = crate::pages::route_id();
    view! { <CashDeskIsland id/> }
}

#[island(lazy)]
fn CashDeskIsland(id: String) -> impl IntoView {
    crate::pages::island_ready();
    let site = StoredValue::new(id);
    let desk = Resource::new(move || site.get_value(), load_cash_desk);
    // Outside what the desk redraws, so the close's answer stays on the page.
    let close = ServerAction::<CloseShift>::new();
    let void = ServerAction::<VoidReceipt>::new();
    let decide = ServerAction::<DecideCash>::new();
    let limit = ServerAction::<SetCashLimit>::new();
    Effect::watch(
        move || {
            (
                close.version().get(),
                void.version().get(),
                decide.version().get(),
                limit.version().get(),
            )
        },
        move |_, _, _| desk.refetch(),
        false,
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match desk.await {
                    Ok(desk) => view! {
                        <Desk desk=desk.clone() site=site.get_value() close void/>
                        <CashWaiting desk=desk.clone() site=site.get_value() decide/>
                        <CashLimit desk site=site.get_value() limit/>
                    }.into_any(),
                    Err(error) => error_view(error),
                }
            })}
        </Suspense>
        {form_error(void.value())}
    }
}

#[component]
fn Desk(
    desk: CashDesk,
    site: String,
    close: ServerAction<CloseShift>,
    void: ServerAction<VoidReceipt>,
) -> impl IntoView {
    let locale = use_locale();
    let zone = desk.zone.clone();
    let when = move |at| locale.date_time(zone.local(at));
    let money = {
        let desk = desk.clone();
        move |minor: Minor| desk.money(minor)
    };
    let notice_money = money.clone();
    let expected = desk.open.expected();
    let title = format!("Cash desk · {}", desk.site_name);
    let since = desk.open.since.map(&when).map_or_else(
        || "your first cash".to_owned(),
        |at| format!("your last close, {at}"),
    );
    let closed_now = move || close.value().get().and_then(Result::ok);
    let after = desk.open.after.map(|id| id.to_string()).unwrap_or_default();
    let receipts = desk.open.receipts.clone();
    let closed = desk.closed.clone();
    view! {
        <Title text=title.clone()/>
        <p class="breadcrumb"><a href=format!("/manage/sites/{site}")>{desk.site_name.clone()}</a></p>
        <h1>{title}</h1>
        {move || closed_now().map(|shift| view! { <ClosedNotice shift money=notice_money.clone()/> })}
        <section class="card open-shift">
            <h2>"Your shift"</h2>
            <p class="where">{match desk.open.voided() {
                0 => format!("Since {since}: {} cash receipts.", receipts.len()),
                voided => format!("Since {since}: {} cash receipts, {voided} of them void.", receipts.len()),
            }}</p>
            {(!receipts.is_empty()).then(|| view! {
                <table class="account-table shift-receipts">
                    <thead><tr>
                        <th scope="col">"Receipt"</th><th scope="col">"Unit"</th>
                        <th scope="col">"Issued"</th><th scope="col" class="num">"Amount"</th>
                        <th scope="col">"Void"</th>
                    </tr></thead>
                    <tbody>
                        {receipts.iter().map(|receipt| view! {
                            <tr class="shift-receipt" class:void=receipt.void.is_some() data-receipt=receipt.number.to_string()>
                                <th scope="row"><a href=format!("/accounts/{}", receipt.account.0)>{format!("No. {}", receipt.number)}</a></th>
                                <td>{receipt.unit.clone()}</td>
                                <td>{when(receipt.issued_at)}</td>
                                <td class="num">{money(receipt.amount)}</td>
                                <td>{match receipt.void.clone() {
                                    Some(reason) => view! { <span class="void-reason">{format!("Void: {reason}")}</span> }.into_any(),
                                    None => view! { <VoidForm site=site.clone() number=receipt.number void/> }.into_any(),
                                }}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            })}
            <p class="expected">"The drawer should hold " <strong data-expected=expected.0.to_string()>{money(expected)}</strong>"."</p>
            <ActionForm action=close attr:class="close-shift">
                <input type="hidden" name="site" value=site.clone()/>
                <input type="hidden" name="after" value=after/>
                <label>"Cash counted" <input type="text" name="counted" inputmode="decimal" required/></label>
                <label>"Note (optional)" <input type="text" name="note" maxlength=NOTE_MAX.to_string()/></label>
                <button type="submit" disabled=move || close.pending().get()>"Close my shift"</button>
            </ActionForm>
            {form_error(close.value())}
        </section>
        <ClosedShifts shifts=closed everyone=desk.everyone desk/>
    }
}

/// Voids one receipt of the open shift: the wrong account or amount, the cash handed back.
#[component]
fn VoidForm(site: String, number: i64, void: ServerAction<VoidReceipt>) -> impl IntoView {
    view! {
        <details class="void-receipt">
            <summary>"Void…"</summary>
            <ActionForm action=void>
                <input type="hidden" name="site" value=site/>
                <input type="hidden" name="receipt" value=number.to_string()/>
                <label>"Why (the cash is handed back; the account loses the credit)"
                    <input type="text" name="reason" required maxlength=NOTE_MAX.to_string()/>
                </label>
                <button type="submit" class="danger" disabled=move || void.pending().get()>"Void the receipt"</button>
            </ActionForm>
        </details>
    }
}

#[component]
fn ClosedNotice(shift: ClosedShift, money: impl Fn(Minor) -> String + 'static) -> impl IntoView {
    let count = shift.count();
    let off = money(Minor(shift.difference().0.abs()));
    let outcome = match count {
        Count::Balanced => "balanced".to_owned(),
        Count::Over => format!("over by {off}"),
        Count::Short => format!("short by {off}"),
    };
    view! {
        <p class=format!("notice shift-closed count-{}", count.as_str()) role="status">
            {format!(
                "Shift closed: {} receipts, {} expected, {} counted, {outcome}.",
                shift.receipts,
                money(shift.expected),
                money(shift.counted),
            )}
        </p>
    }
}

#[component]
fn ClosedShifts(shifts: Vec<ClosedShift>, everyone: bool, desk: CashDesk) -> impl IntoView {
    if shifts.is_empty() {
        return view! { <p class="empty">"No shift closed yet."</p> }.into_any();
    }
    let locale = use_locale();
    let zone = desk.zone.clone();
    let when = move |at| locale.date_time(zone.local(at));
    let heading = if everyone {
        "Closed shifts, every cashier's"
    } else {
        "Your closed shifts"
    };
    view! {
        <section>
            <h2>{heading}</h2>
            <table class="account-table closed-shifts">
                <thead><tr>
                    <th scope="col">"Closed"</th><th scope="col">"By"</th>
                    <th scope="col" class="num">"Receipts"</th><th scope="col" class="num">"Expected"</th>
                    <th scope="col" class="num">"Counted"</th><th scope="col" class="num">"Over or short"</th>
                    <th scope="col">"Note"</th>
                </tr></thead>
                <tbody>
                    {shifts.into_iter().map(|shift| {
                        let count = shift.count();
                        view! {
                            <tr class=format!("closed-shift count-{}", count.as_str()) data-count=count.as_str()>
                                <th scope="row">{when(shift.closed_at)}</th>
                                <td>{shift.cashier.clone()}</td>
                                <td class="num">{match shift.voided {
                                    0 => shift.receipts.to_string(),
                                    voided => format!("{} ({voided} void)", shift.receipts),
                                }}</td>
                                <td class="num">{desk.money(shift.expected)}</td>
                                <td class="num">{desk.money(shift.counted)}</td>
                                <td class="num difference">{desk.money(shift.difference())}</td>
                                <td>{shift.note.clone()}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
    .into_any()
}

/// Cash above the site's limit: waiting for a second person, then the latest decided. The one
/// who took it may withdraw theirs; the site's managers and admins approve or refuse others'.
#[component]
fn CashWaiting(desk: CashDesk, site: String, decide: ServerAction<DecideCash>) -> impl IntoView {
    if desk.requests.is_empty() {
        return None;
    }
    let locale = use_locale();
    let zone = desk.zone.clone();
    let when = move |at| locale.date_time(zone.local(at));
    let may_decide = desk.everyone;
    let rows = desk
        .requests
        .iter()
        .map(|asked| {
            let actions = (asked.state == RequestState::Pending)
                .then(|| cash_decisions(asked, &site, may_decide, decide));
            let state = match &asked.decided_by {
                Some(by) if asked.state != RequestState::Pending => {
                    format!("{} by {by}", asked.state.label())
                }
                _ => asked.state.label().to_owned(),
            };
            view! {
                <tr class="cash-request" data-request=asked.id.to_string() data-state=asked.state.as_str()>
                    <th scope="row">{when(asked.asked_at)}</th>
                    <td><a href=format!("/accounts/{}", asked.account.0)>{asked.unit.clone()}</a></td>
                    <td class="num">{desk.money(asked.amount)}</td>
                    <td>{asked.asked_by.clone()}</td>
                    <td class="state">{state}</td>
                    <td class="actions">{actions}</td>
                </tr>
            }
        })
        .collect_view();
    Some(view! {
        <section class="cash-requests">
            <h2>"Large cash waiting"</h2>
            <p class="hint">"Cash above the site's limit is credited only once a second person approves: another manager of the site or an admin. Approved, it is the taker's receipt and joins their drawer; refused, the cash is handed back."</p>
            <table class="account-table">
                <thead><tr>
                    <th scope="col">"Asked"</th><th scope="col">"Unit"</th><th scope="col" class="num">"Amount"</th>
                    <th scope="col">"Taken by"</th><th scope="col">"State"</th><th scope="col"></th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
            {form_error(decide.value())}
        </section>
    })
}

/// The buttons a waiting request offers the one looking.
fn cash_decisions(
    asked: &CashRequest,
    site: &str,
    may_decide: bool,
    decide: ServerAction<DecideCash>,
) -> AnyView {
    let button = {
        let (site, id) = (site.to_owned(), asked.id.to_string());
        move |decision: &'static str, label: &'static str, class: &'static str| {
            view! {
                <ActionForm action=decide attr:class="inline">
                    <input type="hidden" name="site" value=site.clone()/>
                    <input type="hidden" name="request" value=id.clone()/>
                    <input type="hidden" name="decision" value=decision/>
                    <button type="submit" class=class disabled=move || decide.pending().get()>{label}</button>
                </ActionForm>
            }
        }
    };
    if asked.mine {
        view! { <small>"Another manager or an admin approves it."</small>{button("refuse", "Withdraw", "secondary withdraw-cash")} }.into_any()
    } else if may_decide {
        view! { {button.clone()("approve", "Approve and credit", "approve-cash")}{button("refuse", "Refuse", "danger refuse-cash")} }.into_any()
    } else {
        ().into_any()
    }
}

/// The limit above which cash waits for approval: shown to everyone at the desk, changed by
/// the organisation's admins.
#[component]
fn CashLimit(desk: CashDesk, site: String, limit: ServerAction<SetCashLimit>) -> impl IntoView {
    let now = if desk.limit > Minor::ZERO {
        format!(
            "Cash above {} waits for a second person's approval.",
            desk.money(desk.limit)
        )
    } else {
        "No limit: all cash is credited at once.".to_owned()
    };
    let form = desk.may_set_limit.then(|| {
        let current = if desk.limit > Minor::ZERO {
            desk.limit.format(desk.digits)
        } else {
            String::new()
        };
        view! {
            <ActionForm action=limit attr:class="inline set-cash-limit">
                <input type="hidden" name="site" value=site/>
                <label>{format!("Approval above ({}; empty for none)", desk.currency)}
                    <input type="text" name="limit" inputmode="decimal" value=current/>
                </label>
                <button type="submit" class="secondary" disabled=move || limit.pending().get()>"Set the limit"</button>
            </ActionForm>
            {form_error(limit.value())}
        }
    });
    view! {
        <section class="cash-limit">
            <h2>"Limit for large cash"</h2>
            <p class="limit" data-limit=desk.limit.0.to_string()>{now}</p>
            {form}
        </section>
    }
}
