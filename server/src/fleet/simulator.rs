//! Virtual meters: realistic enough to demonstrate and test the platform without hardware.
//! Each follows a daily curve for its utility (morning and evening peaks, quiet nights) with
//! noise and bursts (a kettle, a shower, cooking), counts only while its relay or valve is
//! open, obeys commands the way a real meter should (duplicates ignored, older relay commands
//! refused as stale), and can be told to raise alarms or to stop answering. Time can run
//! faster than real time: each tick counts `speed` times the consumption of its real length.
//!
//! [`VirtualMeter`] is the device; [`Simulator`] is the in-process transport that runs many
//! of them; `mqtt::MqttDevice` puts one on a real broker.

use super::{
    transport::{Event, Transport, TransportError, TransportKind},
    wire::{Ack, AckResult, Alarm, Downlink, MeterAlarm, Reading, Relay, Status, Uplink},
};
use crate::{db::Db, on_db};
use app::domain::{Utility, fleet::CommandKind};
use chrono::{DateTime, Timelike, Utc};
use rust_decimal::Decimal;
use std::{
    collections::{HashMap, VecDeque},
    str::FromStr,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::sync::mpsc;

/// A small, fast, seeded generator: the simulation is reproducible, and needs no crate.
#[derive(Clone, Debug)]
struct Noise(u64);

impl Noise {
    fn new(seed: u64) -> Self {
        Noise(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// Uniform in [0, 1).
    fn next(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x >> 11) as f64 / (1_u64 << 53) as f64
    }
}

/// How many command ids a meter remembers to ignore repeats.
const REMEMBERED_COMMANDS: usize = 64;

/// One simulated meter.
#[derive(Clone, Debug)]
pub struct VirtualMeter {
    pub serial: String,
    pub utility: Utility,
    /// The register in thousandths of its unit (Wh, litres, litres of gas).
    register_milli: i64,
    pub relay: Relay,
    last_relay_seq: i64,
    seen: VecDeque<i64>,
    noise: Noise,
    /// An unresponsive meter takes commands silently and never answers.
    pub responsive: bool,
    pub clock_offset_s: i64,
    pub load_limit_kw: Option<f64>,
    /// The time-of-use schedule it was last sent, as sent.
    pub schedule: Option<serde_json::Value>,
    power_kw: f64,
    ticks: u64,
    /// The serial of the bulk meter this one is fed through: what it uses flows through that
    /// one too.
    pub master: Option<String>,
}

impl VirtualMeter {
    pub fn new(serial: &str, utility: Utility, register: Decimal, seed: u64) -> Self {
        let milli = (register * Decimal::from(1000)).trunc();
        VirtualMeter {
            serial: serial.to_owned(),
            utility,
            register_milli: i64::try_from(milli).unwrap_or(0),
            relay: Relay::Open,
            last_relay_seq: 0,
            seen: VecDeque::new(),
            noise: Noise::new(
                seed ^ serial
                    .bytes()
                    .fold(7_u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b))),
            ),
            responsive: true,
            clock_offset_s: 0,
            load_limit_kw: None,
            schedule: None,
            power_kw: 0.0,
            ticks: 0,
            master: None,
        }
    }

    pub fn register(&self) -> Decimal {
        Decimal::new(self.register_milli, 3)
    }

    /// The rate of use now, in units per hour (kW for electricity, m³/h otherwise).
    fn demand(&mut self, hour: u32) -> f64 {
        let r = self.noise.next();
        let wobble = 0.8 + 0.4 * self.noise.next();
        match self.utility {
            Utility::Electricity => {
                let curve = match hour {
                    0..=5 => 0.12,
                    6..=8 => 0.9,
                    9..=16 => 0.35,
                    17..=21 => 1.6,
                    _ => 0.5,
                };
                // A kettle, an oven, a heater: now and then, for a while.
                let burst = if r < 0.06 {
                    2.0 + 2.0 * self.noise.next()
                } else {
                    0.0
                };
                let kw = curve * wobble + burst;
                self.load_limit_kw.map_or(kw, |limit| kw.min(limit))
            }
            Utility::Water => {
                let busy = matches!(hour, 6..=8 | 18..=22);
                let chance = if busy { 0.25 } else { 0.05 };
                // A shower or a washing machine (~0.5 m³/h), else a tap now and then.
                if r < chance {
                    0.5 * wobble
                } else if r < chance * 2.0 {
                    0.05
                } else {
                    0.0
                }
            }
            Utility::Gas => {
                let meal = matches!(hour, 6..=7 | 12 | 18..=19);
                let cooking = if meal && r < 0.5 { 0.4 * wobble } else { 0.0 };
                cooking + 0.05 * wobble // a pilot light, a boiler keeping warm
            }
        }
    }

    /// Advances the meter by `simulated` of use at `now` and returns its reading.
    pub fn advance(&mut self, simulated: chrono::Duration, now: DateTime<Utc>) -> Reading {
        self.step(simulated, now);
        self.reading(now)
    }

    /// Advances the meter by `simulated` of its own use at `now`; returns what it used, in
    /// thousandths.
    fn step(&mut self, simulated: chrono::Duration, now: DateTime<Utc>) -> i64 {
        self.ticks += 1;
        let hours = simulated.num_milliseconds() as f64 / 3_600_000.0;
        let flowing = self.relay == Relay::Open;
        let rate = if flowing {
            self.demand(now.hour())
        } else {
            0.0
        };
        self.power_kw = rate;
        let used = (rate * hours * 1000.0).round() as i64;
        self.register_milli += used;
        used
    }

    pub fn reading(&self, now: DateTime<Utc>) -> Reading {
        Reading {
            taken_at: now + chrono::Duration::seconds(self.clock_offset_s),
            register: self.register(),
            power_kw: (self.utility == Utility::Electricity)
                .then(|| Decimal::from_str(&format!("{:.3}", self.power_kw)).unwrap_or_default()),
        }
    }

    pub fn status(&mut self, now: DateTime<Utc>) -> Status {
        Status {
            at: Some(now),
            relay: Some(self.relay),
            signal_dbm: Some(-60 - (self.noise.next() * 40.0) as i32),
            battery_pct: Some(100 - (self.ticks / 1000).min(90) as i32),
            clock: Some(now + chrono::Duration::seconds(self.clock_offset_s)),
            power_kw: None,
        }
    }

    pub fn alarm(&self, kind: MeterAlarm, now: DateTime<Utc>) -> Alarm {
        Alarm {
            at: Some(now),
            kind,
            detail: format!("raised by simulated meter {}", self.serial),
        }
    }

    /// Obeys a command as a careful meter does. Returns what it sends back: an acknowledgement
    /// and, for some commands, a fresh reading or status.
    pub fn apply(&mut self, command: &Downlink, now: DateTime<Utc>) -> Vec<Uplink> {
        if !self.responsive {
            return Vec::new();
        }
        let ack = |result| {
            Uplink::Ack(Ack {
                command_id: command.command_id,
                seq: command.seq,
                result,
                detail: String::new(),
            })
        };
        if self.seen.contains(&command.command_id) {
            return vec![ack(AckResult::Ok)]; // a repeat: answered again, not applied again
        }
        self.seen.push_back(command.command_id);
        if self.seen.len() > REMEMBERED_COMMANDS {
            self.seen.pop_front();
        }
        if command.command.is_relay() {
            if command.seq < self.last_relay_seq {
                return vec![ack(AckResult::Stale)];
            }
            self.last_relay_seq = command.seq;
        }
        let mut answer = vec![ack(AckResult::Ok)];
        match command.command {
            CommandKind::Open => self.relay = Relay::Open,
            CommandKind::Close => self.relay = Relay::Closed,
            CommandKind::Restrict => self.relay = Relay::Restricted,
            CommandKind::Arm => self.relay = Relay::Armed,
            CommandKind::Read => answer.push(Uplink::Reading(self.reading(now))),
            CommandKind::SyncClock => self.clock_offset_s = 0,
            CommandKind::LoadLimit => {
                self.load_limit_kw = command
                    .params
                    .get("kw")
                    .and_then(|kw| kw.as_str())
                    .and_then(|kw| kw.parse().ok());
            }
            CommandKind::TouSchedule => self.schedule = Some(command.params.clone()),
        }
        if command.command.is_relay() {
            answer.push(Uplink::Status(self.status(now)));
        }
        answer
    }
}

