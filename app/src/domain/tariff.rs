//! Tariffs and the pricing of consumption: pure, exact, and the same in the browser (bill
//! previews) and on the server (charging).
//!
//! # How a reading interval is priced
//! A meter reports cumulative registers; the consumption between two readings is spread evenly
//! over the time between them. The interval is cut into pieces at every time-of-use band
//! boundary (in the site's local time, so a DST change moves the boundaries with the clock), at
//! every billing-cycle start and at every tariff version change. Each piece gets the share of the
//! consumption proportional to its duration in seconds; the last piece takes what is left, so
//! the pieces always add up to the reading exactly.
//!
//! Within a piece, consumption walks up the tiered blocks of the billing cycle (blocks count the
//! cycle's consumption and reset at the cycle start). **Tiers and bands combine by
//! multiplication:** the unit price of a piece is the rate of its tier times the factor of its
//! band (peak 1.5, valley 0.6, say). A plain time-of-use tariff is one unlimited tier holding the
//! base rate; a plain tiered tariff has no bands (every hour is "flat", factor 1).
//!
//! A monthly package puts its allowance before the tiers: the first `included` units of a cycle
//! cost nothing (all of them when the package is unlimited) and the tiers price what is used
//! beyond it, starting from the first block. Its fee is charged at the cycle start, like the
//! daily standing charge, by the engine's jobs. The maximum-demand charge prices the rise of the
//! cycle's highest average demand (consumption over hours, for intervals of at least
//! [`DEMAND_WINDOW_MINUTES`]) so the cycle's total is its peak demand times the rate.
//! Tax is a percentage of each piece's net amount.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeZone, Timelike, Utc, Weekday,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Demand is measured only over intervals at least this long; shorter ones are too noisy.
pub const DEMAND_WINDOW_MINUTES: i64 = 15;

/// One version of a site's tariff for one utility.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tariff {
    /// Blocks over the billing cycle's consumption, ascending; only the last is unlimited.
    pub tiers: Vec<Tier>,
    /// Time-of-use bands; hours no band covers are "flat" with factor 1.
    #[serde(default)]
    pub bands: Vec<Band>,
    #[serde(default)]
    pub standing_charge_per_day: Decimal,
    /// Per kW of the cycle's peak demand (commercial electricity); zero for most.
    #[serde(default)]
    pub demand_charge_per_kw: Decimal,
    /// Percent, added to every net amount.
    #[serde(default)]
    pub tax_percent: Decimal,
    /// The smallest top-up accepted, in the site's currency.
    #[serde(default)]
    pub min_top_up: Decimal,
    /// The day of the month (1 to 28) a billing cycle starts, at local midnight.
    #[serde(default = "first_day")]
    pub cycle_start_day: u32,
    #[serde(default)]
    pub package: Option<Package>,
}

