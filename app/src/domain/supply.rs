//! Supply control: what a balance change means for the meter and the people behind it.
//!
//! ```text
//!            balance < a warning level          balance <= 0 (outside friendly hours)
//!   On ─────────────────────────────────▶ Low ───────────────────────────────────▶ Cut
//!    ▲  ◀── balance back above the top level      │   (water, if the site says so: Restricted)
//!    │                                            │ vulnerable household: Protected, manager told
//!    │            top-up lifts balance >= reconnect level                        │
//!    └──────────────────────────────────────────────────────────────────────────┘
//!                 (gas: Armed first, On when the resident confirms on site)
//!   Emergency: the resident took emergency credit; back to On once it is repaid.
//! ```
//!
//! Safety holds (gas leak, overload, tamper, a manager's close) live on the meter, not here:
//! the engine never opens a held meter whatever this machine says, and only the named role
//! lifts a hold. This module is pure: it decides, the engine records and sends.

use super::i18n::{Locale, Words};
use super::{Minor, Utility};
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Timelike, Utc, Weekday};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SupplyState {
    On,
    Low,
    Cut,
    Restricted,
    Armed,
    Emergency,
    Protected,
}

impl SupplyState {
    pub fn as_str(self) -> &'static str {
        match self {
            SupplyState::On => "on",
            SupplyState::Low => "low",
            SupplyState::Cut => "cut",
            SupplyState::Restricted => "restricted",
            SupplyState::Armed => "armed",
            SupplyState::Emergency => "emergency",
            SupplyState::Protected => "protected",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            SupplyState::On,
            SupplyState::Low,
            SupplyState::Cut,
            SupplyState::Restricted,
            SupplyState::Armed,
            SupplyState::Emergency,
            SupplyState::Protected,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }

    /// What a resident reads.
    pub fn label(self) -> &'static str {
        self.label_in(Locale::En)
    }

    pub fn label_in(self, locale: Locale) -> &'static str {
        let words = match self {
            SupplyState::On => Words {
                en: "On",
                sw: "Inapatikana",
                zh: "供应中",
            },
            SupplyState::Low => Words {
                en: "Low credit",
                sw: "Salio la chini",
                zh: "余额不足",
            },
            SupplyState::Cut => Words {
                en: "Cut off",
                sw: "Imekatwa",
                zh: "已停供",
            },
            SupplyState::Restricted => Words {
                en: "Restricted flow",
                sw: "Mtiririko umepunguzwa",
                zh: "限流",
            },
            SupplyState::Armed => Words {
                en: "Ready: confirm at the meter",
                sw: "Tayari: thibitisha kwenye mita",
                zh: "待恢复：请在表上确认",
            },
            SupplyState::Emergency => Words {
                en: "On emergency credit",
                sw: "Kwenye mkopo wa dharura",
                zh: "使用应急额度",
            },
            SupplyState::Protected => Words {
                en: "Protected (not cut)",
                sw: "Imelindwa (haikatwi)",
                zh: "受保护（不停供）",
            },
        };
        words.get(locale)
    }

    /// Is supply off or limited for lack of credit?
    pub fn is_disconnected(self) -> bool {
        matches!(
            self,
            SupplyState::Cut | SupplyState::Restricted | SupplyState::Armed
        )
    }
}

impl fmt::Display for SupplyState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the engine must send to a meter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeterCommand {
    Open,
    Close,
    Restrict,
    /// Gas: allow the resident to reopen the valve at the meter.
    Arm,
}

impl MeterCommand {
    pub fn as_str(self) -> &'static str {
        match self {
            MeterCommand::Open => "open",
            MeterCommand::Close => "close",
            MeterCommand::Restrict => "restrict",
            MeterCommand::Arm => "arm",
        }
    }
}

/// Who must hear of a decision, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Notice {
    /// The balance fell below warning level N (1 is the highest).
    LowBalance(u8),
    /// Fewer days of credit left than the site warns at.
    FewDaysLeft,
    CutOff,
    Restricted,
    Reconnected,
    /// Gas: credit is back; reopen at the meter.
    ArmedConfirmAtMeter,
    /// To the managers: a protected household ran out of credit and was not cut.
    ProtectedAtZero,
}

impl Notice {
    pub fn kind(self) -> String {
        match self {
            Notice::LowBalance(level) => format!("low_balance_{level}"),
            Notice::FewDaysLeft => "few_days_left".into(),
            Notice::CutOff => "cut_off".into(),
            Notice::Restricted => "restricted".into(),
            Notice::Reconnected => "reconnected".into(),
            Notice::ArmedConfirmAtMeter => "armed".into(),
            Notice::ProtectedAtZero => "protected_at_zero".into(),
        }
    }

