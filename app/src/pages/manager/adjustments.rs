//! `/manage/sites/:id/adjustments`: adjustments asked for on the site's accounts, waiting for
//! a second person, and those lately decided. Another manager or an admin approves (each
//! account's adjustment is posted then) or refuses; the one who asked may only withdraw.

use crate::api::adjustments::{DecideAdjustment, load_adjustment_book};
use crate::domain::adjustments::{RequestBook, RequestState, RequestView};
use crate::pages::{error_view, form_error};
use leptos::prelude::*;
use leptos_meta::Title;

/// Accounts listed on a request before the rest fold away.
const ACCOUNTS_SHOWN: usize = 12;

#[component]
pub fn AdjustmentsPage() -> impl IntoView {
    let id = crate::pages::route_id();
    view! { <AdjustmentsIsland id/> }
}

/// The requests and their buttons: one island, as a decision reads the book again.
#[island(lazy)]
fn AdjustmentsIsland(id: String) -> impl IntoView {
    crate::pages::island_ready();
    let site = StoredValue::new(id);
    let decide = ServerAction::<DecideAdjustment>::new();
    let book = Resource::new(
        move || (site.get_value(), decide.version().get()),
        |(site, _)| load_adjustment_book(site),
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading adjustments…"</p> }>
            {move || Suspend::new(async move {
                match book.await {
                    Ok(book) => view! { <Book book site=site.get_value() decide/> }.into_any(),
                    Err(error) => error_view(error),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Book(book: RequestBook, site: String, decide: ServerAction<DecideAdjustment>) -> impl IntoView {
    let title = format!("Adjustments · {}", book.site_name);
    let waiting = book.waiting.len();
    view! {
        <Title text=title.clone()/>
        <p class="breadcrumb"><a href=format!("/manage/sites/{site}")>{book.site_name.clone()}</a>" › "
            <a href=format!("/manage/sites/{site}/accounts")>"Accounts"</a></p>
        <h1>{title}</h1>
        <p>{format!(
            "An adjustment is asked for on an account's page or on every account a search of the accounts table finds, and posted only once a second person approves it: another manager of the site or an admin, never the one who asked. Times on the site's clock ({}).",
            book.zone
        )}</p>
        {form_error(decide.value())}
        <section class="card adjustments-waiting" data-waiting=waiting.to_string()>
            <h2>{format!("Waiting ({waiting})")}</h2>
            {if book.waiting.is_empty() {
                view! { <p class="empty">"Nothing is waiting."</p> }.into_any()
            } else {
                book.waiting
                    .into_iter()
                    .map(|request| view! { <Request request site=site.clone() decide/> })
                    .collect_view()
                    .into_any()
            }}
        </section>
        {(!book.decided.is_empty()).then(|| view! {
            <section class="card adjustments-decided">
                <h2>"Lately decided"</h2>
                {book.decided
                    .into_iter()
                    .map(|request| view! { <Request request site=site.clone() decide/> })
                    .collect_view()}
            </section>
        })}
    }
}

#[component]
fn Request(
    request: RequestView,
    site: String,
    decide: ServerAction<DecideAdjustment>,
) -> impl IntoView {
    let waiting = request.state == RequestState::Pending;
    let count = request.accounts.len();
    let posted = request.accounts.iter().filter(|a| a.posted).count();
    let status = match (&request.decided_by, &request.decided_at) {
        (Some(by), Some(at)) => format!(
            "{} by {by}, {}",
            request.state.label(),
            at.format("%Y-%m-%d %H:%M")
        ),
        _ => request.state.label().to_owned(),
    };
    let left_out = (request.state == RequestState::Posted && posted < count)
        .then(|| format!("{} closed meanwhile, left out.", count - posted));
    let button = move |decision: &'static str, label: &'static str, class: &'static str| {
        view! {
            <ActionForm action=decide attr:class="decide-form">
                <input type="hidden" name="site" value=site.clone()/>
                <input type="hidden" name="request" value=request.id.to_string()/>
                <input type="hidden" name="decision" value=decision/>
                <button type="submit" class=class disabled=move || decide.pending().get()>{label}</button>
            </ActionForm>
        }
    };
    let actions = match (waiting, request.mine) {
        (false, _) => None,
        (true, true) => Some(
            view! {
                <small>"Another manager or an admin approves it."</small>
                {button("refuse", "Withdraw", "withdraw-request")}
            }
            .into_any(),
        ),
        (true, false) => Some(
            view! {
                {button.clone()("approve", "Approve and post", "approve-request")}
                {button("refuse", "Refuse", "danger refuse-request")}
            }
            .into_any(),
        ),
    };
    let (first, rest): (Vec<_>, Vec<_>) = request
        .accounts
        .into_iter()
        .enumerate()
        .partition(|(index, _)| *index < ACCOUNTS_SHOWN);
    let line = |account: crate::domain::adjustments::RequestedAccount| {
        view! {
            <li class:posted=account.posted><a href=format!("/accounts/{}", account.id)>{account.label}</a>
                {account.share.map(|share| view! { " " <span class="share">{share}</span> })}</li>
        }
    };
    view! {
        <article class=format!("adjustment-request state-{}", request.state.as_str()) data-request=request.id.to_string()>
            <p class="amount"><strong class:negative=request.amount_minor < 0>{request.amount.clone()}</strong>
                {match request.share_rule {
                    Some(rule) => format!(" in all, shared {} across {count} account{}", rule.label(), if count == 1 { "" } else { "s" }),
                    None => format!(" on {count} account{}", if count == 1 { "" } else { "s" }),
                }}</p>
            <p class="reason">{request.reason}</p>
            <p class="hint">{format!("Asked by {}, {} · {status}", request.requested_by, request.requested_at.format("%Y-%m-%d %H:%M"))}</p>
            {left_out.map(|text| view! { <p class="hint">{text}</p> })}
            <ul class="requested-accounts">{first.into_iter().map(|(_, a)| line(a)).collect_view()}</ul>
            {(!rest.is_empty()).then(|| view! {
                <details><summary>{format!("and {} more", rest.len())}</summary>
                    <ul class="requested-accounts">{rest.into_iter().map(|(_, a)| line(a)).collect_view()}</ul>
                </details>
            })}
            <div class="actions">{actions}</div>
        </article>
    }
}
