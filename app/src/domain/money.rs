//! Exact money. Amounts are `Decimal` in the rules and integer minor units (cents, santims) in
//! the ledger. A charge is rounded once, when it is posted, and what rounding left over is
//! carried to the next charge, so the sum posted after any number of charges is the sum of the
//! exact amounts rounded once: splitting a charge into many never changes the total.

use super::Currency;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

/// How many decimal places a currency's minor unit has (ISO 4217).
pub fn minor_digits(currency: &Currency) -> u32 {
    match currency.as_str() {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// An amount in a currency's minor unit, as the ledger stores it.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Minor(pub i64);

impl Minor {
    pub const ZERO: Minor = Minor(0);

    pub fn to_decimal(self, digits: u32) -> Decimal {
        Decimal::new(self.0, digits)
    }

    /// The exact amount in minor units; `None` if it has more places than the currency, or is
    /// too large for any account (an amount from outside may be anything: found by fuzzing an
    /// M-Pesa callback whose amount overflowed here).
    pub fn from_decimal(amount: Decimal, digits: u32) -> Option<Minor> {
        let scaled = amount.checked_mul(Decimal::from(10_i64.checked_pow(digits)?))?;
        if !scaled.fract().is_zero() {
            return None;
        }
        i64::try_from(scaled).ok().map(Minor)
    }

    /// Shows the amount with the currency's places, such as `-1234.50`: what a form's field
    /// or a file holds, read back exactly.
    pub fn format(self, digits: u32) -> String {
        format!("{:.*}", digits as usize, self.to_decimal(digits))
    }

    /// Shows the amount for people to read, its thousands grouped: `-1,234.50`.
    pub fn grouped(self, digits: u32) -> String {
        group_thousands(&self.format(digits))
    }
}

/// Groups the thousands of an exact decimal as `Decimal` prints it (`-1234567.5` becomes
/// `-1,234,567.5`). Every language the platform speaks groups by three with a comma and uses a
/// point. Text that is not such a number (a dash for none) comes back as it is.
pub fn group_thousands(plain: &str) -> String {
    let (sign, digits) = match plain.split_at_checked(1) {
        Some((sign @ ("-" | "+"), rest)) => (sign, rest),
        _ => ("", plain),
    };
    let (whole, fraction) = match digits.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (digits, None),
    };
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return plain.to_owned();
    }
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    match fraction {
        Some(fraction) => format!("{sign}{grouped}.{fraction}"),
        None => format!("{sign}{grouped}"),
    }
}

/// Shows an exact amount that may have more places than the currency (a reading's price
/// before the ledger rounds it), for people to read: at least the currency's places, every
/// further place it has, thousands grouped. `1.5` is `1.50`, `0.123456` stays as it is.
pub fn exact_amount(value: Decimal, digits: u32) -> String {
    let mut value = value.normalize();
    if value.scale() < digits {
        value.rescale(digits);
    }
    group_thousands(&value.to_string())
}

/// Shows an exact quantity (a register, a use) for people to read: every place it has and no
/// more, thousands grouped. `1250.50` is `1,250.5`.
pub fn exact_quantity(value: Decimal) -> String {
    exact_amount(value, 0)
}

impl std::ops::Add for Minor {
    type Output = Minor;
    fn add(self, rhs: Minor) -> Minor {
        Minor(self.0 + rhs.0)
    }
}

impl std::ops::Sub for Minor {
    type Output = Minor;
    fn sub(self, rhs: Minor) -> Minor {
        Minor(self.0 - rhs.0)
    }
}

impl std::ops::Neg for Minor {
    type Output = Minor;
    fn neg(self) -> Minor {
        Minor(-self.0)
    }
}

impl fmt::Display for Minor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Posts an exact amount with the remainder carried from earlier charges: returns what to post
/// now, in minor units, and the new remainder (always less than half a minor unit either way).
/// Rounding is to the nearest minor unit with halves rounded up (towards +infinity): unlike
/// ties-to-even it does not depend on what was posted before, which the proof needs:
/// posted so far = round(sum so far), whatever the split.
pub fn post_with_carry(carry: Decimal, exact: Decimal, digits: u32) -> (Minor, Decimal) {
    let total = carry + exact;
    let rounded = round_half_up(total, digits);
    let minor = Minor::from_decimal(rounded, digits).expect("rounded to the currency's places");
    (minor, total - rounded)
}

