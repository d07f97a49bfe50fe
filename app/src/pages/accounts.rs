//! One prepaid account: balance, supply state, days left and statement, for its resident and
//! for staff of its site; the resident's choices (emergency credit, reopening gas at the
//! meter) and the desk's (cash top-up with a receipt, adjustments) where the viewer may.

use crate::api::accounts::{
    AdjustAccount, CashTopUp, ConfirmArmed, TakeEmergencyCredit, account_planner, account_usage,
    load_account, statement_html,
};
use crate::api::fleet::account_faults;
use crate::domain::zone::SiteZone;
use crate::domain::{
    faults::FaultView,
    planner::Planner,
    usage::{Span, UsageChart},
};
use crate::domain::{
    supply::SupplyState,
    views::{
        AccountDetail, AccountView, CommandLine, LineKind, NoticeLine, StatementFilter,
        StatementLine, statement_csv,
    },
};
use crate::error::AppError;
use crate::pages::{
    error_view,
    faults::FaultReporting,
    form_error,
    payments::data_url,
    planner::PlannerSection,
    usage::{Measure, UsageGraph, drawing_html},
};
use crate::pages::{locale::use_locale, words::*};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AccountPage() -> impl IntoView {
    let id = crate::pages::route_id();
    // The report a resident just sent, when the server sent them back here after it.
    let query = leptos_router::hooks::use_query_map().read_untracked();
    let sent = query
        .get("fault")
        .and_then(|number| number.parse::<i64>().ok());
    let token_sent = query.get_str("token_sent").is_some() && query.get_str("__err").is_none();
    // Read on the server only (nothing here is hydrated but the islands, which get their
    // figures as props): the account, then what its sections show.
    let page = Resource::new(
        move || id.clone(),
        |id| async move {
            let detail = load_account(id.clone()).await?;
            let usage = account_usage(id.clone(), Span::Month.as_str().to_owned(), String::new())
                .await
                .ok();
            let planner = account_planner(id.clone()).await.ok().flatten();
            let faults = if detail.may_choose {
                account_faults(id.clone()).await.unwrap_or_default()
            } else {
                Vec::new()
            };
            let tokens = crate::api::tokens::account_tokens(id)
                .await
                .unwrap_or_default();
            Ok::<_, AppError>(Sections {
                detail,
                usage,
                planner,
                faults,
                tokens,
            })
        },
    );
    let l = use_locale();
    view! {
        <Suspense fallback=move || view! { <p>{LOADING.get(l)}</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(sections) => view! { <Account sections sent token_sent/> }.into_any(),
                    Err(error) => error_view(error),
                }
            })}
        </Suspense>
    }
}

/// What the account page shows, gathered on the server.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Sections {
    detail: AccountDetail,
    /// The usage chart's first figures: this month by day.
    usage: Option<UsageChart>,
    planner: Option<Planner>,
    faults: Vec<FaultView>,
    /// A keypad meter's tokens.
    tokens: Vec<crate::domain::tokens::TokenView>,
}

#[component]
fn Account(sections: Sections, sent: Option<i64>, token_sent: bool) -> impl IntoView {
    let Sections {
        detail,
        usage,
        planner,
        faults,
        tokens,
    } = sections;
    let account = detail.account.clone();
    let id = account.id.to_string();
    let staff = detail.may_take_cash || detail.may_adjust;
    let l = use_locale();
    view! {
        <Title text=account.title_in(l)/>
        <p class="breadcrumb"><a href="/">{HOME.get(l)}</a></p>
        <h1>{account.title_in(l)}</h1>
        {if staff {
            view! { <Desk detail=detail.clone()/> }.into_any()
        } else {
            view! { <AccountCard account=account.clone() link=false/> }.into_any()
        }}
        <p class="statement-link">
            <a href=format!("/accounts/{id}/statement")>{MONTHLY_STATEMENT.get(l)}</a>
        </p>
        {detail.may_choose.then(|| view! {
            <p><a class="button" href=format!("/accounts/{id}/top-up")>{TOP_UP.get(l)}</a></p>
            <ResidentChoices account=account.clone()/>
            <FaultReporting
                account=id.clone()
                nonce=detail.form_nonce.clone()
                sent=sent.filter(|sent| faults.iter().any(|fault| fault.id == *sent))
                faults
            />
        })}
        {(!tokens.is_empty()).then(|| view! {
            <crate::pages::tokens::ResidentTokens account=id.clone() tokens sent=token_sent/>
        })}
        {usage.map(|chart| view! {
            <UsageGraph account=id.clone() html=drawing_html(Ok(chart), Measure::Quantity)/>
        })}
        {planner.map(|planner| view! { <PlannerSection planner/> })}
        <Outboxes notices=detail.notices commands=detail.commands zone=detail.zone/>
        {(!staff).then(|| view! {
            <Statement account=id.clone() html=statement_drawing(detail.lines, account.currency, true)/>
        })}
    }
    .into_any()
}

