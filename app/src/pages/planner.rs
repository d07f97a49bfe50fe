//! The planner on an account's page: "what will this much cost" and "how long will this
//! top-up last", priced as the resident types by the tariff code that charges them, and
//! advice drawn from their own use.

use crate::domain::{
    i18n::{Locale, Words},
    planner::{MIN_DAYS, Planner, Pricing, fixed},
    tariff::BandKind,
};
use crate::pages::words::*;
use leptos::prelude::*;
use rust_decimal::Decimal;
use std::str::FromStr;

/// The largest amount either box prices: beyond it a typing slip, not a plan.
const MOST: i64 = 1_000_000_000;

/// The planner section: drawn on the server (the balance's days and the advice, worded from
/// the resident's own use), with the two preview boxes as the island that prices in the browser.
#[component]
pub fn PlannerSection(planner: Planner) -> impl IntoView {
    let locale = crate::pages::locale::use_locale();
    let Planner {
        balance,
        days_measured,
        advice,
        pricing,
        ..
    } = planner;
    let balance_lasts = pricing
        .days_lasting(balance)
        .map(|days| BALANCE_LASTS.fill(locale, &[&days.to_string()]));
    let advice: Vec<String> = advice
        .iter()
        .map(|advice| {
            advice.text(
                locale,
                &pricing.unit_of_measure,
                &pricing.currency,
                pricing.digits,
            )
        })
        .collect();
    view! {
        <section class="planner card">
            <h2>{PLAN_AHEAD.get(locale)}</h2>
            <PreviewBoxes html=view! { <PreviewRows pricing=pricing.clone()/> }.to_html() pricing/>
            {balance_lasts.map(|text| view! { <p class="balance-lasts">{text}</p> })}
            <h3>{WAYS_TO_SAVE.get(locale)}</h3>
            {if days_measured < MIN_DAYS {
                view! { <p class="empty">{ADVICE_LATER.fill(locale, &[&days_measured.to_string()])}</p> }.into_any()
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

/// "What will this much cost" and "how long will this top-up last", priced as the resident
/// types. The server draws the boxes ([`PreviewRows`]); the island carries only the tariff
/// and where the cycle stands, listens to what is typed and writes each answer into its
/// `<output>`, so previews ask the server nothing and the browser ships no form code.
#[island(lazy)]
fn PreviewBoxes(pricing: Pricing, html: String) -> impl IntoView {
    crate::pages::island_ready();
    let locale = crate::pages::locale::use_locale();
    let pricing = StoredValue::new(pricing);
    let typed = StoredValue::new(Typed::default());
    let root = NodeRef::<leptos::html::Div>::new();
    let reprice = move |ev: leptos::ev::Event| {
        let Some(name) =
            crate::pages::event_element(&ev).and_then(|element| element.get_attribute("name"))
        else {
            return;
        };
        let value = event_target_value(&ev);
        typed.update_value(|typed| match name.as_str() {
            "preview-quantity" => typed.quantity = value,
            "preview-band" => typed.band = value,
            "preview-amount" => typed.amount = value,
            _ => {}
        });
        let (cost, lasting) = pricing.with_value(|pricing| {
            typed.with_value(|typed| {
                (
                    typed.cost(pricing, locale),
                    parse(&typed.amount, locale).map(|a| a.map(|a| lasts(pricing, a, locale))),
                )
            })
        });
        let Some(root) = root.get_untracked() else {
            return;
        };
        show(&root, "preview-cost", cost);
        show(&root, "preview-lasts", lasting);
    };
    view! { <div node_ref=root on:input=reprice on:change=reprice inner_html=html></div> }
}

/// What the resident has typed into the preview boxes so far.
#[derive(Default)]
struct Typed {
    quantity: String,
    band: String,
    amount: String,
}

impl Typed {
    fn cost(&self, pricing: &Pricing, locale: Locale) -> Option<Result<String, &'static str>> {
        let band = BandKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == self.band);
        parse(&self.quantity, locale).map(|quantity| {
            quantity.map(|quantity| {
                let cost = pricing.cost_of(quantity, band);
                WOULD_COST.fill(
                    locale,
                    &[
                        &locale.number(&quantity.normalize().to_string()),
                        &pricing.unit_of_measure,
                        &locale.money(&fixed(cost, pricing.digits), &pricing.currency),
                    ],
                )
            })
        })
    }
}

/// Writes an answer into the `<output>` of class `class`, as text (an error marked as one).
fn show(root: &leptos::web_sys::Element, class: &str, answer: Option<Result<String, &str>>) {
    let Ok(Some(output)) = root.query_selector(&format!(".{class}")) else {
        return;
    };
    let (text, problem) = match &answer {
        None => ("", false),
        Some(Ok(text)) => (text.as_str(), false),
        Some(Err(problem)) => (*problem, true),
    };
    output.set_text_content(Some(text));
    let class = if problem {
        format!("{class} form-error")
    } else {
        class.to_owned()
    };
    let _ = output.set_attribute("class", &class);
}

/// The preview boxes as the server draws them, for [`PreviewBoxes`].
#[component]
fn PreviewRows(pricing: Pricing) -> impl IntoView {
    let locale = crate::pages::locale::use_locale();
    let bands = pricing.bands();
    view! {
        <div class="planner-row">
            <NumberBox label=WHAT_WILL_COST.fill(locale, &[&pricing.unit_of_measure]) name="preview-quantity"/>
            {(!bands.is_empty()).then(|| view! {
                <label>{HOURS.get(locale)}
                    <select name="preview-band">
                        {bands.into_iter().map(|kind| view! {
                            <option value=kind.as_str() selected=kind == BandKind::Flat>{band_label(kind).get(locale)}</option>
                        }).collect_view()}
                    </select>
                </label>
            })}
            <output class="preview-cost" aria-live="polite"></output>
        </div>
        <div class="planner-row">
            <NumberBox label=HOW_LONG.fill(locale, &[&pricing.currency]) name="preview-amount"/>
            <output class="preview-lasts" aria-live="polite"></output>
        </div>
    }
}

/// A labelled box for a decimal number.
#[component]
fn NumberBox(label: String, name: &'static str) -> impl IntoView {
    view! {
        <label>{label}
            <input type="text" name=name inputmode="decimal" autocomplete="off"/>
        </label>
    }
}

/// What a top-up buys and, from the resident's average day, how long it lasts.
fn lasts(planner: &Pricing, amount: Decimal, locale: Locale) -> String {
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

fn band_label(kind: BandKind) -> Words {
    match kind {
        BandKind::Peak => BAND_PEAK,
        BandKind::Shoulder => BAND_SHOULDER,
        BandKind::Flat => BAND_FLAT,
        BandKind::Valley => BAND_VALLEY,
    }
}
