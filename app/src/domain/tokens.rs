//! Selling credit to a meter that keeps its own: how many units a payment buys as one token,
//! and what exactly that costs. The same rule runs on the server when it sells and could run
//! in the browser to preview a sale.
//!
//! A token carries a whole number of steps (0.1 kWh, say) up to the most its format can
//! carry. The units are what the tariff gives for the money, rounded down to a step; the
//! price is what the tariff charges for exactly those units, so the resident never pays for a
//! part of a step they do not get. What is left over stays as credit for the next token.

use super::{
    Minor,
    money::round_half_up,
    tariff::{Tariff, preview, units_for},
};
use chrono::{DateTime, Utc};
use rust_decimal::{Decimal, prelude::ToPrimitive};
use serde::{Deserialize, Serialize};

/// One token's worth of a sale.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sale {
    /// Units the token carries, in the meter's unit.
    pub units: Decimal,
    /// The whole number of steps the token encodes.
    pub value: u32,
    pub net: Minor,
    pub tax: Minor,
}

impl Sale {
    pub fn total(&self) -> Minor {
        Minor(self.net.0 + self.tax.0)
    }
}

/// What `budget` buys as one token of steps of `step` units, at most `max_value` steps, when
/// `cycle_sold` units were already sold this cycle (so tiered blocks stand where they are).
/// `None` when the budget does not reach one step.
pub fn sell(
    tariff: &Tariff,
    cycle_sold: Decimal,
    budget: Minor,
    digits: u32,
    step: Decimal,
    max_value: u32,
) -> Option<Sale> {
    if step <= Decimal::ZERO || budget <= Minor::ZERO {
        return None;
    }
    let max = Decimal::from(max_value);
    let steps = units_for(tariff, cycle_sold, budget.to_decimal(digits))
        .map_or(max, |units| (units / step).floor().min(max));
    let mut value = steps.to_u32().unwrap_or(0);
    // The inverse of the tariff is computed in decimals and may land a hair under a whole
    // step that the budget exactly buys: step up while the next one still fits.
    while value < max_value && priced(tariff, cycle_sold, digits, step, value + 1).total() <= budget
    {
        value += 1;
    }
    // Rounding each of net and tax to the currency may pass the budget by a minor unit or
    // two: step back until it fits.
    while value > 0 {
        let sale = priced(tariff, cycle_sold, digits, step, value);
        if sale.total() <= budget {
            return Some(sale);
        }
        value -= 1;
    }
    None
}

fn priced(tariff: &Tariff, cycle_sold: Decimal, digits: u32, step: Decimal, value: u32) -> Sale {
    let units = step * Decimal::from(value);
    let charge = preview(tariff, cycle_sold, units, None);
    let net = Minor::from_decimal(round_half_up(charge.net, digits), digits).unwrap_or(Minor::ZERO);
    let tax = Minor::from_decimal(round_half_up(charge.tax, digits), digits).unwrap_or(Minor::ZERO);
    Sale {
        units: units.normalize(),
        value,
        net,
        tax,
    }
}

/// A token's digits in groups a person can read out and type: fours for 20 digits (STS and
/// extended four-key tokens), threes otherwise.
pub fn grouped(digits: &str) -> String {
    let size = if digits.len() == 20 { 4 } else { 3 };
    digits
        .as_bytes()
        .chunks(size)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// One token as residents and staff see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenView {
    pub public_id: String,
    /// credit, set_credit, clear_credit, disable_payg, counter_sync
    pub kind: String,
    /// With the meter's unit, as "61.5 kWh".
    pub units: Option<String>,
    pub amount_minor: Option<i64>,
    /// awaiting_approval, pending, issued, failed
    pub status: String,
    /// Grouped for reading out; once issued.
    pub digits: Option<String>,
    pub failure: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When it was made, on the site's clock.
    pub created_local: chrono::NaiveDateTime,
}

/// How a keypad meter is set up, for its staff page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenMeterView {
    pub vendor: String,
    pub extended: bool,
    pub restricted: bool,
    pub value_step: String,
    pub last_count: i64,
}

/// A meter's token set-up (none: switched through the network) and its tokens.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeterTokens {
    pub setup: Option<TokenMeterView>,
    pub tokens: Vec<TokenView>,
}

/// A keypad meter's set-up as a manager asks for it, parsed at the edge.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSetup {
    pub vendor: String,
    /// `None`: generate a key (OpenPAYGO); shown once.
    pub key: Option<(String, u32)>,
    pub extended: bool,
    pub restricted: bool,
    pub value_step: Decimal,
}

impl TokenSetup {
    pub fn parse(
        vendor: &str,
        key: &str,
        starting_code: &str,
        extended: bool,
        restricted: bool,
        value_step: &str,
    ) -> Result<Self, String> {
        let vendor = match vendor.trim() {
            "openpaygo" | "sts" => vendor.trim().to_owned(),
            _ => return Err("Choose OpenPAYGO or an STS vending service.".into()),
        };
        let value_step: Decimal = value_step
            .trim()
            .parse()
            .ok()
            .filter(|step: &Decimal| *step > Decimal::ZERO && *step <= Decimal::from(1000))
            .ok_or("The value step is a positive number of units, like 0.1.")?;
        let key = key.trim();
        let key = match (vendor.as_str(), key.is_empty()) {
            ("openpaygo", false) => {
                if key.len() != 32 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err("A device key is 32 hexadecimal characters.".into());
                }
                let code: u32 = starting_code
                    .trim()
                    .parse()
                    .ok()
                    .filter(|code| *code <= 999_999_999)
                    .ok_or("The starting code is the device's number of up to nine digits.")?;
                Some((key.to_ascii_lowercase(), code))
            }
            _ => None,
        };
        Ok(Self {
            vendor,
            key,
            extended,
            restricted,
            value_step,
        })
    }
}

