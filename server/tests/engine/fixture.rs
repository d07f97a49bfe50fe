//! A small site on a fresh database, driven through the engine directly (no HTTP).

#![allow(dead_code)]

use app::domain::{Minor, SiteId, UnitId, Utility, supply::SupplyPolicy, tariff::Tariff};
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use server::{
    Platform,
    config::{Config, Secret},
    db::Db,
    engine::{Engine, money::Source, rating::IncomingReading, setup::BillingMode},
    ledger, on_db,
};

pub struct Fixture {
    pub engine: Engine,
    pub db: Db,
    pub site: SiteId,
    /// Units in order; each has an electricity, a water and a gas meter.
    pub units: Vec<Unit>,
    _dir: tempfile::TempDir,
    /// A PostgreSQL database made for this fixture, dropped at the end.
    pg: Option<(String, String)>,
}

#[derive(Clone, Debug)]
pub struct Unit {
    pub id: i64,
    pub resident: Option<i64>,
    pub electricity: i64,
    pub water: i64,
    pub gas: i64,
}

impl Unit {
    pub fn meter(&self, utility: Utility) -> i64 {
        match utility {
            Utility::Electricity => self.electricity,
            Utility::Water => self.water,
            Utility::Gas => self.gas,
        }
    }
}

pub fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// A reading `minutes` after `start`.
pub fn reading(meter: i64, start: DateTime<Utc>, minutes: i64, register: &str) -> IncomingReading {
    IncomingReading {
        meter,
        taken_at: start + Duration::minutes(minutes),
        register: d(register),
    }
}

/// No friendly hours, so cut-offs happen whenever the test runs.
pub fn strict_policy() -> SupplyPolicy {
    SupplyPolicy {
        friendly_from: None,
        friendly_to: None,
        friendly_weekends: false,
        warning_levels: vec![Minor(20_000), Minor(5_000)],
        warn_days_left: Decimal::ZERO,
        reconnect_level: Minor(1_000),
        emergency_credit: Minor(10_000),
        min_top_up: Minor(100),
        ..SupplyPolicy::default()
    }
}

pub enum Backend {
    Sqlite,
    /// PostgreSQL, if the environment names a server (CI always does).
    Postgres,
}

impl Backend {
    /// The suite's backend: SQLite, or PostgreSQL when `PREPAID_TEST_BACKEND=postgres`.
    pub fn from_env() -> Backend {
        match std::env::var("PREPAID_TEST_BACKEND").as_deref() {
            Ok("postgres") => Backend::Postgres,
            _ => Backend::Sqlite,
        }
    }
}

impl Fixture {
    /// `occupied` units with a resident each, then `vacant` ones; flat tariffs of 10 per kWh,
    /// 100 per m3 of water, 50 per m3 of gas, no tax.
    pub async fn new(occupied: usize, vacant: usize, mode: BillingMode) -> Fixture {
        Self::on(Backend::from_env(), occupied, vacant, mode)
            .await
            .expect("SQLite is always there, and CI's second pass names PostgreSQL")
    }

