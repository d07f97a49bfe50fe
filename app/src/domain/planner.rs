//! The resident's planner: what a quantity will cost and how long a top-up will last, priced in
//! the browser by the same tariff code that charges, and plain-words advice drawn from the
//! resident's own hourly use.
//!
//! The server sends the tariff in force, where the billing cycle's blocks stand and the
//! resident's recent use; time-of-use bands are already in the site's local clock, so the
//! browser needs no time-zone data.

use super::{
    Utility,
    i18n::Locale,
    tariff::{BandKind, ClockTime, Tariff, preview, units_for},
};
use chrono::{Datelike, Duration, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// How many whole days of use advice looks back over.
pub const LOOK_BACK_DAYS: i64 = 28;
/// Fewer days than this say too little about a household's habits.
pub const MIN_DAYS: usize = 7;
/// The night hours (local) whose quietest one shows what never switches off.
const NIGHT_HOURS: std::ops::Range<usize> = 1..5;
/// A base load under this share of the day's use is normal (a fridge, a router).
const BASE_LOAD_PERCENT: u32 = 30;
/// A week this much above or below the weeks before is worth a word.
const RISE_PERCENT: i64 = 20;
const FALL_PERCENT: i64 = -15;
/// A peak-hour share above this is worth moving.
const PEAK_PERCENT: u32 = 25;
/// What advice prices with: a month of thirty days.
const MONTH_DAYS: i64 = 30;

/// Everything the planner on an account's page needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Planner {
    pub utility: Utility,
    pub balance: Decimal,
    pub days_measured: usize,
    pub advice: Vec<Advice>,
    pub pricing: Pricing,
}

/// What the browser prices previews with, and nothing more: it travels to the page as the
/// planner island's one prop, so the advice stays on the server, which words it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pricing {
    pub unit_of_measure: String,
    pub currency: String,
    /// Digits after the decimal point in the currency.
    pub digits: u32,
    pub tariff: Tariff,
    /// Consumption so far in the billing cycle: previews continue the blocks from here.
    pub cycle_used: Decimal,
    /// Mean consumption per day over the days measured; `None` before a whole day is known.
    pub daily_average: Option<Decimal>,
}

/// One thing the resident could know about their own use.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Advice {
    /// Even the quietest night hour draws `per_hour`: `percent` of the day's use never stops.
    BaseLoad {
        per_hour: Decimal,
        percent: u32,
        monthly_cost: Decimal,
    },
    /// The last week's daily use against the weeks before it, in percent (negative: less).
    Trend {
        percent: i64,
        last_week: Decimal,
        before: Decimal,
    },
    /// `percent` of use falls in the peak band; moving half of it to the cheapest hours
    /// would save `monthly_saving`.
    PeakShare {
        percent: u32,
        from: ClockTime,
        to: ClockTime,
        factor: Decimal,
        monthly_saving: Decimal,
    },
}

impl Advice {
    /// The advice in plain words, with figures in the account's units and currency.
    pub fn text(&self, locale: Locale, uom: &str, currency: &str, digits: u32) -> String {
        let money = |amount: Decimal| locale.money(&fixed(amount, digits), currency);
        let quantity = |amount: Decimal| {
            let amount = amount.round_dp(2).normalize().to_string();
            format!("{} {uom}", locale.number(&amount))
        };
        match self {
            Advice::BaseLoad {
                per_hour,
                percent,
                monthly_cost,
            } => format!(
                "Even at night something keeps using about {} every hour: {percent}% of your \
                 daily use, about {} a month. Look for appliances left on or on stand-by, \
                 a dripping tap or a running toilet.",
                quantity(*per_hour),
                money(*monthly_cost)
            ),
            Advice::Trend {
                percent,
                last_week,
                before,
            } if *percent > 0 => format!(
                "Last week you used {percent}% more a day than in the weeks before \
                 ({} against {}). If nothing changed at home, a leak or a faulty appliance \
                 may be the cause.",
                quantity(*last_week),
                quantity(*before)
            ),
            Advice::Trend {
                percent,
                last_week,
                before,
            } => format!(
                "Well done: last week you used {}% less a day than in the weeks before \
                 ({} against {}).",
                percent.unsigned_abs(),
                quantity(*last_week),
                quantity(*before)
            ),
            Advice::PeakShare {
                percent,
                from,
                to,
                factor,
                monthly_saving,
            } => format!(
                "{percent}% of your use falls in the peak hours ({}–{}), when each unit costs \
                 {}× the base price. Moving half of it to other hours (washing, heating \
                 water, charging) would save about {} a month.",
                String::from(*from),
                String::from(*to),
                factor.normalize(),
                money(*monthly_saving)
            ),
        }
    }
}

impl Pricing {
    /// What `quantity` more would cost now, in the flat band or the one given.
    pub fn cost_of(&self, quantity: Decimal, band: Option<BandKind>) -> Decimal {
        preview(&self.tariff, self.cycle_used, quantity, band)
            .gross()
            .round_dp(self.digits)
    }

    /// How much `amount` of money buys from where the cycle's blocks stand, in normal hours,
    /// before standing charges.
    pub fn buys(&self, amount: Decimal) -> Option<Decimal> {
        let budget = amount.max(Decimal::ZERO);
        let bought = units_for(&self.tariff, self.cycle_used, budget)?;
        Some(bought.round_dp(2))
    }

