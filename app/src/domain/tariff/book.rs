//! The console's tariff book: a site's versions per utility, the versions proposed and waiting
//! for a second person's approval, the editor's draft as typed, and the sample bill the editor
//! shows, priced by [`super::price`], the function that charges readings.

use super::{
    Band, BandKind, ClockTime, Days, Tariff, TariffError, Tier, Usage, Version,
    plan::{Plan, PlanUse},
    price,
};
use crate::domain::{Utility, zone::SiteZone};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// The sample bill covers one billing cycle's first 30 days with use spread evenly over every
/// hour, so time-of-use bands weigh by the hours they cover.
pub const SAMPLE_DAYS: i64 = 30;

/// Everything the tariffs page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TariffBook {
    pub site_name: String,
    pub currency: String,
    /// The currency's decimal places, for showing money.
    pub digits: u32,
    pub zone: SiteZone,
    pub now: DateTime<Utc>,
    /// Versions per plan and utility: the standard plan's first, then each plan's.
    pub utilities: Vec<UtilityTariffs>,
    /// The standard plan and every plan with a published version, with their units.
    pub plans: Vec<PlanUse>,
    /// Pending first, then the latest decided; newest first within each.
    pub proposals: Vec<Proposal>,
    /// Whether the caller may propose, approve and refuse (managers of the site, admins).
    pub may_change: bool,
}

impl TariffBook {
    /// The tariff a plan's units pay for `utility` now: the plan's own version in force, or
    /// the standard one where the plan does not price the utility or has not started yet.
    pub fn paid_now(&self, plan: &Plan, utility: Utility) -> Option<&Tariff> {
        let own = |plan: &Plan| {
            self.utilities
                .iter()
                .find(|u| &u.plan == plan && u.utility == utility)
        };
        own(plan)
            .and_then(|u| u.in_force(self.now))
            .or_else(|| own(&Plan::standard()).and_then(|u| u.in_force(self.now)))
            .or_else(|| own(plan).and_then(|u| u.versions.last()))
            .map(|v| &v.tariff)
    }
}

/// One plan's versions for one utility, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UtilityTariffs {
    #[serde(default)]
    pub plan: Plan,
    pub utility: Utility,
    pub versions: Vec<VersionLine>,
}

impl UtilityTariffs {
    /// The version in force at `now`. The standard plan's earliest also covers anything before
    /// it; before a named plan's first version starts, its units pay the standard tariff, so
    /// none of its own is in force.
    pub fn in_force(&self, now: DateTime<Utc>) -> Option<&VersionLine> {
        let started = self.versions.iter().find(|v| v.effective_from <= now);
        if self.plan.is_standard() {
            started.or_else(|| self.versions.last())
        } else {
            started
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VersionLine {
    pub effective_from: DateTime<Utc>,
    pub tariff: Tariff,
    /// Who published it; none for versions set up outside the console (the demo, the CLI).
    pub by: Option<String>,
    pub approved_by: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalState {
    Pending,
    Published,
    Refused,
    Withdrawn,
}

impl ProposalState {
    const ALL: [Self; 4] = [
        Self::Pending,
        Self::Published,
        Self::Refused,
        Self::Withdrawn,
    ];

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == raw)
    }

    /// The name storage and the audit log use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Published => "published",
            Self::Refused => "refused",
            Self::Withdrawn => "withdrawn",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "Waiting for approval",
            Self::Published => "Published",
            Self::Refused => "Refused",
            Self::Withdrawn => "Withdrawn",
        }
    }
}

/// A version someone proposed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    pub id: i64,
    #[serde(default)]
    pub plan: Plan,
    pub utility: Utility,
    pub effective_from: DateTime<Utc>,
    pub tariff: Tariff,
    pub note: String,
    pub proposed_by: String,
    /// The caller proposed it, so they may withdraw it and may not approve it.
    pub mine: bool,
    pub proposed_at: DateTime<Utc>,
    pub state: ProposalState,
    pub decided_by: Option<String>,
}

