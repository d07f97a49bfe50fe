//! What the pages show: plain data sent from the server functions to the browser.

use super::{
    access::Role,
    i18n::{Locale, Words},
    ids::{BuildingId, MeterId, SiteId, UnitId},
    site::Utility,
};
use serde::{Deserialize, Serialize};

/// The signed-in person, as the page header needs them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Me {
    pub display_name: String,
    pub email: String,
    pub is_staff: bool,
    pub must_change_password: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeterView {
    pub id: MeterId,
    pub utility: Utility,
    pub serial: String,
    pub unit_of_measure: String,
    pub multiplier: String,
}

/// A unit a resident lives in, with where it is and its meters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResidentUnit {
    pub id: UnitId,
    pub name: String,
    pub building: String,
    pub site: String,
    pub meters: Vec<MeterView>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResidentHome {
    pub units: Vec<ResidentUnit>,
    /// Staff may live on a site too; their home page also links to the manager console.
    pub staff: bool,
}

/// A site as listed in the manager console, with its counts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SiteSummary {
    pub id: SiteId,
    pub name: String,
    pub time_zone: String,
    pub currency: String,
    pub locale: String,
    pub buildings: i64,
    pub units: i64,
    pub meters: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnitRow {
    pub id: UnitId,
    pub name: String,
    pub occupants: Vec<String>,
    pub meters: Vec<MeterView>,
}

impl UnitRow {
    /// The manager's unit filter: a case-insensitive match on the unit's name, an occupant's
    /// name or a meter serial. An empty query matches everything.
    pub fn matches(&self, query: &str) -> bool {
        let query = query.trim().to_lowercase();
        query.is_empty()
            || self.name.to_lowercase().contains(&query)
            || self
                .occupants
                .iter()
                .any(|name| name.to_lowercase().contains(&query))
            || self
                .meters
                .iter()
                .any(|meter| meter.serial.to_lowercase().contains(&query))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BuildingView {
    pub id: BuildingId,
    pub name: String,
    pub units: Vec<UnitRow>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UtilityCount {
    pub utility: Utility,
    pub meters: i64,
}

/// Everything the manager's site page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SiteOverview {
    pub site: SiteSummary,
    pub buildings: Vec<BuildingView>,
    pub meters_by_utility: Vec<UtilityCount>,
    /// Roles the caller may hand out on this site (drives the "add a person" form).
    pub grantable: Vec<Role>,
    pub may_add_residents: bool,
    /// The caller may add buildings and units (the site's managers, the organisation's admins).
    #[serde(default)]
    pub may_add_places: bool,
}

/// The answer to creating an account: the initial password is shown once, to the person who
/// created the account, and must be changed at first sign-in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreatedAccount {
    pub email: String,
    /// Shown once, to hand over; `None` when an invitation went instead.
    pub initial_password: Option<String>,
    /// Where the invitation went ("am•••@example.org").
    pub invited: Option<String>,
    /// Why an invitation asked for could not be sent (the initial password is shown then).
    pub invite_failed: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(name: &str, occupant: &str, serial: &str) -> UnitRow {
        UnitRow {
            id: UnitId(1),
            name: name.into(),
            occupants: vec![occupant.into()],
            meters: vec![MeterView {
                id: MeterId(1),
                utility: Utility::Water,
                serial: serial.into(),
                unit_of_measure: "m3".into(),
                multiplier: "1".into(),
            }],
        }
    }

    fn line(day: &str, kind: &str, amount_minor: i64) -> StatementLine {
        StatementLine {
            transaction: 1,
            posted_at: chrono::DateTime::UNIX_EPOCH,
            day: day.into(),
            kind: kind.into(),
            description: "Top-up, \"M-Pesa\"".into(),
            amount: super::super::money::Minor(amount_minor).format(2),
            amount_minor,
            receipt: None,
        }
    }

    #[test]
    fn statement_filters_keep_kinds_and_dates_inclusive() {
        let lines = [
            line("2026-11-01", "usage", -500),
            line("2026-11-02", "periodic", -300),
            line("2026-11-03", "top_up", 10_000),
            line("2026-11-04", "reversal", -10_000),
        ];
        let kept = |what, from: &str, to: &str| {
            let filter = StatementFilter {
                what,
                from: from.into(),
                to: to.into(),
            };
            lines
                .iter()
                .filter(|l| filter.keeps(l))
                .map(|l| l.day.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(kept(LineKind::All, "", "").len(), 4);
        assert_eq!(kept(LineKind::Usage, "", ""), ["2026-11-01", "2026-11-02"]);
        assert_eq!(kept(LineKind::MoneyIn, "", ""), ["2026-11-03"]);
        assert_eq!(kept(LineKind::OtherCharges, "", ""), ["2026-11-04"]);
        assert_eq!(
            kept(LineKind::All, "2026-11-02", "2026-11-03"),
            ["2026-11-02", "2026-11-03"]
        );
        assert_eq!(LineKind::parse("nonsense"), LineKind::All);
    }

    #[test]
    fn statement_csv_quotes_what_needs_it() {
        let csv = statement_csv(&[line("2026-11-03", "top_up", 12_345)], "KES");
        let mut rows = csv.lines();
        assert_eq!(
            rows.next(),
            Some("date,posted_at,kind,description,amount,currency,receipt")
        );
        assert_eq!(
            rows.next(),
            Some(
                "2026-11-03,1970-01-01T00:00:00+00:00,top_up,\"Top-up, \"\"M-Pesa\"\"\",123.45,KES,"
            )
        );
    }

    #[test]
    fn the_unit_filter_matches_name_occupant_and_serial_ignoring_case() {
        let row = unit("A-101", "Grace Hopper", "WAT-0042");
        assert!(row.matches(""));
        assert!(row.matches("a-10"));
        assert!(row.matches("hopper"));
        assert!(row.matches("wat-0042"));
        assert!(!row.matches("B-"));
    }
}

/// A prepaid account as residents and staff see it. Amounts are formatted in the site's
/// currency on the server; `balance_minor` is there for sorting and colouring.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountView {
    pub id: super::ids::AccountId,
    pub number: String,
    pub site: SiteId,
    pub unit: String,
    pub building: String,
    /// `None` for a unit wallet that pays for every utility of the unit.
    pub utility: Option<Utility>,
    pub currency: String,
    pub balance: String,
    pub balance_minor: i64,
    pub state: super::supply::SupplyState,
    pub days_left: Option<String>,
    pub last_reading_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The same moment on the site's clock (`2026-11-30 18:04`): the browser has no
    /// time-zone data, so the server writes it.
    pub last_reading_local: Option<chrono::NaiveDateTime>,
    pub allowance: Option<String>,
    pub emergency_owed: Option<String>,
    /// Emergency credit the resident could take now, formatted; `None` if not available.
    pub emergency_available: Option<String>,
    pub safety_hold: Option<String>,
    pub vulnerable: bool,
    pub occupant: Option<String>,
    /// A keypad meter's latest issued token, grouped for typing.
    #[serde(default)]
    pub last_token: Option<String>,
}

impl AccountView {
    pub fn title(&self) -> String {
        self.title_in(Locale::En)
    }

    pub fn title_in(&self, locale: Locale) -> String {
        format!("{} · {}", utilities_label(self.utility, locale), self.unit)
    }
}

/// What an account pays for: its utility, or all of them for a wallet shared by the unit.
pub fn utilities_label(utility: Option<Utility>, locale: Locale) -> &'static str {
    match utility {
        Some(utility) => utility.label_in(locale),
        None => Words {
            en: "All utilities",
            sw: "Huduma zote",
            zh: "全部",
        }
        .get(locale),
    }
}

/// One line of an account's statement. Usage charges are summed per local day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatementLine {
    pub transaction: i64,
    pub posted_at: chrono::DateTime<chrono::Utc>,
    /// The site-local date, for usage days.
    pub day: String,
    pub kind: String,
    pub description: String,
    pub amount: String,
    pub amount_minor: i64,
    pub receipt: Option<String>,
}