/// How the in-process simulator runs.
#[derive(Clone, Copy, Debug)]
pub struct SimulatorConfig {
    /// Real time between readings.
    pub interval: Duration,
    /// Simulated seconds per real second: 360 makes an hour of use every 10 seconds.
    pub speed: u32,
    pub seed: u64,
    /// Every this many ticks one meter has an incident (a gas leak, an overload, water left
    /// running), so a demonstration shows alarms too. None: never.
    pub incident_every: Option<u64>,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        SimulatorConfig {
            interval: Duration::from_secs(10),
            speed: 360,
            seed: 1,
            incident_every: None,
        }
    }
}

/// Every meter's own use over `simulated`, and then every bulk meter's sub-meters' use added
/// to it, down the chain from sub-meter to master (so a master reads its own use, a common
/// area's or a leak's, beside all it feeds).
fn flow(
    meters: &mut HashMap<String, VirtualMeter>,
    simulated: chrono::Duration,
    now: DateTime<Utc>,
) {
    let mut through: Vec<(Option<String>, i64)> = meters
        .values_mut()
        .map(|meter| (meter.master.clone(), meter.step(simulated, now)))
        .collect();
    // A chain is short (incomer, building, floor); the bound only guards against a loop.
    for _ in 0..8 {
        let mut next = Vec::new();
        for (master, used) in through {
            let Some(meter) = master.and_then(|serial| meters.get_mut(&serial)) else {
                continue;
            };
            if meter.relay == Relay::Open {
                meter.register_milli += used;
                next.push((meter.master.clone(), used));
            }
        }
        if next.is_empty() {
            break;
        }
        through = next;
    }
}

