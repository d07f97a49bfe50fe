//! The meter fleet's shared vocabulary and pure rules: what a meter can be told, how its
//! commands and alarms progress, and the per-site anomaly rules (overload, water flow, clock
//! drift, offline) that the server applies to telemetry and the console edits.

use super::{SiteId, Utility};
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A meter's serial as it is written on the device. It doubles as the meter's broker user name
/// and names its MQTT topics, so only letters, digits, `.`, `_` and `-` are accepted.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MeterSerial(String);

impl MeterSerial {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        if !(3..=64).contains(&raw.len()) || !raw.chars().all(allowed) {
            return Err("A serial is 3 to 64 letters, digits, dots, dashes or underscores.".into());
        }
        Ok(MeterSerial(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MeterSerial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Everything the outbox can ask of a meter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandKind {
    Open,
    Close,
    Restrict,
    /// Gas: let the resident reopen the valve at the meter.
    Arm,
    /// Send a reading now.
    Read,
    LoadLimit,
    SyncClock,
    /// The time-of-use schedule, for meters that switch rates themselves.
    TouSchedule,
}

impl CommandKind {
    pub const ALL: [CommandKind; 8] = [
        CommandKind::Open,
        CommandKind::Close,
        CommandKind::Restrict,
        CommandKind::Arm,
        CommandKind::Read,
        CommandKind::LoadLimit,
        CommandKind::SyncClock,
        CommandKind::TouSchedule,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CommandKind::Open => "open",
            CommandKind::Close => "close",
            CommandKind::Restrict => "restrict",
            CommandKind::Arm => "arm",
            CommandKind::Read => "read",
            CommandKind::LoadLimit => "load_limit",
            CommandKind::SyncClock => "sync_clock",
            CommandKind::TouSchedule => "tou_schedule",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == raw)
    }

    /// Relay and valve commands: only the newest of them counts, at the meter and here.
    pub fn is_relay(self) -> bool {
        matches!(
            self,
            CommandKind::Open | CommandKind::Close | CommandKind::Restrict | CommandKind::Arm
        )
    }
}

/// Where a command is in the outbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandStatus {
    /// Over the site's cap on credit cut-offs per minute: waits for a manager.
    Held,
    Pending,
    Sent,
    Acknowledged,
    Failed,
    Expired,
    /// A newer relay command for the same meter made this one moot.
    Superseded,
}

impl CommandStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CommandStatus::Held => "held",
            CommandStatus::Pending => "pending",
            CommandStatus::Sent => "sent",
            CommandStatus::Acknowledged => "acknowledged",
            CommandStatus::Failed => "failed",
            CommandStatus::Expired => "expired",
            CommandStatus::Superseded => "superseded",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::Held,
            Self::Pending,
            Self::Sent,
            Self::Acknowledged,
            Self::Failed,
            Self::Expired,
            Self::Superseded,
        ]
        .into_iter()
        .find(|status| status.as_str() == raw)
    }

    pub fn is_final(self) -> bool {
        !matches!(
            self,
            CommandStatus::Held | CommandStatus::Pending | CommandStatus::Sent
        )
    }
}

/// A remote operation a manager or technician asks for from the console.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "op")]
pub enum Operation {
    ReadNow,
    /// Open the relay or valve (not through a safety hold).
    Open,
    /// Close it and hold it closed until a manager opens it again.
    Close,
    LoadLimit {
        kw: Decimal,
    },
    SyncClock,
    SendSchedule,
}

impl Operation {
    /// Parses the console's form: the operation's name and, for a load limit, the kilowatts.
    pub fn parse(op: &str, kw: &str) -> Result<Self, String> {
        Ok(match op {
            "read" => Operation::ReadNow,
            "open" => Operation::Open,
            "close" => Operation::Close,
            "sync_clock" => Operation::SyncClock,
            "tou_schedule" => Operation::SendSchedule,
            "load_limit" => {
                let kw: Decimal = kw
                    .trim()
                    .parse()
                    .map_err(|_| "The load limit is a number of kilowatts.".to_owned())?;
                if kw <= Decimal::ZERO || kw > Decimal::from(10_000) {
                    return Err("The load limit is between 0 and 10,000 kW.".into());
                }
                Operation::LoadLimit { kw }
            }
            _ => return Err(format!("Unknown operation {op:?}.")),
        })
    }

