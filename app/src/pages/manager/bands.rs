//! `/manage/sites/:id/bands`: how the site's use fell across its tariffs' time-of-use bands
//! over some days: each utility's peak, shoulder, flat and valley shares, and the units using
//! most at peak. Drawn on the server, like the other reports, with every unit's line as CSV.

use super::days::DaysHead;
use crate::api::reports::load_bands;
use crate::domain::Utility;
use crate::domain::band_report::{BANDS, BandReport, BandTotal, percent};
use crate::domain::reports::quantity_shown;
use crate::domain::tariff::BandKind;
use leptos::prelude::*;

#[component]
pub fn BandsPage() -> impl IntoView {
    super::days::days_report(load_bands, |report, site| view! { <Report report site/> })
}

#[component]
fn Report(report: BandReport, site: String) -> impl IntoView {
    let title = format!("Time-of-use bands · {}", report.site_name);
    let totals = report.totals();
    view! {
        <DaysHead site site_name=report.site_name.clone() title page="bands" report="bands"
            days=report.days source="from the meters' hourly totals; a bulk meter is left out, as the meters it feeds are in" download="Download every unit's line (CSV)"/>
        <p class="hint">"Each hour's use is shared across the bands its minutes fall in (a band starting at half past takes half the hour), against the tariff in force at the hour's start. Hours no band covers are flat."</p>
        {if totals.is_empty() {
            view! { <p class="empty">"Nothing was used over these days."</p> }.into_any()
        } else {
            totals
                .into_iter()
                .map(|total| view! { <UtilityBands total=total.clone() report=report.clone()/> })
                .collect_view()
                .into_any()
        }}
    }
}

#[component]
fn UtilityBands(total: BandTotal, report: BandReport) -> impl IntoView {
    let utility: Utility = total.utility;
    let measure = utility.default_unit_of_measure();
    let amount = move |micro: i64| format!("{} {measure}", quantity_shown(micro));
    let peak_users: Vec<_> = report.peak_users(utility).into_iter().cloned().collect();
    view! {
        <section class="card band-report" data-utility=utility.as_str()>
            <h2>{utility.label()}</h2>
            <table class="account-table band-totals">
                <thead><tr>
                    <th scope="col">"Band"</th><th scope="col" class="num">"Used"</th>
                    <th scope="col" class="num">"Share"</th><th scope="col" class="bar-cell">""</th>
                </tr></thead>
                <tbody>
                    {BANDS.into_iter().enumerate().map(|(index, band)| {
                        let share = percent(&total.by_band, band).unwrap_or(0);
                        view! {
                            <tr class=format!("band band-{}", band.as_str()) data-micro=total.by_band[index].to_string()>
                                <th scope="row">{band_label(band)}</th>
                                <td class="num">{amount(total.by_band[index])}</td>
                                <td class="num" data-share=share.to_string()>{format!("{share} %")}</td>
                                <td class="bar-cell" aria-hidden="true">
                                    <svg viewBox="0 0 100 10" preserveAspectRatio="none" width="160" height="10">
                                        <rect class="whole" width="100" height="10"/>
                                        <rect class="bar" width=share.to_string() height="10"/>
                                    </svg>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            {(!peak_users.is_empty()).then(|| view! {
                <h3>"Most used at peak"</h3>
                <table class="account-table peak-users">
                    <thead><tr>
                        <th scope="col">"Unit"</th><th scope="col" class="num">"At peak"</th>
                        <th scope="col" class="num">"Of its use"</th><th scope="col" class="num">"In all"</th>
                    </tr></thead>
                    <tbody>
                        {peak_users.into_iter().map(|line| view! {
                            <tr class="peak-user">
                                <th scope="row"><a href=format!("/manage/units/{}", line.unit_id)>{format!("{} · {}", line.building, line.unit)}</a></th>
                                <td class="num">{amount(line.by_band[0])}</td>
                                <td class="num">{format!("{} %", percent(&line.by_band, BANDS[0]).unwrap_or(0))}</td>
                                <td class="num">{amount(line.total())}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            })}
        </section>
    }
}

fn band_label(band: BandKind) -> &'static str {
    match band {
        BandKind::Peak => "Peak",
        BandKind::Shoulder => "Shoulder",
        BandKind::Flat => "Flat",
        BandKind::Valley => "Valley",
    }
}