    /// How many days `amount` lasts at the resident's average daily use, with the standing
    /// charge: the cost of a month of such days, priced by the tariff, spread over the month.
    pub fn days_lasting(&self, amount: Decimal) -> Option<Decimal> {
        let daily = self.daily_average?;
        let month = Decimal::from(MONTH_DAYS);
        let standing = self.tariff.standing_charge_per_day
            + self.tariff.tax_on(self.tariff.standing_charge_per_day);
        let per_day =
            preview(&self.tariff, Decimal::ZERO, daily * month, None).gross() / month + standing;
        if per_day <= Decimal::ZERO || amount <= Decimal::ZERO {
            return None;
        }
        Some((amount / per_day).round_dp(1))
    }

    /// The time-of-use bands a resident can choose from in a preview, dearest first: the
    /// tariff's, and normal hours; none for a tariff without bands.
    pub fn bands(&self) -> Vec<BandKind> {
        let bands = &self.tariff.bands;
        if bands.is_empty() {
            return Vec::new();
        }
        BandKind::ALL
            .into_iter()
            .filter(|kind| *kind == BandKind::Flat || bands.iter().any(|band| band.kind == *kind))
            .collect()
    }
}

/// The advice a household's last days support. `days` holds each whole local day's use per
/// local hour, oldest first, starting on `first`.
pub fn advise(tariff: &Tariff, first: NaiveDate, days: &[[Decimal; 24]]) -> Vec<Advice> {
    if days.len() < MIN_DAYS {
        return Vec::new();
    }
    let totals: Vec<Decimal> = days.iter().map(|hours| hours.iter().sum()).collect();
    let daily = mean(&totals);
    if daily <= Decimal::ZERO {
        return Vec::new();
    }
    [
        base_load(tariff, days, daily),
        trend(&totals),
        peak_share(tariff, first, days, daily),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The median over the days of each night's quietest hour: what runs all the time.
fn base_load(tariff: &Tariff, days: &[[Decimal; 24]], daily: Decimal) -> Option<Advice> {
    let mut quietest: Vec<Decimal> = days
        .iter()
        .filter_map(|hours| hours[NIGHT_HOURS].iter().min().copied())
        .collect();
    quietest.sort();
    let per_hour = quietest[quietest.len() / 2];
    let percent = percent_of(per_hour * Decimal::from(24), daily)?;
    if per_hour <= Decimal::ZERO || percent < BASE_LOAD_PERCENT {
        return None;
    }
    let month = per_hour * Decimal::from(24 * MONTH_DAYS);
    Some(Advice::BaseLoad {
        per_hour,
        percent,
        monthly_cost: preview(tariff, Decimal::ZERO, month, None).gross(),
    })
}

/// The last seven days against the (up to three) weeks before them.
fn trend(totals: &[Decimal]) -> Option<Advice> {
    if totals.len() < 2 * MIN_DAYS {
        return None;
    }
    let (before, last) = totals.split_at(totals.len() - MIN_DAYS);
    let (before, last_week) = (mean(before), mean(last));
    if before <= Decimal::ZERO {
        return None;
    }
    let change = ((last_week - before) * Decimal::ONE_HUNDRED / before).round();
    let percent = i64::try_from(change).ok()?;
    (percent >= RISE_PERCENT || percent <= FALL_PERCENT).then_some(Advice::Trend {
        percent,
        last_week,
        before,
    })
}

/// The share of use in the peak band, and what moving half of it to the cheapest band saves.
fn peak_share(
    tariff: &Tariff,
    first: NaiveDate,
    days: &[[Decimal; 24]],
    daily: Decimal,
) -> Option<Advice> {
    let peak = tariff
        .bands
        .iter()
        .find(|band| band.kind == BandKind::Peak)?;
    let cheapest = tariff
        .bands
        .iter()
        .min_by_key(|band| band.factor)
        .filter(|band| band.factor < Decimal::ONE)
        .map_or(BandKind::Flat, |band| band.kind);
    let mut in_peak = Decimal::ZERO;
    for (offset, hours) in days.iter().enumerate() {
        let weekday = (first + Duration::days(offset as i64)).weekday();
        for (hour, used) in hours.iter().enumerate() {
            // Bands start and end on the clock; an hour counts by where it starts.
            if tariff.band_at(weekday, (hour * 60) as u16).0 == BandKind::Peak {
                in_peak += *used;
            }
        }
    }
    let total = daily * Decimal::from(days.len());
    let percent = percent_of(in_peak, total)?;
    if percent < PEAK_PERCENT {
        return None;
    }
    let moved = in_peak / Decimal::from(days.len()) * Decimal::from(MONTH_DAYS) / Decimal::TWO;
    let at_peak = preview(tariff, Decimal::ZERO, moved, Some(BandKind::Peak)).gross();
    let off_peak = preview(tariff, Decimal::ZERO, moved, Some(cheapest)).gross();
    Some(Advice::PeakShare {
        percent,
        from: peak.from,
        to: peak.to,
        factor: peak.factor,
        monthly_saving: at_peak - off_peak,
    })
}

/// An amount with exactly `digits` decimals, as money is shown.
pub fn fixed(amount: Decimal, digits: u32) -> String {
    let mut amount = amount.round_dp(digits);
    amount.rescale(digits);
    amount.to_string()
}

fn mean(values: &[Decimal]) -> Decimal {
    if values.is_empty() {
        return Decimal::ZERO;
    }
    values.iter().sum::<Decimal>() / Decimal::from(values.len())
}

fn percent_of(part: Decimal, whole: Decimal) -> Option<u32> {
    if whole <= Decimal::ZERO {
        return None;
    }
    u32::try_from((part * Decimal::ONE_HUNDRED / whole).round()).ok()
}

#[cfg(test)]
mod tests;
