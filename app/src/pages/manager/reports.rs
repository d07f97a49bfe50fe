//! `/manage/sites/:id/reports`: what a site's units used and what it cost over some days,
//! by site, building and top consumers, with every line as CSV. Chosen with a plain GET form
//! and drawn on the server: no WebAssembly, and as fast with ten thousand units as with ten.

use super::days::DaysHead;
use crate::api::reports::load_consumption;
use crate::domain::reports::{ConsumptionLine, ConsumptionReport, Total, quantity_shown};
use crate::domain::{Minor, Utility};
use leptos::prelude::*;

/// How many units each utility's chart of top consumers shows.
const TOP: usize = 10;

#[component]
pub fn ReportsPage() -> impl IntoView {
    super::days::days_report(
        load_consumption,
        |report, site| view! { <Report report site/> },
    )
}

#[component]
fn Report(report: ConsumptionReport, site: String) -> impl IntoView {
    let title = format!("Consumption · {}", report.site_name);
    let money = |minor: Minor| format!("{} {}", minor.grouped(report.digits), report.currency);
    let site_totals = report.site_totals();
    let charts: Vec<(Utility, Vec<ConsumptionLine>)> = site_totals
        .iter()
        .map(|total| {
            let top = report
                .top(total.utility, TOP)
                .into_iter()
                .cloned()
                .collect();
            (total.utility, top)
        })
        .collect();
    view! {
        <DaysHead site site_name=report.site_name.clone() title page="reports" report="consumption"
            days=report.days source="from the meters' daily totals; a bulk meter is left out, as the meters it feeds are in (its losses are on the Losses page)" download="Download every unit as CSV"/>
        {if report.lines.is_empty() {
            view! { <p class="empty">"No use was recorded over these days."</p> }.into_any()
        } else {
            view! {
                <dl class="counts big report-totals">
                    {site_totals.iter().map(|total| view! {
                        <div class=format!("stat meter-{}", total.utility.as_str())>
                            <dt>{total.utility.label()}</dt>
                            <dd data-total=total.utility.as_str()>{format!("{} {}", quantity_shown(total.quantity_micro), total.utility.default_unit_of_measure())}</dd>
                            <dd class="cost">{money(total.cost)}</dd>
                            <dd class="units">{format!("{} units", total.units)}</dd>
                        </div>
                    }).collect_view()}
                </dl>
                <BuildingTable totals=report.building_totals() money_of=StoredValue::new((report.digits, report.currency.clone()))/>
                {charts.into_iter().map(|(utility, lines)| view! { <TopChart utility lines/> }).collect_view()}
            }.into_any()
        }}
    }
    .into_any()
}

#[component]
fn BuildingTable(totals: Vec<Total>, money_of: StoredValue<(u32, String)>) -> impl IntoView {
    let money = move |minor: Minor| {
        money_of.with_value(|(digits, currency)| format!("{} {currency}", minor.grouped(*digits)))
    };
    view! {
        <section>
            <h2>"By building"</h2>
            <table class="account-table building-totals">
                <thead>
                    <tr>
                        <th scope="col">"Building"</th>
                        <th scope="col">"Utility"</th>
                        <th scope="col" class="num">"Units"</th>
                        <th scope="col" class="num">"Used"</th>
                        <th scope="col" class="num">"Cost"</th>
                    </tr>
                </thead>
                <tbody>
                    {totals.into_iter().map(|total| view! {
                        <tr class="building-total">
                            <th scope="row">{total.building.unwrap_or_default()}</th>
                            <td>{total.utility.label()}</td>
                            <td class="num">{total.units}</td>
                            <td class="num">{format!("{} {}", quantity_shown(total.quantity_micro), total.utility.default_unit_of_measure())}</td>
                            <td class="num">{money(total.cost)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

/// The units that used the most of one utility, as bars with the figures beside them.
#[component]
fn TopChart(utility: Utility, lines: Vec<ConsumptionLine>) -> impl IntoView {
    const ROW: usize = 24;
    let measure = utility.default_unit_of_measure();
    let most = lines.first().map_or(1, |line| line.quantity_micro.max(1));
    let height = lines.len() * ROW;
    let label = format!(
        "Top {} users of {}",
        lines.len(),
        utility.label().to_lowercase()
    );
    view! {
        <figure class=format!("top-chart meter-{}", utility.as_str())>
            <figcaption><h2>{label.clone()}</h2></figcaption>
            <svg viewBox=format!("0 0 640 {height}") width="100%" role="img" aria-label=label>
                {lines.into_iter().enumerate().map(|(row, line)| {
                    let y = row * ROW;
                    // At least a sliver, so a small user still shows a bar.
                    let width = ((line.quantity_micro.max(0) as f64 / most as f64) * 380.0).max(2.0);
                    view! {
                        <g class="top-line">
                            <text x="0" y=y + 16>{format!("{} · {}", line.building, line.unit)}</text>
                            <rect class="bar" x="160" y=y + 4 width=format!("{width:.1}") height="16"/>
                            <text x=format!("{:.1}", 166.0 + width) y=y + 16>{format!("{} {measure}", quantity_shown(line.quantity_micro))}</text>
                        </g>
                    }
                }).collect_view()}
            </svg>
        </figure>
    }
}