/// Rounds to `digits` places, halves towards +infinity.
pub fn round_half_up(value: Decimal, digits: u32) -> Decimal {
    let half = Decimal::new(5, digits + 1);
    (value + half).round_dp_with_strategy(digits, RoundingStrategy::ToNegativeInfinity)
}

/// A positive amount typed by a person, such as "250" or "99.50", checked against the
/// currency's places. Parsed at the edge; the rules only ever see valid amounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PositiveAmount(pub Minor);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadAmount {
    #[error("Enter an amount such as 250 or 99.50.")]
    NotANumber,
    #[error("The amount must be more than zero.")]
    NotPositive,
    #[error("The amount has more decimal places than the currency has ({0}).")]
    TooPrecise(u32),
    #[error("The amount is too large.")]
    TooLarge,
}

/// An amount of zero or more, as a form where nothing is a real answer types it ("0",
/// "0.00"); a negative one is refused as not positive.
pub fn zero_or_more(raw: &str, digits: u32) -> Result<Minor, BadAmount> {
    match PositiveAmount::parse(raw, digits) {
        Ok(amount) => Ok(amount.0),
        Err(BadAmount::NotPositive) if !raw.trim().starts_with('-') => Ok(Minor::ZERO),
        Err(error) => Err(error),
    }
}

impl PositiveAmount {
    /// Anything above this is a typing mistake, not a top-up (a trillion minor units).
    const LIMIT: i64 = 1_000_000_000_000;

    pub fn parse(raw: &str, digits: u32) -> Result<Self, BadAmount> {
        let cleaned: String = raw
            .trim()
            .chars()
            .filter(|c| *c != ',' && *c != '_')
            .collect();
        let value = Decimal::from_str(&cleaned).map_err(|_| BadAmount::NotANumber)?;
        if value <= Decimal::ZERO {
            return Err(BadAmount::NotPositive);
        }
        let minor = Minor::from_decimal(value, digits).ok_or(if value.scale() > digits {
            BadAmount::TooPrecise(digits)
        } else {
            BadAmount::TooLarge
        })?;
        if minor.0 > Self::LIMIT {
            return Err(BadAmount::TooLarge);
        }
        Ok(Self(minor))
    }
}

/// A signed amount typed by a person (adjustments go both ways), never zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedAmount(pub Minor);