/// The built-in transport: every meter whose transport is `simulator`, in this process.
pub struct Simulator {
    meters: Mutex<HashMap<String, VirtualMeter>>,
    events: mpsc::Sender<Event>,
    config: SimulatorConfig,
    /// Where [`Simulator::run`] lists the meters: a command to a meter installed since the
    /// last look lists them again rather than failing.
    db: std::sync::OnceLock<Db>,
}

impl Simulator {
    pub fn new(events: mpsc::Sender<Event>, config: SimulatorConfig) -> Arc<Self> {
        Arc::new(Simulator {
            meters: Mutex::new(HashMap::new()),
            events,
            config,
            db: std::sync::OnceLock::new(),
        })
    }

    /// Picks up meters installed since the last look and drops removed ones. A new virtual
    /// meter starts from the register the platform last rated, so restarts carry on.
    pub async fn sync(&self, db: &Db) -> Result<(), sqlx::Error> {
        let rows: Vec<(String, String, Option<String>, Option<String>)> = on_db!(db, pool => {
            sqlx::query_as(
                "SELECT m.serial, m.utility, s.last_register, mm.serial FROM meters m \
                 LEFT JOIN meter_states s ON s.meter_id = m.id \
                 LEFT JOIN meters mm ON mm.id = m.master_meter_id \
                 WHERE m.transport = 'simulator' AND m.removed_at IS NULL",
            )
            .fetch_all(pool)
            .await
        })?;
        let mut meters = self.meters.lock().expect("simulator");
        let live: std::collections::HashSet<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        meters.retain(|serial, _| live.contains(serial.as_str()));
        for (serial, utility, register, master) in &rows {
            if let Some(meter) = meters.get_mut(serial) {
                meter.master.clone_from(master);
                continue;
            }
            let Ok(utility) = utility.parse() else {
                continue;
            };
            let register = register
                .as_deref()
                .and_then(|r| r.parse().ok())
                .unwrap_or_default();
            let mut meter = VirtualMeter::new(serial, utility, register, self.config.seed);
            meter.master.clone_from(master);
            meters.insert(serial.clone(), meter);
        }
        Ok(())
    }

    /// Advances every meter one tick and sends their readings (and now and then a status).
    pub async fn tick(&self, now: DateTime<Utc>) {
        let simulated = chrono::Duration::from_std(self.config.interval * self.config.speed)
            .unwrap_or(chrono::Duration::hours(1));
        let uplinks: Vec<(String, Uplink)> = {
            let mut meters = self.meters.lock().expect("simulator");
            flow(&mut meters, simulated, now);
            let mut out = Vec::with_capacity(meters.len() * 2);
            for meter in meters.values_mut() {
                out.push((meter.serial.clone(), Uplink::Reading(meter.reading(now))));
                if meter.ticks % 6 == 1 {
                    let status = meter.status(now);
                    out.push((meter.serial.clone(), Uplink::Status(status)));
                }
            }
            out
        };
        for (serial, uplink) in uplinks {
            self.emit(serial, uplink, now).await;
        }
    }

    async fn emit(&self, serial: String, uplink: Uplink, now: DateTime<Utc>) {
        let event = Event {
            serial,
            uplink,
            received_at: now,
        };
        if self.events.send(event).await.is_err() {
            tracing::debug!("simulator event dropped: the fleet has stopped");
        }
    }

