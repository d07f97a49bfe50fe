//! A site as the organisation's admins create it and its managers keep it: its name, clock,
//! currency and language, and its supply rules (warning levels, emergency credit, friendly
//! hours, top-up limits), each read from its form here, at the edge.

use super::{
    Minor, ids::SiteId, money::zero_or_more, site::Currency, site_sheet::capitalised,
    supply::SupplyPolicy,
};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The most warning levels a site sets.
pub const MAX_WARNING_LEVELS: usize = 5;
/// The most holidays listed at once.
pub const MAX_HOLIDAYS: usize = 60;

/// A site as the form that creates it sends it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSite {
    pub name: String,
    /// An IANA zone such as `Africa/Nairobi`: the site's local days and friendly hours.
    pub time_zone: String,
    pub currency: Currency,
    /// A BCP 47 tag such as `en-KE`.
    pub locale: String,
}

impl NewSite {
    pub fn parse(
        name: &str,
        time_zone: &str,
        currency: &str,
        locale: &str,
    ) -> Result<Self, String> {
        // The zone database is the server's (the browser does without its weight): here the
        // name's shape, there whether the database knows it.
        let time_zone = time_zone.trim();
        let shaped = (1..=64).contains(&time_zone.len())
            && time_zone
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c));
        if !shaped {
            return Err(unknown_zone(time_zone));
        }
        Ok(NewSite {
            name: site_name(name)?,
            time_zone: time_zone.to_owned(),
            currency: Currency::parse(currency).map_err(|error| capitalised(&error.to_string()))?,
            locale: locale_tag(locale)?,
        })
    }
}

/// Why a time zone is refused.
pub fn unknown_zone(name: &str) -> String {
    format!("{name:?} is not a time zone: write it as Africa/Nairobi or Asia/Shanghai.")
}

/// A site's name: 1 to 120 characters, trimmed.
pub fn site_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    match name.chars().count() {
        0 => Err("Give the site a name.".into()),
        1..=120 => Ok(name.to_owned()),
        _ => Err("A site's name is at most 120 characters.".into()),
    }
}

/// A language tag as sites keep it: `en`, `sw-KE`, `zh-CN` (language in lower case, region in
/// upper case).
pub fn locale_tag(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    let bad = || format!("{raw:?} is not a language tag such as en-KE, sw-KE or zh-CN.");
    let mut parts = raw.split(['-', '_']);
    let language = parts.next().unwrap_or_default();
    if !(2..=3).contains(&language.len()) || !language.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(bad());
    }
    let mut tag = language.to_ascii_lowercase();
    match (parts.next(), parts.next()) {
        (None, _) => {}
        (Some(region), None)
            if (region.len() == 2 && region.chars().all(|c| c.is_ascii_alphabetic()))
                || (region.len() == 3 && region.chars().all(|c| c.is_ascii_digit())) =>
        {
            tag.push('-');
            tag.push_str(&region.to_ascii_uppercase());
        }
        _ => return Err(bad()),
    }
    Ok(tag)
}

/// The settings page: what the site is, and its supply rules.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SiteSettings {
    pub site: SiteId,
    pub name: String,
    pub time_zone: String,
    pub currency: String,
    pub digits: u32,
    pub locale: String,
    pub policy: SupplyPolicy,
    /// The caller may change them (the site's managers, the organisation's admins).
    pub may_edit: bool,
}

impl SiteSettings {
    /// The policy as its form shows it.
    pub fn form(&self) -> PolicyForm {
        PolicyForm::of(&self.policy, self.digits)
    }
}

/// The supply rules as their form holds them: text, in the site's currency.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyForm {
    /// Amounts, comma-separated.
    pub warning_levels: String,
    pub warn_days_left: String,
    pub reconnect_level: String,
    pub emergency_credit: String,
    pub debt_recovery_percent: String,
    /// Hours 0 to 23; empty for none.
    pub friendly_from: String,
    pub friendly_to: String,
    pub friendly_weekends: bool,
    /// Dates (2026-12-25), comma-separated.
    pub holidays: String,
    pub water_restrict: bool,
    pub min_top_up: String,
    /// Empty or zero for no maximum.
    pub max_top_up: String,
}