impl SignedAmount {
    pub fn parse(raw: &str, digits: u32) -> Result<Self, BadAmount> {
        let trimmed = raw.trim();
        match trimmed.strip_prefix('-') {
            Some(rest) => PositiveAmount::parse(rest, digits).map(|a| Self(-a.0)),
            None => {
                PositiveAmount::parse(trimmed.trim_start_matches('+'), digits).map(|a| Self(a.0))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn currencies_have_their_iso_places() {
        assert_eq!(minor_digits(&Currency::parse("KES").unwrap()), 2);
        assert_eq!(minor_digits(&Currency::parse("JPY").unwrap()), 0);
        assert_eq!(minor_digits(&Currency::parse("KWD").unwrap()), 3);
    }

    #[test]
    fn minor_units_convert_exactly() {
        assert_eq!(Minor::from_decimal(dec("12.50"), 2), Some(Minor(1250)));
        assert_eq!(Minor::from_decimal(dec("12.505"), 2), None);
        // Too large for any account, not a panic.
        assert_eq!(Minor::from_decimal(Decimal::MAX, 2), None);
        assert_eq!(Minor::from_decimal(dec("1e20"), 2), None);
        assert_eq!(Minor(-1250).format(2), "-12.50");
        assert_eq!(Minor(7).format(0), "7");
    }

    #[test]
    fn amounts_for_reading_group_their_thousands_and_files_do_not() {
        assert_eq!(Minor(-123_456_789).grouped(2), "-1,234,567.89");
        assert_eq!(Minor(-123_456_789).format(2), "-1234567.89");
        assert_eq!(Minor(100_000).grouped(0), "100,000");
        assert_eq!(Minor(100_000).grouped(3), "100.000");
        assert_eq!(Minor(99_999).grouped(2), "999.99");
        assert_eq!(Minor(-5).grouped(2), "-0.05");
        assert_eq!(group_thousands("+1250.00"), "+1,250.00");
        assert_eq!(group_thousands("+250.00"), "+250.00");
        assert_eq!(group_thousands("—"), "—");
        assert_eq!(group_thousands(""), "");
    }

    #[test]
    fn exact_amounts_show_the_currency_places_and_every_further_one() {
        assert_eq!(exact_amount(dec("1.5"), 2), "1.50");
        assert_eq!(exact_amount(dec("0.123456"), 2), "0.123456");
        assert_eq!(exact_amount(dec("1234567.8910"), 2), "1,234,567.891");
        assert_eq!(exact_amount(dec("-0.5000"), 2), "-0.50");
        assert_eq!(exact_amount(Decimal::ZERO, 3), "0.000");
        assert_eq!(exact_amount(dec("12.00"), 0), "12");
        assert_eq!(exact_quantity(dec("1250.50")), "1,250.5");
        assert_eq!(exact_quantity(dec("-12345.000")), "-12,345");
        assert_eq!(exact_quantity(Decimal::ZERO), "0");
        assert_eq!(
            exact_amount(dec("0.0033333333333333333333333333"), 2).len(),
            30
        );
    }

    proptest! {
        /// What is shown is the amount itself, not a rounding of it.
        #[test]
        fn exact_amounts_read_back_exactly(mantissa in any::<i64>(), scale in 0u32..=12, digits in 0u32..=3) {
            let value = Decimal::new(mantissa, scale);
            let shown = exact_amount(value, digits);
            prop_assert_eq!(Decimal::from_str(&shown.replace(',', "")).unwrap(), value);
            let places = shown.split_once('.').map_or(0, |(_, fraction)| fraction.len());
            prop_assert!(places >= digits as usize);
        }
    }

    proptest! {
        /// Taking the commas out gives back exactly what a file holds.
        #[test]
        fn grouping_only_adds_commas(minor in any::<i64>(), digits in 0u32..=3) {
            let grouped = Minor(minor).grouped(digits);
            prop_assert_eq!(grouped.replace(',', ""), Minor(minor).format(digits));
            let whole = grouped.trim_start_matches('-').split('.').next().unwrap_or_default();
            prop_assert!(whole.split(',').skip(1).all(|group| group.len() == 3));
            prop_assert!(whole.split(',').next().is_some_and(|first| (1..=3).contains(&first.len())));
        }
    }

    #[test]
    fn a_third_of_a_cent_three_times_posts_one_cent() {
        let third = dec("0.0033333333333333333333333333");
        let mut carry = Decimal::ZERO;
        let mut posted = Minor::ZERO;
        for _ in 0..3 {
            let (now, next) = post_with_carry(carry, third, 2);
            posted = posted + now;
            carry = next;
        }
        assert_eq!(posted, Minor(1));
    }

    #[test]
    fn typed_amounts_are_checked_against_the_currency() {
        assert_eq!(
            PositiveAmount::parse("1,000.50", 2),
            Ok(PositiveAmount(Minor(100050)))
        );
        assert_eq!(PositiveAmount::parse("0", 2), Err(BadAmount::NotPositive));
        assert_eq!(
            PositiveAmount::parse("1.005", 2),
            Err(BadAmount::TooPrecise(2))
        );
        assert_eq!(PositiveAmount::parse("ten", 2), Err(BadAmount::NotANumber));
        assert_eq!(PositiveAmount::parse("1e30", 2), Err(BadAmount::NotANumber));
        assert_eq!(SignedAmount::parse("-5", 0), Ok(SignedAmount(Minor(-5))));
    }

    proptest! {
        /// However a sum is split into charges, what is posted is the sum rounded once.
        #[test]
        fn carrying_the_remainder_posts_the_sum_rounded_once(
            parts in proptest::collection::vec(0_i64..10_000_000, 1..40),
            scale in 3_u32..9,
        ) {
            let mut carry = Decimal::ZERO;
            let mut posted = Minor::ZERO;
            let mut exact_sum = Decimal::ZERO;
            for part in parts {
                let exact = Decimal::new(part, scale);
                exact_sum += exact;
                let (now, next) = post_with_carry(carry, exact, 2);
                posted = posted + now;
                carry = next;
                prop_assert!(carry.abs() <= dec("0.005"));
            }
            let once = round_half_up(exact_sum, 2);
            prop_assert_eq!(posted.to_decimal(2), once);
            prop_assert_eq!(posted.to_decimal(2) + carry, exact_sum);
        }
    }
}
