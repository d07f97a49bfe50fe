//! `/manage/sites/:id/meters`: every meter of a site with its link, relay or valve, battery,
//! signal and last reading; the site's meter health (how many meters have each problem, with
//! bars); a search by utility, problem and words; a page at a time, and every meter found as
//! CSV. A plain GET form, drawn on the server, so its address is the search.

use crate::api::meter_table::load_site_meters;
use crate::domain::{
    Utility,
    i18n::Locale,
    meter_table::{MeterFields, MeterLine, Problem, SiteMeters},
    money::group_thousands,
    zone::SiteZone,
};
use crate::pages::{error_view, fleet::supply_words, percent_encode};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn MetersPage() -> impl IntoView {
    let site = crate::pages::route_id();
    let query = leptos_router::hooks::use_query_map().read_untracked();
    let field = |name: &str| query.get(name).unwrap_or_default();
    let asked = (
        site,
        MeterFields {
            utility: field("utility"),
            problem: field("problem"),
            words: field("words"),
            page: field("page"),
        },
    );
    let meters = Resource::new(
        move || asked.clone(),
        |(site, fields)| {
            load_site_meters(
                site,
                fields.utility,
                fields.problem,
                fields.words,
                fields.page,
            )
        },
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match meters.await {
                    Ok(meters) => view! { <Meters meters/> }.into_any(),
                    Err(error) => error_view(error),
                }
            })}
        </Suspense>
    }
}