/// The desk's side of an account: its figures, cash and adjustments, the statement, all
/// refreshed in place after each entry so the receipt and the new balance show together.
#[island(lazy)]
fn Desk(detail: AccountDetail) -> impl IntoView {
    crate::pages::island_ready();
    let cash = ServerAction::<CashTopUp>::new();
    let adjust = ServerAction::<AdjustAccount>::new();
    let detail = RwSignal::new(detail);
    Effect::watch(
        move || (cash.version().get(), adjust.version().get()),
        move |_, _, _| {
            let id = detail.with_untracked(|detail| detail.account.id.to_string());
            leptos::task::spawn_local(async move {
                if let Ok(fresh) = load_account(id).await {
                    detail.set(fresh);
                }
            });
        },
        false,
    );
    move || {
        let detail = detail.get();
        let account = detail.account;
        let id = account.id.to_string();
        view! {
            <AccountCard account=account.clone() link=false/>
            {detail.may_take_cash.then(|| view! { <CashForm id=id.clone() nonce=detail.form_nonce.clone() currency=account.currency.clone() cash/> })}
            {detail.may_adjust.then(|| view! { <AdjustForm id=id.clone() nonce=detail.form_nonce.clone() adjust/> })}
            <StatementTable lines=detail.lines currency=account.currency/>
        }
    }
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
                <span class="amount" data-balance=account.balance_minor.to_string()>{l.number(&account.balance)}</span>
                " " <span class="currency">{account.currency.clone()}</span>
            </p>
            <p class=format!("supply supply-{}", state.as_str())>
                <span class="state" data-state=state.as_str()>{state.label_in(l)}</span>
                {account.safety_hold.as_deref().map(|hold| view! { <span class="hold">{HELD_CLOSED.fill(l, &[&crate::pages::fleet::supply_words(hold, l)])}</span> })}
            </p>
            <dl class="facts">
                // A keypad meter's credit is in the meter: the wallet cannot say how long it lasts.
                {account.last_token.is_none().then(|| view! {
                    <div><dt>{DAYS_LEFT.get(l)}</dt><dd>{account.days_left.clone().unwrap_or_else(|| NONE_YET.get(l).into())}</dd></div>
                })}
                <div><dt>{LAST_READING.get(l)}</dt><dd>{account.last_reading_local.map_or_else(|| NONE_YET.get(l).into(), |at| l.date_time(at))}</dd></div>
                {account.allowance.clone().map(|allowance| view! { <div><dt>{ALLOWANCE.get(l)}</dt><dd>{allowance}</dd></div> })}
                {account.emergency_owed.clone().map(|owed| view! { <div><dt>{EMERGENCY_OWED.get(l)}</dt><dd>{owed}</dd></div> })}
                {account.occupant.clone().map(|who| view! { <div><dt>{RESIDENT.get(l)}</dt><dd>{who}</dd></div> })}
                {account.last_token.clone().map(|token| view! { <div class="last-token"><dt>{LAST_TOKEN.get(l)}</dt><dd class="token-digits">{token}</dd></div> })}
            </dl>
            {top_up.then(|| view! {
                <p class="card-actions"><a class="button" href=format!("/accounts/{}/top-up", account.id)>{TOP_UP.get(l)}</a></p>
            })}
        </article>
    }
    .into_any()
}

/// Emergency credit and reopening gas: forms the server answers by sending the page back
/// (a failure comes back in the address and shows under its form), so no WebAssembly.
#[component]
fn ResidentChoices(account: AccountView) -> impl IntoView {
    let id = account.id.to_string();
    let l = use_locale();
    let emergency_action = ServerAction::<TakeEmergencyCredit>::new();
    let armed_action = ServerAction::<ConfirmArmed>::new();
    let emergency = account.emergency_available.clone().map(|amount| {
        let id = id.clone();
        view! {
            <ActionForm action=emergency_action attr:class="inline">
                <input type="hidden" name="account" value=id/>
                <button type="submit">{TAKE_EMERGENCY.fill(l, &[&amount, &account.currency])}</button>
            </ActionForm>
            {form_error(emergency_action.value())}
        }
    });
    let armed = (account.state == SupplyState::Armed).then(|| {
        view! {
            <ActionForm action=armed_action attr:class="inline">
                <input type="hidden" name="account" value=id.clone()/>
                <p>{ARMED_CHECK.get(l)}</p>
                <button type="submit">{ARMED_REOPEN.get(l)}</button>
            </ActionForm>
            {form_error(armed_action.value())}
        }
    });
    view! { <section class="choices">{emergency}{armed}</section> }.into_any()
}

