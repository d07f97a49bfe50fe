//! `/manage/sites/:id/supply`: how often a site's residents were warned of low credit, cut off
//! and put back on over some of its local days, a line per day with bars, the accounts cut
//! most often, and those cut now; every day as CSV. Drawn on the server like the other
//! reports.

use super::days::DaysHead;
use crate::api::reports::load_supply_report;
use crate::domain::supply_report::SupplyReport;
use leptos::prelude::*;

#[component]
pub fn SupplyPage() -> impl IntoView {
    super::days::days_report(
        load_supply_report,
        |report, site| view! { <Report report site/> },
    )
}

#[component]
fn Report(report: SupplyReport, site: String) -> impl IntoView {
    let title = format!("Warnings and cut-offs · {}", report.site_name);
    let totals = report.totals.clone();
    view! {
        <DaysHead site site_name=report.site_name.clone() title page="supply" report="supply"
            days=report.days source="from the notice sent at each change of an account's supply"
            download="Download as CSV"/>
        <dl class="counts big supply-totals">
            <div class="stat">
                <dt>"Low-credit warnings"</dt>
                <dd data-total="warnings">{totals.warnings}</dd>
                <dd class="units">{format!("{} accounts", report.accounts_warned)}</dd>
            </div>
            <div class="stat">
                <dt>"Cut-offs"</dt>
                <dd data-total="cut_offs">{totals.cut_offs}</dd>
                <dd class="units">{format!("{} accounts", report.accounts_cut)}</dd>
            </div>
            <div class="stat">
                <dt>"Supply back"</dt>
                <dd data-total="reconnections">{totals.reconnections}</dd>
            </div>
            <div class="stat">
                <dt>"Cut off now"</dt>
                <dd data-total="cut_now">{report.cut_now}</dd>
                <dd class="units">"open accounts"</dd>
            </div>
        </dl>
        {if report.rows.is_empty() {
            view! { <p class="empty">"No warning, cut-off or reconnection over these days."</p> }.into_any()
        } else {
            view! { <DayTable report=report.clone()/> }.into_any()
        }}
        {(!report.often_cut.is_empty()).then(|| view! {
            <section class="often-cut">
                <h2>"Cut off most often"</h2>
                <table class="account-table">
                    <thead><tr><th scope="col">"Account"</th><th scope="col" class="num">"Cut-offs"</th></tr></thead>
                    <tbody>
                        {report.often_cut.iter().map(|often| view! {
                            <tr data-account=often.account.to_string()>
                                <th scope="row"><a href=format!("/accounts/{}", often.account)>{often.place.clone()}</a></th>
                                <td class="num">{often.cut_offs}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
        })}
    }
}

/// A line per day with a bar for each kind, all scaled to the busiest day's largest count.
#[component]
fn DayTable(report: SupplyReport) -> impl IntoView {
    let busiest = report.busiest() as f64;
    let bar = move |count: usize, kind: &'static str, y: &'static str| {
        let share = (count as f64 / busiest * 100.0).max(if count == 0 { 0.0 } else { 1.0 });
        view! { <rect class=format!("bar {kind}") y=y width=format!("{share:.1}") height="9"/> }
    };
    view! {
        <table class="account-table supply-days">
            <thead>
                <tr>
                    <th scope="col">"Day"</th>
                    <th scope="col" class="num">"Warnings"</th>
                    <th scope="col" class="num">"Cut-offs"</th>
                    <th scope="col" class="num">"Supply back"</th>
                    <th scope="col" aria-hidden="true"></th>
                </tr>
            </thead>
            <tbody>
                {report.rows.iter().map(|row| view! {
                    <tr class="supply-day" data-day=row.day.to_string()>
                        <th scope="row">{row.day.to_string()}</th>
                        <td class="num" data-count="warnings">{row.warnings}</td>
                        <td class="num" data-count="cut_offs">{row.cut_offs}</td>
                        <td class="num" data-count="reconnections">{row.reconnections}</td>
                        <td class="bar-cell" aria-hidden="true">
                            <svg viewBox="0 0 100 30" preserveAspectRatio="none" width="120" height="30">
                                {bar(row.warnings, "warnings", "0")}
                                {bar(row.cut_offs, "cut_offs", "10")}
                                {bar(row.reconnections, "reconnections", "20")}
                            </svg>
                        </td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