/// The address of this search with some fields changed.
fn address(path: &str, fields: &MeterFields) -> String {
    let pairs = [
        ("utility", &fields.utility),
        ("problem", &fields.problem),
        ("words", &fields.words),
        ("page", &fields.page),
    ];
    let query: Vec<String> = pairs
        .into_iter()
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
fn Meters(meters: SiteMeters) -> impl IntoView {
    let site = meters.site.0;
    let path = format!("/manage/sites/{site}/meters");
    let title = format!("Meters · {}", meters.site_name);
    let asked = meters.query.fields();
    let page = meters.page;
    let at_page = |number: usize| {
        address(
            &path,
            &MeterFields {
                page: number.to_string(),
                ..asked.clone()
            },
        )
    };
    let previous = (page.page > 1).then(|| at_page(page.page - 1));
    let next = (page.page < page.pages).then(|| at_page(page.page + 1));
    let download = address(
        &format!("/manage/sites/{site}/meters.csv"),
        &MeterFields {
            page: String::new(),
            ..asked.clone()
        },
    );
    let summary = if page.matching == 0 {
        "No meter matches this search.".to_owned()
    } else {
        let first = (page.page - 1) * crate::domain::meter_table::PAGE_SIZE + 1;
        format!(
            "Meters {first} to {} of the {} found.",
            first + page.rows.len() - 1,
            page.matching
        )
    };
    let zone = meters.zone;
    view! {
        <Title text=title.clone()/>
        <p class="breadcrumb">
            <a href=format!("/manage/sites/{site}")>{meters.site_name.clone()}</a>
            " · "<a class="fleet-link" href=format!("/manage/sites/{site}/fleet")>"Alarms and fleet rules"</a>
        </p>
        <h1>{title}</h1>
        <HealthTable health=page.health.clone() path=path.clone()/>
        <Search asked=asked.clone() path=path.clone()/>
        <p class="totals" aria-live="polite" data-matching=page.matching.to_string()>{summary}</p>
        <p><a class="button secondary download" href=download download="">"Download these meters (CSV)"</a></p>
        {(!page.rows.is_empty()).then(|| view! {
            <table class="account-table meter-table">
                <thead><tr>
                    <th scope="col">"Meter"</th>
                    <th scope="col">"Unit"</th>
                    <th scope="col">"Link"</th>
                    <th scope="col">"Relay or valve"</th>
                    <th scope="col" class="num">"Battery"</th>
                    <th scope="col" class="num">"Signal"</th>
                    <th scope="col">"Last reading"</th>
                    <th scope="col">"Problems"</th>
                </tr></thead>
                <tbody>
                    {page.rows.into_iter().map(|(meter, problems)| view! {
                        <Row meter problems zone=zone.clone()/>
                    }).collect_view()}
                </tbody>
            </table>
        })}
        <nav class="pager" aria-label="Pages">
            {previous.map(|href| view! { <a class="button secondary" rel="prev" href=href>"Previous"</a> })}
            <span class="page-of">{format!("Page {} of {}", page.page, page.pages)}</span>
            {next.map(|href| view! { <a class="button secondary" rel="next" href=href>"Next"</a> })}
        </nav>
    }
}

/// How many of the site's meters have each problem, each a link to those meters.
#[component]
fn HealthTable(health: crate::domain::meter_table::Health, path: String) -> impl IntoView {
    view! {
        <section class="meter-health">
            <h2>"Meter health"</h2>
            <p class="health-summary" data-meters=health.meters.to_string() data-healthy=health.healthy.to_string()>
                {format!("{} of {} meters have nothing to look at.", health.healthy, health.meters)}
            </p>
            <table class="account-table health">
                <tbody>
                    {health.counts.iter().map(|(problem, count)| {
                        let share = health.percent(*count);
                        let href = address(&path, &MeterFields { problem: problem.as_str().into(), ..MeterFields::default() });
                        view! {
                            <tr data-problem=problem.as_str()>
                                <th scope="row"><a href=href>{problem.label()}</a></th>
                                <td class="num" data-count=count.to_string()>{*count}</td>
                                <td class="num">{format!("{share} %")}</td>
                                <td class="bar-cell" aria-hidden="true">
                                    <svg viewBox="0 0 100 10" preserveAspectRatio="none" width="120" height="10">
                                        <rect class=if *count == 0 { "bar none" } else { "bar" } width=share.max(1).to_string() height="10"/>
                                    </svg>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

/// The search form; a new search starts at the first page.
#[component]
fn Search(asked: MeterFields, path: String) -> impl IntoView {
    view! {
        <form method="get" action=path class="card account-search meter-search">
            <label>"Utility"
                <select name="utility">
                    <option value="" selected=asked.utility.is_empty()>"Any"</option>
                    {Utility::ALL.into_iter().map(|utility| view! {
                        <option value=utility.as_str() selected=asked.utility == utility.as_str()>{utility.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>"Problem"
                <select name="problem">
                    <option value="" selected=asked.problem.is_empty()>"Any or none"</option>
                    {Problem::ALL.into_iter().map(|problem| view! {
                        <option value=problem.as_str() selected=asked.problem == problem.as_str()>{problem.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>"Serial, unit or building"
                <input type="search" name="words" value=asked.words.clone() maxlength="100"/>
            </label>
            <button type="submit">"Search"</button>
        </form>
    }
}

#[component]
fn Row(meter: MeterLine, problems: Vec<Problem>, zone: SiteZone) -> impl IntoView {
    let local = move |at: Option<DateTime<Utc>>| {
        at.map(|at| zone.local(at).format("%Y-%m-%d %H:%M").to_string())
    };
    let (link, link_words) = if meter.online {
        ("online", "online")
    } else {
        ("offline", "offline")
    };
    let seen = local(meter.last_seen_at).map(|at| format!("heard {at}"));
    // What the meter says first, as the meter's page words it; below, what was asked of it
    // when that differs, or that it has not said yet.
    let words = |stored: &str| supply_words(stored, Locale::En);
    let (relay, relay_note) = match meter.relay_reported.as_deref() {
        Some(reported) if reported != meter.relay_wanted => (
            words(reported),
            Some(format!("asked: {}", words(&meter.relay_wanted))),
        ),
        Some(reported) => (words(reported), None),
        None => (
            words(&meter.relay_wanted),
            Some("the meter has not reported it yet".to_owned()),
        ),
    };
    let battery = meter
        .battery_pct
        .map_or_else(|| "mains".to_owned(), |pct| format!("{pct} %"));
    let signal = meter
        .signal_dbm
        .map(|dbm| format!("{dbm} dBm"))
        .unwrap_or_default();
    let reading = match (&meter.last_register, local(meter.last_reading_at)) {
        (Some(register), Some(at)) => format!("{} at {at}", group_thousands(register)),
        _ => "none yet".to_owned(),
    };
    let codes = problems
        .iter()
        .map(|problem| problem.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    view! {
        <tr class="meter-row" data-serial=meter.serial.clone() data-problems=codes>
            <th scope="row">
                <a href=format!("/meters/{}", meter.id)>{meter.serial.clone()}</a>
                <span class=format!("chip meter-{}", meter.utility.as_str())>{meter.utility.label()}</span>
            </th>
            <td>{format!("{} · {}", meter.building, meter.unit)}</td>
            <td class=format!("online-{link}") data-online=link>{link_words}{seen.map(|seen| view! { <br/><small>{seen}</small> })}</td>
            <td data-relay=meter.relay_reported.clone().unwrap_or_default()>{relay}{relay_note.map(|note| view! { <br/><small>{note}</small> })}</td>
            <td class="num" data-battery=meter.battery_pct.map(|b| b.to_string()).unwrap_or_default()>{battery}</td>
            <td class="num">{signal}</td>
            <td>{reading}</td>
            <td class="problems">
                {problems.into_iter().map(|problem| view! {
                    <span class=format!("chip problem problem-{}", problem.as_str())>{problem.label()}</span>
                }).collect_view()}
            </td>
        </tr>
    }
}
