//! One prepaid account: balance, supply state, days left and statement, for its resident and
//! for staff of its site; the resident's choices (emergency credit, reopening gas at the
//! meter) and the desk's (cash top-up with a receipt, adjustments) where the viewer may.

use crate::api::accounts::{
    AdjustAccount, CashTopUp, ConfirmArmed, TakeEmergencyCredit, load_account,
};
use crate::domain::zone::SiteZone;
use crate::domain::{
    supply::SupplyState,
    views::{
        AccountDetail, AccountView, CommandLine, LineKind, NoticeLine, StatementFilter,
        StatementLine, statement_csv,
    },
};
use crate::pages::{
    error_view,
    faults::{FaultData, FaultReporting},
    form_error,
    payments::data_url,
    planner::{PlannerData, PlannerSection, planner_data},
    usage::{UsageData, UsageGraph},
};
use crate::pages::{locale::use_locale, words::*};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn AccountPage() -> impl IntoView {
    let params = use_params_map();
    let cash = ServerAction::<CashTopUp>::new();
    let adjust = ServerAction::<AdjustAccount>::new();
    let emergency = ServerAction::<TakeEmergencyCredit>::new();
    let armed = ServerAction::<ConfirmArmed>::new();
    // Every completed action reloads the account.
    let changes = move || {
        (
            cash.version().get(),
            adjust.version().get(),
            emergency.version().get(),
            armed.version().get(),
        )
    };
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let account = Resource::new(move || (id.get(), changes()), |(id, _)| load_account(id));
    // Every resource the page shows is made here, before the first `Suspense` (see `UsageData`).
    let sections = Sections {
        usage: UsageData::new(id),
        planner: planner_data(id),
        faults: FaultData::new(id),
    };
    let actions = Actions {
        cash,
        adjust,
        emergency,
        armed,
    };
    let l = use_locale();
    view! {
        <Suspense fallback=move || view! { <p>{LOADING.get(l)}</p> }>
            {move || Suspend::new(async move {
                match account.await {
                    Ok(detail) => view! { <Account detail actions sections/> }.into_any(),
                    Err(error) => error_view(error),
                }
            })}
        </Suspense>
    }
}

#[derive(Clone, Copy)]
struct Actions {
    cash: ServerAction<CashTopUp>,
    adjust: ServerAction<AdjustAccount>,
    emergency: ServerAction<TakeEmergencyCredit>,
    armed: ServerAction<ConfirmArmed>,
}

/// What the page's sections show, each with its own resource.
#[derive(Clone, Copy)]
struct Sections {
    usage: UsageData,
    planner: PlannerData,
    faults: FaultData,
}

#[component]
fn Account(detail: AccountDetail, actions: Actions, sections: Sections) -> impl IntoView {
    let account = detail.account.clone();
    let id = account.id.to_string();
    let l = use_locale();
    view! {
        <Title text=account.title_in(l)/>
        <p class="breadcrumb"><a href="/">{HOME.get(l)}</a></p>
        <h1>{account.title_in(l)}</h1>
        <AccountCard account=account.clone() link=false/>
        {detail.may_choose.then(|| view! {
            <p><a class="button" href=format!("/accounts/{id}/top-up")>{TOP_UP.get(l)}</a></p>
            <ResidentChoices account=account.clone() actions/>
            <FaultReporting account=id.clone() nonce=detail.form_nonce.clone() data=sections.faults/>
        })}
        {detail.may_take_cash.then(|| view! { <CashForm id=id.clone() nonce=detail.form_nonce.clone() currency=account.currency.clone() actions/> })}
        {detail.may_adjust.then(|| view! { <AdjustForm id=id.clone() nonce=detail.form_nonce.clone() actions/> })}
        <UsageGraph data=sections.usage/>
        <PlannerSection planner=sections.planner/>
        <Outboxes notices=detail.notices commands=detail.commands zone=detail.zone/>
        <Statement lines=detail.lines currency=account.currency/>
    }
    .into_any()
}

