//! Starts the real server on a loopback port with a fresh database and talks HTTP to it.

#![allow(dead_code)]

use reqwest::{StatusCode, header};
use serde_json::Value;
use server::{
    Platform,
    config::{Config, Secret, ThrottleConfig},
    db::Db,
    demo, on_db,
};
use std::net::SocketAddr;
use tokio::sync::oneshot;

pub struct TestApp {
    pub addr: SocketAddr,
    pub db: Db,
    pub engine: server::engine::Engine,
    pub payments: server::payments::Payments,
    pub notifier: server::notify::Notifier,
    pub tokens: server::tokens::Tokens,
    pub webhooks: server::webhooks::Webhooks,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub fn test_config(dir: &std::path::Path) -> Config {
    Config {
        database_url: Some(Secret::new(test_database_url(dir))),
        ..sqlite_config(dir)
    }
}

/// A configuration on a SQLite file in `dir` whatever the suite's backend, for what only
/// SQLite has (its file, `VACUUM INTO` backups, its durability settings).
pub fn sqlite_config(dir: &std::path::Path) -> Config {
    Config {
        data_dir: dir.to_path_buf(),
        database_url: Some(Secret::new(format!(
            "sqlite://{}",
            dir.join("test.db").display()
        ))),
        throttle: ThrottleConfig {
            window_minutes: 15,
            max_failures_per_account: 3,
            max_failures_per_address: 8,
        },
        ..Config::default()
    }
}

/// A server on a fresh SQLite file, seeded with the demo data and a second organisation.
pub async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = test_config(dir.path());
    spawn_with(config, dir).await
}

pub async fn spawn_with(config: Config, dir: tempfile::TempDir) -> TestApp {
    spawn_serving(config, dir, server::leptos_options()).await
}