/// What a statement can be narrowed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineKind {
    All,
    /// What the meters used (and the standing charges).
    Usage,
    /// Money that came in: top-ups, refunds to the account, credits.
    MoneyIn,
    /// Everything else that took money: fees, debts recovered, adjustments down.
    OtherCharges,
}

impl LineKind {
    pub const ALL: [LineKind; 4] = [
        LineKind::All,
        LineKind::Usage,
        LineKind::MoneyIn,
        LineKind::OtherCharges,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::All => "all",
            LineKind::Usage => "usage",
            LineKind::MoneyIn => "in",
            LineKind::OtherCharges => "other",
        }
    }

    /// Which of the narrow kinds (never `All`) a line is.
    pub fn of(line: &StatementLine) -> LineKind {
        if matches!(line.kind.as_str(), "usage" | "periodic") {
            LineKind::Usage
        } else if line.amount_minor > 0 {
            LineKind::MoneyIn
        } else {
            LineKind::OtherCharges
        }
    }

    /// Anything unknown shows everything.
    pub fn parse(raw: &str) -> LineKind {
        LineKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == raw)
            .unwrap_or(LineKind::All)
    }

    pub fn label(self) -> &'static str {
        self.label_in(Locale::En)
    }

    pub fn label_in(self, locale: Locale) -> &'static str {
        let words = match self {
            LineKind::All => Words {
                en: "Everything",
                sw: "Yote",
                zh: "全部",
            },
            LineKind::Usage => Words {
                en: "Usage",
                sw: "Matumizi",
                zh: "用量",
            },
            LineKind::MoneyIn => Words {
                en: "Money in",
                sw: "Pesa zilizoingia",
                zh: "入账",
            },
            LineKind::OtherCharges => Words {
                en: "Other charges",
                sw: "Gharama nyingine",
                zh: "其他费用",
            },
        };
        words.get(locale)
    }
}

