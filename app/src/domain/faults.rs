//! Faults residents report from their account page, for the managers of their site: what
//! kind, in their words, and what the site did about it.

use super::i18n::{Locale, Words};
use serde::{Deserialize, Serialize};

/// The most a report says; longer is a paste gone wrong.
pub const MAX_DETAILS: usize = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Supply is off although there is credit.
    NoSupply,
    /// The meter's display, keypad or readings look wrong.
    Meter,
    /// Water or gas escaping, a smell of gas.
    Leak,
    /// A charge or a payment the resident questions.
    Billing,
    Other,
}

impl FaultKind {
    pub const ALL: [FaultKind; 5] = [
        FaultKind::NoSupply,
        FaultKind::Meter,
        FaultKind::Leak,
        FaultKind::Billing,
        FaultKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::NoSupply => "no_supply",
            FaultKind::Meter => "meter",
            FaultKind::Leak => "leak",
            FaultKind::Billing => "billing",
            FaultKind::Other => "other",
        }
    }

    pub fn parse(raw: &str) -> Option<FaultKind> {
        FaultKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == raw.trim())
    }

    pub fn label(self) -> &'static str {
        self.label_in(Locale::En)
    }

    pub fn label_in(self, locale: Locale) -> &'static str {
        let words = match self {
            FaultKind::NoSupply => Words {
                en: "No supply although I have credit",
                sw: "Hakuna huduma ingawa nina salio",
                zh: "有余额但没有供应",
            },
            FaultKind::Meter => Words {
                en: "The meter looks wrong",
                sw: "Mita inaonekana kuwa na hitilafu",
                zh: "表计看起来不对",
            },
            FaultKind::Leak => Words {
                en: "A leak (water or gas)",
                sw: "Uvujaji (maji au gesi)",
                zh: "泄漏（水或燃气）",
            },
            FaultKind::Billing => Words {
                en: "A charge or payment I question",
                sw: "Gharama au malipo ninayohoji",
                zh: "对收费或付款有疑问",
            },
            FaultKind::Other => Words {
                en: "Something else",
                sw: "Jambo lingine",
                zh: "其他问题",
            },
        };
        words.get(locale)
    }
}

/// A report as the form sent it, checked: a known kind and some words, not too many.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultReport {
    pub kind: FaultKind,
    pub details: String,
}

impl FaultReport {
    pub fn parse(kind: &str, details: &str) -> Result<FaultReport, &'static str> {
        let kind = FaultKind::parse(kind).ok_or("Choose what kind of fault it is.")?;
        let details = details.trim();
        if details.is_empty() {
            return Err("Say in a few words what is wrong.");
        }
        if details.chars().count() > MAX_DETAILS {
            return Err("Please keep it under 1,000 characters.");
        }
        Ok(FaultReport {
            kind,
            details: details.to_owned(),
        })
    }
}

/// A report as managers and its reporter see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultView {
    pub id: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// "Building · Unit"
    pub place: String,
    pub account: i64,
    pub kind: FaultKind,
    pub details: String,
    pub reporter: String,
    pub closed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub closing_note: Option<String>,
    /// `created_at` and `closed_at` on the site's clock (`2026-11-30 16:39`), written by the
    /// server, which has the time-zone data.
    pub created_local: chrono::NaiveDateTime,
    pub closed_local: Option<chrono::NaiveDateTime>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_needs_a_known_kind_and_some_words_not_too_many() {
        assert_eq!(
            FaultReport::parse("leak", "  Water under the sink  "),
            Ok(FaultReport {
                kind: FaultKind::Leak,
                details: "Water under the sink".into()
            })
        );
        assert!(FaultReport::parse("fire", "Smoke").is_err());
        assert!(FaultReport::parse("meter", "   ").is_err());
        assert!(FaultReport::parse("other", &"ü".repeat(MAX_DETAILS)).is_ok());
        assert!(FaultReport::parse("other", &"x".repeat(MAX_DETAILS + 1)).is_err());
    }
}