    pub async fn on(
        backend: Backend,
        occupied: usize,
        vacant: usize,
        mode: BillingMode,
    ) -> Option<Fixture> {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config {
            data_dir: dir.path().to_path_buf(),
            database_url: Some(Secret::new(format!(
                "sqlite://{}",
                dir.path().join("engine.db").display()
            ))),
            ..Config::default()
        };
        let mut pg = None;
        if let Backend::Postgres = backend {
            let Ok(url) = std::env::var("PREPAID_TEST_POSTGRES_URL") else {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "CI must provide PREPAID_TEST_POSTGRES_URL"
                );
                eprintln!("PREPAID_TEST_POSTGRES_URL is not set: PostgreSQL not exercised");
                return None;
            };
            let name = format!(
                "engine_{}",
                std::process::id() as u64 * 1000 + rand_suffix()
            );
            let admin = Db::connect(&url).await.expect("PostgreSQL");
            on_db!(&admin, pool => sqlx::query(&format!("CREATE DATABASE {name}")).execute(pool).await.map(|_| ()))
                .expect("a fresh database (the role needs CREATEDB)");
            admin.close().await;
            let (base, _) = url.rsplit_once('/').expect("a database URL");
            config.database_url = Some(Secret::new(format!("{base}/{name}")));
            pg = Some((url, name));
        }
        let platform = Platform::open(config).await.expect("the platform opens");
        let db = platform.db.clone();
        let engine = platform.engine.clone();
        let (site, units) = build_site(&db, occupied, vacant).await;
        engine
            .set_policy(site, mode, &strict_policy())
            .await
            .unwrap();
        let since = at("2020-01-01T00:00:00Z");
        engine
            .set_tariff(
                site,
                Utility::Electricity,
                since,
                &Tariff::flat(d("10")),
                None,
            )
            .await
            .unwrap();
        engine
            .set_tariff(site, Utility::Water, since, &Tariff::flat(d("100")), None)
            .await
            .unwrap();
        engine
            .set_tariff(site, Utility::Gas, since, &Tariff::flat(d("50")), None)
            .await
            .unwrap();
        for unit in &units {
            engine.move_in(UnitId(unit.id)).await.unwrap();
        }
        Some(Fixture {
            engine,
            db,
            site,
            units,
            _dir: dir,
            pg,
        })
    }

    /// Closes the pools and drops a PostgreSQL database made for the fixture.
    pub async fn finish(self) {
        self.db.close().await;
        if let Some((url, name)) = &self.pg {
            let admin = Db::connect(url).await.expect("PostgreSQL");
            let _ = on_db!(&admin, pool => sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(pool).await.map(|_| ()));
            admin.close().await;
        }
    }

    /// The open wallet paying for a meter.
    pub async fn wallet_of(&self, meter: i64) -> i64 {
        on_db!(&self.db, pool => {
            sqlx::query_scalar(
                "SELECT w.account_id FROM wallets w JOIN meters m ON (w.meter_id = m.id OR (w.meter_id IS NULL AND w.unit_id = m.unit_id)) \
                 WHERE m.id = $1 AND w.closed_at IS NULL",
            )
            .bind(meter)
            .fetch_one(pool)
            .await
        })
        .unwrap()
    }

    pub async fn landlord(&self) -> i64 {
        on_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT id FROM accounts WHERE site_id = $1 AND kind = 'landlord'")
                .bind(self.site.0).fetch_one(pool).await
        })
        .unwrap()
    }

    pub async fn balance(&self, account: i64) -> i64 {
        on_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT balance_minor FROM accounts WHERE id = $1").bind(account).fetch_one(pool).await
        })
        .unwrap()
    }

    pub async fn state(&self, wallet: i64) -> String {
        on_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT supply_state FROM wallets WHERE account_id = $1").bind(wallet).fetch_one(pool).await
        })
        .unwrap()
    }

    /// Every balance on the site: residents' accounts by id, the site's own by kind (those
    /// open when first needed, so their ids depend on what happened first).
    pub async fn balances(&self) -> Vec<(String, i64, i64)> {
        on_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT kind || ':' || COALESCE(utility, ''), \
                 CASE WHEN kind IN ('prepaid', 'allowance', 'emergency', 'debt') THEN id ELSE 0 END AS owner, \
                 balance_minor FROM accounts WHERE site_id = $1 ORDER BY 1, 2")
                .bind(self.site.0).fetch_all(pool).await
        })
        .unwrap()
    }

    /// Commands queued for a meter, oldest first: (seq, command, reason).
    pub async fn commands(&self, meter: i64) -> Vec<(i64, String, String)> {
        on_db!(&self.db, pool => {
            sqlx::query_as("SELECT seq, command, reason FROM meter_commands WHERE meter_id = $1 ORDER BY seq")
                .bind(meter).fetch_all(pool).await
        })
        .unwrap()
    }

    pub async fn notices(&self, wallet: i64) -> Vec<String> {
        on_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT kind FROM notifications WHERE wallet_account_id = $1 ORDER BY id")
                .bind(wallet).fetch_all(pool).await
        })
        .unwrap()
    }

    pub async fn top_up(
        &self,
        wallet: i64,
        minor: i64,
        reference: &str,
    ) -> server::engine::money::TopUp {
        let source = Source::Provider {
            provider: "test".into(),
            reference: reference.into(),
        };
        self.engine
            .top_up(wallet, Minor(minor), source, None)
            .await
            .unwrap()
    }

    /// Asserts the ledger reconciles: every balance equals its entries, every transaction
    /// balances.
    pub async fn assert_reconciles(&self) {
        let (_, differences) = ledger::reconcile(&self.db).await.unwrap();
        assert!(differences.is_empty(), "{differences:?}");
        let total: i64 = self.balances().await.iter().map(|(_, _, b)| b).sum();
        assert_eq!(total, 0, "the site's accounts sum to zero");
    }
}

/// A number no other fixture of this process has had.
fn rand_suffix() -> u64 {
    static MADE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

async fn build_site(db: &Db, occupied: usize, vacant: usize) -> (SiteId, Vec<Unit>) {
    let now = Utc::now() - Duration::days(3650);
    on_db!(db, pool => {
        let org: i64 = sqlx::query_scalar("INSERT INTO organisations (name, created_at) VALUES ('Engine Test', $1) RETURNING id")
            .bind(now).fetch_one(pool).await?;
        let site: i64 = sqlx::query_scalar(
            "INSERT INTO sites (organisation_id, name, time_zone, currency, locale, created_at) \
             VALUES ($1, 'Test Site', 'Africa/Nairobi', 'KES', 'en-KE', $2) RETURNING id")
            .bind(org).bind(now).fetch_one(pool).await?;
        let building: i64 = sqlx::query_scalar("INSERT INTO buildings (site_id, name) VALUES ($1, 'Block') RETURNING id")
            .bind(site).fetch_one(pool).await?;
        let mut units = Vec::new();
        for i in 0..occupied + vacant {
            let unit: i64 = sqlx::query_scalar("INSERT INTO units (building_id, name) VALUES ($1, $2) RETURNING id")
                .bind(building).bind(format!("U-{i:03}")).fetch_one(pool).await?;
            let mut meters = Vec::new();
            for utility in Utility::ALL {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO meters (unit_id, utility, serial, unit_of_measure, installed_at) VALUES ($1, $2, $3, 'u', $4) RETURNING id")
                    .bind(unit).bind(utility.as_str()).bind(format!("{}-{i}", utility.as_str())).bind(now)
                    .fetch_one(pool).await?;
                meters.push(id);
            }
            let resident = if i < occupied {
                let user: i64 = sqlx::query_scalar(
                    "INSERT INTO users (organisation_id, email, display_name, password_hash, created_at) \
                     VALUES ($1, $2, 'Resident', 'x', $3) RETURNING id")
                    .bind(org).bind(format!("r{i}@engine.example")).bind(now).fetch_one(pool).await?;
                sqlx::query("INSERT INTO occupancies (unit_id, user_id, starts_at) VALUES ($1, $2, $3)")
                    .bind(unit).bind(user).bind(now).execute(pool).await?;
                Some(user)
            } else {
                None
            };
            units.push(Unit { id: unit, resident, electricity: meters[0], water: meters[1], gas: meters[2] });
        }
        Ok::<_, sqlx::Error>((SiteId(site), units))
    })
    .expect("the test site")
}
