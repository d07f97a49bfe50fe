//! Usage over time, as the resident's graphs show it: which buckets a period has (hours of a
//! day, days of a month, months of a year, in the site's local time), the figures in them, the
//! comparisons (the period before, the building's median household), and the geometry of the
//! bar chart drawn as SVG. Pure, so the browser draws what the server computed without a chart
//! library.

use super::Utility;
use super::i18n::{Locale, Words};
use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::{Decimal, prelude::ToPrimitive};
use serde::{Deserialize, Serialize};

/// How much a graph covers, and so what each bar is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Span {
    /// A day, by hour.
    Day,
    /// A month, by day.
    Month,
    /// A year, by month.
    Year,
}

impl Span {
    pub const ALL: [Span; 3] = [Span::Day, Span::Month, Span::Year];

    pub fn as_str(self) -> &'static str {
        match self {
            Span::Day => "day",
            Span::Month => "month",
            Span::Year => "year",
        }
    }

    pub fn parse(raw: &str) -> Option<Span> {
        Span::ALL
            .into_iter()
            .find(|span| span.as_str() == raw.trim())
    }

    pub fn label(self) -> &'static str {
        self.label_in(Locale::En)
    }

    pub fn label_in(self, locale: Locale) -> &'static str {
        let words = match self {
            Span::Day => Words {
                en: "Day",
                sw: "Siku",
                zh: "日",
            },
            Span::Month => Words {
                en: "Month",
                sw: "Mwezi",
                zh: "月",
            },
            Span::Year => Words {
                en: "Year",
                sw: "Mwaka",
                zh: "年",
            },
        };
        words.get(locale)
    }
}

/// A span and a local date inside it: "November 2026", "30 November 2026".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub span: Span,
    pub start: NaiveDate,
}

impl Period {
    /// The period of `span` holding `day`.
    pub fn holding(span: Span, day: NaiveDate) -> Period {
        let start = match span {
            Span::Day => day,
            Span::Month => day.with_day(1).expect("the first exists"),
            Span::Year => NaiveDate::from_ymd_opt(day.year(), 1, 1).expect("1 January exists"),
        };
        Period { span, start }
    }

    /// The first local date after the period.
    pub fn end(self) -> NaiveDate {
        match self.span {
            Span::Day => self.start + chrono::Duration::days(1),
            Span::Month => self.start + Months::new(1),
            Span::Year => self.start + Months::new(12),
        }
    }

    pub fn previous(self) -> Period {
        let start = match self.span {
            Span::Day => self.start - chrono::Duration::days(1),
            Span::Month => self.start - Months::new(1),
            Span::Year => self.start - Months::new(12),
        };
        Period { start, ..self }
    }

    pub fn next(self) -> Period {
        Period {
            start: self.end(),
            ..self
        }
    }

    /// How many bars: 24 hours (a day changing clocks still shows 24, by local hour), the
    /// month's days, or 12 months.
    pub fn buckets(self) -> usize {
        match self.span {
            Span::Day => 24,
            Span::Month => (self.end() - self.start).num_days() as usize,
            Span::Year => 12,
        }
    }

    /// The bar a local date falls in (months and years), if inside the period.
    pub fn bucket_of_day(self, day: NaiveDate) -> Option<usize> {
        if day < self.start || day >= self.end() {
            return None;
        }
        match self.span {
            Span::Day => None,
            Span::Month => Some((day - self.start).num_days() as usize),
            Span::Year => Some(day.month0() as usize),
        }
    }

    /// A bar's label: the hour, the day of the month or the month.
    pub fn label(self, bucket: usize) -> String {
        self.label_in(bucket, Locale::En)
    }

    pub fn label_in(self, bucket: usize, locale: Locale) -> String {
        match self.span {
            Span::Day => format!("{bucket:02}:00"),
            Span::Month => (bucket + 1).to_string(),
            Span::Year => short_month(bucket % 12, locale),
        }
    }

    pub fn title(self) -> String {
        self.title_in(Locale::En)
    }

    /// "30 November 2026", "Novemba 2026", "2026年11月".
    pub fn title_in(self, locale: Locale) -> String {
        let (year, month, day) = (
            self.start.year(),
            self.start.month0() as usize,
            self.start.day(),
        );
        match (self.span, locale) {
            (Span::Year, Locale::Zh) => format!("{year}年"),
            (Span::Year, _) => year.to_string(),
            (Span::Month, _) => month_title(year, month, locale),
            (Span::Day, Locale::Zh) => format!("{year}年{}月{day}日", month + 1),
            (Span::Day, _) => format!("{day} {} {year}", long_month(month, locale)),
        }
    }

