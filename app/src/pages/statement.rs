//! `/accounts/:id/statement?month=YYYY-MM`: a tenant's monthly statement, for its resident
//! and the site's staff, laid out to print on paper (the header, the month's controls and the
//! language menu stay on screen only): opening and closing balances, the month's movements by
//! kind, each meter's use and every transaction with the balance after it; also as CSV.

use crate::api::accounts::load_month_statement;
use crate::domain::{
    money::group_thousands,
    month_statement::MonthStatement,
    views::{LineKind, utilities_label},
};
use crate::pages::{error_view, locale::use_locale, payments::data_url, route_id, words::*};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn MonthStatementPage() -> impl IntoView {
    let id = route_id();
    let month = leptos_router::hooks::use_query_map()
        .read_untracked()
        .get("month")
        .unwrap_or_default();
    let statement = Resource::new(
        move || (id.clone(), month.clone()),
        |(id, month)| load_month_statement(id, month),
    );
    let l = use_locale();
    view! {
        <Suspense fallback=move || view! { <p>{LOADING.get(l)}</p> }>
            {move || Suspend::new(async move {
                match statement.await {
                    Ok(statement) => view! { <Statement statement/> }.into_any(),
                    Err(error) => error_view(error),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Statement(statement: MonthStatement) -> impl IntoView {
    let l = use_locale();
    let account = statement.account.clone();
    let title = STATEMENT_FOR.fill(l, &[&statement.month.title_in(l)]);
    view! {
        <Title text=title/>
        <p class="breadcrumb screen-only"><a href=format!("/accounts/{}", account.id)>{account.title_in(l)}</a></p>
        <StatementSheet statement alone=true/>
    }
}

/// One statement as printed: on its own page (`alone`: a level-one heading and the month's
/// controls), or one of a batch, each starting a sheet of paper.
#[component]
pub fn StatementSheet(statement: MonthStatement, alone: bool) -> impl IntoView {
    let l = use_locale();
    let account = statement.account.clone();
    let title = STATEMENT_FOR.fill(l, &[&statement.month.title_in(l)]);
    let (month, site_name, issued) = (
        statement.month.anchor(),
        statement.site_name.clone(),
        l.date_time(statement.issued),
    );
    let so_far = statement
        .to_date
        .then(|| view! { <p class="so-far">{STATEMENT_SO_FAR.fill(l, &[&issued])}</p> });
    let heading = if alone {
        view! { <h1>{title}</h1> }.into_any()
    } else {
        view! { <h2>{title}</h2> }.into_any()
    };
    let controls = alone.then(|| {
        let csv = data_url("text/csv", &statement.csv());
        view! { <MonthControls statement=statement.clone() csv/> }
    });
    view! {
        <article class="month-statement" data-month=month data-account=account.id.to_string()>
            <header class="statement-head">
                <p class="site-name">{site_name}</p>
                {heading}
                {so_far}
                <dl class="facts">
                    <div><dt>{RESIDENT.get(l)}</dt><dd>{account.occupant.clone().unwrap_or_else(|| NONE_YET.get(l).to_owned())}</dd></div>
                    <div><dt>{UNIT.get(l)}</dt><dd>{format!("{} · {}", account.unit, account.building)}</dd></div>
                    <div><dt>{PAYS_FOR.get(l)}</dt><dd>{utilities_label(account.utility, l)}</dd></div>
                    <div><dt>{ACCOUNT.get(l)}</dt><dd class="number">{account.number.clone()}</dd></div>
                    <div><dt>{DRAWN_ON.get(l)}</dt><dd>{issued.clone()}</dd></div>
                </dl>
            </header>
            {controls}
            <Summary statement=statement.clone()/>
            <MeterUses statement=statement.clone()/>
            <Lines statement/>
        </article>
    }
}

/// Other months, printing and the download: on screen only.
#[component]
fn MonthControls(statement: MonthStatement, csv: String) -> impl IntoView {
    let l = use_locale();
    let id = statement.account.id.to_string();
    let link = move |month: String| format!("/accounts/{id}/statement?month={month}");
    let previous = link(statement.month.previous().anchor());
    let next = (!statement.to_date).then(|| link(statement.month.next().anchor()));
    view! {
        <nav class="month-controls screen-only">
            <a class="previous-month" href=previous>{PREVIOUS_MONTH.get(l)}</a>
            <form method="get" class="inline">
                <label>{MONTH.get(l)} " "
                    <input type="month" name="month" value=statement.month.anchor()/>
                </label>
                " " <button type="submit">{SHOW.get(l)}</button>
            </form>
            {next.map(|next| view! { <a class="next-month" href=next>{NEXT_MONTH.get(l)}</a> })}
            <button type="button" class="print" data-print="">{PRINT.get(l)}</button>
            <a class="csv-download" href=csv download=statement.file_name()>{DOWNLOAD_CSV.get(l)}</a>
        </nav>
    }
}

/// From the opening balance to the closing one, by kind of movement.
#[component]
fn Summary(statement: MonthStatement) -> impl IntoView {
    let l = use_locale();
    let totals = statement.totals();
    let currency = statement.account.currency.clone();
    let row = |label: String, minor: i64, total: &'static str| {
        view! {
            <tr data-total=total>
                <th scope="row">{label}</th>
                <td class="num" class:negative=minor < 0>{group_thousands(&statement.money(minor))}</td>
            </tr>
        }
    };
    view! {
        <table class="statement-summary">
            <thead><tr><th scope="col"></th><th scope="col" class="num">{AMOUNT_IN.fill(l, &[&currency])}</th></tr></thead>
            <tbody>
                {row(OPENING_BALANCE.fill(l, &[&l.date(statement.month.first_day())]), statement.opening_minor, "opening")}
                {row(USAGE_CHARGES.get(l).to_owned(), totals.usage, "usage")}
                {row(LineKind::MoneyIn.label_in(l).to_owned(), totals.money_in, "money_in")}
                {row(LineKind::OtherCharges.label_in(l).to_owned(), totals.other, "other")}
            </tbody>
            <tfoot>{row(CLOSING_BALANCE.get(l).to_owned(), statement.closing_minor, "closing")}</tfoot>
        </table>
    }
}

/// What each meter used, from the usage roll-ups.
#[component]
fn MeterUses(statement: MonthStatement) -> impl IntoView {
    let l = use_locale();
    if statement.meters.is_empty() {
        return view! { <p class="empty no-use">{NO_USE_THIS_MONTH.get(l)}</p> }.into_any();
    }
    let cost = COST_IN.fill(l, &[&statement.account.currency]);
    view! {
        <section class="meter-uses">
            <h2>{USE_BY_METER.get(l)}</h2>
            <table>
                <thead>
                    <tr>
                        <th scope="col">{METER.get(l)}</th>
                        <th scope="col" class="num">{USED.get(l)}</th>
                        <th scope="col" class="num">{cost}</th>
                    </tr>
                </thead>
                <tbody>
                    {statement.meters.iter().map(|meter| view! {
                        <tr data-meter=meter.serial.clone()>
                            <th scope="row">{format!("{} · {}", meter.utility.label_in(l), meter.serial)}</th>
                            <td class="num">{format!("{} {}", meter.quantity(), meter.unit_of_measure)}</td>
                            <td class="num">{group_thousands(&statement.money(meter.cost_minor))}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <p class="hint">{METER_COSTS_WHY.get(l)}</p>
        </section>
    }
    .into_any()
}

/// Every movement with the balance after it.
#[component]
fn Lines(statement: MonthStatement) -> impl IntoView {
    let l = use_locale();
    if statement.lines.is_empty() {
        return view! { <p class="empty no-movement">{NO_MOVEMENT.get(l)}</p> }.into_any();
    }
    let currency = statement.account.currency.clone();
    let running = statement.running();
    view! {
        <section class="statement-lines">
            <h2>{TRANSACTIONS.get(l)}</h2>
            <table>
                <thead>
                    <tr>
                        <th scope="col">{DATE.get(l)}</th>
                        <th scope="col">{WHAT.get(l)}</th>
                        <th scope="col" class="num">{AMOUNT_IN.fill(l, &[&currency])}</th>
                        <th scope="col" class="num">{BALANCE_IN.fill(l, &[&currency])}</th>
                        <th scope="col">{RECEIPT.get(l)}</th>
                    </tr>
                </thead>
                <tbody>
                    {statement.lines.iter().zip(running).map(|(line, balance)| view! {
                        <tr class=format!("line line-{}", line.kind)>
                            <td>{line.day.parse().map_or_else(|_| line.day.clone(), |day| l.date(day))}</td>
                            <td>{line.description.clone()}</td>
                            <td class="num" class:negative=line.amount_minor < 0>{group_thousands(&line.amount)}</td>
                            <td class="num" class:negative=balance < 0>{group_thousands(&statement.money(balance))}</td>
                            <td>{line.receipt.clone().unwrap_or_default()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
    .into_any()
}
