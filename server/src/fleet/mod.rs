//! The meter fleet: telemetry in, commands out, alarms raised, meters installed and replaced.
//!
//! Transports ([`transport::Transport`]: the simulator, MQTT) turn network messages into
//! [`transport::Event`]s. The ingest loop batches them: readings go to the engine's rating,
//! status and acknowledgements to the meter's record and the outbox, alarms to the anomaly
//! rules. The outbox loop delivers the commands the engine and the console queue, with
//! retries, expiry, the site's cap on cut-offs and staggered reconnections.

pub mod alarms;
pub mod broker;
pub mod corrections;
pub mod faults;
pub mod imports;
pub mod ingest;
pub mod masters;
pub mod meter_list;
pub mod mqtt;
pub mod ops;
pub mod outbox;
pub mod schedules;
pub mod sheet;
pub mod simulator;
pub mod transport;
pub mod views;
pub mod wire;

use crate::{bus::Signal, db::Tx, engine::Engine, on_db, on_tx};
use app::domain::{Utility, fleet::FleetRules};
use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};
use tokio::sync::{Notify, mpsc};
use transport::{Delivery, Event, Transport, TransportKind};

/// Events waiting for the ingest loop; senders wait when it falls this far behind.
const EVENT_QUEUE: usize = 100_000;

/// The channel transports deliver events on.
pub fn event_channel() -> (mpsc::Sender<Event>, mpsc::Receiver<Event>) {
    mpsc::channel(EVENT_QUEUE)
}

#[derive(Clone, Debug)]
pub struct FleetConfig {
    pub simulator: Delivery,
    pub mqtt: Delivery,
    pub sleeping: Delivery,
    /// After a start, credit cut-offs wait until no event has arrived for this long (the
    /// backlog the network kept for us is rated) ...
    pub catch_up_quiet: Duration,
    /// ... or until this long has passed, whichever comes first.
    pub catch_up_max: Duration,
    /// How often the outbox looks for due commands when nothing wakes it.
    pub outbox_tick: Duration,
    /// How often offline meters are looked for.
    pub watch_every: Duration,
    /// Most events in one ingest batch.
    pub batch_max: usize,
}

