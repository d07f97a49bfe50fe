//! An account's usage as a bar chart drawn in SVG by the server: by hour, day or month, in
//! quantity or cost, with the period before and the building's median household beside it,
//! and the same figures as a table for screen readers.

use crate::api::accounts::usage_html;
use crate::domain::{
    i18n::Locale,
    usage::{Span, Usage, UsageChart, change_percent, lay_out},
};
use crate::error::AppError;
use crate::pages::{locale::use_locale, words::*};
use leptos::prelude::*;
use rust_decimal::Decimal;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 180.0;
/// Room below the bars for their labels.
const LABELS: f64 = 22.0;

/// What the bars measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    Quantity,
    Cost,
}

impl Measure {
    pub fn as_str(self) -> &'static str {
        match self {
            Measure::Quantity => "quantity",
            Measure::Cost => "cost",
        }
    }

    pub fn parse(raw: &str) -> Measure {
        if raw == "cost" {
            Measure::Cost
        } else {
            Measure::Quantity
        }
    }
}

/// The account's usage chart. The server draws it (here and for every period or measure
/// chosen afterwards); the island only asks for the drawing a button names and swaps it in,
/// so the browser carries no chart, date or decimal code.
#[island(lazy)]
pub fn UsageGraph(account: String, html: String) -> impl IntoView {
    crate::pages::island_ready();
    let html = RwSignal::new(html);
    let busy = RwSignal::new(false);
    let account = StoredValue::new(account);
    let choose = move |ev: leptos::ev::MouseEvent| {
        // Each button of the drawing carries the whole choice it stands for.
        let Some(button) = crate::pages::event_element(&ev)
            .and_then(|element| element.closest("button[data-span]").ok().flatten())
        else {
            return;
        };
        let wanted = |name| button.get_attribute(name).unwrap_or_default();
        let (span, day, measure) = (
            wanted("data-span"),
            wanted("data-day"),
            wanted("data-measure"),
        );
        busy.set(true);
        leptos::task::spawn_local(async move {
            if let Ok(fresh) = usage_html(account.get_value(), span, day, measure).await {
                html.set(fresh);
            }
            busy.set(false);
        });
    };
    view! {
        <div class="usage-island" aria-busy=move || busy.get().to_string() on:click=choose inner_html=move || html.get()></div>
    }
}

/// The chart for one choice of span, period and measure, as HTML for [`UsageGraph`].
pub fn drawing_html(chart: Result<UsageChart, AppError>, measure: Measure) -> String {
    match chart {
        Ok(chart) => view! { <Usage chart measure/> }.to_html(),
        Err(error) => {
            view! { <p class="form-error" role="alert">{error.to_string()}</p> }.to_html()
        }
    }
}

#[component]
fn Usage(chart: UsageChart, measure: Measure) -> impl IntoView {
    let l = use_locale();
    let span = chart.period.span;
    view! {
        <section class="usage" aria-labelledby="usage-heading">
            <h2 id="usage-heading">{USAGE.get(l)}</h2>
            <div class="segmented" role="group" aria-label=PERIOD.get(l)>
                // Each button names the whole choice it stands for: span, period (a day in
                // it; empty for the current one) and measure.
                {Span::ALL.into_iter().map(|other| view! {
                    <button type="button" data-span=other.as_str() data-day="" data-measure=measure.as_str()
                        aria-pressed=(other == span).to_string()>
                        {other.label_in(l)}
                    </button>
                }).collect_view()}
            </div>
            <Chart chart measure/>
        </section>
    }
}

#[component]
fn Chart(chart: UsageChart, measure: Measure) -> impl IntoView {
    let l = use_locale();
    let period = chart.period;
    let span = period.span.as_str();
    // A wallet paying for several utilities has no single quantity: cost only.
    let has_quantity = chart.utility.is_some();
    let shown = if has_quantity { measure } else { Measure::Cost };
    let here = period.anchor();
    view! {
        <div class="usage-nav">
            <button type="button" class="link-button" data-span=span data-day=period.previous().anchor() data-measure=shown.as_str()>
                {BEFORE.get(l)}
            </button>
            <strong class="usage-title">{period.title_in(l)}</strong>
            <button type="button" class="link-button" disabled=!chart.has_next
                data-span=span data-day=period.next().anchor() data-measure=shown.as_str()>
                {AFTER.get(l)}
            </button>
        </div>
        {has_quantity.then(|| view! {
            <div class="segmented" role="group" aria-label=SHOW_IN.get(l)>
                <button type="button" data-span=span data-day=here.clone() data-measure="quantity"
                    aria-pressed=(shown == Measure::Quantity).to_string()>{chart.unit_of_measure.clone()}</button>
                <button type="button" data-span=span data-day=here.clone() data-measure="cost"
                    aria-pressed=(shown == Measure::Cost).to_string()>{chart.currency.clone()}</button>
            </div>
        })}
        <Drawing chart measure=shown/>
    }
}

fn pick(usage: &Usage, measure: Measure) -> Decimal {
    match measure {
        Measure::Quantity => usage.quantity,
        Measure::Cost => usage.cost,
    }
}