/// A statement filter: a kind and a range of site-local dates (`YYYY-MM-DD`, either end
/// open when empty; as the dates are written that way, text order is date order).
#[derive(Clone, Debug, PartialEq)]
pub struct StatementFilter {
    pub what: LineKind,
    pub from: String,
    pub to: String,
}

impl StatementFilter {
    pub fn keeps(&self, line: &StatementLine) -> bool {
        let kind = self.what == LineKind::All || self.what == LineKind::of(line);
        let day = line.day.as_str();
        kind && (self.from.is_empty() || day >= self.from.as_str())
            && (self.to.is_empty() || day <= self.to.as_str())
    }
}

/// Statement lines as CSV, for the resident's download.
pub fn statement_csv(lines: &[StatementLine], currency: &str) -> String {
    let mut out = String::from("date,posted_at,kind,description,amount,currency,receipt\n");
    for line in lines {
        out.push_str(&super::csv::line(&[
            line.day.as_str(),
            &line.posted_at.to_rfc3339(),
            &line.kind,
            &line.description,
            &line.amount,
            currency,
            line.receipt.as_deref().unwrap_or_default(),
        ]));
    }
    out
}

/// A notice the engine queued for the resident or the managers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NoticeLine {
    pub at: chrono::DateTime<chrono::Utc>,
    pub kind: String,
    pub audience: String,
    pub status: String,
}

impl NoticeLine {
    /// What the notice says, in words.
    pub fn label(&self) -> String {
        self.label_in(Locale::En)
    }

    pub fn label_in(&self, locale: Locale) -> String {
        let words = |en, sw, zh| Words { en, sw, zh }.get(locale).to_owned();
        match self.kind.strip_prefix("low_balance_") {
            Some(level) => Words {
                en: "Low balance warning (level {})",
                sw: "Tahadhari ya salio la chini (kiwango {})",
                zh: "余额不足提醒（第 {} 级）",
            }
            .fill(locale, &[level]),
            None => match self.kind.as_str() {
                "few_days_left" => words(
                    "Few days of credit left",
                    "Zimebaki siku chache za salio",
                    "余额仅够几天",
                ),
                "cut_off" => words("Supply cut off", "Huduma imekatwa", "已停供"),
                "restricted" => words(
                    "Water flow restricted",
                    "Mtiririko wa maji umepunguzwa",
                    "已限制水流",
                ),
                "reconnected" => words("Supply reconnected", "Huduma imerudishwa", "已恢复供应"),
                "payment_received" => words(
                    "Payment received: receipt sent",
                    "Malipo yamepokelewa: risiti imetumwa",
                    "已收到付款：收据已发送",
                ),
                "token_issued" => words(
                    "Meter token sent",
                    "Tokeni ya mita imetumwa",
                    "已发送电表充值码",
                ),
                "armed" => words(
                    "Gas ready: confirm at the meter",
                    "Gesi iko tayari: thibitisha kwenye mita",
                    "燃气待恢复：请在表上确认",
                ),
                "protected_at_zero" => words(
                    "Protected household out of credit (to managers)",
                    "Kaya iliyolindwa imeishiwa salio (kwa mameneja)",
                    "受保护住户余额耗尽（通知经理）",
                ),
                other => other.replace('_', " "),
            },
        }
    }
}

/// A command the engine queued for one of the account's meters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommandLine {
    pub at: chrono::DateTime<chrono::Utc>,
    pub meter: String,
    pub seq: i64,
    pub command: String,
    pub reason: String,
    pub status: String,
}

/// Everything recorded about an account, as the engine returns it.
#[derive(Clone, Debug, PartialEq)]
pub struct AccountRecord {
    pub account: AccountView,
    pub zone: super::zone::SiteZone,
    pub lines: Vec<StatementLine>,
    pub notices: Vec<NoticeLine>,
    pub commands: Vec<CommandLine>,
}

/// An account with its recent statement, and what the viewer may do with it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountDetail {
    pub account: AccountView,
    /// The site's clock, for the times of the statement and outboxes.
    pub zone: super::zone::SiteZone,
    pub lines: Vec<StatementLine>,
    /// Notices and meter commands the account's balance caused (the outboxes' view).
    pub notices: Vec<NoticeLine>,
    pub commands: Vec<CommandLine>,
    pub may_take_cash: bool,
    pub may_adjust: bool,
    pub may_choose: bool,
    /// Sent back with a money form: the same form sent twice moves money once.
    pub form_nonce: String,
}

/// A receipt for money taken.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    /// Empty while the cash waits for approval (`waiting`).
    pub number: String,
    pub amount: String,
    pub balance: String,
    pub repeated: bool,
    /// Cash above the site's limit is not credited yet: the request waiting for a second
    /// person's approval.
    pub waiting: Option<i64>,
}