impl std::fmt::Debug for TokenSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSetup")
            .field("vendor", &self.vendor)
            .field("value_step", &self.value_step)
            .finish_non_exhaustive()
    }
}

/// A new key and starting code, shown once to be programmed into the device.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDeviceKey {
    pub key_hex: String,
    pub starting_code: u32,
}

impl std::fmt::Debug for NewDeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewDeviceKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::tariff::Tier;
    use proptest::prelude::*;

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn flat(rate: &str, tax: &str) -> Tariff {
        let mut tariff = Tariff::flat(rate.parse().unwrap());
        tariff.tax_percent = tax.parse().unwrap();
        tariff
    }

    #[test]
    fn a_budget_buys_whole_steps_and_pays_only_for_them() {
        // 14.00 a unit plus 16% tax: 1,000.00 buys 61.58 units, so 61.5 in steps of 0.1.
        let sale = sell(
            &flat("14", "16"),
            dec("0"),
            Minor(100_000),
            2,
            dec("0.1"),
            995,
        )
        .unwrap();
        assert_eq!(sale.value, 615);
        assert_eq!(sale.units, dec("61.5"));
        assert_eq!(sale.net, Minor(86_100));
        assert_eq!(sale.tax, Minor(13_776));
        assert!(sale.total() <= Minor(100_000));
    }

    #[test]
    fn a_token_carries_no_more_than_its_format() {
        let sale = sell(
            &flat("1", "0"),
            dec("0"),
            Minor(1_000_000),
            2,
            dec("0.1"),
            995,
        )
        .unwrap();
        assert_eq!(sale.value, 995);
        assert_eq!(sale.total(), Minor(9_950));
        assert_eq!(
            sell(&flat("14", "0"), dec("0"), Minor(100), 2, dec("0.1"), 995),
            None
        );
    }

    #[test]
    fn blocks_count_what_was_already_sold() {
        let mut tariff = flat("10", "0");
        tariff.tiers = vec![Tier {
            up_to: Some(dec("50")),
            rate: dec("10"),
        }];
        tariff.tiers.push(Tier {
            up_to: None,
            rate: dec("20"),
        });
        let early = sell(&tariff, dec("0"), Minor(10_000), 2, dec("1"), 995).unwrap();
        let late = sell(&tariff, dec("50"), Minor(10_000), 2, dec("1"), 995).unwrap();
        assert_eq!(early.value, 10);
        assert_eq!(late.value, 5);
    }

    #[test]
    fn a_setup_is_checked_before_it_reaches_the_engine() {
        let given = TokenSetup::parse(
            "openpaygo",
            "BC41EC9530F6DAC86B1A29AB82EDC5FB",
            "516959010",
            false,
            true,
            "0.1",
        )
        .unwrap();
        assert_eq!(
            given.key,
            Some(("bc41ec9530f6dac86b1a29ab82edc5fb".into(), 516_959_010))
        );
        assert!(
            !format!("{given:?}").contains("bc41"),
            "the key never prints"
        );
        assert!(
            TokenSetup::parse("openpaygo", "", "", false, false, "1")
                .unwrap()
                .key
                .is_none()
        );
        assert!(TokenSetup::parse("openpaygo", "abc", "1", false, false, "1").is_err());
        assert!(
            TokenSetup::parse(
                "openpaygo",
                &"a".repeat(32),
                "1000000000",
                false,
                false,
                "1"
            )
            .is_err()
        );
        assert!(TokenSetup::parse("sts", "", "", false, false, "0").is_err());
        assert!(TokenSetup::parse("magic", "", "", false, false, "1").is_err());
    }

    #[test]
    fn digits_are_grouped_for_reading_out() {
        assert_eq!(grouped("588224011"), "588 224 011");
        assert_eq!(grouped("14323213131442331314"), "1432 3213 1314 4233 1314");
        assert_eq!(grouped("247264959011"), "247 264 959 011");
    }

    proptest! {
        #[test]
        fn a_sale_never_costs_more_than_the_budget(
            cents in 1i64..5_000_000,
            rate in 1u32..50_000,
            tax in 0u32..30,
            sold in 0u32..500,
            step in prop::sample::select(vec!["0.01", "0.1", "1"]),
        ) {
            let tariff = flat(&Decimal::new(rate.into(), 3).to_string(), &tax.to_string());
            let step: Decimal = step.parse().unwrap();
            if let Some(sale) = sell(&tariff, Decimal::from(sold), Minor(cents), 2, step, 995) {
                prop_assert!(sale.total() <= Minor(cents));
                prop_assert!(sale.value >= 1 && sale.value <= 995);
                prop_assert_eq!(sale.units, (step * Decimal::from(sale.value)).normalize());
                // One more step would not have fitted (unless the format stopped it).
                if sale.value < 995 {
                    let more = priced(&tariff, Decimal::from(sold), 2, step, sale.value + 1);
                    prop_assert!(more.total() > Minor(cents) || more.total() == sale.total());
                }
            }
        }
    }
}