    /// Operations that change supply need a reason for the audit log.
    pub fn needs_reason(&self) -> bool {
        matches!(
            self,
            Operation::Open | Operation::Close | Operation::LoadLimit { .. }
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlarmKind {
    GasLeak,
    Overload,
    /// Water flowing without a break for longer than the site allows.
    WaterFlow,
    /// More water in an interval than the site allows.
    WaterSpike,
    /// The relay or valve reports open while the account is cut.
    Tamper,
    Offline,
    /// A command the meter never acknowledged.
    CommandExpired,
    ClockDrift,
    /// More credit cut-offs at once than the site's cap: they wait for a manager.
    CutCap,
}

impl AlarmKind {
    pub const ALL: [AlarmKind; 9] = [
        AlarmKind::GasLeak,
        AlarmKind::Overload,
        AlarmKind::WaterFlow,
        AlarmKind::WaterSpike,
        AlarmKind::Tamper,
        AlarmKind::Offline,
        AlarmKind::CommandExpired,
        AlarmKind::ClockDrift,
        AlarmKind::CutCap,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlarmKind::GasLeak => "gas_leak",
            AlarmKind::Overload => "overload",
            AlarmKind::WaterFlow => "water_flow",
            AlarmKind::WaterSpike => "water_spike",
            AlarmKind::Tamper => "tamper",
            AlarmKind::Offline => "offline",
            AlarmKind::CommandExpired => "command_expired",
            AlarmKind::ClockDrift => "clock_drift",
            AlarmKind::CutCap => "cut_cap",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == raw)
    }

    pub fn label(self) -> &'static str {
        match self {
            AlarmKind::GasLeak => "Gas leak",
            AlarmKind::Overload => "Overload",
            AlarmKind::WaterFlow => "Continuous water flow",
            AlarmKind::WaterSpike => "Water spike",
            AlarmKind::Tamper => "Tampering",
            AlarmKind::Offline => "Meter offline",
            AlarmKind::CommandExpired => "Command not delivered",
            AlarmKind::ClockDrift => "Meter clock drift",
            AlarmKind::CutCap => "Cut-offs held",
        }
    }

    /// Critical alarms are about safety or money leaking; the rest are faults to look at.
    pub fn severity(self) -> Severity {
        match self {
            AlarmKind::GasLeak | AlarmKind::Overload | AlarmKind::Tamper | AlarmKind::WaterFlow => {
                Severity::Critical
            }
            _ => Severity::Warning,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Critical,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
        }
    }
}

/// An alarm's life: open → acknowledged → resolved (resolving an open alarm directly is fine).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlarmStep {
    Acknowledge,
    Resolve,
}

/// What an overload does once power has stayed above the limit for long enough.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverloadAction {
    /// Cut and hold until a technician clears it.
    Cut,
    /// Tell the meter to limit the load to `load_limit_kw`.
    Limit,
}

/// A site's fleet and anomaly rules. Stored as JSON; every field has a default, so rules saved
/// before a field existed still load.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FleetRules {
    /// A mains meter silent this long is offline.
    pub offline_after_minutes: i64,
    /// A sleeping (battery) meter reports rarely: silent this long is offline.
    pub sleeping_offline_after_hours: i64,
    /// A meter clock this far from ours is a fault: time-of-use prices trust its timestamps.
    pub clock_drift_limit_s: i64,
    /// Electricity: power above this for `overload_for_s` is an overload (none: no rule).
    pub overload_kw: Option<Decimal>,
    pub overload_for_s: i64,
    pub overload_action: OverloadAction,
    pub load_limit_kw: Decimal,
    /// Water: flow in every interval for this many hours is an alarm (none: no rule).
    pub water_flow_hours: Option<i64>,
    /// Water: more than this many units per hour within one interval is a spike.
    pub water_spike_per_hour: Option<Decimal>,
    /// Water alarms also close the valve.
    pub water_shut_off: bool,
    /// Credit cut-offs the outbox sends per site and minute; more wait for a manager.
    pub credit_cuts_per_minute: u32,
    /// Reconnections after credit returns go out at most this many per site and second.
    pub reconnects_per_second: u32,
}

impl Default for FleetRules {
    fn default() -> Self {
        FleetRules {
            offline_after_minutes: 60,
            sleeping_offline_after_hours: 26,
            clock_drift_limit_s: 120,
            overload_kw: Some(Decimal::from(12)),
            overload_for_s: 60,
            overload_action: OverloadAction::Cut,
            load_limit_kw: Decimal::from(3),
            water_flow_hours: Some(6),
            water_spike_per_hour: Some(Decimal::from(2)),
            water_shut_off: false,
            credit_cuts_per_minute: 50,
            reconnects_per_second: 20,
        }
    }
}

