//! `/manage/sites/:id/accounts`: the site's open accounts, filtered by supply state, utility,
//! building and words, ordered by a column, a hundred to a page, with the whole search as a
//! CSV. Drawn on the server from a plain GET form: no WebAssembly, and every search has an
//! address a manager can bookmark or send a colleague.

use crate::api::account_table::{
    AdjustFoundAccounts, NotifyFoundAccounts, PlanFoundAccounts, ShareFoundAccounts, account_table,
};
use crate::domain::account_table::{AccountPage, AccountQuery, QueryFields, SortKey};
use crate::domain::money::group_thousands;
use crate::domain::{site_notice, supply::SupplyState, views::AccountView};
use crate::pages::{error_view, form_error, percent_encode, route_id};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SiteAccountsPage() -> impl IntoView {
    let site = route_id();
    let fields = fields_from_address();
    let asked = (site.clone(), fields.clone());
    let page = Resource::new(
        move || asked.clone(),
        |(site, f)| {
            account_table(
                site, f.state, f.utility, f.building, f.words, f.sort, f.order, f.page,
            )
        },
    );
    view! {
        <Title text="Accounts"/>
        <p class="breadcrumb"><a href="/manage">"Your sites"</a>" › "<a href=format!("/manage/sites/{site}")>"Site"</a></p>
        <h1>"Accounts"</h1>
        <Suspense fallback=|| view! { <p>"Loading accounts…"</p> }>
            {move || {
                let site = site.clone();
                let fields = fields.clone();
                Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! { <Table page fields site/> }.into_any(),
                        Err(error) => error_view(error),
                    }
                })
            }}
        </Suspense>
    }
}

fn fields_from_address() -> QueryFields {
    let query = leptos_router::hooks::use_query_map().read_untracked();
    let field = |name: &str| query.get(name).unwrap_or_default();
    QueryFields {
        state: field("state"),
        utility: field("utility"),
        building: field("building"),
        words: field("words"),
        sort: field("sort"),
        order: field("order"),
        page: field("page"),
    }
}

/// The address of a search: the page's own or its CSV download's.
fn address(path: &str, fields: &QueryFields) -> String {
    let pairs = [
        ("state", &fields.state),
        ("utility", &fields.utility),
        ("building", &fields.building),
        ("words", &fields.words),
        ("sort", &fields.sort),
        ("order", &fields.order),
        ("page", &fields.page),
    ];
    let query: Vec<String> = pairs
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| format!("{name}={}", percent_encode(value)))
        .collect();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

#[component]
fn Table(page: AccountPage, fields: QueryFields, site: String) -> impl IntoView {
    // The form's fields were parsed by the server: reading them again cannot fail.
    let asked = AccountQuery::parse(&fields).unwrap_or_default();
    let path = format!("/manage/sites/{site}/accounts");
    let on_page = |number: usize| {
        let mut fields = asked.fields();
        fields.page = number.to_string();
        address(&path, &fields)
    };
    let previous = (page.page > 1).then(|| on_page(page.page - 1));
    let next = (page.page < page.pages).then(|| on_page(page.page + 1));
    let download = {
        let mut fields = asked.fields();
        fields.page.clear();
        address(&format!("/manage/sites/{site}/accounts.csv"), &fields)
    };
    let first = (page.page - 1) * crate::domain::account_table::PAGE_SIZE;
    let rows = page.rows.clone();
    let batch = Batch {
        site: site.clone(),
        state: asked
            .state
            .map(SupplyState::as_str)
            .unwrap_or("")
            .to_owned(),
        utility: asked.utility.as_str().to_owned(),
        building: asked.building.clone().unwrap_or_default(),
        words: asked.words.clone(),
        matching: page.matching,
        nonce: page.form_nonce.clone(),
    };
    let summary = if page.matching == 0 {
        format!("No account of the site's {} matches.", page.total)
    } else {
        format!(
            "Accounts {} to {} of the {} that match (the site has {} open).",
            first + 1,
            first + page.rows.len(),
            page.matching,
            page.total
        )
    };
    view! {
        <Search page=page.clone() asked=asked.clone() action=path.clone()/>
        <p class="totals" aria-live="polite" data-matching=page.matching.to_string()>{summary}</p>
        <p><a class="button secondary download" href=download download="">"Download these accounts (CSV)"</a></p>
        {(!rows.is_empty()).then(|| view! {
            <table class="account-table site-account-table">
                <thead><tr>
                    <SortHeading key=SortKey::Unit asked=asked.clone() path=path.clone()/>
                    <th scope="col">"Utility"</th>
                    <SortHeading key=SortKey::Balance asked=asked.clone() path=path.clone()/>
                    <th scope="col">"Supply"</th>
                    <SortHeading key=SortKey::DaysLeft asked=asked.clone() path=path.clone()/>
                    <SortHeading key=SortKey::LastReading asked=asked.clone() path=path.clone()/>
                    <th scope="col">"Resident"</th>
                </tr></thead>
                <tbody>
                    {rows.into_iter().map(|account| view! { <Row account/> }).collect_view()}
                </tbody>
            </table>
        })}
        {(page.may_notify && page.matching > 0).then(|| view! { <BatchNotice batch=batch.clone()/> })}
        {(page.may_adjust && page.matching > 0).then(|| view! { <BatchAdjust batch=batch.clone()/> })}
        {(page.may_adjust && page.matching > 0).then(|| view! { <BatchShare batch=batch.clone()/> })}
        {(!page.plans.is_empty() && page.matching > 0).then(|| view! { <BatchPlan batch=batch.clone() plans=page.plans.clone()/> })}
        <nav class="pager" aria-label="Pages">
            {previous.map(|href| view! { <a class="button secondary" rel="prev" href=href>"Previous"</a> })}
            <span class="page-of">{format!("Page {} of {}", page.page, page.pages)}</span>
            {next.map(|href| view! { <a class="button secondary" rel="next" href=href>"Next"</a> })}
        </nav>
    }
}