#[component]
fn CashForm(
    id: String,
    nonce: String,
    currency: String,
    cash: ServerAction<CashTopUp>,
) -> impl IntoView {
    let receipt = move || cash.value().get().and_then(Result::ok);
    view! {
        <details class="card money-form" open>
            <summary>"Take cash"</summary>
            <ActionForm action=cash>
                <input type="hidden" name="account" value=id/>
                <input type="hidden" name="nonce" value=nonce/>
                <label>{format!("Amount ({currency})")}
                    <input type="text" name="amount" inputmode="decimal" required autocomplete="off"/>
                </label>
                <button type="submit" disabled=move || cash.pending().get()>"Record cash top-up"</button>
            </ActionForm>
            {form_error(cash.value())}
            {move || receipt().map(|receipt| match receipt.waiting {
                Some(request) => view! {
                    <p class="notice cash-waiting" role="status" data-request=request.to_string()>
                        {format!(
                            "{} is above the site's limit: request {request} waits for another manager or an admin to approve it. Keep the cash aside; it is credited, and joins your drawer, once approved.",
                            receipt.amount,
                        )}
                    </p>
                }.into_any(),
                None => view! {
                    <p class="notice receipt" role="status">
                        {if receipt.repeated { "Already recorded. " } else { "" }}
                        "Receipt " <strong class="receipt-number">{receipt.number}</strong>
                        {format!(": {} received, balance now {}.", receipt.amount, receipt.balance)}
                    </p>
                }.into_any(),
            })}
        </details>
    }
    .into_any()
}