    pub fn for_managers(self) -> bool {
        matches!(self, Notice::ProtectedAtZero)
    }
}

/// A site's supply rules, in minor units of its currency. Stored as JSON per site.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SupplyPolicy {
    /// Warn when the balance falls below each of these (highest first).
    pub warning_levels: Vec<Minor>,
    /// Warn when fewer days than this are left; zero turns it off.
    pub warn_days_left: Decimal,
    /// Reconnect once a top-up lifts the balance to at least this.
    pub reconnect_level: Minor,
    /// Emergency credit a resident may take once; zero turns it off.
    pub emergency_credit: Minor,
    /// Share of each top-up that repays debt, percent.
    pub debt_recovery_percent: Decimal,
    /// Friendly-credit hours: no cut-off from `friendly_from` to `friendly_to` local time...
    pub friendly_from: Option<u32>,
    pub friendly_to: Option<u32>,
    /// ...all weekend...
    pub friendly_weekends: bool,
    /// ...and on these local dates.
    pub holidays: Vec<NaiveDate>,
    /// Water: restrict the flow instead of cutting it.
    pub water_restrict: bool,
    /// Top-ups accepted, inclusive; zero maximum means no maximum.
    pub min_top_up: Minor,
    pub max_top_up: Minor,
}

impl Default for SupplyPolicy {
    fn default() -> Self {
        SupplyPolicy {
            warning_levels: vec![Minor(50_000), Minor(20_000), Minor(5_000)],
            warn_days_left: Decimal::from(3),
            reconnect_level: Minor(1),
            emergency_credit: Minor(20_000),
            debt_recovery_percent: Decimal::from(25),
            friendly_from: Some(18),
            friendly_to: Some(8),
            friendly_weekends: true,
            holidays: Vec::new(),
            water_restrict: true,
            min_top_up: Minor(1_000),
            max_top_up: Minor(10_000_000),
        }
    }
}

impl SupplyPolicy {
    /// Is `at` inside friendly-credit hours at the site?
    pub fn is_friendly<Tz: TimeZone>(&self, at: DateTime<Utc>, tz: &Tz) -> bool {
        let local = at.with_timezone(tz).naive_local();
        if self.holidays.contains(&local.date()) {
            return true;
        }
        if self.friendly_weekends && matches!(local.weekday(), Weekday::Sat | Weekday::Sun) {
            return true;
        }
        match (self.friendly_from, self.friendly_to) {
            (Some(from), Some(to)) if from != to => {
                let hour = local.hour();
                if from < to {
                    (from..to).contains(&hour)
                } else {
                    hour >= from || hour < to
                }
            }
            _ => false,
        }
    }

    /// The emergency credit a resident may take now: offered by the site, none owed from
    /// before, and the balance below the lowest warning level (or run out).
    pub fn emergency_offer(&self, balance: Minor, owed: Minor) -> Result<Minor, NoEmergency> {
        let lowest = self
            .warning_levels
            .iter()
            .min()
            .copied()
            .unwrap_or(Minor::ZERO);
        if self.emergency_credit <= Minor::ZERO {
            Err(NoEmergency::NotOffered)
        } else if owed > Minor::ZERO {
            Err(NoEmergency::Owed)
        } else if balance >= lowest.max(Minor(1)) {
            Err(NoEmergency::NotYet)
        } else {
            Ok(self.emergency_credit)
        }
    }

    /// The share of a top-up that repays debt.
    pub fn debt_share(&self, top_up: Minor, debt: Minor) -> Minor {
        let share = Decimal::from(top_up.0) * self.debt_recovery_percent / Decimal::ONE_HUNDRED;
        let share = i64::try_from(share.floor().mantissa()).unwrap_or(0).max(0);
        Minor(share.min(debt.0.max(0)))
    }
}

/// Why emergency credit cannot be taken now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NoEmergency {
    #[error("This site does not offer emergency credit.")]
    NotOffered,
    #[error("Emergency credit was taken already; it is repaid by the next top-up.")]
    Owed,
    #[error("Emergency credit is there for when credit is nearly out.")]
    NotYet,
}

/// What the machine knows about one account when its balance changes.
#[derive(Clone, Debug, PartialEq)]
pub struct Situation {
    pub state: SupplyState,
    /// Warning levels already announced (0: none).
    pub warned: u8,
    pub balance: Minor,
    pub days_left: Option<Decimal>,
    pub utility: Option<Utility>,
    pub friendly_now: bool,
    pub vulnerable: bool,
    /// Emergency credit taken and not yet repaid.
    pub emergency_outstanding: bool,
}