    /// Runs the simulation until the task is aborted.
    pub fn run(self: Arc<Self>, db: Db) -> tokio::task::JoinHandle<()> {
        let _ = self.db.set(db.clone());
        tokio::spawn(async move {
            let mut every = tokio::time::interval(self.config.interval);
            let mut ticks: u64 = 0;
            loop {
                every.tick().await;
                if ticks.is_multiple_of(6)
                    && let Err(error) = self.sync(&db).await
                {
                    tracing::warn!(%error, "simulator could not list its meters");
                }
                ticks += 1;
                self.tick(Utc::now()).await;
                if self
                    .config
                    .incident_every
                    .is_some_and(|every| ticks.is_multiple_of(every.max(1)))
                {
                    self.incident(ticks).await;
                }
            }
        })
    }

    /// One meter, picked by `pick`, raises the alarm its utility is prone to.
    async fn incident(&self, pick: u64) {
        let chosen = {
            let meters = self.meters.lock().expect("simulator");
            let mut serials: Vec<(&String, Utility)> =
                meters.iter().map(|(s, m)| (s, m.utility)).collect();
            serials.sort();
            serials
                .get((pick.wrapping_mul(2_654_435_761) % serials.len().max(1) as u64) as usize)
                .map(|(serial, utility)| ((*serial).clone(), *utility))
        };
        if let Some((serial, utility)) = chosen {
            let kind = match utility {
                Utility::Electricity => MeterAlarm::Overload,
                Utility::Water => MeterAlarm::WaterFlow,
                Utility::Gas => MeterAlarm::GasLeak,
            };
            tracing::info!(serial, ?kind, "simulated incident");
            let _ = self.raise(&serial, kind).await;
        }
    }

    /// Makes a simulated meter raise an alarm, as if its sensor fired.
    pub async fn raise(&self, serial: &str, kind: MeterAlarm) -> Result<(), TransportError> {
        let now = Utc::now();
        let alarm = {
            let meters = self.meters.lock().expect("simulator");
            let meter = meters
                .get(serial)
                .ok_or_else(|| TransportError::UnknownMeter(serial.into()))?;
            meter.alarm(kind, now)
        };
        self.emit(serial.to_owned(), Uplink::Alarm(alarm), now)
            .await;
        Ok(())
    }

    /// Stops (or restarts) a simulated meter answering commands.
    pub fn set_responsive(&self, serial: &str, responsive: bool) {
        if let Some(meter) = self.meters.lock().expect("simulator").get_mut(serial) {
            meter.responsive = responsive;
        }
    }

    pub fn relay(&self, serial: &str) -> Option<Relay> {
        self.meters
            .lock()
            .expect("simulator")
            .get(serial)
            .map(|m| m.relay)
    }

    /// The time-of-use schedule a meter holds, if it was ever sent one.
    pub fn schedule(&self, serial: &str) -> Option<serde_json::Value> {
        self.meters
            .lock()
            .expect("simulator")
            .get(serial)
            .and_then(|m| m.schedule.clone())
    }

    pub fn len(&self) -> usize {
        self.meters.lock().expect("simulator").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait::async_trait]
impl Transport for Simulator {
    fn kind(&self) -> TransportKind {
        TransportKind::Simulator
    }

    async fn send(&self, serial: &str, command: &Downlink) -> Result<(), TransportError> {
        let now = Utc::now();
        let known = self.meters.lock().expect("simulator").contains_key(serial);
        if !known && let Some(db) = self.db.get() {
            // Installed since the last look (the loop lists the meters every few ticks).
            self.sync(db)
                .await
                .map_err(|error| TransportError::Failed(error.to_string()))?;
        }
        let answers = {
            let mut meters = self.meters.lock().expect("simulator");
            let meter = meters
                .get_mut(serial)
                .ok_or_else(|| TransportError::UnknownMeter(serial.into()))?;
            meter.apply(command, now)
        };
        for uplink in answers {
            self.emit(serial.to_owned(), uplink, now).await;
        }
        Ok(())
    }

