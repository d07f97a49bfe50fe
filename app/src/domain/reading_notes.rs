//! Why rating rejected a reading, or did not charge what it measured. Rating stores the note in
//! English, which the readings file and the API give as it is; pages read it back and show it
//! in the reader's language. One type writes and reads the text, so the two cannot drift.

use super::{
    i18n::{Locale, Words},
    site::Utility,
};
use rust_decimal::Decimal;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadingNote {
    /// Taken so far ahead of the server's clock that every later true reading would look late.
    ClockAhead,
    NegativeRegister,
    /// Taken after the meter was taken out of service.
    MeterRemoved,
    /// Lower than the reading before, and not a rollover.
    WentBackwards {
        from: Decimal,
    },
    /// A late reading above the register of the reading after it.
    AboveLater {
        later: Decimal,
    },
    /// Measured on a meter that feeds others, whose use is charged on those.
    BulkMeter,
    NoTariff {
        utility: Utility,
    },
    /// Measured on a keypad-token meter, paid for when the token was sold.
    PaidByToken,
}

impl ReadingNote {
    /// The words for each note, `{}` standing for its register or utility.
    fn words(self) -> Words {
        match self {
            ReadingNote::ClockAhead => Words {
                en: "taken in the future: meter clock ahead",
                sw: "imesomwa wakati ujao: saa ya mita iko mbele",
                zh: "读取时间在未来：表计时钟超前",
            },
            ReadingNote::NegativeRegister => Words {
                en: "negative register",
                sw: "kipimo hasi",
                zh: "表底数为负",
            },
            ReadingNote::MeterRemoved => Words {
                en: "meter removed",
                sw: "mita imeondolewa",
                zh: "表计已拆除",
            },
            ReadingNote::WentBackwards { .. } => Words {
                en: "register went backwards from {}",
                sw: "kipimo kilirudi nyuma kutoka {}",
                zh: "表底数从 {} 倒退",
            },
            ReadingNote::AboveLater { .. } => Words {
                en: "register above the later reading's {}",
                sw: "kipimo kiko juu ya {} ya somo la baadaye",
                zh: "表底数高于之后读数的 {}",
            },
            ReadingNote::BulkMeter => Words {
                en: "bulk meter: charged on its sub-meters",
                sw: "mita kuu: inatozwa kupitia mita zake ndogo",
                zh: "总表：按其下级分表计费",
            },
            ReadingNote::NoTariff { .. } => Words {
                en: "no {} tariff at this site",
                sw: "hakuna ushuru wa {} katika eneo hili",
                zh: "本站点没有{}费率",
            },
            ReadingNote::PaidByToken => Words {
                en: "token meter: paid by token",
                sw: "mita ya tokeni: imelipiwa kwa tokeni",
                zh: "代码表：已通过代码付费",
            },
        }
    }

    /// The note for people reading `locale`.
    pub fn label_in(self, locale: Locale) -> String {
        let value = match self {
            ReadingNote::WentBackwards { from: register }
            | ReadingNote::AboveLater { later: register } => register.to_string(),
            ReadingNote::NoTariff { utility } => match locale {
                // Stored as rating wrote it, in the utility's own lower-case name.
                Locale::En => utility.as_str().to_owned(),
                _ => utility.label_in(locale).to_lowercase(),
            },
            _ => String::new(),
        };
        self.words().fill(locale, &[&value])
    }

