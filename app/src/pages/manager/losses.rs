//! `/manage/sites/:id/losses`: each bulk (master) meter of a site against the meters it feeds
//! over some days: what it measured, what they measured, and the difference lost on the way,
//! flagged when it is more than a pipe network usually loses. Drawn on the server, like the
//! other reports, with every line as CSV.

use super::days::DaysHead;
use crate::api::reports::load_losses;
use crate::domain::losses::{LossLine, LossReport, WORTH_A_LOOK_PERCENT};
use crate::domain::reports::quantity_shown;
use leptos::prelude::*;

#[component]
pub fn LossesPage() -> impl IntoView {
    super::days::days_report(load_losses, |report, site| view! { <Report report site/> })
}

#[component]
fn Report(report: LossReport, site: String) -> impl IntoView {
    let title = format!("Losses · {}", report.site_name);
    view! {
        <DaysHead site site_name=report.site_name.clone() title page="losses" report="losses"
            days=report.days source="from the meters' daily totals" download="Download as CSV"/>
        {if report.lines.is_empty() {
            view! {
                <p class="empty">"No meter of this site feeds others yet. On a sub-meter's page, "
                    "name the bulk meter it is fed through, and it shows here."</p>
            }.into_any()
        } else {
            view! {
                <p class="where">{format!(
                    "A loss over {WORTH_A_LOOK_PERCENT} % of what the master measured is worth a look: \
                     a leak, a bypass or a meter reading low. Sub-meters reading more than their \
                     master point to a faulty meter."
                )}</p>
                <table class="account-table losses">
                    <thead>
                        <tr>
                            <th scope="col">"Master meter"</th>
                            <th scope="col">"Where"</th>
                            <th scope="col" class="num">"Master used"</th>
                            <th scope="col" class="num">"Sub-meters"</th>
                            <th scope="col" class="num">"They used"</th>
                            <th scope="col" class="num">"Lost"</th>
                            <th scope="col" class="num">"Share"</th>
                            <th scope="col">"Finding"</th>
                            <th scope="col" class="bar-cell">"Measured below the master"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {report.lines.into_iter().map(|line| view! { <LossRow line/> }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
    }
    .into_any()
}

#[component]
fn LossRow(line: LossLine) -> impl IntoView {
    let measure = line.master.utility.default_unit_of_measure();
    let amount = move |micro: i64| format!("{} {measure}", quantity_shown(micro));
    let finding = line.finding();
    // The sub-meters' share of the master, capped at the bar's length.
    let below = if line.master_micro > 0 {
        (line.subs_micro.max(0) as f64 / line.master_micro as f64 * 100.0).min(100.0)
    } else {
        0.0
    };
    view! {
        <tr class=format!("loss-line finding-{}", finding.as_str()) data-master=line.master.serial.clone()>
            <th scope="row"><a href=format!("/meters/{}", line.master.id)>{line.master.serial.clone()}</a></th>
            <td>{format!("{} · {}", line.master.building, line.master.unit)}</td>
            <td class="num">{amount(line.master_micro)}</td>
            <td class="num" data-subs=line.sub_meters.to_string()>{line.sub_meters}</td>
            <td class="num">{amount(line.subs_micro)}</td>
            <td class="num">{amount(line.loss_micro())}</td>
            <td class="num" data-share=line.loss_percent_text()>{match line.loss_percent() {
                Some(_) => format!("{} %", line.loss_percent_text()),
                None => "–".into(),
            }}</td>
            <td class="finding">{finding.label()}</td>
            <td class="bar-cell" aria-hidden="true">
                <svg viewBox="0 0 100 10" preserveAspectRatio="none" width="120" height="10">
                    <rect class="whole" width="100" height="10"/>
                    <rect class="bar" width=format!("{below:.1}") height="10"/>
                </svg>
            </td>
        </tr>
    }
}