/// The headline figures of an account; a link to its page when shown in a list, and the
/// resident's one-tap way to top up when `top_up`.
#[component]
pub fn AccountCard(
    account: AccountView,
    link: bool,
    #[prop(optional)] top_up: bool,
) -> impl IntoView {
    let state = account.state;
    let negative = account.balance_minor < 0;
    let l = use_locale();
    let title = account.title_in(l);
    let href = format!("/accounts/{}", account.id);
    view! {
        <article class=format!("card account state-{}", state.as_str()) data-account=account.id.to_string()>
            {if link {
                view! { <h2><a href=href>{title}</a></h2> }.into_any()
            } else {
                view! { <p class="number">{ACCOUNT_NUMBER.fill(l, &[&account.number])}</p> }.into_any()
            }}
            <p class="balance" class:negative=negative>
                <span class="amount" data-balance=account.balance_minor.to_string()>{account.balance.clone()}</span>
                " " <span class="currency">{account.currency.clone()}</span>
            </p>
            <p class=format!("supply supply-{}", state.as_str())>
                <span class="state" data-state=state.as_str()>{state.label_in(l)}</span>
                {account.safety_hold.clone().map(|hold| view! { <span class="hold">{HELD_CLOSED.fill(l, &[&hold])}</span> })}
            </p>
            <dl class="facts">
                <div><dt>{DAYS_LEFT.get(l)}</dt><dd>{account.days_left.clone().unwrap_or_else(|| NONE_YET.get(l).into())}</dd></div>
                <div><dt>{LAST_READING.get(l)}</dt><dd>{account.last_reading_local.map_or_else(|| NONE_YET.get(l).into(), |at| l.date_time(at))}</dd></div>
                {account.allowance.clone().map(|allowance| view! { <div><dt>{ALLOWANCE.get(l)}</dt><dd>{allowance}</dd></div> })}
                {account.emergency_owed.clone().map(|owed| view! { <div><dt>{EMERGENCY_OWED.get(l)}</dt><dd>{owed}</dd></div> })}
                {account.occupant.clone().map(|who| view! { <div><dt>{RESIDENT.get(l)}</dt><dd>{who}</dd></div> })}
            </dl>
            {top_up.then(|| view! {
                <p class="card-actions"><a class="button" href=format!("/accounts/{}/top-up", account.id)>{TOP_UP.get(l)}</a></p>
            })}
        </article>
    }
    .into_any()
}

#[component]
fn ResidentChoices(account: AccountView, actions: Actions) -> impl IntoView {
    let id = account.id.to_string();
    let l = use_locale();
    let emergency = account.emergency_available.clone().map(|amount| {
        let id = id.clone();
        view! {
            <ActionForm action=actions.emergency attr:class="inline">
                <input type="hidden" name="account" value=id/>
                <button type="submit" disabled=move || actions.emergency.pending().get()>
                    {TAKE_EMERGENCY.fill(l, &[&amount, &account.currency])}
                </button>
            </ActionForm>
            {form_error(actions.emergency.value())}
        }
    });
    let armed = (account.state == SupplyState::Armed).then(|| {
        view! {
            <ActionForm action=actions.armed attr:class="inline">
                <input type="hidden" name="account" value=id.clone()/>
                <p>{ARMED_CHECK.get(l)}</p>
                <button type="submit">{ARMED_REOPEN.get(l)}</button>
            </ActionForm>
            {form_error(actions.armed.value())}
        }
    });
    view! { <section class="choices">{emergency}{armed}</section> }.into_any()
}

#[component]
fn CashForm(id: String, nonce: String, currency: String, actions: Actions) -> impl IntoView {
    let receipt = move || actions.cash.value().get().and_then(Result::ok);
    view! {
        <details class="card money-form" open>
            <summary>"Take cash"</summary>
            <ActionForm action=actions.cash>
                <input type="hidden" name="account" value=id/>
                <input type="hidden" name="nonce" value=nonce/>
                <label>{format!("Amount ({currency})")}
                    <input type="text" name="amount" inputmode="decimal" required autocomplete="off"/>
                </label>
                <button type="submit" disabled=move || actions.cash.pending().get()>"Record cash top-up"</button>
            </ActionForm>
            {form_error(actions.cash.value())}
            {move || receipt().map(|receipt| view! {
                <p class="notice receipt" role="status">
                    {if receipt.repeated { "Already recorded. " } else { "" }}
                    "Receipt " <strong class="receipt-number">{receipt.number}</strong>
                    {format!(": {} received, balance now {}.", receipt.amount, receipt.balance)}
                </p>
            })}
        </details>
    }
    .into_any()
}

#[component]
fn AdjustForm(id: String, nonce: String, actions: Actions) -> impl IntoView {
    let done = move || actions.adjust.value().get().is_some_and(|r| r.is_ok());
    view! {
        <details class="card money-form">
            <summary>"Adjust the balance"</summary>
            <ActionForm action=actions.adjust>
                <input type="hidden" name="account" value=id/>
                <input type="hidden" name="nonce" value=nonce/>
                <label>"Amount (negative to take away)"
                    <input type="text" name="amount" required autocomplete="off"/>
                </label>
                <label>"Reason (kept in the audit log)"
                    <input type="text" name="reason" required maxlength="200"/>
                </label>
                <button type="submit" disabled=move || actions.adjust.pending().get()>"Adjust"</button>
            </ActionForm>
            {form_error(actions.adjust.value())}
            {move || done().then(|| view! { <p class="notice" role="status">"Adjusted."</p> })}
        </details>
    }
    .into_any()
}