    /// Reads back a note rating stored; `None` for text it did not write.
    pub fn parse(text: &str) -> Option<Self> {
        const FIXED: [ReadingNote; 5] = [
            ReadingNote::ClockAhead,
            ReadingNote::NegativeRegister,
            ReadingNote::MeterRemoved,
            ReadingNote::BulkMeter,
            ReadingNote::PaidByToken,
        ];
        if let Some(note) = FIXED.into_iter().find(|note| note.words().en == text) {
            return Some(note);
        }
        let register = |prefix: &str| text.strip_prefix(prefix)?.parse::<Decimal>().ok();
        if let Some(from) = register("register went backwards from ") {
            return Some(ReadingNote::WentBackwards { from });
        }
        if let Some(later) = register("register above the later reading's ") {
            return Some(ReadingNote::AboveLater { later });
        }
        let utility = text
            .strip_prefix("no ")?
            .strip_suffix(" tariff at this site")?;
        // Only the name rating writes, not any spelling `Utility` would accept.
        Utility::ALL
            .into_iter()
            .find(|u| u.as_str() == utility)
            .map(|utility| ReadingNote::NoTariff { utility })
    }
}

/// The stored text: English, as rating writes it.
impl fmt::Display for ReadingNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label_in(Locale::En))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn any_note() -> impl Strategy<Value = ReadingNote> {
        let register = (any::<i64>(), 0u32..=6).prop_map(|(n, scale)| Decimal::new(n, scale));
        let utility = prop::sample::select(Utility::ALL.to_vec());
        prop_oneof![
            Just(ReadingNote::ClockAhead),
            Just(ReadingNote::NegativeRegister),
            Just(ReadingNote::MeterRemoved),
            register
                .clone()
                .prop_map(|from| ReadingNote::WentBackwards { from }),
            register.prop_map(|later| ReadingNote::AboveLater { later }),
            Just(ReadingNote::BulkMeter),
            utility.prop_map(|utility| ReadingNote::NoTariff { utility }),
            Just(ReadingNote::PaidByToken),
        ]
    }

    proptest! {
        /// What rating stores reads back as the same note, so every one stored can be shown
        /// in the reader's language.
        #[test]
        fn every_note_reads_back_from_what_is_stored(note in any_note()) {
            prop_assert_eq!(ReadingNote::parse(&note.to_string()), Some(note));
        }

        /// Each language has the note's words with its value in them.
        #[test]
        fn every_note_is_worded_in_every_language(note in any_note()) {
            for locale in [Locale::En, Locale::Sw, Locale::Zh] {
                let label = note.label_in(locale);
                prop_assert!(!label.is_empty() && !label.contains("{}"), "{}", label);
            }
        }
    }

    #[test]
    fn notes_stored_before_this_type_read_back() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        for (text, note) in [
            (
                "register went backwards from 110",
                ReadingNote::WentBackwards { from: d("110") },
            ),
            (
                "register above the later reading's 12.50",
                ReadingNote::AboveLater { later: d("12.50") },
            ),
            (
                "no water tariff at this site",
                ReadingNote::NoTariff {
                    utility: Utility::Water,
                },
            ),
            (
                "bulk meter: charged on its sub-meters",
                ReadingNote::BulkMeter,
            ),
            ("token meter: paid by token", ReadingNote::PaidByToken),
        ] {
            assert_eq!(ReadingNote::parse(text), Some(note), "{text}");
            assert_eq!(note.to_string(), text);
        }
    }

    #[test]
    fn notes_are_shown_in_the_readers_words() {
        let backwards = ReadingNote::WentBackwards {
            from: "110".parse().unwrap(),
        };
        assert_eq!(
            backwards.label_in(Locale::Sw),
            "kipimo kilirudi nyuma kutoka 110"
        );
        let no_tariff = ReadingNote::NoTariff {
            utility: Utility::Gas,
        };
        assert_eq!(
            no_tariff.label_in(Locale::Sw),
            "hakuna ushuru wa gesi katika eneo hili"
        );
        assert_eq!(no_tariff.label_in(Locale::Zh), "本站点没有燃气费率");
    }

    #[test]
    fn text_rating_did_not_write_is_not_a_note() {
        for text in [
            "",
            "meter removed ",
            "register went backwards from",
            "register went backwards from ten",
            "no Water tariff at this site",
            "no steam tariff at this site",
        ] {
            assert_eq!(ReadingNote::parse(text), None, "{text:?}");
        }
    }
}