/// What the rules make of one electricity power sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PowerVerdict {
    Normal,
    /// Above the limit since this time, not yet for long enough.
    Above(DateTime<Utc>),
    Overload,
}

impl FleetRules {
    /// Power `kw` seen at `at`; `since` is when it first went above the limit, if it had.
    pub fn power(
        &self,
        kw: Decimal,
        at: DateTime<Utc>,
        since: Option<DateTime<Utc>>,
    ) -> PowerVerdict {
        match self.overload_kw {
            Some(limit) if kw > limit => {
                let since = since.unwrap_or(at);
                if at - since >= Duration::seconds(self.overload_for_s) {
                    PowerVerdict::Overload
                } else {
                    PowerVerdict::Above(since)
                }
            }
            _ => PowerVerdict::Normal,
        }
    }

    /// Water used between two readings. Returns when continuous flow began (none: it
    /// stopped) and the alarm the interval raises, if any.
    pub fn water(
        &self,
        quantity: Decimal,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        flow_since: Option<DateTime<Utc>>,
    ) -> (Option<DateTime<Utc>>, Option<AlarmKind>) {
        if quantity <= Decimal::ZERO || to <= from {
            return (None, None);
        }
        let since = flow_since.unwrap_or(from);
        // Microseconds: readings under a second apart are an interval too (in whole seconds
        // they would divide by zero).
        let micros = (to - from).num_microseconds().unwrap_or(i64::MAX);
        let hours = Decimal::from(micros) / Decimal::from(3_600_000_000_i64);
        if let Some(limit) = self.water_spike_per_hour
            && quantity.checked_div(hours).is_none_or(|rate| rate > limit)
        {
            return (Some(since), Some(AlarmKind::WaterSpike));
        }
        match self.water_flow_hours {
            Some(limit) if to - since >= Duration::hours(limit) => {
                (Some(since), Some(AlarmKind::WaterFlow))
            }
            _ => (Some(since), None),
        }
    }

    pub fn clock_drifts(&self, offset_s: i64) -> bool {
        offset_s.abs() > self.clock_drift_limit_s
    }

    pub fn offline_after(&self, sleeps: bool) -> Duration {
        if sleeps {
            Duration::hours(self.sleeping_offline_after_hours)
        } else {
            Duration::minutes(self.offline_after_minutes)
        }
    }

    /// Checks what a manager typed.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            self.offline_after_minutes,
            self.sleeping_offline_after_hours,
            self.clock_drift_limit_s,
            self.overload_for_s,
        ];
        if positive.iter().any(|v| *v <= 0) || self.water_flow_hours.is_some_and(|h| h <= 0) {
            return Err("Times must be more than zero.".into());
        }
        if self.overload_kw.is_some_and(|kw| kw <= Decimal::ZERO)
            || self.load_limit_kw <= Decimal::ZERO
            || self
                .water_spike_per_hour
                .is_some_and(|q| q <= Decimal::ZERO)
        {
            return Err("Limits must be more than zero.".into());
        }
        if self.credit_cuts_per_minute == 0 || self.reconnects_per_second == 0 {
            return Err("The switching caps must be at least one.".into());
        }
        Ok(())
    }
}

/// How long to wait after attempt `attempt` (1-based) before trying again: doubling from
/// `base`, at most `cap`.
pub fn backoff(attempt: u32, base: Duration, cap: Duration) -> Duration {
    let factor = 1_i32 << attempt.saturating_sub(1).min(16);
    (base * factor).min(cap)
}

/// A command as the console lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommandView {
    pub id: i64,
    pub seq: i64,
    pub command: String,
    pub reason: String,
    pub status: String,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlarmView {
    pub id: i64,
    pub site: SiteId,
    pub unit: Option<String>,
    pub meter: Option<String>,
    pub meter_id: Option<i64>,
    pub kind: String,
    pub label: String,
    pub severity: String,
    pub status: String,
    pub detail: String,
    pub opened_at: DateTime<Utc>,
    /// `opened_at` on the site's clock.
    pub opened_local: chrono::NaiveDateTime,
    /// The site's offset from UTC at the moment the detail names (at the opening when it
    /// names none): all it takes to write that moment on the site's clock.
    pub detail_clock: super::zone::SiteZone,
    /// What staff wrote about it, oldest first.
    #[serde(default)]
    pub notes: Vec<AlarmNoteView>,
}