fn first_day() -> u32 {
    1
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tier {
    /// The cycle consumption this block ends at; `None` for the last, unlimited block.
    pub up_to: Option<Decimal>,
    pub rate: Decimal,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BandKind {
    Peak,
    Shoulder,
    Flat,
    Valley,
}

impl BandKind {
    pub const ALL: [BandKind; 4] = [
        BandKind::Peak,
        BandKind::Shoulder,
        BandKind::Flat,
        BandKind::Valley,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BandKind::Peak => "peak",
            BandKind::Shoulder => "shoulder",
            BandKind::Flat => "flat",
            BandKind::Valley => "valley",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Days {
    All,
    Weekdays,
    Weekends,
}

impl Days {
    fn includes(self, day: Weekday) -> bool {
        let weekend = matches!(day, Weekday::Sat | Weekday::Sun);
        match self {
            Days::All => true,
            Days::Weekdays => !weekend,
            Days::Weekends => weekend,
        }
    }
}

/// A time-of-use band: on the given days (of the local date), from `from` until `to` local
/// time; `to` before `from` runs over midnight. The first band that matches wins.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Band {
    pub kind: BandKind,
    pub days: Days,
    pub from: ClockTime,
    pub to: ClockTime,
    pub factor: Decimal,
}

impl Band {
    fn covers(&self, day: Weekday, minute: u16) -> bool {
        let (from, to) = (self.from.0, self.to.0);
        let in_hours = if from < to {
            (from..to).contains(&minute)
        } else {
            minute >= from || minute < to
        };
        self.days.includes(day) && in_hours
    }
}

/// A time of day to the minute, written `HH:MM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClockTime(u16);

impl ClockTime {
    pub fn new(hour: u16, minute: u16) -> Option<Self> {
        // Lazily: `then_some` would compute the minutes of an hour such as 3422 first, which
        // overflows (found by fuzzing tariff definitions).
        (hour < 24 && minute < 60).then(|| Self(hour * 60 + minute))
    }

    fn naive(self) -> NaiveTime {
        NaiveTime::from_hms_opt(u32::from(self.0 / 60), u32::from(self.0 % 60), 0)
            .expect("a valid clock time")
    }
}

impl TryFrom<String> for ClockTime {
    type Error = TariffError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        let bad = || TariffError::BadClockTime(value.clone());
        let (h, m) = value.trim().split_once(':').ok_or_else(bad)?;
        let hour = h.parse().map_err(|_| bad())?;
        let minute = m.parse().map_err(|_| bad())?;
        ClockTime::new(hour, minute).ok_or_else(bad)
    }
}

impl From<ClockTime> for String {
    fn from(value: ClockTime) -> Self {
        value.to_string()
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

/// A monthly package: a fee at the cycle start buying `included` units, or all use if `None`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Package {
    pub fee: Decimal,
    pub included: Option<Decimal>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TariffError {
    #[error("a tariff needs at least one tier")]
    NoTiers,
    #[error("tier {0}: only the last tier may be unlimited, and it must be")]
    UnlimitedTier(usize),
    #[error("tier {0}: tiers must end at increasing, positive amounts")]
    TierOrder(usize),
    #[error("rates, factors and charges cannot be negative")]
    Negative,
    #[error("tax must be between 0 and 100 percent")]
    Tax,
    #[error("the cycle start day must be between 1 and 28")]
    CycleDay,
    #[error("band {0}: a band must not start and end at the same time")]
    EmptyBand(usize),
    #[error("{0:?} is not a time of day such as 07:30")]
    BadClockTime(String),
    #[error("no tariff is set for this utility")]
    NoTariff,
}

impl Tariff {
    /// A flat rate with nothing else: the simplest tariff.
    pub fn flat(rate: Decimal) -> Self {
        Tariff {
            tiers: vec![Tier { up_to: None, rate }],
            bands: Vec::new(),
            standing_charge_per_day: Decimal::ZERO,
            demand_charge_per_kw: Decimal::ZERO,
            tax_percent: Decimal::ZERO,
            min_top_up: Decimal::ZERO,
            cycle_start_day: 1,
            package: None,
        }
    }

    /// Checks what a parser cannot: the order of tiers, signs, ranges.
    pub fn check(&self) -> Result<(), TariffError> {
        if self.tiers.is_empty() {
            return Err(TariffError::NoTiers);
        }
        let last = self.tiers.len() - 1;
        let mut previous = Decimal::ZERO;
        for (i, tier) in self.tiers.iter().enumerate() {
            match tier.up_to {
                None if i != last => return Err(TariffError::UnlimitedTier(i + 1)),
                Some(_) if i == last => return Err(TariffError::UnlimitedTier(i + 1)),
                Some(end) if end <= previous => return Err(TariffError::TierOrder(i + 1)),
                Some(end) => previous = end,
                None => {}
            }
            if tier.rate.is_sign_negative() {
                return Err(TariffError::Negative);
            }
        }
        for (i, band) in self.bands.iter().enumerate() {
            if band.from == band.to {
                return Err(TariffError::EmptyBand(i + 1));
            }
            if band.factor.is_sign_negative() {
                return Err(TariffError::Negative);
            }
        }
        let package_negative = self.package.as_ref().is_some_and(|p| {
            p.fee.is_sign_negative() || p.included.is_some_and(|i| i.is_sign_negative())
        });
        if self.standing_charge_per_day.is_sign_negative()
            || self.demand_charge_per_kw.is_sign_negative()
            || self.min_top_up.is_sign_negative()
            || package_negative
        {
            return Err(TariffError::Negative);
        }
        if self.tax_percent.is_sign_negative() || self.tax_percent > Decimal::ONE_HUNDRED {
            return Err(TariffError::Tax);
        }
        if !(1..=28).contains(&self.cycle_start_day) {
            return Err(TariffError::CycleDay);
        }
        Ok(())
    }

    pub fn tax_on(&self, net: Decimal) -> Decimal {
        net * self.tax_percent / Decimal::ONE_HUNDRED
    }

    /// The band in force at a local date and time (minutes after midnight).
    pub fn band_at(&self, day: Weekday, minute: u16) -> (BandKind, Decimal) {
        self.bands
            .iter()
            .find(|band| band.covers(day, minute))
            .map_or((BandKind::Flat, Decimal::ONE), |band| {
                (band.kind, band.factor)
            })
    }

    /// Prices `quantity` units used in one band at the cycle position `usage.cycle_used`,
    /// walking up the tiers; adds the pieces to `charge`.
    fn price_in_band(
        &self,
        mut quantity: Decimal,
        band: (BandKind, Decimal),
        usage: &mut Usage,
        charge: &mut Charge,
    ) {
        while quantity > Decimal::ZERO {
            let (take, rate, tier) = self.next_block(quantity, usage.cycle_used);
            let net = take * rate * band.1;
            charge.add(Piece {
                band: band.0,
                tier,
                quantity: take,
                net,
                tax: self.tax_on(net),
            });
            usage.cycle_used += take;
            quantity -= take;
        }
    }

    /// How much of `quantity` the block at cycle position `used` takes, at what rate, and
    /// which tier it is (0 for a package's allowance, 1 for the first tier).
    fn next_block(&self, quantity: Decimal, used: Decimal) -> (Decimal, Decimal, usize) {
        let mut position = used;
        if let Some(package) = &self.package {
            match package.included {
                None => return (quantity, Decimal::ZERO, 0),
                Some(included) if used < included => {
                    return (quantity.min(included - used), Decimal::ZERO, 0);
                }
                Some(included) => position = used - included,
            }
        }
        for (i, tier) in self.tiers.iter().enumerate() {
            match tier.up_to {
                Some(end) if position < end => {
                    return (quantity.min(end - position), tier.rate, i + 1);
                }
                Some(_) => continue,
                None => return (quantity, tier.rate, i + 1),
            }
        }
        unreachable!("a checked tariff ends with an unlimited tier")
    }
}

/// A tariff and the instant it takes effect.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Version {
    pub effective_from: DateTime<Utc>,
    pub tariff: Tariff,
}

/// Where a meter stands in its billing cycle; the engine stores it between readings.
#[derive(Clone, Debug, PartialEq)]
pub struct Usage {
    pub cycle_start: DateTime<Utc>,
    pub cycle_used: Decimal,
    pub max_demand_kw: Decimal,
}

impl Usage {
    pub fn starting_at<Tz: TimeZone>(at: DateTime<Utc>, tz: &Tz, cycle_start_day: u32) -> Self {
        Usage {
            cycle_start: cycle_start_containing(at, tz, cycle_start_day),
            cycle_used: Decimal::ZERO,
            max_demand_kw: Decimal::ZERO,
        }
    }
}

/// One priced part of an interval: a band and a tier.
#[derive(Clone, Debug, PartialEq)]
pub struct Piece {
    pub band: BandKind,
    /// 0 for a package's allowance, otherwise the tier's number from 1.
    pub tier: usize,
    pub quantity: Decimal,
    pub net: Decimal,
    pub tax: Decimal,
}

/// What an interval costs, exactly (rounding happens when it is posted).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Charge {
    pub quantity: Decimal,
    pub net: Decimal,
    pub tax: Decimal,
    pub demand_net: Decimal,
    pub pieces: Vec<Piece>,
}

impl Charge {
    fn add(&mut self, piece: Piece) {
        self.quantity += piece.quantity;
        self.net += piece.net;
        self.tax += piece.tax;
        match self
            .pieces
            .iter_mut()
            .find(|p| p.band == piece.band && p.tier == piece.tier)
        {
            Some(same) => {
                same.quantity += piece.quantity;
                same.net += piece.net;
                same.tax += piece.tax;
            }
            None => self.pieces.push(piece),
        }
    }

    pub fn gross(&self) -> Decimal {
        self.net + self.tax
    }

    /// The quantity used in one band.
    pub fn in_band(&self, band: BandKind) -> Decimal {
        self.pieces
            .iter()
            .filter(|p| p.band == band)
            .map(|p| p.quantity)
            .sum()
    }
}

/// Prices `quantity` units used evenly between `from` and `to` under the tariff versions in
/// force (sorted by `effective_from`; the first also covers anything earlier), in the site's
/// time zone, advancing `usage`.
pub fn price<Tz: TimeZone>(
    versions: &[Version],
    tz: &Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    quantity: Decimal,
    usage: &mut Usage,
) -> Result<Charge, TariffError> {
    let first = versions.first().ok_or(TariffError::NoTariff)?;
    let mut charge = Charge::default();
    if to <= from {
        // All at one instant: no time to spread it over.
        let version = version_at(versions, from).unwrap_or(first);
        roll_cycle(usage, from, tz, version.tariff.cycle_start_day);
        let band = band_now(&version.tariff, tz, from);
        version
            .tariff
            .price_in_band(quantity, band, usage, &mut charge);
        return Ok(charge);
    }
    // Microseconds, so an interval under a second shares by its length too.
    let micros = |span: Duration| Decimal::from(span.num_microseconds().unwrap_or(i64::MAX));
    let total = micros(to - from);
    let mut cursor = from;
    let mut allocated = Decimal::ZERO;
    while cursor < to {
        let (index, version) = versions
            .iter()
            .enumerate()
            .rev()
            .find(|(_, v)| v.effective_from <= cursor)
            .unwrap_or((0, first));
        let tariff = &version.tariff;
        roll_cycle(usage, cursor, tz, tariff.cycle_start_day);
        let mut end = to.min(next_cycle_start(
            usage.cycle_start,
            tz,
            tariff.cycle_start_day,
        ));
        if let Some(next) = versions.get(index + 1) {
            end = end.min(next.effective_from.max(cursor + Duration::seconds(1)));
        }
        if !tariff.bands.is_empty() {
            end = end.min(next_band_change(tariff, tz, cursor));
        }
        let share = if end == to {
            quantity - allocated
        } else {
            quantity * micros(end - cursor) / total
        };
        allocated += share;
        tariff.price_in_band(share, band_now(tariff, tz, cursor), usage, &mut charge);
        cursor = end;
    }
    let last = version_at(versions, to - Duration::seconds(1)).unwrap_or(first);
    add_demand(&last.tariff, from, to, quantity, usage, &mut charge);
    Ok(charge)
}

/// The version in force at `at`, if any took effect by then.
pub fn version_at(versions: &[Version], at: DateTime<Utc>) -> Option<&Version> {
    versions.iter().rev().find(|v| v.effective_from <= at)
}

fn add_demand(
    tariff: &Tariff,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    quantity: Decimal,
    usage: &mut Usage,
    charge: &mut Charge,
) {
    let minutes = (to - from).num_minutes();
    if tariff.demand_charge_per_kw.is_zero() || minutes < DEMAND_WINDOW_MINUTES {
        return;
    }
    let kw = quantity * Decimal::from(60) / Decimal::from(minutes);
    if kw > usage.max_demand_kw {
        let net = (kw - usage.max_demand_kw) * tariff.demand_charge_per_kw;
        usage.max_demand_kw = kw;
        charge.demand_net += net;
        charge.net += net;
        charge.tax += tariff.tax_on(net);
    }
}

/// Starts a new cycle when `at` has passed the end of the current one.
fn roll_cycle<Tz: TimeZone>(usage: &mut Usage, at: DateTime<Utc>, tz: &Tz, day: u32) {
    if at >= next_cycle_start(usage.cycle_start, tz, day) || at < usage.cycle_start {
        *usage = Usage::starting_at(at, tz, day);
    }
}

fn band_now<Tz: TimeZone>(tariff: &Tariff, tz: &Tz, at: DateTime<Utc>) -> (BandKind, Decimal) {
    if tariff.bands.is_empty() {
        return (BandKind::Flat, Decimal::ONE);
    }
    let local = at.with_timezone(tz).naive_local();
    tariff.band_at(local.weekday(), minute_of_day(local))
}

fn minute_of_day(local: NaiveDateTime) -> u16 {
    (local.hour() * 60 + local.minute()) as u16
}

/// The next instant after `at` at which the band might change: a band edge or local midnight
/// (weekday and weekend bands differ), whichever comes first once mapped back to UTC.
fn next_band_change<Tz: TimeZone>(tariff: &Tariff, tz: &Tz, at: DateTime<Utc>) -> DateTime<Utc> {
    let local = at.with_timezone(tz).naive_local();
    let today = local.date();
    let mut candidates: Vec<NaiveDateTime> = Vec::with_capacity(tariff.bands.len() * 4 + 2);
    for day in [today, today + Duration::days(1)] {
        candidates.push(day.and_time(NaiveTime::MIN));
        for band in &tariff.bands {
            candidates.push(day.and_time(band.from.naive()));
            candidates.push(day.and_time(band.to.naive()));
        }
    }
    candidates.push((today + Duration::days(2)).and_time(NaiveTime::MIN));
    candidates.sort_unstable();
    candidates.dedup();
    // When the clock goes back, local order is not time order: compare the UTC instants.
    let next = candidates
        .into_iter()
        .filter(|candidate| *candidate > local - Duration::hours(3))
        .flat_map(|candidate| local_to_utc(tz, candidate))
        .filter(|instant| *instant > at)
        .min()
        .unwrap_or(at + Duration::hours(1));
    // A clock change is a boundary too: going back re-enters hours already passed.
    offset_change(tz, at, next).unwrap_or(next)
}

/// The first instant in `(from, until]` at which the zone's UTC offset differs from that at
/// `from`, found by bisection to the second; `None` when the offset does not change.
fn offset_change<Tz: TimeZone>(
    tz: &Tz,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let offset = |t: DateTime<Utc>| tz.offset_from_utc_datetime(&t.naive_utc()).fix();
    let start = offset(from);
    if offset(until) == start {
        return None;
    }
    let (mut low, mut high) = (from.timestamp(), until.timestamp());
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        let instant = DateTime::from_timestamp(middle, 0)?;
        if offset(instant) == start {
            low = middle;
        } else {
            high = middle;
        }
    }
    DateTime::from_timestamp(high, 0)
}

/// A local wall-clock time as UTC instants: one, two (when the clock goes back) or, in the gap
/// when it goes forward, the first instant after the gap.
fn local_to_utc<Tz: TimeZone>(tz: &Tz, local: NaiveDateTime) -> Vec<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(at) => vec![at.with_timezone(&Utc)],
        LocalResult::Ambiguous(early, late) => {
            vec![early.with_timezone(&Utc), late.with_timezone(&Utc)]
        }
        LocalResult::None => (1..=240)
            .map(|m| local + Duration::minutes(m))
            .find_map(|later| tz.from_local_datetime(&later).earliest())
            .map(|at| vec![at.with_timezone(&Utc)])
            .unwrap_or_default(),
    }
}