/// What changes: the new state, the levels announced, commands and notices.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Decision {
    pub state: Option<SupplyState>,
    pub warned: u8,
    pub commands: Vec<MeterCommand>,
    pub notices: Vec<Notice>,
}

/// Decides what a balance means under the site's policy. Pure: the same situation always gives
/// the same decision, so replaying a balance change decides nothing new.
pub fn decide(policy: &SupplyPolicy, s: &Situation) -> Decision {
    let mut d = Decision {
        state: None,
        warned: s.warned,
        ..Decision::default()
    };
    let mut set = |d: &mut Decision, state: SupplyState| {
        if state != s.state {
            d.state = Some(state);
        }
    };
    match s.state {
        SupplyState::Cut | SupplyState::Restricted => {
            if s.balance >= policy.reconnect_level {
                reconnect(s, &mut d, &mut set);
            }
        }
        SupplyState::Armed => {
            if s.balance <= Minor::ZERO && !s.friendly_now {
                set(&mut d, SupplyState::Cut); // still closed at the meter: nothing to send
            }
        }
        SupplyState::On | SupplyState::Low | SupplyState::Emergency | SupplyState::Protected => {
            if s.balance <= Minor::ZERO {
                run_out(policy, s, &mut d, &mut set);
            } else {
                warn(policy, s, &mut d, &mut set);
            }
        }
    }
    d
}

fn reconnect(s: &Situation, d: &mut Decision, set: &mut impl FnMut(&mut Decision, SupplyState)) {
    d.warned = 0;
    if s.utility == Some(Utility::Gas) {
        set(d, SupplyState::Armed);
        d.commands.push(MeterCommand::Arm);
        d.notices.push(Notice::ArmedConfirmAtMeter);
    } else {
        let on = if s.emergency_outstanding {
            SupplyState::Emergency
        } else {
            SupplyState::On
        };
        set(d, on);
        d.commands.push(MeterCommand::Open);
        d.notices.push(Notice::Reconnected);
    }
}

fn run_out(
    policy: &SupplyPolicy,
    s: &Situation,
    d: &mut Decision,
    set: &mut impl FnMut(&mut Decision, SupplyState),
) {
    if s.vulnerable {
        if s.state != SupplyState::Protected {
            set(d, SupplyState::Protected);
            d.notices.push(Notice::ProtectedAtZero);
        }
    } else if s.friendly_now {
        // Friendly hours: the balance may go negative; the cut waits for the hours to end.
    } else if s.utility == Some(Utility::Water) && policy.water_restrict {
        set(d, SupplyState::Restricted);
        d.commands.push(MeterCommand::Restrict);
        d.notices.push(Notice::Restricted);
    } else {
        set(d, SupplyState::Cut);
        d.commands.push(MeterCommand::Close);
        d.notices.push(Notice::CutOff);
    }
}

fn warn(
    policy: &SupplyPolicy,
    s: &Situation,
    d: &mut Decision,
    set: &mut impl FnMut(&mut Decision, SupplyState),
) {
    let below = policy
        .warning_levels
        .iter()
        .filter(|level| s.balance < **level)
        .count() as u8;
    let few_days = !policy.warn_days_left.is_zero()
        && s.days_left.is_some_and(|days| days < policy.warn_days_left);
    if below > s.warned {
        d.warned = below;
        d.notices.push(Notice::LowBalance(below));
    } else if below < s.warned {
        d.warned = below; // topped up past a level: announce it again next time
    }
    if few_days && s.state == SupplyState::On && below == 0 {
        d.notices.push(Notice::FewDaysLeft);
    }
    let state = if s.emergency_outstanding {
        SupplyState::Emergency
    } else if below > 0 || few_days {
        SupplyState::Low
    } else {
        SupplyState::On
    };
    set(d, state);
}

/// Days of credit left at the recent daily spend; `None` when nothing is being spent.
pub fn days_left(balance: Minor, daily_spend: Decimal) -> Option<Decimal> {
    (daily_spend > Decimal::ZERO)
        .then(|| (Decimal::from(balance.0.max(0)) / daily_spend).round_dp(1))
}

/// Updates the recent daily spend (minor units per day) with a charge spent over `days`: an
/// average over about a week, weighted by time, so one appliance spike does not dominate.
pub fn update_daily_spend(previous: Decimal, charged: Minor, days: Decimal) -> Decimal {
    const HORIZON_DAYS: i64 = 7;
    if days <= Decimal::ZERO {
        return previous;
    }
    let rate = Decimal::from(charged.0) / days;
    let weight = (days / Decimal::from(HORIZON_DAYS)).min(Decimal::ONE);
    let next = previous + (rate - previous) * weight;
    next.round_dp(6)
}

#[cfg(test)]
mod tests;
