#![recursion_limit = "256"]

//! The prepaid platform's engine and server: storage, sign-in and sessions, the site model,
//! and the HTTP router. Usable without Leptos' build tooling, so tests start it directly.

pub mod allocator;
pub mod api;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod bus;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod directory;
pub mod engine;
pub mod export;
pub mod fleet;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod integrations;
pub mod ledger;
pub mod metrics;
pub mod notify;
mod owners;
pub mod payments;
pub mod retention;
pub mod secrets;
pub mod tokens;
pub mod webhooks;

use app::{error::AppError, ports::Ports};
use auth::{AuthService, callers::Callers, sessions::Sessions, throttle::Throttle};
use config::Config;
use db::{Db, DbError};
use leptos::config::LeptosOptions;
use secrets::SharedSecrets;
use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};
use tokio::net::TcpListener;

/// Logs an unexpected error with its detail and answers the caller with an opaque one.
pub fn internal(error: impl std::fmt::Display) -> AppError {
    tracing::error!(%error, "internal error");
    AppError::Internal
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("could not create the data directory {0}: {1}")]
    DataDir(String, std::io::Error),
    #[error("could not set up session storage: {0}")]
    Sessions(sqlx::Error),
    #[error(transparent)]
    Secrets(#[from] secrets::SecretsError),
    #[error("could not seed the demo data: {0}")]
    Demo(sqlx::Error),
    #[error("could not connect to the MQTT broker: {0}")]
    Mqtt(#[from] fleet::mqtt::MqttError),
    #[error("could not write the broker's credentials: {0}")]
    Broker(#[from] fleet::broker::BrokerError),
    #[error("could not build the usage roll-ups: {0}")]
    Usage(engine::EngineError),
    #[error("could not list the simulated meters: {0}")]
    Simulator(sqlx::Error),
    #[error(transparent)]
    TokenVault(#[from] tokens::vault::VaultError),
    #[error(transparent)]
    Mail(#[from] notify::mail::MailConfigError),
    #[error("could not listen on {0}: {1}")]
    Listen(SocketAddr, std::io::Error),
}

/// An opened, migrated database with everything the server needs from it.
pub struct Platform {
    pub config: Config,
    pub db: Db,
    pub sessions: Sessions,
    /// The callers read in the last seconds, shared by the services that look them up or
    /// change them.
    pub callers: Callers,
    /// Seals secrets kept in the database (token meters' keys, webhook and authenticator
    /// secrets) with a key kept outside it.
    pub vault: Arc<tokens::vault::Vault>,
    pub secrets: SharedSecrets,
    /// The one engine of this process: its writes take turns.
    pub engine: engine::Engine,
    pub fleet: fleet::Fleet,
    pub payments: payments::Payments,
    pub notifier: notify::Notifier,
    /// Tokens for meters that hold their own credit.
    pub tokens: tokens::Tokens,
    /// Outgoing webhooks to organisations' systems.
    pub webhooks: webhooks::Webhooks,
    /// The built-in meter simulator, when it runs.
    pub simulator: Option<Arc<fleet::simulator::Simulator>>,
    /// Meter events, until [`Platform::serve`] (or a test) starts the fleet's loops.
    pub events: Option<tokio::sync::mpsc::Receiver<fleet::transport::Event>>,
}

impl Platform {
    /// Opens the database (creating the SQLite file if new), runs the embedded migrations and
    /// loads or creates the shared secrets. A failed migration is an error: nothing serves.
    pub async fn open(config: Config) -> Result<Self, StartError> {
        let url = config.database_url();
        if config.database_url.is_none() {
            std::fs::create_dir_all(&config.data_dir).map_err(|error| {
                StartError::DataDir(config.data_dir.display().to_string(), error)
            })?;
        }
        let db = Db::connect_with(&url, config.sqlite_durability).await?;
        db.migrate().await?;
        let sessions = Sessions::open(&db).await.map_err(StartError::Sessions)?;
        let secrets = secrets::load_or_create(&db, &config).await?;
        let engine = engine::Engine::new(db.clone());
        // Graphs read roll-ups; a database rated before they were kept gets them once.
        match engine.backfill_usage().await {
            Ok(0) => {}
            Ok(added) => tracing::info!(readings = added, "usage roll-ups built from the readings"),
            Err(error) => return Err(StartError::Usage(error)),
        }
        let (fleet, simulator, events) = open_fleet(&config, &engine).await?;
        let payments = payments::Payments::new(
            engine.clone(),
            secrets.webhook_secret.clone(),
            config.public_url.clone(),
        );
        let notifier = notify::Notifier::new(
            engine.clone(),
            &config,
            secrets.vapid_private_key.clone(),
            secrets.vapid_public_key.clone(),
        )?;
        let vault = Arc::new(tokens::vault::Vault::load(
            config.token_vault_key.as_ref().map(config::Secret::expose),
            &config.data_dir,
        )?);
        let tokens = open_tokens(&config, &engine, vault.clone());
        let webhooks =
            webhooks::Webhooks::new(db.clone(), vault.clone(), config.webhooks_to_private);
        Ok(Self {
            payments,
            webhooks,
            notifier,
            tokens,
            config,
            engine,
            fleet,
            simulator,
            events: Some(events),
            db,
            sessions,
            callers: Callers::default(),
            secrets,
            vault,
        })
    }

    pub fn ports(&self) -> Ports {
        let throttle = Throttle::new(self.db.clone(), self.config.throttle);
        Ports {
            auth: Arc::new(AuthService::new(
                self.db.clone(),
                throttle,
                self.notifier.messenger().clone(),
                self.vault.clone(),
                self.callers.clone(),
            )),
            directory: Arc::new(directory::Directory::new(
                self.db.clone(),
                self.callers.clone(),
            )),
            integrations: Arc::new(integrations::IntegrationsService::new(
                self.db.clone(),
                self.webhooks.clone(),
            )),
            accounts: Arc::new(self.engine.clone()),
            fleet: Arc::new(self.fleet.clone()),
            payments: Arc::new(self.payments.clone()),
            notifications: Arc::new(self.notifier.clone()),
            tokens: Arc::new(self.tokens.clone()),
            sheets: Arc::new(fleet::sheet::SiteSheets::new(
                self.fleet.clone(),
                auth::recovery::Recovery::new(
                    self.db.clone(),
                    self.notifier.messenger().clone(),
                    self.callers.clone(),
                ),
            )),
        }
    }

    pub fn router(&self, leptos_options: LeptosOptions) -> axum::Router {
        let state = http::AppState {
            leptos_options,
            db: self.db.clone(),
            ports: self.ports(),
        };
        let routes = http::router(state, self.sessions.clone(), &self.config, &self.secrets)
            .merge(metrics::router(metrics::Metrics {
                db: self.db.clone(),
                token: self.config.metrics_token.clone(),
            }))
            .merge(payments::hooks::router(self.payments.clone()))
            .merge(notify::reports::router(self.notifier.clone()))
            .merge(api::router(
                api::Api {
                    db: self.db.clone(),
                    engine: self.engine.clone(),
                    fleet: self.fleet.clone(),
                    recovery: auth::recovery::Recovery::new(
                        self.db.clone(),
                        self.notifier.messenger().clone(),
                        self.callers.clone(),
                    ),
                },
                api::keys::ApiKeys::new(self.db.clone()),
                api::ApiSettings {
                    requests_per_minute: self.config.api_requests_per_minute,
                },
            ));
        http::outer_layers(routes, &self.config)
    }

    /// Joins the instances' bus: the fleet's, the sessions' and the callers' changes are told to the other
    /// instances, and theirs make this one forget what it cached. The listener runs until the
    /// handle is aborted (`None` on SQLite, which one instance serves).
    pub fn join_bus(&self, bus: bus::Bus) -> Option<tokio::task::JoinHandle<()>> {
        self.fleet.use_bus(bus.clone());
        self.sessions.use_bus(bus.clone());
        self.callers.use_bus(bus.clone());
        let (fleet, sessions, callers) = (
            self.fleet.clone(),
            self.sessions.clone(),
            self.callers.clone(),
        );
        bus.listen(move |signal| match signal {
            bus::Signal::MeterChanged { serial } => fleet.forget_here(&serial),
            bus::Signal::SessionChanged { id } => sessions.forget_here(&id),
            bus::Signal::CallerChanged { user } => callers.forget_here(user),
            bus::Signal::OrganisationChanged { org } => callers.forget_organisation_here(org),
        })
    }

    /// Serves on `listener` until `shutdown` completes, with background upkeep alongside.
    pub async fn serve(
        mut self,
        listener: TcpListener,
        leptos_options: LeptosOptions,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        use axum::serve::ListenerExt;
        let router = self.router(leptos_options);
        let upkeep = tokio::spawn(delete_expired(
            self.sessions.clone(),
            self.db.clone(),
            self.config.retention_days,
        ));
        let jobs = tokio::spawn(run_jobs(self.engine.clone()));
        let rechecks = tokio::spawn(recheck_payments(self.payments.clone()));
        let notices = tokio::spawn(self.notifier.clone().run());
        let vending = tokio::spawn(issue_tokens(self.tokens.clone(), self.engine.clone()));
        let hooks = tokio::spawn(self.webhooks.clone().run());
        let fleet = self.events.take().map(|events| self.fleet.start(events));
        let bus = self.join_bus(bus::Bus::new(self.db.clone()));
        let simulation = self
            .simulator
            .clone()
            .map(|simulator| simulator.run(self.db.clone()));
        // Nagle's algorithm meeting delayed ACKs costs ~40 ms per keep-alive response.
        let listener = listener.tap_io(|tcp| {
            if let Err(error) = tcp.set_nodelay(true) {
                tracing::warn!(%error, "could not set TCP_NODELAY");
            }
        });
        let served = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        upkeep.abort();
        jobs.abort();
        rechecks.abort();
        notices.abort();
        vending.abort();
        hooks.abort();
        if let Some(bus) = bus {
            bus.abort();
        }
        if let Some(simulation) = simulation {
            simulation.abort();
        }
        drop(fleet);
        self.db.close().await;
        served
    }
}

type OpenedFleet = (
    fleet::Fleet,
    Option<Arc<fleet::simulator::Simulator>>,
    tokio::sync::mpsc::Receiver<fleet::transport::Event>,
);

/// The fleet with the transports the configuration asks for: the simulator (with the demo,
/// or when asked) and MQTT (when a broker is named).
async fn open_fleet(config: &Config, engine: &engine::Engine) -> Result<OpenedFleet, StartError> {
    use fleet::{broker::BrokerFiles, mqtt, simulator, transport::Transport};
    let (sender, events) = fleet::event_channel();
    let mut transports: Vec<Arc<dyn Transport>> = Vec::new();
    let mut simulated = None;
    if config.simulator_enabled() {
        let simulator = simulator::Simulator::new(
            sender.clone(),
            simulator::SimulatorConfig {
                interval: Duration::from_secs(config.simulator_interval_s.max(1)),
                speed: config.simulator_speed.max(1),
                seed: 1,
                // A demonstration shows an alarm now and then (about every ten minutes).
                incident_every: config.demo.then_some(60),
            },
        );
        simulator
            .sync(&engine.db)
            .await
            .map_err(StartError::Simulator)?;
        transports.push(simulator.clone());
        simulated = Some(simulator);
    }
    let mut broker = None;
    if let Some(settings) = &config.mqtt {
        if let Some(dir) = &settings.broker_dir {
            let files = BrokerFiles {
                dir: dir.clone(),
                platform_user: settings.broker.user.clone(),
                platform_password: settings.broker.password.clone(),
                pid_file: settings.broker_pid_file.clone(),
            };
            files.write(&engine.db).await?;
            broker = Some(files);
        }
        let transport = mqtt::MqttTransport::start(&settings.broker, sender.clone())?;
        transports.push(transport);
    }
    let fleet = fleet::Fleet::new(
        engine.clone(),
        fleet::FleetConfig::default(),
        transports,
        broker,
    );
    Ok((fleet, simulated, events))
}

/// The token vendors: OpenPAYGO computed here with keys sealed by the vault, and an STS
/// vending service when one is configured.
fn open_tokens(
    config: &Config,
    engine: &engine::Engine,
    vault: Arc<tokens::vault::Vault>,
) -> tokens::Tokens {
    let sts = config.sts_vending.as_ref().map(|sts| {
        Arc::new(tokens::sts::StsVending::new(&sts.url, sts.key.clone()))
            as Arc<dyn tokens::TokenVendor>
    });
    tokens::Tokens::new(engine.clone(), vault, sts)
}

/// Issues sold tokens: at once when a top-up asks (the engine's nudge), and every few seconds
/// for those waiting on a vending service.
async fn issue_tokens(tokens: tokens::Tokens, engine: engine::Engine) {
    loop {
        match tokens.issue_pending(chrono::Utc::now()).await {
            Ok(report) if report != tokens::IssueReport::default() => {
                tracing::info!(?report, "tokens issued");
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "issuing tokens failed"),
        }
        engine.tokens_sold(Duration::from_secs(5)).await;
    }
}

/// Hourly: expired sessions, the API's kept answers past their time, and sent messages past
/// the retention period.
async fn delete_expired(sessions: Sessions, db: Db, retention_days: u32) {
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every.tick().await;
        if let Err(error) = sessions.delete_expired().await {
            tracing::warn!(%error, "could not delete expired sessions");
        }
        if let Err(error) = api::idempotency::forget_old(&db, chrono::Utc::now()).await {
            tracing::warn!(%error, "could not forget old idempotent answers");
        }
        match retention::forget_old(&db, chrono::Utc::now(), retention_days).await {
            Ok(forgotten) if forgotten != retention::Forgotten::default() => {
                tracing::info!(
                    ?forgotten,
                    "sent messages past the retention period forgotten"
                );
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "could not forget old sent messages"),
        }
    }
}

/// Standing charges, package fees, expiring allowances and the supply sweep, every minute.
async fn run_jobs(engine: engine::Engine) {
    let mut every = tokio::time::interval(Duration::from_secs(60));
    loop {
        every.tick().await;
        match engine.run_jobs(chrono::Utc::now()).await {
            Ok(report) if report != engine::jobs::JobsReport::default() => {
                tracing::info!(?report, "periodic jobs ran");
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "periodic jobs failed"),
        }
    }
}

/// Payments whose provider never called back, asked about every minute after two; payouts
/// with no result after a day, owed again.
async fn recheck_payments(payments: payments::Payments) {
    let mut every = tokio::time::interval(Duration::from_secs(60));
    loop {
        every.tick().await;
        let now = chrono::Utc::now();
        if let Err(error) = payments
            .recheck_pending(now, chrono::Duration::minutes(2))
            .await
        {
            tracing::warn!(%error, "re-checking pending payments failed");
        }
        if let Err(error) = payments
            .release_stale_payouts(now, chrono::Duration::days(1))
            .await
        {
            tracing::warn!(%error, "releasing stale payouts failed");
        }
    }
}

/// Leptos' settings: from cargo-leptos' environment when it runs us, else the defaults of
/// this workspace (site in `target/site`, bundle named `prepaid`).
pub fn leptos_options() -> LeptosOptions {
    let mut options = leptos::config::get_configuration(None)
        .map(|conf| conf.leptos_options)
        .unwrap_or_else(|error| {
            tracing::warn!(%error, "Leptos configuration unreadable, using defaults");
            LeptosOptions::builder().output_name("prepaid").build()
        });
    if options.output_name.is_empty() {
        options.output_name = "prepaid".into();
    }
    options
}