/// The instant a local day begins (its first valid local time, across a DST gap).
pub fn local_midnight<Tz: TimeZone>(tz: &Tz, date: NaiveDate) -> DateTime<Utc> {
    local_to_utc(tz, date.and_time(NaiveTime::MIN))
        .into_iter()
        .next()
        .unwrap_or_else(|| date.and_time(NaiveTime::MIN).and_utc())
}

/// The start of the billing cycle that contains `at`: local midnight on the cycle day.
pub fn cycle_start_containing<Tz: TimeZone>(at: DateTime<Utc>, tz: &Tz, day: u32) -> DateTime<Utc> {
    let local = at.with_timezone(tz).naive_local().date();
    let this_month = NaiveDate::from_ymd_opt(local.year(), local.month(), day).unwrap_or(local);
    let start = if local >= this_month {
        this_month
    } else {
        add_months(this_month, -1)
    };
    local_midnight(tz, start)
}

/// The start of the cycle after the one that started at `cycle_start`.
pub fn next_cycle_start<Tz: TimeZone>(
    cycle_start: DateTime<Utc>,
    tz: &Tz,
    day: u32,
) -> DateTime<Utc> {
    let local = cycle_start.with_timezone(tz).naive_local().date();
    let anchor = NaiveDate::from_ymd_opt(local.year(), local.month(), day).unwrap_or(local);
    local_midnight(tz, add_months(anchor, 1))
}

