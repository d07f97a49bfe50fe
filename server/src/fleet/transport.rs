//! The one way meters are reached. A transport delivers commands and hands every message a
//! meter sends to the fleet as an [`Event`]; the fleet never knows which network carried it.
//! A transport vouches for the serial of each event: the MQTT one takes it from the topic,
//! which the broker lets only that meter publish to.

use super::wire::{Downlink, Uplink};
use chrono::{DateTime, Duration, Utc};
use std::fmt;

/// The value of `meters.transport` a transport serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransportKind {
    Simulator,
    Mqtt,
}

impl TransportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Simulator => "simulator",
            TransportKind::Mqtt => "mqtt",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [TransportKind::Simulator, TransportKind::Mqtt]
            .into_iter()
            .find(|kind| kind.as_str() == raw)
    }
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A message from a meter, as a transport received it.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub serial: String,
    pub uplink: Uplink,
    pub received_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("not connected to the network")]
    Disconnected,
    #[error("no such meter on this transport: {0}")]
    UnknownMeter(String),
    #[error("{0}")]
    Failed(String),
}

#[async_trait::async_trait]
pub trait Transport: Send + Sync + 'static {
    fn kind(&self) -> TransportKind;

    /// Hands a command to the network. `Ok` means it left; the meter's acknowledgement, if it
    /// comes, arrives later as an event.
    async fn send(&self, serial: &str, command: &Downlink) -> Result<(), TransportError>;

    /// Connected and subscribed: whatever the network held for us while we were away is
    /// arriving, so a quiet spell means rating has caught up.
    fn connected(&self) -> bool;
}

/// How patiently commands are delivered: per transport and per kind of meter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Delivery {
    /// How long to wait for an acknowledgement before sending again.
    pub ack_timeout: Duration,
    /// Waits between attempts double from `retry_base` up to `retry_cap`.
    pub retry_base: Duration,
    pub retry_cap: Duration,
    pub max_attempts: u32,
    /// A command not acknowledged within this is expired and raises an alarm.
    pub lifetime: Duration,
}

impl Delivery {
    /// Mains-powered meters answer within seconds.
    pub fn mains(kind: TransportKind) -> Self {
        match kind {
            TransportKind::Simulator => Delivery {
                ack_timeout: Duration::seconds(5),
                retry_base: Duration::seconds(2),
                retry_cap: Duration::seconds(30),
                max_attempts: 5,
                lifetime: Duration::minutes(10),
            },
            TransportKind::Mqtt => Delivery {
                ack_timeout: Duration::seconds(20),
                retry_base: Duration::seconds(10),
                retry_cap: Duration::minutes(5),
                max_attempts: 6,
                lifetime: Duration::hours(1),
            },
        }
    }

    /// Battery meters that sleep take commands only right after an uplink: a command waits
    /// for the next one (normal, not an alarm) and is sent again after each until answered.
    pub fn sleeping() -> Self {
        Delivery {
            ack_timeout: Duration::minutes(2),
            retry_base: Duration::minutes(2),
            retry_cap: Duration::minutes(2),
            max_attempts: 20,
            lifetime: Duration::hours(48),
        }
    }
}

/// How long after its uplink a sleeping meter still listens.
pub const AWAKE_WINDOW_S: i64 = 30;
