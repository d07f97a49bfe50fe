//! `/manage/sites/:id/collections`: the money a site received over some days, by day and by
//! how it came, with bars for each day and every line as CSV; and what its residents owe now.
//! A plain GET form, drawn on the server like the consumption report.

use super::days::DaysHead;
use crate::api::reports::load_collections;
use crate::domain::Minor;
use crate::domain::collections::{CollectionsReport, Owing, source_label};
use leptos::prelude::*;

#[component]
pub fn CollectionsPage() -> impl IntoView {
    super::days::days_report(
        load_collections,
        |report, site| view! { <Report report site/> },
    )
}

#[component]
fn Report(report: CollectionsReport, site: String) -> impl IntoView {
    let title = format!("Collections · {}", report.site_name);
    let (digits, currency) = (report.digits, report.currency.clone());
    let money = move |minor: Minor| format!("{} {currency}", minor.grouped(digits));
    let owed = report.owed.clone();
    view! {
        <DaysHead site site_name=report.site_name.clone() title page="collections" report="collections"
            days=report.days source="from the receipts of every top-up" download="Download as CSV"/>
        <dl class="counts big collection-totals">
            <div class="stat">
                <dt>"Received"</dt>
                <dd data-total="all">{money.clone()(report.total)}</dd>
                <dd class="units">{format!("{} receipts", report.receipts)}</dd>
            </div>
            {report.sources.iter().zip(&report.totals).map(|(source, total)| view! {
                <div class="stat">
                    <dt>{source_label(source)}</dt>
                    <dd data-total=source.clone()>{money.clone()(*total)}</dd>
                </div>
            }).collect_view()}
        </dl>
        {if report.rows.is_empty() {
            view! { <p class="empty">"No money was received over these days."</p> }.into_any()
        } else {
            view! { <DayTable report=report.clone()/> }.into_any()
        }}
        <section class="owed">
            <h2>"Owed now"</h2>
            <dl class="counts">
                <OwedStat label="Accounts below zero" kind="below_zero" owing=owed.below_zero money=money.clone()/>
                <OwedStat label="Debts" kind="debts" owing=owed.debts money=money.clone()/>
                <OwedStat label="Emergency credit in use" kind="emergency" owing=owed.emergency money=money.clone()/>
            </dl>
        </section>
    }
    .into_any()
}

#[component]
fn OwedStat(
    label: &'static str,
    kind: &'static str,
    owing: Owing,
    money: impl Fn(Minor) -> String + 'static,
) -> impl IntoView {
    view! {
        <div class="stat">
            <dt>{label}</dt>
            <dd data-owed=kind>{money(owing.amount)}</dd>
            <dd class="units">{format!("{} account{}", owing.accounts, if owing.accounts == 1 { "" } else { "s" })}</dd>
        </div>
    }
}

/// A line per day: each source's amount and the day's whole, with a bar scaled to the best
/// day so a glance finds the busy ones.
#[component]
fn DayTable(report: CollectionsReport) -> impl IntoView {
    let money = move |minor: Minor| minor.grouped(report.digits);
    let best = report
        .rows
        .iter()
        .map(|row| row.total.0)
        .max()
        .unwrap_or(1)
        .max(1);
    view! {
        <table class="account-table collections">
            <thead>
                <tr>
                    <th scope="col">"Day"</th>
                    {report.sources.iter().map(|source| view! { <th scope="col" class="num">{source_label(source)}</th> }).collect_view()}
                    <th scope="col" class="num">{format!("Whole ({})", report.currency)}</th>
                    <th scope="col" aria-hidden="true"></th>
                </tr>
            </thead>
            <tbody>
                {report.rows.iter().map(|row| {
                    let share = (row.total.0.max(0) as f64 / best as f64 * 100.0).max(1.0);
                    view! {
                        <tr class="collection-day" data-day=row.day.to_string()>
                            <th scope="row">{row.day.to_string()}</th>
                            {row.amounts.iter().map(|amount| view! { <td class="num">{money(*amount)}</td> }).collect_view()}
                            <td class="num" data-total=row.total.0.to_string()>{money(row.total)}</td>
                            <td class="bar-cell" aria-hidden="true">
                                <svg viewBox="0 0 100 10" preserveAspectRatio="none" width="120" height="10"><rect class="bar" width=format!("{share:.1}") height="10"/></svg>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
