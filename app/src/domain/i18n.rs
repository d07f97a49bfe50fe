//! Languages and how numbers, money, dates and times are written in them. The strings
//! themselves live in tables next to what uses them ([`Words`] in `pages::words`, the notices'
//! in `notices`), one column per [`Locale`], so adding a language is adding a column the
//! compiler asks for everywhere; nothing here depends on a locale database, which keeps the
//! browser's bundle small.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The cookie that remembers a person's language between pages (not a secret: it only picks
/// the words).
pub const LANGUAGE_COOKIE: &str = "prepaid_lang";

/// One piece of the interface in every language. `{}` marks where [`Words::fill`] puts values,
/// in order.
#[derive(Clone, Copy, Debug)]
pub struct Words {
    pub en: &'static str,
    pub sw: &'static str,
    pub zh: &'static str,
}

impl Words {
    pub fn get(&self, locale: Locale) -> &'static str {
        match locale {
            Locale::En => self.en,
            Locale::Sw => self.sw,
            Locale::Zh => self.zh,
        }
    }

    /// The words with each `{}` replaced by the next value; extra values are ignored and
    /// missing ones leave their `{}` (a slip the tests of each table catch).
    pub fn fill(&self, locale: Locale, values: &[&str]) -> String {
        let mut out = String::new();
        let mut values = values.iter();
        let mut rest = self.get(locale);
        while let Some(at) = rest.find("{}") {
            out.push_str(&rest[..at]);
            match values.next() {
                Some(value) => out.push_str(value),
                None => out.push_str("{}"),
            }
            rest = &rest[at + 2..];
        }
        out.push_str(rest);
        out
    }
}

/// How many `{}` a text has; the `words!` macro checks at compile time that every language
/// of an entry has as many, so a translation cannot drop or add a value.
pub const fn placeholders(text: &str) -> usize {
    let bytes = text.as_bytes();
    let (mut at, mut count) = (0, 0);
    while at + 1 < bytes.len() {
        if bytes[at] == b'{' && bytes[at + 1] == b'}' {
            count += 1;
            at += 2;
        } else {
            at += 1;
        }
    }
    count
}

/// Declares [`Words`] constants: `NAME = "English" / "Kiswahili" / "中文";`. An entry whose
/// languages have different numbers of `{}` does not compile.
#[macro_export]
macro_rules! words {
    ($($(#[$meta:meta])* $name:ident = $en:literal / $sw:literal / $zh:literal;)*) => {
        $(
            $(#[$meta])* pub const $name: $crate::domain::i18n::Words =
                $crate::domain::i18n::Words { en: $en, sw: $sw, zh: $zh };
            const _: () = assert!(
                $crate::domain::i18n::placeholders($en) == $crate::domain::i18n::placeholders($sw)
                    && $crate::domain::i18n::placeholders($en)
                        == $crate::domain::i18n::placeholders($zh),
                concat!("the languages of ", stringify!($name), " fill in different numbers of values")
            );
        )*
    };
}

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

    /// The language a `Cookie` header's [`LANGUAGE_COOKIE`] names, if it names one of ours.
    pub fn from_cookies(header: &str) -> Option<Locale> {
        header
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == LANGUAGE_COOKIE)
            .and_then(|(_, value)| Locale::parse(value))
    }

    /// The first of ours among the languages an `Accept-Language` header lists, in the order
    /// of their weights (`zh-CN,zh;q=0.9,en;q=0.8`).
    pub fn from_accept_language(header: &str) -> Option<Locale> {
        let mut wanted: Vec<(u16, &str)> = header
            .split(',')
            .filter_map(|item| {
                let mut parts = item.split(';');
                let tag = parts.next()?.trim();
                let weight = parts
                    .find_map(|part| part.trim().strip_prefix("q="))
                    .map_or(Some(1000), |q| {
                        q.trim()
                            .parse::<f32>()
                            .ok()
                            .map(|q| (q.clamp(0.0, 1.0) * 1000.0) as u16)
                    })?;
                (weight > 0 && !tag.is_empty()).then_some((weight, tag))
            })
            .collect();
        // Stable: equal weights keep the browser's order.
        wanted.sort_by_key(|wanted| std::cmp::Reverse(wanted.0));
        wanted.into_iter().find_map(|(_, tag)| {
            let language = tag.split(['-', '_']).next().unwrap_or_default();
            Locale::ALL
                .into_iter()
                .find(|locale| locale.tag().eq_ignore_ascii_case(language))
        })
    }

    /// A calendar day: `30 Nov 2026`, `30/11/2026`, `2026年11月30日`.
    pub fn date(self, day: NaiveDate) -> String {
        match self {
            Locale::En => day.format("%-d %b %Y").to_string(),
            Locale::Sw => day.format("%d/%m/%Y").to_string(),
            Locale::Zh => day.format("%Y年%-m月%-d日").to_string(),
        }
    }

    /// A day and a time of day, on a 24-hour clock in all three.
    pub fn date_time(self, at: NaiveDateTime) -> String {
        let time = at.format("%H:%M");
        match self {
            Locale::En => format!("{}, {time}", self.date(at.date())),
            Locale::Sw | Locale::Zh => format!("{} {time}", self.date(at.date())),
        }
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
        super::money::group_thousands(plain)
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

    #[test]
    fn the_cookie_then_the_browser_picks_the_language() {
        assert_eq!(
            Locale::from_cookies("a=1; prepaid_lang=zh; b=2"),
            Some(Locale::Zh)
        );
        assert_eq!(Locale::from_cookies("prepaid_lang=xx"), None);
        assert_eq!(Locale::from_cookies("other_lang=sw"), None);
        assert_eq!(
            Locale::from_accept_language("fr-FR,zh-CN;q=0.8,sw;q=0.9"),
            Some(Locale::Sw)
        );
        assert_eq!(
            Locale::from_accept_language("zh-Hans-CN, en"),
            Some(Locale::Zh)
        );
        assert_eq!(
            Locale::from_accept_language("sw;q=0, en;q=0.1"),
            Some(Locale::En)
        );
        assert_eq!(Locale::from_accept_language("fr, de;q=x"), None);
        assert_eq!(Locale::from_accept_language(""), None);
    }

    #[test]
    fn dates_are_written_the_locale_s_way() {
        let at = NaiveDate::from_ymd_opt(2026, 3, 7)
            .unwrap()
            .and_hms_opt(9, 5, 0)
            .unwrap();
        assert_eq!(Locale::En.date_time(at), "7 Mar 2026, 09:05");
        assert_eq!(Locale::Sw.date_time(at), "07/03/2026 09:05");
        assert_eq!(Locale::Zh.date_time(at), "2026年3月7日 09:05");
    }

    #[test]
    fn placeholders_are_counted() {
        assert_eq!(placeholders("{} of {}"), 2);
        assert_eq!(placeholders("{}/{}。"), 2);
        assert_eq!(placeholders("no values {"), 0);
        assert_eq!(placeholders("{{}"), 1);
    }

    #[test]
    fn words_are_filled_in_order() {
        let words = Words {
            en: "{} of {}",
            sw: "{} kati ya {}",
            zh: "{}/{}",
        };
        assert_eq!(words.fill(Locale::En, &["3", "9"]), "3 of 9");
        assert_eq!(words.fill(Locale::Sw, &["3", "9"]), "3 kati ya 9");
        assert_eq!(words.fill(Locale::Zh, &["3"]), "3/{}");
    }
}
