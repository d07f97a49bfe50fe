//! The planner on an account's page: "what will this much cost" and "how long will this
//! top-up last", priced as the resident types by the tariff code that charges them, and
//! advice drawn from their own use.

use crate::domain::{
    i18n::{Locale, Words},
    planner::{MIN_DAYS, Planner, fixed},
    tariff::BandKind,
};
use crate::pages::words::*;
use leptos::prelude::*;
use rust_decimal::Decimal;
use std::str::FromStr;

/// The largest amount either box prices: beyond it a typing slip, not a plan.
const MOST: i64 = 1_000_000_000;

/// The planner, priced in the browser as the resident types: an island carrying the tariff
/// and the site's band boundaries, so previews ask the server nothing.
#[island(lazy)]
pub fn PlannerView(planner: Planner) -> impl IntoView {
    crate::pages::island_ready();
    let planner = StoredValue::new(planner);
    let locale = crate::pages::locale::use_locale();
    let quantity = RwSignal::new(String::new());
    let band = RwSignal::new(String::new());
    let amount = RwSignal::new(String::new());
    let cost = move || {
        let band = BandKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == band.get());
        parse(&quantity.get(), locale).map(|q| {
            q.map(|q| {
                planner.with_value(|p| {
                    let cost = p.cost_of(q, band);
                    WOULD_COST.fill(
                        locale,
                        &[
                            &locale.number(&q.normalize().to_string()),
                            &p.unit_of_measure,
                            &locale.money(&fixed(cost, p.digits), &p.currency),
                        ],
                    )
                })
            })
        })
    };
    let lasting = move || {
        parse(&amount.get(), locale).map(|a| a.map(|a| planner.with_value(|p| lasts(p, a, locale))))
    };
    let (uom, currency) = planner.with_value(|p| (p.unit_of_measure.clone(), p.currency.clone()));
    let bands = planner.with_value(Planner::bands);
    let advice = planner.with_value(|p| {
        p.advice
            .iter()
            .map(|advice| advice.text(locale, &p.unit_of_measure, &p.currency, p.digits))
            .collect::<Vec<_>>()
    });
    let measured = planner.with_value(|p| p.days_measured);
    let balance_lasts = planner.with_value(|p| {
        p.days_lasting(p.balance)
            .map(|days| BALANCE_LASTS.fill(locale, &[&days.to_string()]))
    });
    view! {
        <section class="planner card">
            <h2>{PLAN_AHEAD.get(locale)}</h2>
            <div class="planner-row">
                <NumberBox label=WHAT_WILL_COST.fill(locale, &[&uom]) name="preview-quantity" value=quantity/>
                {(!bands.is_empty()).then(|| view! {
                    <label>{HOURS.get(locale)}
                        <select name="preview-band" on:change=move |ev| band.set(event_target_value(&ev))>
                            {bands.into_iter().map(|kind| view! {
                                <option value=kind.as_str() selected=kind == BandKind::Flat>{band_label(kind).get(locale)}</option>
                            }).collect_view()}
                        </select>
                    </label>
                })}
                <output class="preview-cost" aria-live="polite">{move || answer(cost())}</output>
            </div>
            <div class="planner-row">
                <NumberBox label=HOW_LONG.fill(locale, &[&currency]) name="preview-amount" value=amount/>
                <output class="preview-lasts" aria-live="polite">{move || answer(lasting())}</output>
            </div>
            {balance_lasts.map(|text| view! { <p class="balance-lasts">{text}</p> })}
            <h3>{WAYS_TO_SAVE.get(locale)}</h3>
            {if measured < MIN_DAYS {
                view! { <p class="empty">{ADVICE_LATER.fill(locale, &[&measured.to_string()])}</p> }.into_any()
            } else if advice.is_empty() {
                view! { <p class="empty">{NOTHING_STANDS_OUT.get(locale)}</p> }.into_any()
            } else {
                view! {
                    <ul class="advice">
                        {advice.into_iter().map(|text| view! { <li>{text}</li> }).collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </section>
    }
}

/// A labelled box for a decimal number, its text kept in `value` as typed.
#[component]
fn NumberBox(label: String, name: &'static str, value: RwSignal<String>) -> impl IntoView {
    view! {
        <label>{label}
            <input type="text" name=name inputmode="decimal" autocomplete="off"
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))/>
        </label>
    }
}

/// What a top-up buys and, from the resident's average day, how long it lasts.
fn lasts(planner: &Planner, amount: Decimal, locale: Locale) -> String {
    let money = locale.money(&fixed(amount, planner.digits), &planner.currency);
    let buys = match planner.buys(amount) {
        Some(units) => BUYS_ABOUT.fill(
            locale,
            &[
                &money,
                &locale.number(&units.normalize().to_string()),
                &planner.unit_of_measure,
            ],
        ),
        None => MORE_THAN_ANY.fill(locale, &[&money]),
    };
    match (planner.daily_average, planner.days_lasting(amount)) {
        (Some(daily), Some(days)) => LASTS_AVERAGE.fill(
            locale,
            &[
                &buys,
                &locale.number(&daily.round_dp(2).normalize().to_string()),
                &planner.unit_of_measure,
                &days.to_string(),
            ],
        ),
        _ => SENTENCE.fill(locale, &[&buys]),
    }
}

/// A box's number: `None` while empty, an error while it is not a sensible amount.
fn parse(raw: &str, locale: Locale) -> Option<Result<Decimal, &'static str>> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    Some(
        Decimal::from_str(&raw.replace(',', ""))
            .ok()
            .filter(|value| *value > Decimal::ZERO && *value <= Decimal::from(MOST))
            .ok_or(POSITIVE_NUMBER.get(locale)),
    )
}

fn answer(result: Option<Result<String, &'static str>>) -> impl IntoView + use<> {
    result.map(|result| match result {
        Ok(text) => view! { <span>{text}</span> }.into_any(),
        Err(problem) => view! { <span class="form-error">{problem}</span> }.into_any(),
    })
}

fn band_label(kind: BandKind) -> Words {
    match kind {
        BandKind::Peak => BAND_PEAK,
        BandKind::Shoulder => BAND_SHOULDER,
        BandKind::Flat => BAND_FLAT,
        BandKind::Valley => BAND_VALLEY,
    }
}