    /// For links and forms: the span and the start date.
    pub fn anchor(self) -> String {
        self.start.format("%Y-%m-%d").to_string()
    }
}

/// A month of a year (0 is January): "November 2026", "Novemba 2026", "2026年11月".
pub fn month_title(year: i32, month0: usize, locale: Locale) -> String {
    match locale {
        Locale::Zh => format!("{year}年{}月", month0 + 1),
        Locale::En | Locale::Sw => format!("{} {year}", long_month(month0, locale)),
    }
}

/// A month's name (0 is January), for the languages that spell them out.
fn long_month(month0: usize, locale: Locale) -> &'static str {
    const EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    const SW: [&str; 12] = [
        "Januari", "Februari", "Machi", "Aprili", "Mei", "Juni", "Julai", "Agosti", "Septemba",
        "Oktoba", "Novemba", "Desemba",
    ];
    match locale {
        Locale::Sw => SW[month0 % 12],
        Locale::En | Locale::Zh => EN[month0 % 12],
    }
}

/// A month's short name, under a bar.
fn short_month(month0: usize, locale: Locale) -> String {
    match locale {
        Locale::Zh => format!("{}月", month0 % 12 + 1),
        Locale::En | Locale::Sw => long_month(month0, locale).chars().take(3).collect(),
    }
}

/// What was used in a bar, and what it cost (in the currency, before the ledger's rounding).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub quantity: Decimal,
    pub cost: Decimal,
}

impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, other: Usage) {
        self.quantity += other.quantity;
        self.cost += other.cost;
    }
}

/// Fewer households than this in a comparison would let a neighbour's use be guessed.
pub const MIN_HOUSEHOLDS: usize = 5;

/// One account's usage over a period, with what to compare it to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageChart {
    pub period: Period,
    /// `None` for a wallet paying for several utilities (then quantities are not added up).
    pub utility: Option<Utility>,
    pub unit_of_measure: String,
    pub currency: String,
    pub current: Vec<Usage>,
    /// The period before, bar by bar (as many bars as it has).
    pub previous: Vec<Usage>,
    /// The building's median household over the same period (same utility), when at least
    /// [`MIN_HOUSEHOLDS`] others had any.
    pub median: Option<Usage>,
    pub households: usize,
    /// The account's first local day, when it opened inside or after the period's start
    /// (a resident sees only their own time).
    pub since: Option<NaiveDate>,
    /// Whether the period after this one has begun (the "next" link).
    pub has_next: bool,
}

impl UsageChart {
    pub fn total(&self) -> Usage {
        sum(&self.current)
    }

    pub fn previous_total(&self) -> Usage {
        sum(&self.previous)
    }
}

fn sum(bars: &[Usage]) -> Usage {
    let mut total = Usage::default();
    for bar in bars {
        total += *bar;
    }
    total
}

/// The middle value (the mean of the two middle ones for an even count).
pub fn median(values: &mut [Decimal]) -> Option<Decimal> {
    if values.is_empty() {
        return None;
    }
    values.sort();
    let middle = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[middle - 1] + values[middle]) / Decimal::TWO
    } else {
        values[middle]
    })
}

/// A change between two totals in whole percent, when the earlier one is not zero.
pub fn change_percent(now: Decimal, before: Decimal) -> Option<i64> {
    if before.is_zero() {
        return None;
    }
    ((now - before) * Decimal::ONE_HUNDRED / before)
        .round()
        .to_i64()
}

/// Bars in a chart `width` × `height` (SVG user units) with room for labels below.
#[derive(Clone, Debug, PartialEq)]
pub struct Bars {
    pub bars: Vec<Bar>,
    /// The value at the top of the scale (a round number at or above the highest bar).
    pub top: Decimal,
    /// The baseline's y.
    pub base: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub x: f64,
    pub width: f64,
    pub y: f64,
    pub height: f64,
    /// The same bar of the period before: its top's y, if it had one.
    pub previous_y: Option<f64>,
}