/// Most characters in a note on an alarm.
pub const ALARM_NOTE_MAX: usize = 500;

/// A note as typed, trimmed; empty means none. Longer than [`ALARM_NOTE_MAX`] is refused.
pub fn alarm_note(raw: &str) -> Result<&str, String> {
    let note = raw.trim();
    if note.chars().count() > ALARM_NOTE_MAX {
        return Err(format!("A note is at most {ALARM_NOTE_MAX} characters."));
    }
    Ok(note)
}

/// One note on an alarm: who wrote it, when (on the site's clock), and with which step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlarmNoteView {
    pub at_local: chrono::NaiveDateTime,
    pub by: String,
    /// `note`, `acknowledged` or `resolved`.
    pub step: String,
    pub note: String,
}

/// One meter as the console shows it: identity, last status, commands and alarms.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeterDetail {
    /// The site's clock, for every time on the page.
    pub zone: super::zone::SiteZone,
    pub id: i64,
    pub site: SiteId,
    pub site_name: String,
    pub unit: String,
    pub serial: String,
    pub utility: Utility,
    pub transport: String,
    pub sleeps: bool,
    /// Whether the meter switches time-of-use rates itself, and so is sent their schedule.
    #[serde(default)]
    pub switches_rates: bool,
    pub multiplier: String,
    pub installed_at: DateTime<Utc>,
    pub removed_at: Option<DateTime<Utc>>,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub online: bool,
    pub signal_dbm: Option<i32>,
    pub battery_pct: Option<i32>,
    /// What we last asked of the relay or valve, and what the meter last said it is.
    pub relay_wanted: String,
    pub relay_reported: Option<String>,
    pub safety_hold: Option<String>,
    pub clock_offset_s: Option<i64>,
    pub last_reading_at: Option<DateTime<Utc>>,
    pub last_register: Option<String>,
    /// Where its register wraps to zero, if it does, for the final-reading form's preview.
    #[serde(default)]
    pub wraps_at: Option<String>,
    /// The meter this one is fed through (its id and serial), for the loss report.
    #[serde(default)]
    pub master: Option<(i64, String)>,
    /// How many meters in service this one feeds.
    #[serde(default)]
    pub sub_meters: i64,
    /// The meter put in this one's place when it was replaced, by id and serial.
    #[serde(default)]
    pub replaced_by: Option<(i64, String)>,
    /// The meter this one replaced; a resident is shown it only if it was removed during
    /// their stay, as its readings before are an earlier household's.
    #[serde(default)]
    pub replaces: Option<(i64, String)>,
    /// What its next units cost now, for the final reading's preview: shown to staff, and
    /// only where that reading is charged (not on a bulk meter) under a tariff.
    #[serde(default)]
    pub pricing: Option<super::planner::Pricing>,
    /// Who that reading would be charged to now; given with `pricing`.
    #[serde(default)]
    pub payer: Option<Payer>,
    pub commands: Vec<CommandView>,
    pub alarms: Vec<AlarmView>,
    /// The newest readings by when they were taken, for staff to see what each was charged
    /// and why one was not; in the meter's unit and the site's currency.
    #[serde(default)]
    pub readings: Vec<super::meter_readings::ReadingView>,
    #[serde(default)]
    pub unit_of_measure: String,
    #[serde(default)]
    pub currency: String,
    #[serde(default)]
    pub digits: u32,
}

/// Who a meter's reading is charged to, by rating's rule: the meter's own account, else its
/// unit's, else the site's landlord.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Payer {
    /// An account open on the meter or its unit, by the number on its statements.
    Account(String),
    /// The site's landlord: no account is open on the unit, so its use is the owner's.
    Landlord,
}

impl Payer {
    /// Who pays, as the final reading's preview says it: staff pages are in English.
    pub fn charged_to(&self) -> String {
        match self {
            Payer::Account(number) => format!("charged to account {number}"),
            Payer::Landlord => "charged to the landlord: no account is open on this unit".into(),
        }
    }
}

/// A meter's page: the meter and what the viewer may do with it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeterPageData {
    pub meter: MeterDetail,
    pub may_operate: bool,
    pub may_manage: bool,
    /// A fresh nonce for the note forms (set for those who may operate).
    #[serde(default)]
    pub form_nonce: String,
}

