//! The fleet's wire format: MQTT topics and JSON payloads, in the style of common IoT network
//! servers (one topic tree per device, uplinks and downlinks apart, JSON bodies). The
//! simulator exchanges the same payloads in process, so both transports share one parser.
//!
//! Topics, where `{serial}` is the meter's serial (also its broker user name):
//! - `prepaid/meters/{serial}/up/reading`: `{"taken_at": RFC 3339, "register": "12.345",
//!   "power_kw": "1.2"}` (`power_kw` optional). Numbers travel as strings: they are exact.
//! - `prepaid/meters/{serial}/up/status`: `{"at", "relay": "open|closed|restricted|armed",
//!   "signal_dbm", "battery_pct", "clock", "power_kw"}` (all but `at` optional).
//! - `prepaid/meters/{serial}/up/alarm`: `{"at", "kind": "gas_leak|overload|water_flow|
//!   water_spike|tamper", "detail"}`.
//! - `prepaid/meters/{serial}/up/ack`: `{"command_id", "seq", "result": "ok|rejected|stale",
//!   "detail"}`.
//! - `prepaid/meters/{serial}/down/command`: `{"command_id", "seq", "command", "params",
//!   "expires_at"}`. A meter ignores a `command_id` it has seen, and a relay command whose
//!   `seq` is lower than the last relay command it applied (answering `stale`).
//! - `prepaid/meters/{serial}/down/error`: `{"topic", "error"}`, when an uplink was refused.

use app::domain::fleet::{AlarmKind, CommandKind};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub const TOPIC_ROOT: &str = "prepaid/meters";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reading {
    pub taken_at: DateTime<Utc>,
    pub register: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_kw: Option<Decimal>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Status {
    pub at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay: Option<Relay>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal_dbm: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub battery_pct: Option<i32>,
    /// The meter's own clock when it sent this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_kw: Option<Decimal>,
}

/// A relay or valve position: open lets the utility flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relay {
    Open,
    Closed,
    Restricted,
    Armed,
}

impl Relay {
    pub fn as_str(self) -> &'static str {
        match self {
            Relay::Open => "open",
            Relay::Closed => "closed",
            Relay::Restricted => "restricted",
            Relay::Armed => "armed",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alarm {
    pub at: Option<DateTime<Utc>>,
    pub kind: MeterAlarm,
    #[serde(default)]
    pub detail: String,
}

/// The alarms a meter raises itself; the platform adds its own (offline, drift, expiry).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeterAlarm {
    GasLeak,
    Overload,
    WaterFlow,
    WaterSpike,
    Tamper,
}

impl From<MeterAlarm> for AlarmKind {
    fn from(alarm: MeterAlarm) -> Self {
        match alarm {
            MeterAlarm::GasLeak => AlarmKind::GasLeak,
            MeterAlarm::Overload => AlarmKind::Overload,
            MeterAlarm::WaterFlow => AlarmKind::WaterFlow,
            MeterAlarm::WaterSpike => AlarmKind::WaterSpike,
            MeterAlarm::Tamper => AlarmKind::Tamper,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ack {
    pub command_id: i64,
    pub seq: i64,
    pub result: AckResult,
    #[serde(default)]
    pub detail: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AckResult {
    Ok,
    Rejected,
    /// The meter had applied a newer relay command already.
    Stale,
}

/// Anything a meter sends.
#[derive(Clone, Debug, PartialEq)]
pub enum Uplink {
    Reading(Reading),
    Status(Status),
    Alarm(Alarm),
    Ack(Ack),
}

impl Uplink {
    /// The topic suffix after `up/`.
    pub fn channel(&self) -> &'static str {
        match self {
            Uplink::Reading(_) => "reading",
            Uplink::Status(_) => "status",
            Uplink::Alarm(_) => "alarm",
            Uplink::Ack(_) => "ack",
        }
    }

    /// Parses a payload received on `up/{channel}`.
    pub fn parse(channel: &str, payload: &[u8]) -> Result<Self, String> {
        let problem = |error: serde_json::Error| format!("{channel}: {error}");
        Ok(match channel {
            "reading" => Uplink::Reading(serde_json::from_slice(payload).map_err(problem)?),
            "status" => Uplink::Status(serde_json::from_slice(payload).map_err(problem)?),
            "alarm" => Uplink::Alarm(serde_json::from_slice(payload).map_err(problem)?),
            "ack" => Uplink::Ack(serde_json::from_slice(payload).map_err(problem)?),
            other => return Err(format!("unknown uplink {other:?}")),
        })
    }

    pub fn to_json(&self) -> Vec<u8> {
        let value = match self {
            Uplink::Reading(body) => serde_json::to_vec(body),
            Uplink::Status(body) => serde_json::to_vec(body),
            Uplink::Alarm(body) => serde_json::to_vec(body),
            Uplink::Ack(body) => serde_json::to_vec(body),
        };
        value.expect("uplinks serialise")
    }
}

/// A command on its way to a meter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Downlink {
    pub command_id: i64,
    pub seq: i64,
    pub command: CommandKind,
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub params: serde_json::Value,
    pub expires_at: DateTime<Utc>,
}

pub fn uplink_topic(serial: &str, channel: &str) -> String {
    format!("{TOPIC_ROOT}/{serial}/up/{channel}")
}

pub fn command_topic(serial: &str) -> String {
    format!("{TOPIC_ROOT}/{serial}/down/command")
}

pub fn error_topic(serial: &str) -> String {
    format!("{TOPIC_ROOT}/{serial}/down/error")
}

/// Splits `prepaid/meters/{serial}/up/{channel}` into serial and channel.
pub fn parse_uplink_topic(topic: &str) -> Option<(&str, &str)> {
    let rest = topic.strip_prefix(TOPIC_ROOT)?.strip_prefix('/')?;
    let (serial, rest) = rest.split_once('/')?;
    let channel = rest.strip_prefix("up/")?;
    (!serial.is_empty() && !channel.contains('/')).then_some((serial, channel))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_carry_exact_numbers_and_refuse_floats() {
        let good = br#"{"taken_at":"2026-11-30T10:00:00Z","register":"1234.567"}"#;
        let Uplink::Reading(reading) = Uplink::parse("reading", good).unwrap() else {
            panic!("not a reading")
        };
        assert_eq!(reading.register, Decimal::new(1_234_567, 3));
        let float = br#"{"taken_at":"2026-11-30T10:00:00Z","register":1234.567}"#;
        assert!(Uplink::parse("reading", float).is_err());
        let extra = br#"{"taken_at":"2026-11-30T10:00:00Z","register":"1","meter":"x"}"#;
        assert!(Uplink::parse("reading", extra).is_err());
    }

    #[test]
    fn uplink_topics_name_one_meter_and_one_channel() {
        assert_eq!(
            parse_uplink_topic("prepaid/meters/EL-1/up/ack"),
            Some(("EL-1", "ack"))
        );
        assert_eq!(parse_uplink_topic("prepaid/meters/EL-1/down/command"), None);
        assert_eq!(parse_uplink_topic("prepaid/meters//up/ack"), None);
        assert_eq!(parse_uplink_topic("prepaid/meters/EL-1/up/a/b"), None);
        assert_eq!(
            uplink_topic("EL-1", "reading"),
            "prepaid/meters/EL-1/up/reading"
        );
    }

    #[test]
    fn a_payload_round_trips() {
        let ack = Uplink::Ack(Ack {
            command_id: 7,
            seq: 3,
            result: AckResult::Stale,
            detail: String::new(),
        });
        assert_eq!(Uplink::parse("ack", &ack.to_json()).unwrap(), ack);
    }
}