pub use crate::domain::four_eyes::Decision;

/// A proposal as it arrives from a form, parsed at the edge: the tariff checked, the start a
/// minute on the site's clock.
#[derive(Clone, Debug, PartialEq)]
pub struct NewProposal {
    pub plan: Plan,
    pub utility: Utility,
    pub starts_local: NaiveDateTime,
    pub tariff: Tariff,
    pub note: String,
}

impl NewProposal {
    pub const MAX_NOTE: usize = 500;

    pub fn parse(
        plan: &str,
        utility: &str,
        starts: &str,
        definition: &str,
        note: &str,
    ) -> Result<Self, String> {
        let plan = Plan::parse(plan).map_err(|e| e.to_string())?;
        let utility = Utility::ALL
            .into_iter()
            .find(|u| u.as_str() == utility)
            .ok_or_else(|| format!("{utility:?} is not a utility."))?;
        let starts_local = NaiveDateTime::parse_from_str(starts.trim(), "%Y-%m-%dT%H:%M")
            .map_err(|_| "Give the start as a date and time, such as 2027-01-01T00:00.")?;
        let tariff: Tariff = serde_json::from_str(definition)
            .map_err(|e| format!("The tariff could not be read: {e}."))?;
        tariff.check().map_err(|e| capitalised(&e.to_string()))?;
        let note = note.trim();
        if note.chars().count() > Self::MAX_NOTE {
            return Err(format!(
                "Keep the note under {} characters.",
                Self::MAX_NOTE
            ));
        }
        Ok(Self {
            plan,
            utility,
            starts_local,
            tariff,
            note: note.to_owned(),
        })
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

/// A tariff as typed into the editor: every field text, so half-typed numbers stay on screen
/// while the preview says what is wrong.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    pub tiers: Vec<DraftTier>,
    pub bands: Vec<DraftBand>,
    pub standing_charge_per_day: String,
    pub tax_percent: String,
    pub min_top_up: String,
    pub cycle_start_day: String,
    /// What the editor does not show (the demand charge, a package) carries over unchanged.
    pub kept: Option<Tariff>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DraftTier {
    /// Empty for the last, unlimited block.
    pub up_to: String,
    pub rate: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DraftBand {
    pub kind: BandKind,
    pub days: Days,
    pub from: String,
    pub to: String,
    pub factor: String,
}

impl Default for DraftBand {
    fn default() -> Self {
        Self {
            kind: BandKind::Peak,
            days: Days::Weekdays,
            from: "18:00".to_owned(),
            to: "22:00".to_owned(),
            factor: "1.5".to_owned(),
        }
    }
}

impl Draft {
    pub fn of(tariff: &Tariff) -> Self {
        Self {
            tiers: tariff
                .tiers
                .iter()
                .map(|t| DraftTier {
                    up_to: t.up_to.map(|d| d.to_string()).unwrap_or_default(),
                    rate: t.rate.to_string(),
                })
                .collect(),
            bands: tariff
                .bands
                .iter()
                .map(|b| DraftBand {
                    kind: b.kind,
                    days: b.days,
                    from: b.from.to_string(),
                    to: b.to.to_string(),
                    factor: b.factor.to_string(),
                })
                .collect(),
            standing_charge_per_day: tariff.standing_charge_per_day.to_string(),
            tax_percent: tariff.tax_percent.to_string(),
            min_top_up: tariff.min_top_up.to_string(),
            cycle_start_day: tariff.cycle_start_day.to_string(),
            kept: Some(tariff.clone()),
        }
    }

    /// The tariff the draft describes, checked, or what to correct first.
    pub fn tariff(&self) -> Result<Tariff, String> {
        let tiers = self
            .tiers
            .iter()
            .enumerate()
            .map(|(i, tier)| {
                let at = |field: &str| format!("Tier {}: the {field}", i + 1);
                let up_to = match tier.up_to.trim() {
                    "" => None,
                    raw => Some(number(raw, &at("amount it ends at"))?),
                };
                Ok(Tier {
                    up_to,
                    rate: number(&tier.rate, &at("rate"))?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let bands = self
            .bands
            .iter()
            .enumerate()
            .map(|(i, band)| {
                let clock = |raw: &str| {
                    ClockTime::try_from(raw.to_owned()).map_err(|_| {
                        format!("Band {}: {raw:?} is not a time such as 07:30.", i + 1)
                    })
                };
                Ok(Band {
                    kind: band.kind,
                    days: band.days,
                    from: clock(&band.from)?,
                    to: clock(&band.to)?,
                    factor: number(&band.factor, &format!("Band {}: the factor", i + 1))?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let kept = self
            .kept
            .clone()
            .unwrap_or_else(|| Tariff::flat(Decimal::ZERO));
        let tariff = Tariff {
            tiers,
            bands,
            standing_charge_per_day: number(&self.standing_charge_per_day, "The standing charge")?,
            tax_percent: number(&self.tax_percent, "The tax")?,
            min_top_up: number(&self.min_top_up, "The smallest top-up")?,
            cycle_start_day: self
                .cycle_start_day
                .trim()
                .parse()
                .map_err(|_| "The cycle start day is a day of the month, 1 to 28.".to_owned())?,
            ..kept
        };
        tariff.check().map_err(|e| capitalised(&e.to_string()))?;
        Ok(tariff)
    }
}

/// A number typed in a field; blank is zero.
fn number(raw: &str, what: &str) -> Result<Decimal, String> {
    match raw.trim() {
        "" => Ok(Decimal::ZERO),
        text => Decimal::from_str(text).map_err(|_| format!("{what} is not a number: {text:?}.")),
    }
}

/// What a tariff charges for `quantity` units used over a sample cycle ([`SAMPLE_DAYS`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SampleBill {
    pub quantity: Decimal,
    /// The use's net charge (tiers and bands), the demand charge included.
    pub usage_net: Decimal,
    pub standing: Decimal,
    pub package_fee: Decimal,
    pub tax: Decimal,
    pub total: Decimal,
    /// Quantity and net charge per time-of-use band, in the order of [`BandKind::ALL`].
    pub bands: Vec<(BandKind, Decimal, Decimal)>,
}

impl SampleBill {
    /// What a unit costs on average, tax and fixed charges included.
    pub fn per_unit(&self) -> Option<Decimal> {
        (!self.quantity.is_zero()).then(|| self.total / self.quantity)
    }
}

/// Prices the sample with the charging code: one reading of `quantity` spread from the start
/// of a cycle over [`SAMPLE_DAYS`] days on a clock `offset_seconds` east of UTC, plus the
/// standing charges and package fee those days bring, taxed like the engine taxes them.
pub fn sample_bill(
    tariff: &Tariff,
    offset_seconds: i32,
    quantity: Decimal,
) -> Result<SampleBill, TariffError> {
    tariff.check()?;
    let clock = FixedOffset::east_opt(offset_seconds).unwrap_or(FixedOffset::east_opt(0).unwrap());
    // January 2024 began on a Monday, so the sample's weeks start where a week does.
    let first = NaiveDate::from_ymd_opt(2024, 1, tariff.cycle_start_day)
        .ok_or(TariffError::CycleDay)?
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists");
    let start = clock
        .from_local_datetime(&first)
        .single()
        .expect("a fixed offset has one reading of every local time")
        .with_timezone(&Utc);
    let end = start + Duration::days(SAMPLE_DAYS);
    let versions = [Version {
        effective_from: start,
        tariff: tariff.clone(),
    }];
    let mut usage = Usage::starting_at(start, &clock, tariff.cycle_start_day);
    let charge = price(&versions, &clock, start, end, quantity, &mut usage)?;
    let standing = tariff.standing_charge_per_day * Decimal::from(SAMPLE_DAYS);
    let package_fee = tariff.package.as_ref().map_or(Decimal::ZERO, |p| p.fee);
    let tax = charge.tax + tariff.tax_on(standing + package_fee);
    let bands = BandKind::ALL
        .into_iter()
        .filter_map(|kind| {
            let pieces = charge.pieces.iter().filter(|p| p.band == kind);
            let (q, net) = pieces.fold((Decimal::ZERO, Decimal::ZERO), |(q, n), p| {
                (q + p.quantity, n + p.net)
            });
            (!q.is_zero()).then_some((kind, q, net))
        })
        .collect();
    Ok(SampleBill {
        quantity,
        usage_net: charge.net,
        standing,
        package_fee,
        tax,
        total: charge.net + standing + package_fee + tax,
        bands,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(raw: &str) -> Decimal {
        Decimal::from_str(raw).unwrap()
    }

    fn tiered() -> Tariff {
        Tariff {
            tiers: vec![
                Tier {
                    up_to: Some(d("100")),
                    rate: d("10"),
                },
                Tier {
                    up_to: None,
                    rate: d("20"),
                },
            ],
            standing_charge_per_day: d("5"),
            tax_percent: d("16"),
            ..Tariff::flat(Decimal::ZERO)
        }
    }

    #[test]
    fn a_sample_walks_the_tiers_and_adds_the_days_charges_and_tax() {
        let bill = sample_bill(&tiered(), 3 * 3600, d("150")).unwrap();
        // 100 at 10 and 50 at 20, 30 days at 5, then 16% on all of it.
        assert_eq!(bill.usage_net, d("2000"));
        assert_eq!(bill.standing, d("150"));
        assert_eq!(bill.tax, d("344"));
        assert_eq!(bill.total, d("2494"));
        assert_eq!(bill.bands, vec![(BandKind::Flat, d("150"), d("2000"))]);
        assert_eq!(bill.per_unit().unwrap().round_dp(4), d("16.6267"));
    }

    #[test]
    fn bands_weigh_by_the_hours_they_cover() {
        // Peak every day from 18:00 to 00:00: a quarter of the hours, at twice the rate.
        let tariff = Tariff {
            bands: vec![Band {
                kind: BandKind::Peak,
                days: Days::All,
                from: ClockTime::new(18, 0).unwrap(),
                to: ClockTime::new(0, 0).unwrap(),
                factor: d("2"),
            }],
            ..Tariff::flat(d("1"))
        };
        let bill = sample_bill(&tariff, 0, d("240")).unwrap();
        assert_eq!(
            bill.bands,
            vec![
                (BandKind::Peak, d("60"), d("120")),
                (BandKind::Flat, d("180"), d("180")),
            ]
        );
        // The site's clock moves the bands, not what they cover over whole days.
        let east = sample_bill(&tariff, 3 * 3600, d("240")).unwrap();
        assert_eq!(east.total, bill.total);
    }

    #[test]
    fn a_draft_round_trips_and_names_what_is_wrong() {
        let tariff = tiered();
        assert_eq!(Draft::of(&tariff).tariff().unwrap(), tariff);
        let mut draft = Draft::of(&tariff);
        draft.tiers[1].rate = "twenty".into();
        assert_eq!(
            draft.tariff().unwrap_err(),
            "Tier 2: the rate is not a number: \"twenty\"."
        );
        let mut draft = Draft::of(&tariff);
        draft.tiers[1].up_to = "50".into();
        assert_eq!(
            draft.tariff().unwrap_err(),
            "Tier 2: only the last tier may be unlimited, and it must be."
        );
        let mut draft = Draft::of(&tariff);
        draft.bands.push(DraftBand {
            from: "25:00".into(),
            ..DraftBand::default()
        });
        assert!(draft.tariff().unwrap_err().starts_with("Band 1:"));
    }

    #[test]
    fn a_proposal_is_parsed_at_the_edge() {
        let json = serde_json::to_string(&tiered()).unwrap();
        let ok = NewProposal::parse("", "water", "2027-01-01T00:00", &json, " new rates ").unwrap();
        assert_eq!(ok.utility, Utility::Water);
        assert_eq!(ok.note, "new rates");
        assert!(ok.plan.is_standard());
        let commercial =
            NewProposal::parse(" Commercial ", "water", "2027-01-01T00:00", &json, "").unwrap();
        assert_eq!(commercial.plan.label(), "Commercial");
        assert!(
            NewProposal::parse(&"p".repeat(41), "water", "2027-01-01T00:00", &json, "").is_err()
        );
        assert!(NewProposal::parse("", "steam", "2027-01-01T00:00", &json, "").is_err());
        assert!(NewProposal::parse("", "water", "tomorrow", &json, "").is_err());
        assert!(NewProposal::parse("", "water", "2027-01-01T00:00", "{}", "").is_err());
        let mut bad = tiered();
        bad.tax_percent = d("120");
        let bad = serde_json::to_string(&bad).unwrap();
        assert_eq!(
            NewProposal::parse("", "water", "2027-01-01T00:00", &bad, "").unwrap_err(),
            "Tax must be between 0 and 100 percent."
        );
        let long = "x".repeat(501);
        assert!(NewProposal::parse("", "water", "2027-01-01T00:00", &json, &long).is_err());
    }

    /// Midnight UTC on a day of January 2027.
    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 1, day, 0, 0, 0).unwrap()
    }

    /// A flat version from `day` whose rate is the day's number.
    fn line(day: u32) -> VersionLine {
        VersionLine {
            effective_from: at(day),
            tariff: Tariff::flat(Decimal::from(day)),
            by: None,
            approved_by: None,
        }
    }

    #[test]
    fn the_version_in_force_is_the_latest_started() {
        let book = UtilityTariffs {
            plan: Plan::standard(),
            utility: Utility::Water,
            versions: vec![line(20), line(10)],
        };
        assert_eq!(book.in_force(at(15)).unwrap().effective_from, at(10));
        assert_eq!(book.in_force(at(25)).unwrap().effective_from, at(20));
        // Before the first version, the first covers it (as in charging).
        assert_eq!(book.in_force(at(1)).unwrap().effective_from, at(10));
        // Not a named plan's: its units pay the standard tariff until then.
        let plan = UtilityTariffs {
            plan: Plan::parse("Staff").unwrap(),
            ..book
        };
        assert_eq!(plan.in_force(at(1)), None);
        assert_eq!(plan.in_force(at(15)).unwrap().effective_from, at(10));
    }

    #[test]
    fn a_plan_pays_the_standard_tariff_where_it_has_none_in_force() {
        let staff = Plan::parse("Staff").unwrap();
        let book = |now| TariffBook {
            site_name: "Site".to_owned(),
            currency: "EUR".to_owned(),
            digits: 2,
            zone: crate::domain::zone::SiteZone::utc(),
            now,
            utilities: vec![
                UtilityTariffs {
                    plan: Plan::standard(),
                    utility: Utility::Water,
                    versions: vec![line(10)],
                },
                UtilityTariffs {
                    plan: staff.clone(),
                    utility: Utility::Water,
                    versions: vec![line(20)],
                },
            ],
            plans: Vec::new(),
            proposals: Vec::new(),
            may_change: false,
        };
        let rate = |now, plan: &Plan, utility| {
            book(now)
                .paid_now(plan, utility)
                .map(|tariff| tariff.tiers[0].rate)
        };
        assert_eq!(
            rate(at(15), &staff, Utility::Water),
            Some(Decimal::from(10))
        );
        assert_eq!(
            rate(at(25), &staff, Utility::Water),
            Some(Decimal::from(20))
        );
        assert_eq!(
            rate(at(25), &Plan::standard(), Utility::Water),
            Some(Decimal::from(10))
        );
        assert_eq!(rate(at(25), &staff, Utility::Gas), None);
    }
}