fn amount(value: Decimal, measure: Measure, chart: &UsageChart, l: Locale) -> String {
    let rounded = value.round_dp(2).to_string();
    match measure {
        Measure::Quantity => format!("{} {}", l.number(&rounded), chart.unit_of_measure),
        Measure::Cost => l.money(&format!("{:.2}", value.round_dp(2)), &chart.currency),
    }
}

#[component]
fn Drawing(chart: UsageChart, measure: Measure) -> impl IntoView {
    let l = use_locale();
    let values: Vec<Decimal> = chart.current.iter().map(|bar| pick(bar, measure)).collect();
    let before: Vec<Decimal> = chart
        .previous
        .iter()
        .map(|bar| pick(bar, measure))
        .collect();
    let bars = lay_out(&values, &before, WIDTH, HEIGHT);
    let total = pick(&chart.total(), measure);
    let previous_total = pick(&chart.previous_total(), measure);
    let median = chart.median.map(|median| pick(&median, measure));
    let summary = summary(&chart, measure, total, previous_total, median, l);
    // The median household's total spread over the bars: the level an average bar of theirs
    // would reach.
    let median_y = median.filter(|_| !bars.top.is_zero()).map(|median| {
        let per_bar = median / Decimal::from(values.len().max(1) as u64);
        let share =
            rust_decimal::prelude::ToPrimitive::to_f64(&(per_bar / bars.top)).unwrap_or(0.0);
        HEIGHT - share.clamp(0.0, 1.0) * HEIGHT
    });
    let every = match chart.period.span {
        Span::Day => 3,
        Span::Month => 5,
        Span::Year => 1,
    };
    let slot = WIDTH / values.len().max(1) as f64;
    let period = chart.period;
    view! {
        <figure class="usage-chart">
            <svg
                viewBox=format!("0 0 {WIDTH} {}", HEIGHT + LABELS)
                role="img"
                aria-label=summary.clone()
            >
                <line class="axis" x1="0" x2=WIDTH y1=HEIGHT y2=HEIGHT/>
                {bars.bars.iter().enumerate().map(|(index, bar)| view! {
                    <rect class="bar" x=bar.x y=bar.y width=bar.width height=bar.height>
                        <title>{format!("{}: {}", period.label_in(index, l), amount(values[index], measure, &chart, l))}</title>
                    </rect>
                    {bar.previous_y.map(|y| view! {
                        <line class="before" x1=bar.x x2=bar.x + bar.width y1=y y2=y/>
                    })}
                    {(index % every == 0).then(|| view! {
                        <text class="label" x=index as f64 * slot + slot / 2.0 y=HEIGHT + 16.0 text-anchor="middle">
                            {period.label_in(index, l)}
                        </text>
                    })}
                }).collect_view()}
                {median_y.map(|y| view! { <line class="median" x1="0" x2=WIDTH y1=y y2=y/> })}
            </svg>
            <figcaption>
                <p class="usage-summary">{summary}</p>
                <p class="legend">
                    <span class="key key-bar"></span>{KEY_THIS.get(l)}
                    <span class="key key-before"></span>{KEY_BEFORE.get(l)}
                    {median_y.map(|_| view! { <span class="key key-median"></span>{KEY_MEDIAN.get(l)} })}
                </p>
            </figcaption>
            <details class="usage-table">
                <summary>{AS_TABLE.get(use_locale())}</summary>
                <table>
                    <thead>
                        <tr><th scope="col">{period.title_in(l)}</th><th scope="col">{THIS_PERIOD.get(l)}</th><th scope="col">{THE_ONE_BEFORE.get(l)}</th></tr>
                    </thead>
                    <tbody>
                        {values.iter().enumerate().map(|(index, value)| view! {
                            <tr>
                                <th scope="row">{period.label_in(index, l)}</th>
                                <td>{amount(*value, measure, &chart, l)}</td>
                                <td>{before.get(index).map(|before| amount(*before, measure, &chart, l)).unwrap_or_default()}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </details>
        </figure>
    }
}

/// The chart in one sentence or three: the total, the change from the period before, the
/// building's median household.
fn summary(
    chart: &UsageChart,
    measure: Measure,
    total: Decimal,
    previous_total: Decimal,
    median: Option<Decimal>,
    l: Locale,
) -> String {
    let mut words = IN_TOTAL.fill(
        l,
        &[&chart.period.title_in(l), &amount(total, measure, chart, l)],
    );
    if let Some(since) = chart.since {
        words.push_str(&SINCE_DAY.fill(l, &[&l.date(since)]));
    }
    words.push_str(FULL_STOP.get(l));
    match change_percent(total, previous_total) {
        Some(0) => words.push_str(ABOUT_SAME.get(l)),
        Some(change) if change > 0 => {
            words.push_str(&MORE_THAN_BEFORE.fill(l, &[&change.to_string()]))
        }
        Some(change) => words.push_str(&LESS_THAN_BEFORE.fill(l, &[&(-change).to_string()])),
        None => {}
    }
    match median {
        Some(median) => words.push_str(&MEDIAN_HOUSEHOLD.fill(
            l,
            &[
                &amount(median, measure, chart, l),
                &chart.households.to_string(),
            ],
        )),
        None => words.push_str(TOO_FEW.get(l)),
    }
    words
}