impl Default for FleetConfig {
    fn default() -> Self {
        FleetConfig {
            simulator: Delivery::mains(TransportKind::Simulator),
            mqtt: Delivery::mains(TransportKind::Mqtt),
            sleeping: Delivery::sleeping(),
            catch_up_quiet: Duration::from_secs(2),
            catch_up_max: Duration::from_secs(120),
            outbox_tick: Duration::from_millis(500),
            watch_every: Duration::from_secs(30),
            batch_max: 5_000,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
}

impl From<FleetError> for app::error::AppError {
    fn from(error: FleetError) -> Self {
        match error {
            FleetError::Engine(error) => error.into(),
            other => crate::internal(other),
        }
    }
}

/// What the fleet knows of a meter without asking the database.
#[derive(Clone, Debug, PartialEq)]
pub struct MeterInfo {
    pub id: i64,
    pub site: i64,
    pub unit: i64,
    pub utility: Utility,
    pub transport: TransportKind,
    pub sleeps: bool,
    pub removed: bool,
    /// Other meters are fed through this one (a bulk meter).
    pub feeds: bool,
}

/// The fleet of this process. Cheap to clone.
#[derive(Clone)]
pub struct Fleet {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    config: FleetConfig,
    transports: HashMap<TransportKind, Arc<dyn Transport>>,
    wake: Notify,
    caught_up: AtomicBool,
    meters: Mutex<HashMap<String, MeterInfo>>,
    broker: Option<broker::BrokerFiles>,
    /// The other instances' news (none in tests that run one fleet alone).
    bus: std::sync::OnceLock<crate::bus::Bus>,
}

impl Fleet {
    pub fn new(
        engine: Engine,
        config: FleetConfig,
        transports: Vec<Arc<dyn Transport>>,
        broker: Option<broker::BrokerFiles>,
    ) -> Self {
        let transports = transports.into_iter().map(|t| (t.kind(), t)).collect();
        Fleet {
            inner: Arc::new(Inner {
                engine,
                config,
                transports,
                wake: Notify::new(),
                caught_up: AtomicBool::new(false),
                meters: Mutex::new(HashMap::new()),
                bus: std::sync::OnceLock::new(),
                broker,
            }),
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    pub fn config(&self) -> &FleetConfig {
        &self.inner.config
    }

    /// Asks the outbox to look now (a command was queued).
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// Whether rating has caught up since the start: credit cut-offs wait until it has.
    pub fn caught_up(&self) -> bool {
        self.inner.caught_up.load(Ordering::Acquire)
    }

    pub fn set_caught_up(&self) {
        if !self.inner.caught_up.swap(true, Ordering::AcqRel) {
            tracing::info!("fleet caught up with the readings that arrived while it was down");
        }
    }

    fn transport(&self, kind: TransportKind) -> Option<&Arc<dyn Transport>> {
        self.inner.transports.get(&kind)
    }

    fn all_connected(&self) -> bool {
        self.inner.transports.values().all(|t| t.connected())
    }

    pub(crate) fn delivery(&self, transport: TransportKind, sleeps: bool) -> Delivery {
        let config = &self.inner.config;
        match (sleeps, transport) {
            (true, _) => config.sleeping,
            (false, TransportKind::Simulator) => config.simulator,
            (false, TransportKind::Mqtt) => config.mqtt,
        }
    }

    /// The meter a serial names, from the cache or the database.
    pub async fn meter(&self, serial: &str) -> Result<Option<MeterInfo>, FleetError> {
        if let Some(info) = self.inner.meters.lock().expect("meter cache").get(serial) {
            return Ok(Some(info.clone()));
        }
        let info = load_meter(&self.inner.engine.db, serial).await?;
        if let Some(info) = &info {
            self.inner
                .meters
                .lock()
                .expect("meter cache")
                .insert(serial.to_owned(), info.clone());
        }
        Ok(info)
    }

    /// Forgets cached meters (after an install, replacement or decommissioning), here and
    /// in every other instance.
    pub(crate) fn forget(&self, serial: &str) {
        self.forget_here(serial);
        if let Some(bus) = self.inner.bus.get() {
            bus.publish(Signal::MeterChanged {
                serial: serial.to_owned(),
            });
        }
    }

    /// Forgets a cached meter another instance changed.
    pub fn forget_here(&self, serial: &str) {
        self.inner
            .meters
            .lock()
            .expect("meter cache")
            .remove(serial);
    }

    /// From now on, this fleet's changes are told to the other instances.
    pub fn use_bus(&self, bus: crate::bus::Bus) {
        let _ = self.inner.bus.set(bus);
    }

    /// Runs the ingest, outbox, watch and schedule loops until the returned handle is dropped.
    pub fn start(&self, events: mpsc::Receiver<Event>) -> Running {
        let tasks = vec![
            tokio::spawn(ingest::run(self.clone(), events)),
            tokio::spawn(outbox::run(self.clone())),
            tokio::spawn(alarms::watch(self.clone())),
            tokio::spawn(schedules::keep_sent(self.clone())),
        ];
        Running { tasks }
    }
}

/// The fleet's background tasks; dropping this stops them.
pub struct Running {
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

type MeterRow = (i64, i64, i64, String, String, bool, bool, bool);

pub(crate) const METER_COLUMNS: &str = "SELECT m.id, b.site_id, m.unit_id, m.utility, m.transport, \
     m.sleeps, m.removed_at IS NOT NULL, \
     EXISTS (SELECT 1 FROM meters f WHERE f.master_meter_id = m.id AND f.removed_at IS NULL)";
pub(crate) const METER_FROM: &str = "FROM meters m JOIN units u ON u.id = m.unit_id \
     JOIN buildings b ON b.id = u.building_id";

pub(crate) fn meter_info(row: MeterRow) -> Result<MeterInfo, FleetError> {
    let (id, site, unit, utility, transport, sleeps, removed, feeds) = row;
    Ok(MeterInfo {
        id,
        site,
        unit,
        utility: utility
            .parse()
            .map_err(|_| FleetError::Corrupt(utility.clone()))?,
        transport: TransportKind::parse(&transport).ok_or(FleetError::Corrupt(transport))?,
        sleeps,
        removed,
        feeds,
    })
}

async fn load_meter(db: &crate::db::Db, serial: &str) -> Result<Option<MeterInfo>, FleetError> {
    let row: Option<MeterRow> = on_db!(db, pool => {
        sqlx::query_as(&format!("{METER_COLUMNS} {METER_FROM} WHERE m.serial = $1"))
            .bind(serial)
            .fetch_optional(pool)
            .await
    })?;
    row.map(meter_info).transpose()
}

/// The meter by id, in a transaction.
pub(crate) async fn meter_by_id(tx: &mut Tx, meter: i64) -> Result<Option<MeterInfo>, FleetError> {
    let row: Option<MeterRow> = on_tx!(tx, conn => {
        sqlx::query_as(&format!("{METER_COLUMNS} {METER_FROM} WHERE m.id = $1"))
            .bind(meter)
            .fetch_optional(&mut *conn)
            .await
    })?;
    row.map(meter_info).transpose()
}

/// A site's fleet rules, or the defaults when none were saved.
pub(crate) async fn load_rules(tx: &mut Tx, site: i64) -> Result<FleetRules, FleetError> {
    let raw: Option<String> = on_tx!(tx, conn => {
        sqlx::query_scalar("SELECT rules FROM fleet_rules WHERE site_id = $1")
            .bind(site)
            .fetch_optional(&mut *conn)
            .await
    })?;
    match raw {
        None => Ok(FleetRules::default()),
        Some(raw) => serde_json::from_str(&raw)
            .map_err(|error| FleetError::Corrupt(format!("fleet rules of site {site}: {error}"))),
    }
}

/// Rules looked up once per site within one piece of work.
#[derive(Default)]
pub(crate) struct RulesCache(HashMap<i64, FleetRules>);

impl RulesCache {
    pub async fn get(&mut self, tx: &mut Tx, site: i64) -> Result<&FleetRules, FleetError> {
        if let std::collections::hash_map::Entry::Vacant(slot) = self.0.entry(site) {
            slot.insert(load_rules(tx, site).await?);
        }
        Ok(&self.0[&site])
    }
}
