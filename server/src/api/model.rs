//! What the API answers and accepts: the contract, from which the OpenAPI document is made.
//! Money is exact: a decimal string in the site's currency beside the integer minor units.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

/// One page of a list, oldest first by id; pass `next_cursor` as `cursor` for the next.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub data: Vec<T>,
    /// Absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// From a previous page's `next_cursor`.
    #[param(pattern = "^[0-9]{1,18}$")]
    pub cursor: Option<String>,
    /// 1 to 200; 50 by default.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Money {
    /// Exact decimal, such as "-12.50".
    #[schema(pattern = r"^-?[0-9]+(\.[0-9]+)?$")]
    pub amount: String,
    /// ISO 4217.
    pub currency: String,
    /// The same in the currency's minor unit.
    pub minor: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Site {
    pub id: i64,
    pub name: String,
    /// IANA time zone, for time-of-use and local days.
    pub time_zone: String,
    pub currency: String,
    pub locale: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Building {
    pub id: i64,
    pub site_id: i64,
    pub name: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Unit {
    pub id: i64,
    pub site_id: i64,
    pub building_id: i64,
    pub name: String,
    /// flat, dorm_room, shop, office, factory or common_area.
    pub kind: String,
    /// Someone lives or works here now.
    pub occupied: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Meter {
    pub id: i64,
    pub site_id: i64,
    pub unit_id: i64,
    /// electricity, water or gas.
    pub utility: String,
    pub serial: String,
    pub unit_of_measure: String,
    #[schema(pattern = r"^[0-9]+(\.[0-9]+)?$")]
    pub multiplier: String,
    /// simulator or mqtt (or http, for a gateway's meters: readings come through this API).
    pub transport: String,
    pub installed_at: DateTime<Utc>,
    pub removed_at: Option<DateTime<Utc>>,
    pub online: Option<bool>,
    /// The relay or valve as last reported: open, closed, restricted, armed.
    pub relay: Option<String>,
    pub battery_pct: Option<i64>,
    pub last_reading_at: Option<DateTime<Utc>>,
    pub last_register: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Reading {
    pub id: i64,
    pub meter_id: i64,
    pub taken_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    /// The register as the meter reported it.
    pub register: String,
    /// baseline, rated, late or rejected.
    pub status: String,
    /// What was used since the reading before (rated readings).
    pub quantity: Option<String>,
    /// Its price before tax, exact (rated readings).
    pub net: Option<String>,
    pub tax: Option<String>,
    pub account_id: Option<i64>,
    /// Why it was rejected, or why what it measured was not charged (a token or bulk meter).
    pub note: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Resident {
    pub id: i64,
    pub display_name: String,
    pub email: String,
    pub phone: Option<String>,
    /// Where they live now, if anywhere.
    pub unit_id: Option<i64>,
    pub moved_in_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Account {
    pub id: i64,
    pub site_id: i64,
    pub unit_id: Option<i64>,
    pub meter_id: Option<i64>,
    /// Absent for a wallet shared by a unit's utilities.
    pub utility: Option<String>,
    pub resident_id: Option<i64>,
    pub balance: Money,
    /// on, low, cut, restricted, armed, emergency or protected.
    pub supply_state: String,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Transaction {
    pub id: i64,
    /// top_up, charge, standing_charge, adjustment, reversal, token_sale, …
    pub kind: String,
    pub memo: String,
    /// What it did to this account (negative: taken from it).
    pub amount: Money,
    pub posted_at: DateTime<Utc>,
    /// The transaction this one corrects.
    pub reverses_id: Option<i64>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    Hour,
    Day,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    pub granularity: Granularity,
    /// From this instant (hours) or the site's local day holding it (days), inclusive.
    pub from: DateTime<Utc>,
    /// Up to this instant, exclusive; at most 400 days after `from`.
    pub to: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UsagePoint {
    /// The hour's start (UTC) or the site's local day at 00:00 in UTC.
    pub start: String,
    pub meter_id: i64,
    /// Exact decimal in the meter's unit.
    pub quantity: String,
    /// Exact decimal in the site's currency, tax included.
    pub cost: String,
    pub readings: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Usage {
    pub account_id: i64,
    pub granularity: Granularity,
    pub points: Vec<UsagePoint>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Payment {
    /// The payment's public id (`pay_…`).
    pub id: String,
    pub site_id: i64,
    pub account_id: Option<i64>,
    pub provider: String,
    /// resident, public, paybill or bank.
    pub channel: String,
    pub amount: Money,
    /// pending, paid, failed, conflict, refunded or charged_back.
    pub status: String,
    pub receipt_number: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Alarm {
    pub id: i64,
    pub site_id: i64,
    pub unit_id: Option<i64>,
    pub meter_id: Option<i64>,
    /// gas_leak, overload, water_flow, water_spike, tamper, offline, command_expired, …
    pub kind: String,
    /// critical or warning.
    pub severity: String,
    /// open, acknowledged or resolved.
    pub status: String,
    pub detail: String,
    pub opened_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsumptionQuery {
    pub site_id: i64,
    /// The first local day, inclusive.
    pub from: NaiveDate,
    /// The last local day, inclusive; at most 400 days after `from`.
    pub to: NaiveDate,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConsumptionLine {
    pub unit_id: i64,
    pub unit: String,
    pub building: String,
    pub utility: String,
    pub quantity: String,
    pub cost: Money,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConsumptionReport {
    pub site_id: i64,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// By unit, then utility.
    pub lines: Vec<ConsumptionLine>,
}

// Writes.

/// An id in a body: JSON has one kind of number, so `12.0` is the integer 12 to a JSON
/// Schema validator, and is taken as such here too.
fn whole<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let number = serde_json::Number::deserialize(deserializer)?;
    number
        .as_i64()
        .or_else(|| {
            number
                .as_f64()
                .filter(|value| value.fract() == 0.0 && value.abs() < 9.0e15)
                .map(|value| value as i64)
        })
        .ok_or_else(|| serde::de::Error::custom(format!("{number} is not a whole number")))
}

fn whole_or_none<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    struct Whole(#[serde(deserialize_with = "whole")] i64);
    Ok(Option::<Whole>::deserialize(deserializer)?.map(|Whole(value)| value))
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    Flat,
    DormRoom,
    Shop,
    Office,
    Factory,
    CommonArea,
}

impl UnitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Flat => "flat",
            UnitKind::DormRoom => "dorm_room",
            UnitKind::Shop => "shop",
            UnitKind::Office => "office",
            UnitKind::Factory => "factory",
            UnitKind::CommonArea => "common_area",
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UtilityKind {
    Electricity,
    Water,
    Gas,
}

impl UtilityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UtilityKind::Electricity => "electricity",
            UtilityKind::Water => "water",
            UtilityKind::Gas => "gas",
        }
    }
}

/// An alarm's state, to filter by.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlarmState {
    Open,
    Acknowledged,
    Resolved,
}

/// An account's supply state, to filter by.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SupplyStateName {
    On,
    Low,
    Cut,
    Restricted,
    Armed,
    Emergency,
    Protected,
}

impl AlarmState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmState::Open => "open",
            AlarmState::Acknowledged => "acknowledged",
            AlarmState::Resolved => "resolved",
        }
    }
}

impl SupplyStateName {
    pub fn as_str(self) -> &'static str {
        match self {
            SupplyStateName::On => "on",
            SupplyStateName::Low => "low",
            SupplyStateName::Cut => "cut",
            SupplyStateName::Restricted => "restricted",
            SupplyStateName::Armed => "armed",
            SupplyStateName::Emergency => "emergency",
            SupplyStateName::Protected => "protected",
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    Simulator,
    Mqtt,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InviteBy {
    Email,
    Sms,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBuilding {
    #[serde(deserialize_with = "whole")]
    pub site_id: i64,
    #[schema(min_length = 1, max_length = 80, pattern = r"^\S(.*\S)?$")]
    pub name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUnit {
    #[serde(deserialize_with = "whole")]
    pub building_id: i64,
    #[schema(min_length = 1, max_length = 80, pattern = r"^\S(.*\S)?$")]
    pub name: String,
    /// flat by default.
    pub kind: Option<UnitKind>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMeter {
    #[serde(deserialize_with = "whole")]
    pub unit_id: i64,
    pub utility: UtilityKind,
    /// 3 to 64 letters, digits, dots, dashes or underscores; unique.
    #[schema(pattern = "^[A-Za-z0-9._-]{3,64}$")]
    pub serial: String,
    /// Consumption = register change × multiplier (a current transformer's ratio); 1 by default.
    #[schema(pattern = r"^[0-9]{1,6}(\.[0-9]{1,6})?$")]
    pub multiplier: Option<String>,
    /// The register when installed; 0 by default.
    #[schema(pattern = r"^[0-9]{1,12}(\.[0-9]{1,6})?$")]
    pub first_register: Option<String>,
    /// mqtt by default.
    pub transport: Option<Transport>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InstalledMeter {
    pub meter: Meter,
    /// For an MQTT meter: the broker password it signs in with, shown once.
    pub broker_password: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewResident {
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    #[schema(min_length = 1, max_length = 120, pattern = r"^\S(.*\S)?$")]
    pub display_name: String,
    /// The unit they move into now; their accounts open at once.
    #[serde(deserialize_with = "whole")]
    pub unit_id: i64,
    /// E.164, such as +254712345678.
    #[schema(pattern = r"^\+[1-9][0-9]{7,14}$")]
    pub phone: Option<String>,
    /// Send them an invitation to choose a password. Without it, the answer carries an
    /// initial password to hand over.
    pub invite_by: Option<InviteBy>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedResident {
    pub resident: Resident,
    /// Shown once; they must change it at first sign-in.
    pub initial_password: Option<String>,
    /// Where the invitation went (masked).
    pub invited: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMoveIn {
    /// Someone who lives nowhere now (see `POST /move-outs` with `to_unit_id` to move house).
    #[serde(deserialize_with = "whole")]
    pub resident_id: i64,
    #[serde(deserialize_with = "whole")]
    pub unit_id: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinalReading {
    #[serde(deserialize_with = "whole")]
    pub meter_id: i64,
    #[schema(pattern = r"^[0-9]{1,12}(\.[0-9]{1,6})?$")]
    pub register: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMoveOut {
    #[serde(deserialize_with = "whole")]
    pub unit_id: i64,
    #[serde(deserialize_with = "whole")]
    pub resident_id: i64,
    /// Registers read at the door, charged before settling.
    #[serde(default)]
    pub final_readings: Vec<FinalReading>,
    /// Moving within the site: remainders carry to the new unit's accounts.
    #[serde(default, deserialize_with = "whole_or_none")]
    pub to_unit_id: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SettlementLine {
    pub account_id: i64,
    pub utility: Option<String>,
    pub remainder: Money,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MoveOut {
    pub unit_id: i64,
    pub resident_id: i64,
    pub lines: Vec<SettlementLine>,
    /// Owed to the resident.
    pub refund: Money,
    /// Owed by the resident.
    pub debt: Money,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlarmNote {
    /// Kept in the audit log.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub note: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTopUp {
    #[serde(deserialize_with = "whole")]
    pub account_id: i64,
    /// Exact decimal in the site's currency, more than zero.
    #[schema(pattern = r"^[0-9]{1,12}(\.[0-9]{1,3})?$")]
    pub amount: String,
    /// Your system's own reference for the money received: the same reference is credited
    /// once, whatever the Idempotency-Key.
    #[schema(min_length = 1, max_length = 100, pattern = r"^\S(.*\S)?$")]
    pub reference: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TopUp {
    pub transaction_id: i64,
    pub receipt: String,
    pub account_id: i64,
    pub amount: Money,
    pub balance: Money,
    /// False when this reference was credited before: nothing changed.
    pub new: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadingBatch {
    #[serde(default)]
    #[schema(max_items = 1000)]
    pub readings: Vec<IncomingReading>,
    #[serde(default)]
    #[schema(max_items = 1000)]
    pub alarms: Vec<IncomingAlarm>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncomingReading {
    #[schema(pattern = "^[A-Za-z0-9._-]{3,64}$")]
    pub serial: String,
    pub taken_at: DateTime<Utc>,
    /// The register, exact decimal (not a float).
    #[schema(pattern = r"^[0-9]{1,12}(\.[0-9]{1,6})?$")]
    pub register: String,
}

/// What a meter itself may report.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlarmKind {
    GasLeak,
    Overload,
    WaterFlow,
    WaterSpike,
    Tamper,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncomingAlarm {
    #[schema(pattern = "^[A-Za-z0-9._-]{3,64}$")]
    pub serial: String,
    pub at: DateTime<Utc>,
    pub kind: AlarmKind,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub detail: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BatchResult {
    /// Readings taken (one already taken counts again, and changes nothing).
    pub readings: i64,
    pub alarms: i64,
}