/// The search form; a new search starts at the first page, in the order already chosen.
#[component]
fn Search(page: AccountPage, asked: AccountQuery, action: String) -> impl IntoView {
    let state = asked.state.map(SupplyState::as_str).unwrap_or("");
    let utility = asked.utility.as_str();
    let building = asked.building.clone().unwrap_or_default();
    let states = [
        ("", "Any"),
        ("on", "On"),
        ("low", "Low credit"),
        ("cut", "Cut off"),
        ("restricted", "Restricted"),
        ("armed", "Armed (gas)"),
        ("emergency", "On emergency credit"),
        ("protected", "Protected"),
    ];
    view! {
        <form method="get" action=action class="card audit-search account-search">
            <label>"Supply"
                <select name="state">
                    {states.into_iter().map(|(value, label)| view! {
                        <option value=value selected=state == value>{label}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>"Utility"
                <select name="utility">
                    <option value="" selected=utility.is_empty()>"Any"</option>
                    {page.utilities.iter().map(|u| view! {
                        <option value=u.as_str() selected=utility == u.as_str()>{u.label()}</option>
                    }).collect_view()}
                    {page.unit_wallets.then(|| view! {
                        <option value="unit" selected=utility == "unit">"Whole unit"</option>
                    })}
                </select>
            </label>
            <label>"Building"
                <select name="building">
                    <option value="" selected=building.is_empty()>"Any"</option>
                    {page.buildings.iter().map(|name| view! {
                        <option value=name.clone() selected=building == *name>{name.clone()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>"Unit, resident or account number"
                <input type="search" name="words" maxlength="100" value=asked.words.clone()/>
            </label>
            <input type="hidden" name="sort" value=asked.sort.as_str()/>
            <input type="hidden" name="order" value=if asked.descending { "desc" } else { "asc" }/>
            <button type="submit">"Search"</button>
        </form>
    }
}

/// A column heading whose link orders the table by it; the chosen column's link turns the
/// order round.
#[component]
fn SortHeading(key: SortKey, asked: AccountQuery, path: String) -> impl IntoView {
    let chosen = asked.sort == key;
    let mut fields = asked.fields();
    fields.sort = key.as_str().to_owned();
    fields.order = if chosen && !asked.descending {
        "desc"
    } else {
        "asc"
    }
    .to_owned();
    fields.page.clear();
    let sorted = chosen.then_some(if asked.descending {
        "descending"
    } else {
        "ascending"
    });
    let numeric = matches!(key, SortKey::Balance | SortKey::DaysLeft);
    view! {
        <th scope="col" class:num=numeric aria-sort=sorted>
            <a class="sort" href=address(&path, &fields) data-sort=key.as_str()>
                {key.label()}{sorted.map(|way| if way == "ascending" { " ▲" } else { " ▼" })}
            </a>
        </th>
    }
}

#[component]
fn Row(account: AccountView) -> impl IntoView {
    let kind = account.state.as_str();
    view! {
        <tr class="account-row" data-state=kind data-account=account.id.to_string()>
            <th scope="row"><a href=format!("/accounts/{}", account.id)>{format!("{} · {}", account.building, account.unit)}</a></th>
            <td>{account.utility.map_or("Whole unit", |u| u.label())}</td>
            <td class="num" class:negative=account.balance_minor < 0 data-balance=account.balance_minor.to_string()>
                {format!("{} {}", group_thousands(&account.balance), account.currency)}
            </td>
            <td class=format!("supply-{kind}")>{account.state.label()}</td>
            <td class="num days-left">{account.days_left.unwrap_or_else(|| "—".into())}</td>
            <td class="when">{account.last_reading_local.map(|at| at.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| "never".into())}</td>
            <td>{account.occupant.unwrap_or_default()}</td>
        </tr>
    }
}

/// The search a batch action acts on, as its form sends it back: the count the manager saw
/// travels with it, so a search that finds other accounts by then does nothing.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Batch {
    site: String,
    state: String,
    utility: String,
    building: String,
    words: String,
    matching: usize,
    nonce: String,
}

#[component]
fn BatchFields(batch: Batch) -> impl IntoView {
    view! {
        <input type="hidden" name="site" value=batch.site/>
        <input type="hidden" name="state" value=batch.state/>
        <input type="hidden" name="utility" value=batch.utility/>
        <input type="hidden" name="building" value=batch.building/>
        <input type="hidden" name="words" value=batch.words/>
        <input type="hidden" name="nonce" value=batch.nonce/>
        <input type="hidden" name="expected" value=batch.matching.to_string()/>
    }
}

/// One adjustment asked for on every account the search finds (every page), for a second
/// person to approve.
#[island(lazy)]
fn BatchAdjust(batch: Batch) -> impl IntoView {
    crate::pages::island_ready();
    let matching = batch.matching;
    let ask = ServerAction::<AdjustFoundAccounts>::new();
    let asked = move || ask.value().get().and_then(Result::ok);
    let form = NodeRef::new();
    crate::pages::reset_after_success(ask.value(), form);
    let waiting = format!("/manage/sites/{}/adjustments", batch.site);
    view! {
        <details class="card money-form batch-adjust">
            <summary>{format!("Adjust the {matching} account{} found", if matching == 1 { "" } else { "s" })}</summary>
            <p class="hint">"The same amount and reason on each account this search finds, on every page. Nothing is posted until a second person approves it: another manager of the site or an admin."</p>
            <ActionForm action=ask node_ref=form>
                <BatchFields batch/>
                <label>"Amount per account (negative to take away)"
                    <input type="text" name="amount" required autocomplete="off"/>
                </label>
                <label>"Reason (kept in the audit log)"
                    <input type="text" name="reason" required maxlength="200"/>
                </label>
                <button type="submit" disabled=move || ask.pending().get()>"Ask for approval"</button>
            </ActionForm>
            {form_error(ask.value())}
            {move || asked().map(|id| view! {
                <p class="notice" role="status" data-request=id.to_string()>
                    {format!("Request {id} waits for a second person's approval. ")}
                    <a href=waiting.clone()>"Adjustments waiting"</a>
                </p>
            })}
        </details>
    }
}

/// A common charge (the stairwell's lights, a bulk meter's losses) shared out across every
/// account the search finds, equally or by each one's use, asked for as one request for a
/// second person to approve; the shares are shown as soon as it is asked.
#[island(lazy)]
fn BatchShare(batch: Batch) -> impl IntoView {
    use crate::domain::Utility;
    crate::pages::island_ready();
    let matching = batch.matching;
    let searched: Option<Utility> = batch.utility.parse().ok();
    let share = ServerAction::<ShareFoundAccounts>::new();
    let asked = move || share.value().get().and_then(Result::ok);
    let form = NodeRef::new();
    crate::pages::reset_after_success(share.value(), form);
    let waiting = format!("/manage/sites/{}/adjustments", batch.site);
    view! {
        <details class="card money-form batch-share">
            <summary>{format!("Share a charge among the {matching} account{} found", if matching == 1 { "" } else { "s" })}</summary>
            <p class="hint">"One bill the residents share, such as the common lights or a bulk meter's losses, shared out to the last cent: equally, or in proportion to what each account used of one utility over the days chosen (an account that used nothing pays nothing, and what a bulk meter measured counts for nobody: it is its sub-meters' use). Nothing is charged until a second person approves every share."</p>
            <ActionForm action=share node_ref=form>
                <BatchFields batch/>
                <label>"The charge to share"
                    <input type="text" name="amount" required autocomplete="off" inputmode="decimal"/>
                </label>
                <fieldset>
                    <legend>"Shared"</legend>
                    <label class="inline"><input type="radio" name="rule" value="equally" checked/>" equally"</label>
                    <label class="inline"><input type="radio" name="rule" value="by_use"/>" by use of"</label>
                    <select name="measure" aria-label="Utility whose use weighs">
                        {Utility::ALL.into_iter().map(|utility| view! {
                            <option value=utility.as_str() selected=searched == Some(utility)>{utility.label()}</option>
                        }).collect_view()}
                    </select>
                </fieldset>
                <label>"Use from (empty: the first of this month)" <input type="date" name="from"/></label>
                <label>"Use to (empty: today)" <input type="date" name="to"/></label>
                <label>"Reason (kept in the audit log, shown on each statement)"
                    <input type="text" name="reason" required maxlength="200"/>
                </label>
                <button type="submit" disabled=move || share.pending().get()>"Share it and ask for approval"</button>
            </ActionForm>
            {form_error(share.value())}
            {move || asked().map(|charge| {
                let left_out = (charge.left_out > 0).then(|| format!(
                    " {} account{} used nothing and {} left out.",
                    charge.left_out,
                    if charge.left_out == 1 { "" } else { "s" },
                    if charge.left_out == 1 { "is" } else { "are" },
                ));
                view! {
                    <p class="notice" role="status" data-request=charge.request.to_string()>
                        {format!("Request {} shares {} {} across {} accounts and waits for a second person's approval.", charge.request, charge.total, charge.rule.label(), charge.shares.len())}
                        {left_out}" "
                        <a href=waiting.clone()>"Adjustments waiting"</a>
                    </p>
                    <table class="shares">
                        <thead><tr><th scope="col">"Account"</th><th scope="col">"Used"</th><th scope="col" class="num">"Share"</th></tr></thead>
                        <tbody>{charge.shares.into_iter().map(|line| view! {
                            <tr><td>{line.label}</td><td>{line.weight}</td><td class="num">{group_thousands(&line.amount)}</td></tr>
                        }).collect_view()}</tbody>
                    </table>
                }
            })}
        </details>
    }
}

/// The units of every account the search finds (every page) put on one of the site's tariff
/// plans at once: a plan's prices were approved by a second person when they were published.
#[island(lazy)]
fn BatchPlan(batch: Batch, plans: Vec<crate::domain::tariff::Plan>) -> impl IntoView {
    crate::pages::island_ready();
    let matching = batch.matching;
    let put = ServerAction::<PlanFoundAccounts>::new();
    let done = move || put.value().get().and_then(Result::ok);
    let tariffs = format!("/manage/sites/{}/tariffs", batch.site);
    view! {
        <details class="card batch-plan">
            <summary>{format!("Put the units of the {matching} account{} found on a tariff plan", if matching == 1 { "" } else { "s" })}</summary>
            <p class="hint">"Each unit's meters are priced by the plan from their next reading; what was charged stands. A plan prices only the utilities it has versions for: for the others its units pay the standard tariff. "
                <a href=tariffs>"The site's plans"</a></p>
            <ActionForm action=put>
                <BatchFields batch/>
                <label>"Plan"
                    <select name="plan">
                        {plans.into_iter().map(|plan| view! {
                            <option value=plan.as_str().to_owned()>{plan.label().to_owned()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <button type="submit" disabled=move || put.pending().get()>"Put them on this plan"</button>
            </ActionForm>
            {form_error(put.value())}
            {move || done().map(|moved| view! {
                <p class="notice" role="status" data-moved=moved.moved.to_string()>
                    {format!(
                        "{} unit{} put on the {} plan; {} already on it.",
                        moved.moved,
                        if moved.moved == 1 { "" } else { "s" },
                        moved.plan.label(),
                        moved.unchanged,
                    )}
                </p>
            })}
        </details>
    }
}

/// A notice to the homes of every account the search finds (every page), sent at once: in-app,
/// by push, and by SMS or e-mail where residents chose them, after their quiet hours.
#[island(lazy)]
fn BatchNotice(batch: Batch) -> impl IntoView {
    crate::pages::island_ready();
    let matching = batch.matching;
    let send = ServerAction::<NotifyFoundAccounts>::new();
    let sent = move || send.value().get().and_then(Result::ok);
    let form = NodeRef::new();
    crate::pages::reset_after_success(send.value(), form);
    view! {
        <details class="card batch-notice">
            <summary>{format!("Send a notice to the residents of the {matching} account{} found", if matching == 1 { "" } else { "s" })}</summary>
            <p class="hint">"Each home hears it once, however many of its accounts the search finds. Residents cannot mute a site notice; it waits for their quiet hours."</p>
            <ActionForm action=send node_ref=form>
                <BatchFields batch/>
                <label>"Heading"
                    <input type="text" name="heading" required maxlength=site_notice::HEADING_MAX.to_string() autocomplete="off"/>
                </label>
                <label>"Notice"
                    <textarea name="text" required rows="4" maxlength=site_notice::TEXT_MAX.to_string()></textarea>
                </label>
                <button type="submit" disabled=move || send.pending().get()>"Send the notice"</button>
            </ActionForm>
            {form_error(send.value())}
            {move || sent().map(|homes| view! {
                <p class="notice" role="status" data-homes=homes.to_string()>
                    {format!("Sent to {homes} home{}.", if homes == 1 { "" } else { "s" })}
                </p>
            })}
        </details>
    }
}