fn add_months(date: NaiveDate, months: i32) -> NaiveDate {
    let index = date.year() * 12 + date.month0() as i32 + months;
    NaiveDate::from_ymd_opt(
        index.div_euclid(12),
        index.rem_euclid(12) as u32 + 1,
        date.day(),
    )
    .unwrap_or(date)
}

/// A bill preview: what `quantity` units cost at once when `cycle_used` have been used this
/// cycle (so the blocks stand where the meter's do), in the flat band (or the given one). For
/// the browser's "what will this much cost".
pub fn preview(
    tariff: &Tariff,
    cycle_used: Decimal,
    quantity: Decimal,
    band: Option<BandKind>,
) -> Charge {
    let factor = band
        .and_then(|kind| tariff.bands.iter().find(|b| b.kind == kind))
        .map_or(Decimal::ONE, |b| b.factor);
    let mut usage = Usage {
        cycle_start: DateTime::<Utc>::MIN_UTC,
        cycle_used,
        max_demand_kw: Decimal::ZERO,
    };
    let mut charge = Charge::default();
    tariff.price_in_band(
        quantity,
        (band.unwrap_or(BandKind::Flat), factor),
        &mut usage,
        &mut charge,
    );
    charge
}

/// How many units a budget (tax included) buys when `cycle_used` have been used this cycle, in
/// the flat band: the inverse of [`preview`], for "how long will this top-up last".
pub fn units_for(tariff: &Tariff, cycle_used: Decimal, budget: Decimal) -> Option<Decimal> {
    let gross_factor = Decimal::ONE + tariff.tax_percent / Decimal::ONE_HUNDRED;
    let mut left = budget / gross_factor;
    let mut used = cycle_used;
    for _ in 0..=tariff.tiers.len() + 1 {
        let room = Decimal::from(1_000_000_000_i64);
        let (take, rate, _) = tariff.next_block(room, used);
        if rate.is_zero() {
            return None; // free use: no limit to what a budget buys
        }
        let afford = left / rate;
        if afford <= take {
            return Some(used + afford - cycle_used);
        }
        used += take;
        left -= take * rate;
    }
    Some(used - cycle_used)
}

pub mod book;
pub mod plan;

pub use plan::Plan;

#[cfg(test)]
mod tests;