    fn connected(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(id: i64, seq: i64, kind: CommandKind) -> Downlink {
        Downlink {
            command_id: id,
            seq,
            command: kind,
            params: serde_json::Value::Null,
            expires_at: Utc::now(),
        }
    }

    #[test]
    fn a_closed_meter_counts_nothing_and_an_open_one_counts_up() {
        let mut meter = VirtualMeter::new("EL-T1", Utility::Electricity, Decimal::from(100), 3);
        let hour = chrono::Duration::hours(1);
        let first = meter.advance(hour, Utc::now()).register;
        assert!(first > Decimal::from(100));
        meter.apply(&command(1, 1, CommandKind::Close), Utc::now());
        let closed = meter.advance(hour, Utc::now()).register;
        assert_eq!(closed, first);
    }

    #[test]
    fn repeats_are_not_reapplied_and_older_relay_commands_are_stale() {
        let mut meter = VirtualMeter::new("EL-T2", Utility::Electricity, Decimal::ZERO, 3);
        let now = Utc::now();
        meter.apply(&command(10, 5, CommandKind::Open), now);
        let stale = meter.apply(&command(9, 4, CommandKind::Close), now);
        assert!(matches!(
            &stale[0],
            Uplink::Ack(Ack {
                result: AckResult::Stale,
                ..
            })
        ));
        assert_eq!(meter.relay, Relay::Open);
        meter.apply(&command(11, 6, CommandKind::Close), now);
        meter.apply(&command(12, 7, CommandKind::Open), now);
        let repeat = meter.apply(&command(11, 6, CommandKind::Close), now);
        assert!(matches!(
            &repeat[0],
            Uplink::Ack(Ack {
                result: AckResult::Ok,
                ..
            })
        ));
        assert_eq!(
            meter.relay,
            Relay::Open,
            "a repeated close must not apply again"
        );
    }

    proptest::proptest! {
        /// However the network delays, repeats and reorders relay commands, the meter ends
        /// in the state of the newest one it received.
        #[test]
        fn the_newest_relay_command_wins_in_any_order(
            kinds in proptest::collection::vec(0_u8..4, 1..12),
            order in proptest::collection::vec(0_usize..100, 1..30),
        ) {
            let relay = |kind: u8| [CommandKind::Open, CommandKind::Close, CommandKind::Restrict, CommandKind::Arm][kind as usize];
            let commands: Vec<Downlink> = kinds
                .iter()
                .enumerate()
                .map(|(n, kind)| command(100 + n as i64, n as i64 + 1, relay(*kind)))
                .collect();
            let mut meter = VirtualMeter::new("EL-P", Utility::Electricity, Decimal::ZERO, 1);
            let mut newest = 0_i64;
            for pick in order {
                let delivered = &commands[pick % commands.len()];
                meter.apply(delivered, Utc::now());
                newest = newest.max(delivered.seq);
            }
            let expected = match commands[(newest - 1) as usize].command {
                CommandKind::Open => Relay::Open,
                CommandKind::Close => Relay::Closed,
                CommandKind::Restrict => Relay::Restricted,
                _ => Relay::Armed,
            };
            proptest::prop_assert_eq!(meter.relay, expected);
        }
    }

    #[test]
    fn a_bulk_meter_reads_its_own_use_and_all_it_feeds() {
        let mut meters = HashMap::new();
        for serial in ["WA-MAIN", "WA-BLOCK", "WA-1", "WA-2"] {
            meters.insert(
                serial.to_owned(),
                VirtualMeter::new(serial, Utility::Water, Decimal::ZERO, 5),
            );
        }
        // The block is fed by the main; flats 1 and 2 by the block.
        for (sub, master) in [
            ("WA-BLOCK", "WA-MAIN"),
            ("WA-1", "WA-BLOCK"),
            ("WA-2", "WA-BLOCK"),
        ] {
            meters.get_mut(sub).unwrap().master = Some(master.to_owned());
        }
        // The same meters on their own, to know what each used itself.
        let mut alone: HashMap<String, VirtualMeter> = meters
            .keys()
            .map(|serial| {
                (
                    serial.clone(),
                    VirtualMeter::new(serial, Utility::Water, Decimal::ZERO, 5),
                )
            })
            .collect();
        let start = Utc::now();
        for step in 0..48 {
            let now = start + chrono::Duration::minutes(30 * step);
            flow(&mut meters, chrono::Duration::minutes(30), now);
            for meter in alone.values_mut() {
                meter.advance(chrono::Duration::minutes(30), now);
            }
        }
        let own = |serial: &str| alone[serial].register();
        let reads = |serial: &str| meters[serial].register();
        assert!(own("WA-1") > Decimal::ZERO && own("WA-BLOCK") > Decimal::ZERO);
        assert_eq!(reads("WA-1"), own("WA-1"));
        assert_eq!(
            reads("WA-BLOCK"),
            own("WA-BLOCK") + own("WA-1") + own("WA-2")
        );
        assert_eq!(reads("WA-MAIN"), own("WA-MAIN") + reads("WA-BLOCK"));
    }

    #[test]
    fn every_utility_uses_something_over_a_day() {
        for utility in Utility::ALL {
            let mut meter = VirtualMeter::new("X-1", utility, Decimal::ZERO, 9);
            let start = Utc::now();
            for step in 0..96 {
                meter.advance(
                    chrono::Duration::minutes(15),
                    start + chrono::Duration::minutes(15 * step),
                );
            }
            assert!(meter.register() > Decimal::ZERO, "{utility:?} used nothing");
        }
    }
}