/// What the balance caused: notices queued for people, commands queued for meters, with
/// their delivery status (delivery itself is the meter fleet's and notifications' work).
#[component]
fn Outboxes(notices: Vec<NoticeLine>, commands: Vec<CommandLine>, zone: SiteZone) -> impl IntoView {
    if notices.is_empty() && commands.is_empty() {
        return ().into_any();
    }
    let l = use_locale();
    let when = move |at| l.date_time(zone.local(at));
    view! {
        <section class="outboxes">
            <h2>{OUTBOXES.get(l)}</h2>
            <ul class="notices">
                {notices.into_iter().map(|notice| view! {
                    <li class=format!("notice-{}", notice.kind)>
                        <span class="when">{when(notice.at)}</span> " "
                        {notice.label_in(l)} " "
                        <span class="status">{format!("({})", notice.status)}</span>
                    </li>
                }).collect_view()}
            </ul>
            <ul class="commands">
                {commands.into_iter().map(|command| view! {
                    <li class=format!("command-{}", command.command)>
                        <span class="when">{when(command.at)}</span> " "
                        {format!("{} #{}: {} ({}), {}", command.meter, command.seq, command.command, command.reason, command.status)}
                    </li>
                }).collect_view()}
            </ul>
        </section>
    }
    .into_any()
}

/// The account's transactions, filtered in the browser by what they were and by date, with
/// the lines shown downloadable as CSV.
#[component]
fn Statement(lines: Vec<StatementLine>, currency: String) -> impl IntoView {
    if lines.is_empty() {
        return view! { <p class="empty">{NO_TRANSACTIONS.get(use_locale())}</p> }.into_any();
    }
    let l = use_locale();
    let lines = StoredValue::new(lines);
    let what = RwSignal::new(String::new());
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let shown = Memo::new(move |_| {
        let filter = StatementFilter {
            what: LineKind::parse(&what.get()),
            from: from.get(),
            to: to.get(),
        };
        lines.with_value(|lines| {
            lines
                .iter()
                .filter(|line| filter.keeps(line))
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let amount_header = AMOUNT_IN.fill(l, &[&currency]);
    let csv = move || data_url("text/csv", &statement_csv(&shown.get(), &currency));
    view! {
        <section class="statement">
            <h2>{TRANSACTIONS.get(l)}</h2>
            <form class="filters" on:submit=|ev| ev.prevent_default()>
                <label>{SHOW.get(l)}
                    <select name="statement-what" on:change=move |ev| what.set(event_target_value(&ev))>
                        {LineKind::ALL.into_iter().map(|kind| view! { <option value=kind.as_str()>{kind.label_in(l)}</option> }).collect_view()}
                    </select>
                </label>
                <label>{FROM.get(l)}
                    <input type="date" name="statement-from" on:input=move |ev| from.set(event_target_value(&ev))/>
                </label>
                <label>{TO.get(l)}
                    <input type="date" name="statement-to" on:input=move |ev| to.set(event_target_value(&ev))/>
                </label>
            </form>
            <p class="statement-count" aria-live="polite">
                {move || match shown.with(Vec::len) { 1 => ONE_TRANSACTION.get(l).to_owned(), n => N_TRANSACTIONS.fill(l, &[&n.to_string()]) }}
                " " <a href=csv download="transactions.csv">{DOWNLOAD_CSV.get(l)}</a>
            </p>
            <table>
                <thead>
                    <tr>
                        <th scope="col">{DATE.get(l)}</th>
                        <th scope="col">{WHAT.get(l)}</th>
                        <th scope="col" class="num">{amount_header}</th>
                        <th scope="col">{RECEIPT.get(l)}</th>
                    </tr>
                </thead>
                <tbody>
                    {move || shown.get().into_iter().map(|line| view! {
                        <tr class=format!("line line-{}", line.kind)>
                            <td>{line.day.parse().map_or(line.day, |day| l.date(day))}</td>
                            <td>{line.description}</td>
                            <td class="num" class:negative=line.amount_minor < 0>{line.amount}</td>
                            <td>{line.receipt.unwrap_or_default()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
    .into_any()
}
