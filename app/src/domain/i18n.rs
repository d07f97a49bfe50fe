//! Languages and how numbers and money are written in them. The strings themselves live in
//! tables next to what uses them (`notices`), keyed by [`Locale`], so adding a language is
//! adding a column; nothing here depends on a locale database, which keeps the browser's
//! bundle small.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A language the platform speaks. Sites name a BCP 47 tag (`en-KE`, `zh-CN`); the language
/// part picks one of these and anything unknown falls back to English.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Locale {
    #[default]
    En,
    /// Kiswahili, for East African sites.
    Sw,
    /// Simplified Chinese.
    Zh,
}

impl Locale {
    pub const ALL: [Locale; 3] = [Locale::En, Locale::Sw, Locale::Zh];

    /// The language of a BCP 47 tag; English when it is not one of ours.
    pub fn from_tag(tag: &str) -> Locale {
        let language = tag
            .split(['-', '_'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match language.as_str() {
            "sw" => Locale::Sw,
            "zh" => Locale::Zh,
            _ => Locale::En,
        }
    }

    /// The exact tag, when it names one of ours; for forms, where a typo must not pass.
    pub fn parse(tag: &str) -> Option<Locale> {
        Locale::ALL
            .into_iter()
            .find(|locale| locale.tag().eq_ignore_ascii_case(tag.trim()))
    }

    pub fn tag(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Sw => "sw",
            Locale::Zh => "zh",
        }
    }

    /// The language's name in itself, for the language chooser.
    pub fn name(self) -> &'static str {
        match self {
            Locale::En => "English",
            Locale::Sw => "Kiswahili",
            Locale::Zh => "中文",
        }
    }

    /// Writes an exact decimal (as `Decimal` prints it: `-1234.50`) with this locale's
    /// grouping of thousands. All three group by three with a comma and use a point.
    pub fn number(self, plain: &str) -> String {
        let (sign, digits) = match plain.strip_prefix('-') {
            Some(rest) => ("-", rest),
            None => ("", plain),
        };
        let (whole, fraction) = match digits.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (digits, None),
        };
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

    /// An amount of money: `KES 1,250.00`; Chinese puts no space after the code.
    pub fn money(self, plain: &str, currency: &str) -> String {
        let number = self.number(plain);
        match self {
            Locale::Zh => format!("{currency}{number}"),
            Locale::En | Locale::Sw => format!("{currency} {number}"),
        }
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_picks_its_language_and_unknown_ones_fall_back_to_english() {
        assert_eq!(Locale::from_tag("en-KE"), Locale::En);
        assert_eq!(Locale::from_tag("sw-KE"), Locale::Sw);
        assert_eq!(Locale::from_tag("zh_CN"), Locale::Zh);
        assert_eq!(Locale::from_tag("ZH-Hans-CN"), Locale::Zh);
        assert_eq!(Locale::from_tag("lv-LV"), Locale::En);
        assert_eq!(Locale::from_tag(""), Locale::En);
        assert_eq!(Locale::parse(" SW "), Some(Locale::Sw));
        assert_eq!(Locale::parse("sw-KE"), None);
    }

    #[test]
    fn numbers_are_grouped_by_thousands_and_keep_their_places() {
        assert_eq!(Locale::En.number("0.50"), "0.50");
        assert_eq!(Locale::En.number("999"), "999");
        assert_eq!(Locale::En.number("1250.00"), "1,250.00");
        assert_eq!(Locale::En.number("-1234567.5"), "-1,234,567.5");
        assert_eq!(Locale::Sw.money("100000", "UGX"), "UGX 100,000");
        assert_eq!(Locale::Zh.money("88.80", "CNY"), "CNY88.80");
    }
}