/// Lays `values` (and the period before's, bar by bar) out as bars.
pub fn lay_out(values: &[Decimal], previous: &[Decimal], width: f64, height: f64) -> Bars {
    let highest = values
        .iter()
        .chain(previous)
        .copied()
        .max()
        .unwrap_or_default();
    let top = nice_ceiling(highest);
    let base = height;
    let slot = width / values.len().max(1) as f64;
    let scale = |value: Decimal| {
        if top.is_zero() {
            0.0
        } else {
            (value / top).to_f64().unwrap_or(0.0).clamp(0.0, 1.0) * height
        }
    };
    let bars = values
        .iter()
        .enumerate()
        .map(|(index, value)| {
            let bar_height = scale(*value);
            Bar {
                x: index as f64 * slot + slot * 0.15,
                width: slot * 0.7,
                y: base - bar_height,
                height: bar_height,
                previous_y: previous.get(index).map(|before| base - scale(*before)),
            }
        })
        .collect();
    Bars { bars, top, base }
}

/// The smallest of 1, 2, 2.5 or 5 × 10ⁿ at or above `value` (zero stays zero).
pub fn nice_ceiling(value: Decimal) -> Decimal {
    if value <= Decimal::ZERO {
        return Decimal::ZERO;
    }
    let mut step = Decimal::new(1, 6);
    loop {
        for factor in [
            Decimal::ONE,
            Decimal::TWO,
            Decimal::new(25, 1),
            Decimal::new(5, 0),
        ] {
            if step * factor >= value {
                return (step * factor).normalize();
            }
        }
        step *= Decimal::TEN;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A decimal literal, exactly as written.
    macro_rules! dec {
        ($value:literal) => {
            stringify!($value).parse::<Decimal>().unwrap()
        };
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn periods_start_end_and_step_by_calendar() {
        let month = Period::holding(Span::Month, day(2028, 2, 17));
        assert_eq!(month.start, day(2028, 2, 1));
        assert_eq!(month.end(), day(2028, 3, 1));
        assert_eq!(month.buckets(), 29, "a leap February");
        assert_eq!(month.previous().start, day(2028, 1, 1));
        assert_eq!(month.next().start, day(2028, 3, 1));
        assert_eq!(month.bucket_of_day(day(2028, 2, 29)), Some(28));
        assert_eq!(month.bucket_of_day(day(2028, 3, 1)), None);
        assert_eq!(month.title(), "February 2028");
        let year = Period::holding(Span::Year, day(2026, 11, 30));
        assert_eq!((year.start, year.end()), (day(2026, 1, 1), day(2027, 1, 1)));
        assert_eq!(year.bucket_of_day(day(2026, 11, 30)), Some(10));
        assert_eq!(year.label(10), "Nov");
        let today = Period::holding(Span::Day, day(2026, 3, 29));
        assert_eq!(today.buckets(), 24);
        assert_eq!(today.previous().start, day(2026, 3, 28));
        assert_eq!(today.label(7), "07:00");
        assert_eq!(Span::parse("month"), Some(Span::Month));
        assert_eq!(Span::parse("week"), None);
    }

    #[test]
    fn medians_changes_and_round_scales() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [dec!(3), dec!(1), dec!(2)]), Some(dec!(2)));
        assert_eq!(
            median(&mut [dec!(4), dec!(1), dec!(3), dec!(2)]),
            Some(dec!(2.5))
        );
        assert_eq!(change_percent(dec!(120), dec!(100)), Some(20));
        assert_eq!(change_percent(dec!(50), dec!(0)), None);
        assert_eq!(nice_ceiling(dec!(0)), dec!(0));
        assert_eq!(nice_ceiling(dec!(7.3)), dec!(10));
        assert_eq!(nice_ceiling(dec!(0.42)), dec!(0.5));
        assert_eq!(nice_ceiling(dec!(230)), dec!(250));
        assert_eq!(nice_ceiling(dec!(2000)), dec!(2000));
    }

    #[test]
    fn bars_fit_the_chart_and_the_highest_reaches_at_most_the_top() {
        let values = [dec!(1), dec!(0), dec!(4.5)];
        let bars = lay_out(&values, &[dec!(5)], 300.0, 100.0);
        assert_eq!(bars.top, dec!(5));
        assert_eq!(bars.bars.len(), 3);
        assert!(
            bars.bars
                .iter()
                .all(|bar| bar.y >= 0.0 && bar.y + bar.height <= 100.0 + 1e-9)
        );
        assert!((bars.bars[2].height - 90.0).abs() < 1e-9);
        assert_eq!(bars.bars[1].height, 0.0);
        assert_eq!(bars.bars[0].previous_y, Some(0.0));
        assert_eq!(bars.bars[1].previous_y, None);
        assert!(bars.bars[2].x + bars.bars[2].width <= 300.0);
        let empty = lay_out(&[Decimal::ZERO; 4], &[], 300.0, 100.0);
        assert!(empty.bars.iter().all(|bar| bar.height == 0.0));
    }
}
