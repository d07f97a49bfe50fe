//! An account's usage as a bar chart drawn in SVG by the same Rust in browser and server: by
//! hour, day or month, in quantity or cost, with the period before and the building's median
//! household beside it, and the same figures as a table for screen readers.

use crate::api::accounts::account_usage;
use crate::domain::{
    i18n::Locale,
    usage::{Span, Usage, UsageChart, change_percent, lay_out},
};
use crate::error::AppError;
use crate::pages::{error_view, locale::use_locale, words::*};
use leptos::prelude::*;
use rust_decimal::Decimal;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 180.0;
/// Room below the bars for their labels.
const LABELS: f64 = 22.0;

/// What the bars measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Measure {
    Quantity,
    Cost,
}

/// The account's usage, first as the server drew it (this month by day), then redrawn in
/// the browser for each period or measure chosen: an island, so only it ships as WebAssembly.
#[island(lazy)]
pub fn UsageGraph(account: String, initial: UsageChart) -> impl IntoView {
    crate::pages::island_ready();
    let span = RwSignal::new(Span::Month);
    let day = RwSignal::new(String::new());
    let measure = RwSignal::new(Measure::Quantity);
    let chart = RwSignal::new(Ok::<_, AppError>(initial));
    let loading = RwSignal::new(false);
    let account = StoredValue::new(account);
    // The figures asked for again whenever the span or the period changes (not on hydration:
    // the server's drawing is current).
    Effect::watch(
        move || (span.get(), day.get()),
        move |(span, day), _, _| {
            let (span, day) = (*span, day.clone());
            loading.set(true);
            leptos::task::spawn_local(async move {
                let fresh = account_usage(account.get_value(), span.as_str().to_owned(), day).await;
                chart.set(fresh);
                loading.set(false);
            });
        },
        false,
    );
    let l = use_locale();
    view! {
        <section class="usage" aria-labelledby="usage-heading" aria-busy=move || loading.get().to_string()>
            <h2 id="usage-heading">{USAGE.get(l)}</h2>
            <div class="segmented" role="group" aria-label=PERIOD.get(l)>
                {Span::ALL.into_iter().map(|choice| view! {
                    <button
                        type="button"
                        aria-pressed=move || (span.get() == choice).to_string()
                        on:click=move |_| {
                            span.set(choice);
                            day.set(String::new());
                        }
                    >
                        {choice.label_in(l)}
                    </button>
                }).collect_view()}
            </div>
            {move || match chart.get() {
                Ok(chart) => view! { <Chart chart day measure/> }.into_any(),
                Err(error) => error_view(error),
            }}
        </section>
    }
}

#[component]
fn Chart(chart: UsageChart, day: RwSignal<String>, measure: RwSignal<Measure>) -> impl IntoView {
    let l = use_locale();
    let period = chart.period;
    let unit = chart.unit_of_measure.clone();
    let currency = chart.currency.clone();
    // A wallet paying for several utilities has no single quantity: cost only.
    let has_quantity = chart.utility.is_some();
    let shown = move || {
        if has_quantity {
            measure.get()
        } else {
            Measure::Cost
        }
    };
    let previous = period.previous().anchor();
    let next = period.next().anchor();
    let chart_for_view = chart.clone();
    view! {
        <div class="usage-nav">
            <button type="button" class="link-button" on:click=move |_| day.set(previous.clone())>
                {BEFORE.get(l)}
            </button>
            <strong class="usage-title">{period.title_in(l)}</strong>
            <button
                type="button"
                class="link-button"
                disabled=!chart.has_next
                on:click=move |_| day.set(next.clone())
            >
                {AFTER.get(l)}
            </button>
        </div>
        {has_quantity.then(|| {
            let unit = unit.clone();
            let currency = currency.clone();
            view! {
                <div class="segmented" role="group" aria-label=SHOW_IN.get(l)>
                    <button type="button" aria-pressed=move || (measure.get() == Measure::Quantity).to_string()
                        on:click=move |_| measure.set(Measure::Quantity)>{unit}</button>
                    <button type="button" aria-pressed=move || (measure.get() == Measure::Cost).to_string()
                        on:click=move |_| measure.set(Measure::Cost)>{currency}</button>
                </div>
            }
        })}
        {move || {
            let chart = chart_for_view.clone();
            view! { <Drawing chart measure=shown()/> }
        }}
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