/// As [`spawn_with`], with Leptos' settings of the test's own (a site root holding files).
pub async fn spawn_serving(
    config: Config,
    dir: tempfile::TempDir,
    leptos_options: leptos::config::LeptosOptions,
) -> TestApp {
    let platform = Platform::open(config).await.expect("the platform opens");
    demo::seed(&platform.db).await.expect("demo data");
    demo::seed_engine(&platform.engine)
        .await
        .expect("demo accounts");
    demo::seed_payments(&platform.payments)
        .await
        .expect("demo payments");
    demo::seed_tokens(&platform.tokens, &platform.db)
        .await
        .expect("demo keypad meter");
    seed_other_organisation(&platform.db).await;
    let db = platform.db.clone();
    let engine = platform.engine.clone();
    let payments = platform.payments.clone();
    let notifier = platform.notifier.clone();
    let tokens = platform.tokens.clone();
    let webhooks = platform.webhooks.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(platform.serve(listener, leptos_options, async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        addr,
        db,
        engine,
        payments,
        notifier,
        tokens,
        webhooks,
        client,
        stop: Some(stop),
        _dir: dir,
    }
}

pub const OTHER_ADMIN: &str = "admin@other.example";
pub const OTHER_SITE: &str = "Harbour Park";

/// A second tenant, with its own admin and site, to prove tenants never see each other.
async fn seed_other_organisation(db: &Db) {
    let hash = server::auth::password::hash(demo::PASSWORD.to_owned())
        .await
        .0;
    let now = chrono::Utc::now();
    on_db!(db, pool => {
        let org: i64 = sqlx::query_scalar("INSERT INTO organisations (name, created_at) VALUES ('Other Estates', $1) RETURNING id")
            .bind(now).fetch_one(pool).await?;
        let site: i64 = sqlx::query_scalar(
            "INSERT INTO sites (organisation_id, name, time_zone, currency, locale, created_at) \
             VALUES ($1, $2, 'Asia/Shanghai', 'CNY', 'zh-CN', $3) RETURNING id")
            .bind(org).bind(OTHER_SITE).bind(now).fetch_one(pool).await?;
        let building: i64 = sqlx::query_scalar("INSERT INTO buildings (site_id, name) VALUES ($1, 'Dock 1') RETURNING id")
            .bind(site).fetch_one(pool).await?;
        sqlx::query("INSERT INTO units (building_id, name, kind) VALUES ($1, 'Shop 1', 'shop')")
            .bind(building).execute(pool).await?;
        let admin: i64 = sqlx::query_scalar(
            "INSERT INTO users (organisation_id, email, display_name, password_hash, created_at) \
             VALUES ($1, $2, 'Other Admin', $3, $4) RETURNING id")
            .bind(org).bind(OTHER_ADMIN).bind(&hash).bind(now).fetch_one(pool).await?;
        sqlx::query("INSERT INTO role_grants (user_id, role, site_id, granted_at) VALUES ($1, 'admin', NULL, $2)")
            .bind(admin).bind(now).execute(pool).await?;
        Ok::<_, sqlx::Error>(())
    })
    .expect("second organisation");
}

/// A signed-in (or not) visitor: the session cookie it holds, sent back on every request.
#[derive(Clone, Debug, Default)]
pub struct Visitor {
    pub cookie: Option<String>,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: header::HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }

    /// The session cookie this answer set, if any.
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find(|value| value.starts_with("prepaid_session="))
            .map(|value| value.split(';').next().unwrap().to_owned())
    }

    pub fn set_cookie_header(&self) -> String {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Calls a server function the way the browser's fetch does: a form-encoded POST from a
    /// page of this site.
    pub async fn call(&self, visitor: &Visitor, function: &str, form: &[(&str, &str)]) -> Answer {
        self.call_from(visitor, function, form, Some(&self.origin()))
            .await
    }

    pub async fn call_from(
        &self,
        visitor: &Visitor,
        function: &str,
        form: &[(&str, &str)],
        origin: Option<&str>,
    ) -> Answer {
        let mut request = self
            .client
            .post(self.url(&format!("/api/{function}")))
            .form(form);
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        if let Some(cookie) = &visitor.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        answer(request.send().await.expect("the server answers")).await
    }

    pub async fn get(&self, visitor: &Visitor, path: &str) -> Answer {
        let mut request = self
            .client
            .get(self.url(path))
            .header(header::ACCEPT, "text/html");
        if let Some(cookie) = &visitor.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        answer(request.send().await.expect("the server answers")).await
    }

    /// One sign-in attempt by a visitor who holds no session; the answer, whatever it is.
    pub async fn try_sign_in(&self, email: &str, password: &str) -> Answer {
        self.call(
            &Visitor::default(),
            "sign_in",
            &[("email", email), ("password", password)],
        )
        .await
    }

    /// Signs in and returns the visitor holding the new session.
    pub async fn sign_in(&self, email: &str, password: &str) -> Visitor {
        let answer = self.try_sign_in(email, password).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "sign-in of {email} failed: {}",
            answer.body
        );
        Visitor {
            cookie: Some(answer.session_cookie().expect("a session cookie")),
        }
    }

    pub async fn site_id(&self, name: &str) -> i64 {
        on_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT id FROM sites WHERE name = $1").bind(name).fetch_one(pool).await
        })
        .expect("the site exists")
    }

    pub async fn unit_id(&self, name: &str) -> i64 {
        on_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT id FROM units WHERE name = $1").bind(name).fetch_one(pool).await
        })
        .expect("the unit exists")
    }

    /// The open prepaid account paying for a unit's meter of this utility.
    pub async fn wallet(&self, unit: &str, utility: &str) -> i64 {
        on_db!(&self.db, pool => {
            sqlx::query_scalar(
                "SELECT w.account_id FROM wallets w JOIN meters m ON m.id = w.meter_id JOIN units u ON u.id = m.unit_id \
                 WHERE u.name = $1 AND m.utility = $2 AND w.closed_at IS NULL",
            )
            .bind(unit)
            .bind(utility)
            .fetch_one(pool)
            .await
        })
        .expect("the account exists")
    }

    /// A staff member with `role` on the demo site and the demo's password, made directly.
    pub async fn add_staff(&self, email: &str, role: &str) {
        let hash = server::auth::password::hash(demo::PASSWORD.to_owned()).await;
        let site = self.site_id(demo::SITE).await;
        let now = chrono::Utc::now();
        on_db!(&self.db, pool => {
            let user: i64 = sqlx::query_scalar(
                "INSERT INTO users (organisation_id, email, display_name, password_hash, must_change_password, active, created_at) \
                 SELECT organisation_id, $1, $2, $3, FALSE, TRUE, $4 FROM sites WHERE id = $5 RETURNING id",
            )
            .bind(email)
            .bind(format!("Test {role}"))
            .bind(&hash.0)
            .bind(now)
            .bind(site)
            .fetch_one(pool)
            .await?;
            sqlx::query("INSERT INTO role_grants (user_id, role, site_id, granted_at) VALUES ($1, $2, $3, $4)")
                .bind(user).bind(role).bind(site).bind(now)
                .execute(pool).await.map(|_| ())
        })
        .unwrap();
    }

    /// A number the database answers, such as a `COUNT(*)`.
    /// One number from `sql` (a COUNT or a SUM: PostgreSQL's SUM of BIGINT is NUMERIC, so
    /// the answer is cast back).
    pub async fn count(&self, sql: &str) -> i64 {
        let sql = format!("SELECT CAST(({sql}) AS BIGINT)");
        on_db!(&self.db, pool => sqlx::query_scalar(&sql).fetch_one(pool).await).expect("a count")
    }

    /// A notice as the engine queues it for a wallet (the balance rules' and alarms' own tests
    /// cover when they do); the same dedupe key again changes nothing.
    pub async fn queue_notice(&self, account: i64, kind: &str, body: Value, key: &str) {
        on_db!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO notifications (site_id, wallet_account_id, audience, kind, body, dedupe_key, created_at) \
                 SELECT site_id, account_id, 'resident', $1, $2, $3, $4 FROM wallets WHERE account_id = $5 \
                 ON CONFLICT (dedupe_key) DO NOTHING",
            )
            .bind(kind)
            .bind(body.to_string())
            .bind(key)
            .bind(chrono::Utc::now())
            .bind(account)
            .execute(pool)
            .await
            .map(|_| ())
        })
        .expect("the notice is queued");
    }

    /// Waits until no delivery is in a worker's hands (the server's own dispatcher runs beside
    /// a test's passes), so a pass the test makes later in time takes over no lease.
    pub async fn settled(&self) {
        for _ in 0..200 {
            let sending = self
                .count("SELECT COUNT(*) FROM notification_deliveries WHERE status = 'sending'")
                .await;
            if sending == 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("deliveries stayed in a worker's hands");
    }

    pub async fn audit_actions(&self) -> Vec<String> {
        on_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT action FROM audit_log ORDER BY id").fetch_all(pool).await
        })
        .expect("the audit log")
    }
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap_or_default();
    Answer {
        status,
        headers,
        body,
    }
}

