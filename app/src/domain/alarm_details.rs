//! What the engine writes about an alarm it raises (how much power, since when). It stores the
//! text in English with its times in UTC, which the API and the audit log give as it is; pages
//! and notices read it back and word it in the reader's language, its times on the site's
//! clock. One type writes and reads the text, so the two cannot drift. A meter's own words
//! about its alarm are kept as the meter sent them.

use super::i18n::{Locale, Words};
use chrono::{DateTime, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlarmDetail {
    /// Water measured in every reading since then, with no quiet interval.
    WaterRunning { since: DateTime<Utc> },
    /// Far more water than usual in the interval ending then.
    WaterBurst { until: DateTime<Utc> },
    /// A burst as stored before its day was written: a time of day in UTC. With no day, it
    /// cannot be put on the site's clock, so it is shown in UTC.
    WaterBurstUtcClock { until: NaiveTime },
    /// Power over the site's limit for long enough.
    Overload {
        kw: Decimal,
        limit_kw: Decimal,
        for_s: i64,
    },
    /// The meter raised it and said nothing more.
    ReportedByMeter,
    /// A meter silent since then.
    Silent { since: DateTime<Utc> },
}

/// Stored times are written to the minute, in UTC.
const MINUTE: &str = "%Y-%m-%d %H:%M UTC";
const CLOCK: &str = "%H:%M UTC";

/// Puts an instant on the site's clock.
pub type SiteClock<'a> = &'a dyn Fn(DateTime<Utc>) -> NaiveDateTime;

impl AlarmDetail {
    /// The words for each detail, `{}` standing for its values in order.
    fn words(self) -> Words {
        match self {
            AlarmDetail::WaterRunning { .. } => Words {
                en: "water running without a break since {}",
                sw: "maji yanatiririka bila kukoma tangu {}",
                zh: "自 {} 起持续用水不断",
            },
            AlarmDetail::WaterBurst { .. } | AlarmDetail::WaterBurstUtcClock { .. } => Words {
                en: "a burst of water up to {}",
                sw: "maji mengi kwa ghafla hadi {}",
                zh: "截至 {} 突发大量用水",
            },
            AlarmDetail::Overload { .. } => Words {
                en: "{} kW, over the {} kW limit for {} s or more",
                sw: "kW {}, juu ya kikomo cha kW {} kwa sekunde {} au zaidi",
                zh: "{} 千瓦，超过 {} 千瓦上限达 {} 秒或更久",
            },
            AlarmDetail::ReportedByMeter => Words {
                en: "reported by the meter",
                sw: "imeripotiwa na mita",
                zh: "由表计报告",
            },
            AlarmDetail::Silent { .. } => Words {
                en: "nothing heard since {}",
                sw: "hakuna kilichosikika tangu {}",
                zh: "自 {} 起未收到任何消息",
            },
        }
    }

    /// The detail's words in `locale`, with `moment` writing each time it names.
    fn fill(self, locale: Locale, moment: &dyn Fn(DateTime<Utc>) -> String) -> String {
        let values = match self {
            AlarmDetail::WaterRunning { since } | AlarmDetail::Silent { since } => {
                vec![moment(since)]
            }
            AlarmDetail::WaterBurst { until } => vec![moment(until)],
            AlarmDetail::WaterBurstUtcClock { until } => vec![until.format(CLOCK).to_string()],
            AlarmDetail::Overload {
                kw,
                limit_kw,
                for_s,
            } => vec![kw.to_string(), limit_kw.to_string(), for_s.to_string()],
            AlarmDetail::ReportedByMeter => Vec::new(),
        };
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        self.words().fill(locale, &values)
    }

    /// The detail for people reading `locale`, its times on the site's clock and written as
    /// the rest of their page writes times.
    pub fn label_in(self, locale: Locale, clock: SiteClock) -> String {
        self.fill(locale, &|at| locale.date_time(clock(at)))
    }

    /// Reads back a detail the engine stored; `None` for text it did not write (a meter's
    /// own words).
    pub fn parse(text: &str) -> Option<Self> {
        let minute = |rest: &str| {
            NaiveDateTime::parse_from_str(rest, MINUTE)
                .ok()
                .map(|at| at.and_utc())
        };
        if text == "reported by the meter" {
            return Some(AlarmDetail::ReportedByMeter);
        }
        if let Some(since) = text.strip_prefix("water running without a break since ") {
            return minute(since).map(|since| AlarmDetail::WaterRunning { since });
        }
        if let Some(since) = text.strip_prefix("nothing heard since ") {
            return minute(since).map(|since| AlarmDetail::Silent { since });
        }
        if let Some(until) = text.strip_prefix("a burst of water up to ") {
            return match minute(until) {
                Some(until) => Some(AlarmDetail::WaterBurst { until }),
                None => NaiveTime::parse_from_str(until, CLOCK)
                    .ok()
                    .map(|until| AlarmDetail::WaterBurstUtcClock { until }),
            };
        }
        let (kw, rest) = text.split_once(" kW, over the ")?;
        let (limit_kw, rest) = rest.split_once(" kW limit for ")?;
        let for_s = rest.strip_suffix(" s or more")?;
        Some(AlarmDetail::Overload {
            kw: kw.parse().ok()?,
            limit_kw: limit_kw.parse().ok()?,
            for_s: for_s.parse().ok()?,
        })
    }

    /// Stored text, a detail the engine wrote, in the reader's words and on the site's
    /// clock; any other text as it is.
    pub fn reword(text: &str, locale: Locale, clock: SiteClock) -> String {
        Self::parse(text).map_or_else(|| text.to_owned(), |detail| detail.label_in(locale, clock))
    }

    /// The moment the detail names, if it names one that can be put on a clock.
    pub fn moment(self) -> Option<DateTime<Utc>> {
        match self {
            AlarmDetail::WaterRunning { since } | AlarmDetail::Silent { since } => Some(since),
            AlarmDetail::WaterBurst { until } => Some(until),
            AlarmDetail::WaterBurstUtcClock { .. }
            | AlarmDetail::Overload { .. }
            | AlarmDetail::ReportedByMeter => None,
        }
    }
}

/// The stored text: English, times in UTC, as the engine writes it.
impl fmt::Display for AlarmDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.fill(Locale::En, &|at| at.format(MINUTE).to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn any_detail() -> impl Strategy<Value = AlarmDetail> {
        // To the minute, as the text keeps it.
        let minute = (0i64..4_000_000_000 / 60)
            .prop_map(|minutes| Utc.timestamp_opt(minutes * 60, 0).single().unwrap());
        let clock =
            (0u32..24, 0u32..60).prop_map(|(h, m)| NaiveTime::from_hms_opt(h, m, 0).unwrap());
        let kw = (0i64..10_000_000, 0u32..=4).prop_map(|(n, scale)| Decimal::new(n, scale));
        prop_oneof![
            minute
                .clone()
                .prop_map(|since| AlarmDetail::WaterRunning { since }),
            minute
                .clone()
                .prop_map(|until| AlarmDetail::WaterBurst { until }),
            clock.prop_map(|until| AlarmDetail::WaterBurstUtcClock { until }),
            (kw.clone(), kw, 0i64..100_000).prop_map(|(kw, limit_kw, for_s)| {
                AlarmDetail::Overload {
                    kw,
                    limit_kw,
                    for_s,
                }
            }),
            Just(AlarmDetail::ReportedByMeter),
            minute.prop_map(|since| AlarmDetail::Silent { since }),
        ]
    }

    proptest! {
        /// What the engine stores reads back as the same detail, so each can be worded in
        /// the reader's language.
        #[test]
        fn every_detail_reads_back_from_what_is_stored(detail in any_detail()) {
            prop_assert_eq!(AlarmDetail::parse(&detail.to_string()), Some(detail));
        }

        /// Each language has the detail's words with all its values in them, its moment on
        /// the site's clock written as pages write times.
        #[test]
        fn every_detail_is_worded_in_every_language(detail in any_detail()) {
            let stored = detail.to_string();
            let nairobi = |at: DateTime<Utc>| at.naive_utc() + chrono::Duration::hours(3);
            for locale in Locale::ALL {
                let label = detail.label_in(locale, &nairobi);
                prop_assert!(!label.contains("{}"), "{}", label);
                if locale != Locale::En {
                    prop_assert_ne!(&label, &stored);
                }
                match detail.moment() {
                    Some(at) => {
                        prop_assert!(label.contains(&locale.date_time(nairobi(at))), "{}", label);
                        prop_assert!(!label.contains("UTC"), "{}", label);
                    }
                    None => {
                        let numbers = stored.split(|c: char| !c.is_ascii_digit() && c != '.');
                        for number in numbers.filter(|n| !n.is_empty()) {
                            prop_assert!(label.contains(number), "{} lost {}", label, number);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn details_stored_before_this_type_read_back() {
        let at = |h, m| Utc.with_ymd_and_hms(2026, 12, 6, h, m, 0).unwrap();
        for (text, detail) in [
            (
                "water running without a break since 2026-12-06 03:00 UTC",
                AlarmDetail::WaterRunning { since: at(3, 0) },
            ),
            (
                "a burst of water up to 2026-12-06 14:45 UTC",
                AlarmDetail::WaterBurst { until: at(14, 45) },
            ),
            (
                "a burst of water up to 14:45 UTC",
                AlarmDetail::WaterBurstUtcClock {
                    until: at(14, 45).time(),
                },
            ),
            (
                "7.5 kW, over the 5 kW limit for 60 s or more",
                AlarmDetail::Overload {
                    kw: Decimal::new(75, 1),
                    limit_kw: Decimal::new(5, 0),
                    for_s: 60,
                },
            ),
            ("reported by the meter", AlarmDetail::ReportedByMeter),
            (
                "nothing heard since 2026-12-06 23:59 UTC",
                AlarmDetail::Silent { since: at(23, 59) },
            ),
        ] {
            assert_eq!(AlarmDetail::parse(text), Some(detail), "{text}");
            assert_eq!(detail.to_string(), text);
        }
    }

    #[test]
    fn a_stored_time_is_shown_on_the_sites_clock_and_an_old_burst_in_utc() {
        let nairobi = |at: DateTime<Utc>| at.naive_utc() + chrono::Duration::hours(3);
        let running = "water running without a break since 2026-12-06 03:00 UTC";
        assert_eq!(
            AlarmDetail::reword(running, Locale::En, &nairobi),
            "water running without a break since 6 Dec 2026, 06:00"
        );
        assert_eq!(
            AlarmDetail::reword(running, Locale::Sw, &nairobi),
            "maji yanatiririka bila kukoma tangu 06/12/2026 06:00"
        );
        assert_eq!(
            AlarmDetail::reword("a burst of water up to 23:45 UTC", Locale::Sw, &nairobi),
            "maji mengi kwa ghafla hadi 23:45 UTC"
        );
    }

    #[test]
    fn a_meters_own_words_stay_as_they_are() {
        let utc = |at: DateTime<Utc>| at.naive_utc();
        for text in [
            "CO sensor 412 ppm",
            "water running without a break since yesterday",
            "kW, over the kW limit for s or more",
            "",
        ] {
            assert_eq!(AlarmDetail::parse(text), None, "{text}");
            assert_eq!(AlarmDetail::reword(text, Locale::Sw, &utc), text);
        }
        assert_eq!(
            AlarmDetail::reword(
                "7.5 kW, over the 5 kW limit for 60 s or more",
                Locale::Sw,
                &utc
            ),
            "kW 7.5, juu ya kikomo cha kW 5 kwa sekunde 60 au zaidi"
        );
    }
}