impl PolicyForm {
    /// The form filled with `policy`, so that reading it back gives the same policy.
    pub fn of(policy: &SupplyPolicy, digits: u32) -> Self {
        let money = |minor: Minor| minor.format(digits);
        let hour = |hour: Option<u32>| hour.map(|h| h.to_string()).unwrap_or_default();
        PolicyForm {
            warning_levels: policy
                .warning_levels
                .iter()
                .map(|level| money(*level))
                .collect::<Vec<_>>()
                .join(", "),
            warn_days_left: policy.warn_days_left.normalize().to_string(),
            reconnect_level: money(policy.reconnect_level),
            emergency_credit: money(policy.emergency_credit),
            debt_recovery_percent: policy.debt_recovery_percent.normalize().to_string(),
            friendly_from: hour(policy.friendly_from),
            friendly_to: hour(policy.friendly_to),
            friendly_weekends: policy.friendly_weekends,
            holidays: policy
                .holidays
                .iter()
                .map(NaiveDate::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            water_restrict: policy.water_restrict,
            min_top_up: money(policy.min_top_up),
            max_top_up: if policy.max_top_up > Minor::ZERO {
                money(policy.max_top_up)
            } else {
                String::new()
            },
        }
    }

    /// The policy the form asks for, or the first field that does not read.
    pub fn parse(&self, digits: u32) -> Result<SupplyPolicy, String> {
        let mut warning_levels = listed(&self.warning_levels)
            .map(|raw| amount(raw, digits, "A warning level"))
            .collect::<Result<Vec<_>, _>>()?;
        warning_levels.retain(|level| *level > Minor::ZERO);
        warning_levels.sort_unstable_by(|a, b| b.cmp(a));
        warning_levels.dedup();
        if warning_levels.len() > MAX_WARNING_LEVELS {
            return Err(format!("At most {MAX_WARNING_LEVELS} warning levels."));
        }
        let max_top_up = amount(&self.max_top_up, digits, "The largest top-up")?;
        let min_top_up = amount(&self.min_top_up, digits, "The smallest top-up")?;
        if max_top_up > Minor::ZERO && min_top_up > max_top_up {
            return Err("The smallest top-up is more than the largest.".into());
        }
        let holidays = listed(&self.holidays)
            .map(|raw| {
                NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                    .map_err(|_| format!("{raw:?} is not a date such as 2026-12-25."))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if holidays.len() > MAX_HOLIDAYS {
            return Err(format!("At most {MAX_HOLIDAYS} holidays."));
        }
        Ok(SupplyPolicy {
            warning_levels,
            warn_days_left: number(&self.warn_days_left, 60, "Days left to warn at")?,
            reconnect_level: amount(&self.reconnect_level, digits, "The reconnect level")?,
            emergency_credit: amount(&self.emergency_credit, digits, "Emergency credit")?,
            debt_recovery_percent: number(
                &self.debt_recovery_percent,
                100,
                "The share of a top-up that repays debt",
            )?,
            friendly_from: hour(&self.friendly_from)?,
            friendly_to: hour(&self.friendly_to)?,
            friendly_weekends: self.friendly_weekends,
            holidays,
            water_restrict: self.water_restrict,
            min_top_up,
            max_top_up,
        })
    }
}

/// The items of a comma- or space-separated list.
fn listed(raw: &str) -> impl Iterator<Item = &str> {
    raw.split([',', ' ', ';', '\n'])
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

/// An amount of money of zero or more; empty is zero.
fn amount(raw: &str, digits: u32, what: &str) -> Result<Minor, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(Minor::ZERO);
    }
    zero_or_more(raw, digits).map_err(|error| format!("{what}: {error}"))
}

/// A number from 0 to `most`.
fn number(raw: &str, most: u32, what: &str) -> Result<Decimal, String> {
    let raw = raw.trim();
    match raw.parse::<Decimal>() {
        Ok(value) if value >= Decimal::ZERO && value <= Decimal::from(most) => Ok(value),
        _ if raw.is_empty() => Ok(Decimal::ZERO),
        _ => Err(format!("{what} is a number from 0 to {most}.")),
    }
}

/// An hour of the day; empty for none.
fn hour(raw: &str) -> Result<Option<u32>, String> {
    match raw.trim() {
        "" => Ok(None),
        raw => match raw.parse::<u32>() {
            Ok(hour) if hour < 24 => Ok(Some(hour)),
            _ => Err(format!("{raw:?} is not an hour from 0 to 23.")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_new_site_is_read_at_the_edge() {
        let site = NewSite::parse(" Lakeside ", "Africa/Nairobi", "kes", "sw_ke").unwrap();
        assert_eq!(
            (
                site.name.as_str(),
                site.currency.as_str(),
                site.locale.as_str()
            ),
            ("Lakeside", "KES", "sw-KE")
        );
        assert!(NewSite::parse("X", "Africa Nairobi", "KES", "en").is_err());
        assert!(NewSite::parse(" ", "UTC", "KES", "en").is_err());
        assert!(NewSite::parse("X", "UTC", "shillings", "en").is_err());
        assert!(NewSite::parse("X", "UTC", "KES", "english please").is_err());
        assert_eq!(locale_tag("zh-cn"), Ok("zh-CN".to_owned()));
        assert_eq!(locale_tag("es-419"), Ok("es-419".to_owned()));
    }

    #[test]
    fn the_policy_form_reads_back_what_it_shows() {
        let policy = SupplyPolicy::default();
        assert_eq!(PolicyForm::of(&policy, 2).parse(2), Ok(policy));
        let mut form = PolicyForm::of(&SupplyPolicy::default(), 2);
        form.warning_levels = "50, 200.50, 0, 50".into();
        form.max_top_up = String::new();
        form.friendly_from = String::new();
        form.holidays = "2026-12-25 2026-12-26".into();
        let read = form.parse(2).unwrap();
        assert_eq!(read.warning_levels, vec![Minor(20_050), Minor(5_000)]);
        assert_eq!(read.max_top_up, Minor::ZERO);
        assert_eq!(read.friendly_from, None);
        assert_eq!(read.holidays.len(), 2);
    }

    #[test]
    fn each_bad_field_is_named() {
        let good = PolicyForm::of(&SupplyPolicy::default(), 2);
        let bad = |change: fn(&mut PolicyForm)| {
            let mut form = good.clone();
            change(&mut form);
            form.parse(2).unwrap_err()
        };
        assert!(bad(|f| f.warning_levels = "lots".into()).starts_with("A warning level"));
        assert!(bad(|f| f.warning_levels = "1,2,3,4,5,6".into()).contains("At most 5"));
        assert!(bad(|f| f.friendly_to = "24".into()).contains("hour"));
        assert!(bad(|f| f.debt_recovery_percent = "120".into()).contains("0 to 100"));
        assert!(bad(|f| f.holidays = "25/12/2026".into()).contains("date"));
        assert!(bad(|f| f.emergency_credit = "-5".into()).starts_with("Emergency credit"));
        assert!(
            bad(|f| {
                f.min_top_up = "500".into();
                f.max_top_up = "100".into();
            })
            .contains("smallest")
        );
    }

    proptest! {
        #[test]
        fn any_policy_the_form_shows_reads_back_the_same(
            levels in proptest::collection::vec(1_i64..10_000_000, 0..=5),
            days in 0_u32..=60,
            reconnect in 0_i64..1_000_000,
            emergency in 0_i64..1_000_000,
            percent in 0_u32..=100,
            from in proptest::option::of(0_u32..24),
            to in proptest::option::of(0_u32..24),
            weekends: bool,
            restrict: bool,
            min in 0_i64..100_000,
            max in proptest::option::of(100_000_i64..100_000_000),
        ) {
            let mut warning_levels: Vec<Minor> = levels.into_iter().map(Minor).collect();
            warning_levels.sort_unstable_by(|a, b| b.cmp(a));
            warning_levels.dedup();
            let policy = SupplyPolicy {
                warning_levels,
                warn_days_left: Decimal::from(days),
                reconnect_level: Minor(reconnect),
                emergency_credit: Minor(emergency),
                debt_recovery_percent: Decimal::from(percent),
                friendly_from: from,
                friendly_to: to,
                friendly_weekends: weekends,
                holidays: vec![NaiveDate::from_ymd_opt(2026, 12, 25).unwrap()],
                water_restrict: restrict,
                min_top_up: Minor(min),
                max_top_up: Minor(max.unwrap_or(0)),
            };
            prop_assert_eq!(PolicyForm::of(&policy, 2).parse(2), Ok(policy));
        }
    }
}