/// A site's fleet page: alarms, cut-offs held by the cap, rules, and units to install on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SiteFleet {
    pub site: SiteId,
    pub site_name: String,
    pub alarms: Vec<AlarmView>,
    /// Residents' fault reports: open ones, and closed ones with the resolved alarms.
    pub faults: Vec<super::faults::FaultView>,
    pub held_cut_offs: i64,
    pub rules: FleetRules,
    /// (unit id, "Building · Unit")
    pub units: Vec<(i64, String)>,
    pub may_operate: bool,
    pub may_manage: bool,
    /// A fresh nonce for the note forms.
    #[serde(default)]
    pub form_nonce: String,
}

/// The install form as typed; the engine parses it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MeterForm {
    pub serial: String,
    pub utility: String,
    pub multiplier: String,
    pub first_register: String,
    pub transport: String,
    pub sleeps: bool,
    pub switches_rates: bool,
}

/// A newly installed meter. The broker password is shown this once and never stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InstalledMeter {
    pub id: i64,
    pub serial: String,
    pub broker_password: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(minute: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::minutes(minute)
    }

    #[test]
    fn serials_are_safe_as_topic_names() {
        assert!(MeterSerial::parse("EL-0001.a_b").is_ok());
        for bad in ["ab", "a/b/c", "x+y", "a#b", "sp ace", ""] {
            assert!(MeterSerial::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn overload_needs_the_power_to_stay_high() {
        let rules = FleetRules::default();
        let high = Decimal::from(13);
        assert_eq!(
            rules.power(Decimal::from(5), at(0), None),
            PowerVerdict::Normal
        );
        assert_eq!(rules.power(high, at(0), None), PowerVerdict::Above(at(0)));
        assert_eq!(
            rules.power(high, at(0) + Duration::seconds(59), Some(at(0))),
            PowerVerdict::Above(at(0))
        );
        assert_eq!(
            rules.power(high, at(1), Some(at(0))),
            PowerVerdict::Overload
        );
    }

    #[test]
    fn water_flow_is_continuous_use_for_hours_and_a_spike_is_a_burst() {
        let rules = FleetRules::default();
        let trickle = Decimal::new(5, 2); // 0.05 per 15 minutes
        let (since, alarm) = rules.water(trickle, at(0), at(15), None);
        assert_eq!((since, alarm), (Some(at(0)), None));
        let (_, alarm) = rules.water(trickle, at(345), at(360), since);
        assert_eq!(alarm, Some(AlarmKind::WaterFlow));
        assert_eq!(
            rules.water(Decimal::ZERO, at(360), at(375), since),
            (None, None)
        );
        let (_, alarm) = rules.water(Decimal::ONE, at(0), at(15), None);
        assert_eq!(alarm, Some(AlarmKind::WaterSpike));
        // Half a second apart (a gateway batching fast): judged, not a division by zero.
        let half = at(0) + Duration::milliseconds(500);
        assert_eq!(rules.water(Decimal::new(1, 7), at(0), half, None).1, None);
        assert_eq!(
            rules.water(Decimal::ONE, at(0), half, None).1,
            Some(AlarmKind::WaterSpike)
        );
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let base = Duration::seconds(5);
        let cap = Duration::seconds(60);
        let waits: Vec<i64> = (1..=6)
            .map(|n| backoff(n, base, cap).num_seconds())
            .collect();
        assert_eq!(waits, [5, 10, 20, 40, 60, 60]);
    }

    #[test]
    fn a_note_is_trimmed_and_kept_short() {
        assert_eq!(alarm_note("  valve reseated \n").unwrap(), "valve reseated");
        assert_eq!(alarm_note("   ").unwrap(), "");
        let long = "é".repeat(ALARM_NOTE_MAX);
        assert_eq!(alarm_note(&long).unwrap(), long);
        assert!(alarm_note(&format!("{long}x")).is_err());
    }

    #[test]
    fn operations_parse_from_the_form() {
        assert_eq!(
            Operation::parse("load_limit", " 4.5 "),
            Ok(Operation::LoadLimit {
                kw: Decimal::new(45, 1)
            })
        );
        assert!(Operation::parse("load_limit", "-1").is_err());
        assert!(Operation::parse("explode", "").is_err());
        assert!(Operation::Close.needs_reason() && !Operation::ReadNow.needs_reason());
    }

    #[test]
    fn rules_saved_before_a_field_existed_still_load() {
        let rules: FleetRules = serde_json::from_str(r#"{"offline_after_minutes": 5}"#).unwrap();
        assert_eq!(rules.offline_after_minutes, 5);
        assert_eq!(
            rules.credit_cuts_per_minute,
            FleetRules::default().credit_cuts_per_minute
        );
        assert!(rules.validate().is_ok());
    }
}