#[component]
fn AdjustForm(id: String, nonce: String, adjust: ServerAction<AdjustAccount>) -> impl IntoView {
    let asked = move || adjust.value().get().and_then(Result::ok);
    view! {
        <details class="card money-form">
            <summary>"Adjust the balance"</summary>
            <ActionForm action=adjust>
                <input type="hidden" name="account" value=id/>
                <input type="hidden" name="nonce" value=nonce/>
                <label>"Amount (negative to take away)"
                    <input type="text" name="amount" required autocomplete="off"/>
                </label>
                <label>"Reason (kept in the audit log)"
                    <input type="text" name="reason" required maxlength="200"/>
                </label>
                <button type="submit" disabled=move || adjust.pending().get()>"Ask for approval"</button>
            </ActionForm>
            <p class="hint">"Posted once a second person approves it: another manager of the site or an admin."</p>
            {form_error(adjust.value())}
            {move || asked().map(|id| view! {
                <p class="notice" role="status" data-request=id.to_string()>
                    {format!("Request {id} waits for a second person's approval.")}
                </p>
            })}
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

/// The account's transactions for its resident, filtered by what they were and by date, the
/// lines shown downloadable as CSV. The server draws the lines a filter lets through
/// (`statement_html`); the island only sends the filter and swaps them in.
#[island(lazy)]
fn Statement(account: String, html: String) -> impl IntoView {
    crate::pages::island_ready();
    let account = StoredValue::new(account);
    let filter = Filter::new();
    let root = NodeRef::<leptos::html::Div>::new();
    let refilter = move |ev: leptos::ev::Event| {
        if !filter.take(&ev) {
            return;
        }
        let Some(Ok(Some(results))) = root
            .get_untracked()
            .map(|root| root.query_selector(".statement-results"))
        else {
            return;
        };
        // Busy until the lines arrive, for assistive technology (and tests) to wait on.
        let _ = results.set_attribute("aria-busy", "true");
        let (what, from, to) = filter.values();
        leptos::task::spawn_local(async move {
            if let Ok(fresh) = statement_html(account.get_value(), what, from, to).await {
                results.set_inner_html(&fresh);
            }
            let _ = results.set_attribute("aria-busy", "false");
        });
    };
    view! { <div node_ref=root on:change=refilter on:input=refilter inner_html=html></div> }
}

/// The statement as the server first draws it, and the lines a filter lets through, as HTML
/// for [`Statement`].
pub fn statement_drawing(lines: Vec<StatementLine>, currency: String, whole: bool) -> String {
    if whole {
        view! { <StatementPanel lines currency/> }.to_html()
    } else {
        view! { <StatementResults lines currency/> }.to_html()
    }
}

/// The three filters' values, set from the events their controls send.
#[derive(Clone, Copy)]
struct Filter {
    what: RwSignal<String>,
    from: RwSignal<String>,
    to: RwSignal<String>,
}

impl Filter {
    fn new() -> Self {
        Self {
            what: RwSignal::new(String::new()),
            from: RwSignal::new(String::new()),
            to: RwSignal::new(String::new()),
        }
    }

    /// Takes the value of the control that sent `ev`; false when it was none of the filters.
    fn take(self, ev: &leptos::ev::Event) -> bool {
        let Some(name) =
            crate::pages::event_element(ev).and_then(|element| element.get_attribute("name"))
        else {
            return false;
        };
        let value = event_target_value(ev);
        match name.as_str() {
            "statement-what" => self.what.set(value),
            "statement-from" => self.from.set(value),
            "statement-to" => self.to.set(value),
            _ => return false,
        }
        true
    }

    fn values(self) -> (String, String, String) {
        (
            self.what.get_untracked(),
            self.from.get_untracked(),
            self.to.get_untracked(),
        )
    }

    fn current(self) -> StatementFilter {
        StatementFilter {
            what: LineKind::parse(&self.what.get()),
            from: self.from.get(),
            to: self.to.get(),
        }
    }
}

/// The desk's statement: the same filters, applied in the browser to the lines it holds.
#[component]
fn StatementTable(lines: Vec<StatementLine>, currency: String) -> impl IntoView {
    let filter = Filter::new();
    let lines = StoredValue::new(lines);
    let shown = Memo::new(move |_| {
        let keeps = filter.current();
        lines.with_value(|lines| {
            lines
                .iter()
                .filter(|line| keeps.keeps(line))
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let refilter = move |ev: leptos::ev::Event| {
        filter.take(&ev);
    };
    view! {
        <div on:change=refilter on:input=refilter>
            <StatementFrame empty=lines.with_value(Vec::is_empty)>
                {move || view! { <StatementResults lines=shown.get() currency=currency.clone()/> }}
            </StatementFrame>
        </div>
    }
}

/// The statement with every line, as the server first draws it for a resident.
#[component]
fn StatementPanel(lines: Vec<StatementLine>, currency: String) -> impl IntoView {
    view! {
        <StatementFrame empty=lines.is_empty()>
            <StatementResults lines currency/>
        </StatementFrame>
    }
}

/// The heading and the filter controls around a statement's lines (`children`).
#[component]
fn StatementFrame(empty: bool, children: Children) -> impl IntoView {
    let l = use_locale();
    if empty {
        return view! { <p class="empty">{NO_TRANSACTIONS.get(l)}</p> }.into_any();
    }
    view! {
        <section class="statement">
            <h2>{TRANSACTIONS.get(l)}</h2>
            <form class="filters" on:submit=|ev| ev.prevent_default()>
                <label>{SHOW.get(l)}
                    <select name="statement-what">
                        {LineKind::ALL.into_iter().map(|kind| view! { <option value=kind.as_str()>{kind.label_in(l)}</option> }).collect_view()}
                    </select>
                </label>
                <label>{FROM.get(l)}
                    <input type="date" name="statement-from"/>
                </label>
                <label>{TO.get(l)}
                    <input type="date" name="statement-to"/>
                </label>
            </form>
            <div class="statement-results">{children()}</div>
        </section>
    }
    .into_any()
}

/// The lines a filter let through: how many, their CSV, the table.
#[component]
fn StatementResults(lines: Vec<StatementLine>, currency: String) -> impl IntoView {
    let l = use_locale();
    let amount_header = AMOUNT_IN.fill(l, &[&currency]);
    let csv = data_url("text/csv", &statement_csv(&lines, &currency));
    view! {
        <p class="statement-count" aria-live="polite">
            {match lines.len() { 1 => ONE_TRANSACTION.get(l).to_owned(), n => N_TRANSACTIONS.fill(l, &[&n.to_string()]) }}
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
                {lines.into_iter().map(|line| view! {
                    <tr class=format!("line line-{}", line.kind)>
                        <td>{line.day.parse().map_or(line.day, |day| l.date(day))}</td>
                        <td>{line.description}</td>
                        <td class="num" class:negative=line.amount_minor < 0>{l.number(&line.amount)}</td>
                        <td>{line.receipt.unwrap_or_default()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
