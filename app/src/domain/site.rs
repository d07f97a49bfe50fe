//! The vocabulary of the site model: utilities, currencies and meter multipliers.

use super::i18n::{Locale, Words};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

/// What a meter measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Utility {
    Electricity,
    Water,
    Gas,
}

impl Utility {
    pub const ALL: [Utility; 3] = [Utility::Electricity, Utility::Water, Utility::Gas];

    pub fn as_str(self) -> &'static str {
        match self {
            Utility::Electricity => "electricity",
            Utility::Water => "water",
            Utility::Gas => "gas",
        }
    }

    /// The unit a meter of this utility reports its register in, unless configured otherwise.
    pub fn default_unit_of_measure(self) -> &'static str {
        match self {
            Utility::Electricity => "kWh",
            Utility::Water | Utility::Gas => "m3",
        }
    }

    pub fn label(self) -> &'static str {
        self.label_in(Locale::En)
    }

    pub fn label_in(self, locale: Locale) -> &'static str {
        let words = match self {
            Utility::Electricity => Words {
                en: "Electricity",
                sw: "Umeme",
                zh: "电",
            },
            Utility::Water => Words {
                en: "Water",
                sw: "Maji",
                zh: "水",
            },
            Utility::Gas => Words {
                en: "Gas",
                sw: "Gesi",
                zh: "燃气",
            },
        };
        words.get(locale)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown utility {0:?}: expected electricity, water or gas")]
pub struct UnknownUtility(pub String);

impl FromStr for Utility {
    type Err = UnknownUtility;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "electricity" => Ok(Utility::Electricity),
            "water" => Ok(Utility::Water),
            "gas" => Ok(Utility::Gas),
            _ => Err(UnknownUtility(s.to_owned())),
        }
    }
}

impl fmt::Display for Utility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An ISO 4217 currency code such as `KES`, `CNY` or `EUR`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(String);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a currency is a three-letter ISO 4217 code such as EUR, got {0:?}")]
pub struct BadCurrency(pub String);

impl Currency {
    pub fn parse(raw: &str) -> Result<Self, BadCurrency> {
        let code = raw.trim();
        if code.len() == 3 && code.chars().all(|c| c.is_ascii_alphabetic()) {
            Ok(Self(code.to_ascii_uppercase()))
        } else {
            Err(BadCurrency(raw.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Currency {
    type Error = BadCurrency;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> Self {
        value.0
    }
}

/// The factor between what a meter's register shows and what was consumed: 1 for direct
/// meters, the current-transformer ratio (for example 200/5 = 40) for CT-connected ones.
/// Exact, never a float; stored as text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Multiplier(Decimal);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a meter multiplier is a positive number such as 1 or 40, got {0:?}")]
pub struct BadMultiplier(pub String);

impl Multiplier {
    pub const ONE: Multiplier = Multiplier(Decimal::ONE);

    pub fn parse(raw: &str) -> Result<Self, BadMultiplier> {
        let value = Decimal::from_str(raw.trim()).map_err(|_| BadMultiplier(raw.to_owned()))?;
        if value > Decimal::ZERO {
            Ok(Self(value.normalize()))
        } else {
            Err(BadMultiplier(raw.to_owned()))
        }
    }

    pub fn value(self) -> Decimal {
        self.0
    }
}

impl TryFrom<String> for Multiplier {
    type Error = BadMultiplier;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Multiplier> for String {
    fn from(value: Multiplier) -> Self {
        value.0.to_string()
    }
}

impl fmt::Display for Multiplier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utilities_round_trip_through_their_names() {
        for utility in Utility::ALL {
            assert_eq!(utility.as_str().parse::<Utility>().unwrap(), utility);
        }
        assert!("steam".parse::<Utility>().is_err());
    }

    #[test]
    fn currencies_are_three_letters_upper_cased() {
        assert_eq!(Currency::parse("kes").unwrap().as_str(), "KES");
        assert!(Currency::parse("EURO").is_err());
        assert!(Currency::parse("E1R").is_err());
    }

    #[test]
    fn multipliers_are_exact_and_positive() {
        assert_eq!(Multiplier::parse("40.0").unwrap().to_string(), "40");
        assert_eq!(
            Multiplier::parse("0.1").unwrap().value(),
            Decimal::new(1, 1)
        );
        assert!(Multiplier::parse("0").is_err());
        assert!(Multiplier::parse("-2").is_err());
        assert!(Multiplier::parse("forty").is_err());
    }
}