/// The database a test's server runs on: a SQLite file in `dir`, or, when the suite runs with
/// `PREPAID_TEST_BACKEND=postgres` (CI's second pass), a fresh database on the PostgreSQL
/// server `PREPAID_TEST_POSTGRES_URL` names. The tests are the same either way.
pub fn test_database_url(dir: &std::path::Path) -> String {
    if !on_postgres() {
        return format!("sqlite://{}", dir.join("test.db").display());
    }
    // One database per directory, as one SQLite file per directory: a test that opens the
    // same directory twice meets the same data.
    static MADE: std::sync::Mutex<Vec<(std::path::PathBuf, String)>> =
        std::sync::Mutex::new(Vec::new());
    let mut made = MADE.lock().unwrap();
    if let Some((_, url)) = made.iter().find(|(made_for, _)| made_for == dir) {
        return url.clone();
    }
    let purpose = format!("t{}", made.len());
    // Callers are synchronous (a `Config` is built before the runtime is needed): the
    // database is made on a thread with a runtime of its own.
    let url = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(fresh_postgres(&purpose))
            .expect("PREPAID_TEST_BACKEND=postgres needs PREPAID_TEST_POSTGRES_URL")
    })
    .join()
    .expect("the database is made");
    made.push((dir.to_path_buf(), url.clone()));
    url
}

/// True when the suite runs on PostgreSQL (`PREPAID_TEST_BACKEND=postgres`).
pub fn on_postgres() -> bool {
    std::env::var("PREPAID_TEST_BACKEND").is_ok_and(|backend| backend == "postgres")
}

/// A fresh, empty PostgreSQL database for one test, if CI gave us a server.
pub async fn fresh_postgres(purpose: &str) -> Option<String> {
    let Ok(url) = std::env::var("PREPAID_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must provide PREPAID_TEST_POSTGRES_URL"
        );
        eprintln!("PREPAID_TEST_POSTGRES_URL is not set: PostgreSQL not exercised");
        return None;
    };
    let name = format!("prepaid_{purpose}_{}", std::process::id());
    let admin = server::db::Db::connect(&url).await.expect("PostgreSQL");
    on_db!(&admin, pool => {
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(pool).await?;
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(pool).await.map(|_| ())
    })
    .expect("a database for the test");
    admin.close().await;
    let (base, _) = url.rsplit_once('/').expect("a database URL");
    Some(format!("{base}/{name}"))
}

/// A loopback port nobody listens on now, for a server the test starts as a process.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until the server at `base` answers its health check (30 s at most).
pub async fn wait_ready(client: &reqwest::Client, base: &str) {
    for _ in 0..600 {
        if let Ok(answer) = client.get(format!("{base}/healthz")).send().await
            && answer.status().is_success()
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{base} did not come up");
}
