//! Two server instances (the real `prepaid` binary, twice) on one PostgreSQL database and one
//! mosquitto broker, as an operator scaling out would run them: each its own MQTT client id,
//! both in one shared-subscription group.
//!
//! Proven here: the broker splits the meters' readings between the two; every reading is
//! stored once and every account is charged exactly what one engine rating the same readings
//! in order charges (on a copy of the database made before the run); the ledger reconciles;
//! remote commands queued while both outboxes poll reach the meters once each and end
//! acknowledged; a session made on one instance is good on the other, and signing out on one
//! ends it on both at once; a meter taken out of service elsewhere is forgotten by both (the
//! bus, PostgreSQL's LISTEN/NOTIFY, carries both news), so its later readings charge nothing. On a 2-core machine this shows correctness under contention, not
//! capacity: the two processes share the cores with the database and the broker.

use crate::support;

use app::domain::{
    Role,
    fleet::{CommandKind, Operation},
};
use chrono::{Duration as Span, Utc};
use rumqttc::{AsyncClient, Event, Incoming, MqttOptions, QoS};
use server::{
    Platform,
    config::{Config, Secret},
    db::{Db, ReadingTime},
    demo,
    engine::rating::IncomingReading,
    fleet::{
        ops::Actor,
        wire::{self, Ack, AckResult, Downlink, Reading, Uplink},
    },
    ledger, on_db,
};
use std::{
    collections::{BTreeMap, HashMap},
    path::Path,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

/// Readings per meter, a minute apart.
const ROUNDS: i64 = 8;

struct Killed(Vec<Child>);

impl Drop for Killed {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// mosquitto on loopback, anonymous and plain (the platform's own TLS set-up is tested in
/// the fleet's tests; here the test publishes for every meter).
fn start_broker(dir: &Path) -> (u16, Child) {
    let port = support::free_port();
    let conf = dir.join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!("user root\nallow_anonymous true\npersistence false\nlistener {port} 127.0.0.1\n"),
    )
    .unwrap();
    let child = Command::new("mosquitto")
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("mosquitto is installed (.ci/setup installs it)");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (port, child)
}

fn start_instance(dir: &Path, url: &str, name: &str, port: u16, broker: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_prepaid"))
        .arg("serve")
        .env("PREPAID_DATA_DIR", dir.join(name))
        .env("DATABASE_URL", url)
        .env("PREPAID_LISTEN", format!("127.0.0.1:{port}"))
        .env("PREPAID_SIMULATOR", "false")
        .env("PREPAID_LOG", "error")
        .env("PREPAID_MQTT_URL", format!("mqtt://127.0.0.1:{broker}"))
        .env("PREPAID_MQTT_PASSWORD", "anonymous broker")
        .env("PREPAID_MQTT_CLIENT_ID", format!("prepaid-{name}"))
        .env("PREPAID_MQTT_SHARED_GROUP", "prepaid")
        // Both instances seal with the same key, as every instance of one platform must.
        .env(
            "PREPAID_TOKEN_VAULT_KEY",
            "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=",
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts")
}

async fn eventually<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let until = std::time::Instant::now() + within;
    while std::time::Instant::now() < until {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    check().await
}

fn config_for(dir: &Path, url: &str) -> Config {
    Config {
        data_dir: dir.to_path_buf(),
        database_url: Some(Secret::new(url)),
        token_vault_key: Some(Secret::new("MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=")),
        ..Config::default()
    }
}

/// A copy of `name` (nobody may be connected to it) as `copy`, on the same server.
async fn copy_database(admin_url: &str, name: &str, copy: &str) {
    let admin = Db::connect(admin_url).await.unwrap();
    on_db!(&admin, pool => {
        sqlx::query(&format!("DROP DATABASE IF EXISTS {copy}")).execute(pool).await?;
        sqlx::query(&format!("CREATE DATABASE {copy} TEMPLATE {name}")).execute(pool).await.map(|_| ())
    })
    .expect("a copy of the seeded database");
    admin.close().await;
}

/// Every meter's stored readings (with what rating made of them), and what usage charges
/// moved on each account: accounts the seed made by id, ones opened since (a site's revenue
/// account, opened by its first charge) by site, kind and utility, whose ids depend on order.
/// Other postings (the daily standing charges an instance's jobs post at start) are not
/// rating's and are left out.
async fn books(db: &Db, seeded: i64) -> (BTreeMap<(i64, i64), String>, BTreeMap<String, i64>) {
    on_db!(db, pool => {
        let readings: Vec<(i64, ReadingTime, String, String)> =
            sqlx::query_as("SELECT meter_id, taken_at, register, status FROM readings").fetch_all(pool).await?;
        let moved: Vec<(i64, i64, String, Option<String>, i64)> = sqlx::query_as(
            "SELECT a.id, a.site_id, a.kind, a.utility, CAST(SUM(e.amount_minor) AS BIGINT) FROM ledger_entries e \
             JOIN ledger_transactions t ON t.id = e.transaction_id JOIN accounts a ON a.id = e.account_id \
             WHERE t.kind = 'usage' GROUP BY a.id, a.site_id, a.kind, a.utility",
        )
        .fetch_all(pool)
        .await?;
        Ok::<_, sqlx::Error>((
            readings.into_iter().map(|(m, at, r, s)| ((m, at.0.timestamp()), format!("{r} {s}"))).collect(),
            moved
                .into_iter()
                .map(|(id, site, kind, utility, sum)| {
                    let key = if id <= seeded {
                        format!("account {id}")
                    } else {
                        format!("site {site} {kind} {}", utility.unwrap_or_default())
                    };
                    (key, sum)
                })
                .collect(),
        ))
    })
    .unwrap()
}

/// The sum of `prepaid_readings_total` on one instance's `/metrics`.
/// Signs `email` in on the instance at `base` with the demo's password; their session cookie.
async fn sign_in(http: &reqwest::Client, base: &str, email: &str) -> String {
    let signed_in = http
        .post(format!("{base}/api/sign_in"))
        .header("origin", base)
        .form(&[("email", email), ("password", demo::PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(
        signed_in.status().is_success(),
        "{email} signed in on {base}"
    );
    signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("prepaid_session="))
        .and_then(|value| value.split(';').next())
        .expect("a session cookie")
        .to_owned()
}

async fn readings_counted(client: &reqwest::Client, base: &str) -> u64 {
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|line| line.starts_with("prepaid_readings_total{"))
        .filter_map(|line| line.rsplit_once(' ')?.1.parse::<u64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_meters_sessions_and_commands_and_do_nothing_twice() {
    let Some(url) = support::fresh_postgres("instances").await else {
        return;
    };
    let admin_url = std::env::var("PREPAID_TEST_POSTGRES_URL").unwrap();
    let name = url.rsplit_once('/').unwrap().1.to_owned();
    let files = tempfile::tempdir().unwrap();
    let dir = files.path();

    // The platform's data, with every metered wallet's meters on MQTT.
    let platform = Platform::open(config_for(dir, &url)).await.unwrap();
    demo::seed(&platform.db).await.unwrap();
    demo::seed_engine(&platform.engine).await.unwrap();
    let meters: Vec<(i64, String)> = on_db!(&platform.db, pool => {
        sqlx::query("UPDATE meters SET transport = 'mqtt'").execute(pool).await?;
        sqlx::query_as(
            "SELECT DISTINCT m.id, m.serial FROM meters m JOIN wallets w ON w.meter_id = m.id \
             WHERE w.closed_at IS NULL AND m.utility IN ('electricity', 'water') ORDER BY m.id",
        )
        .fetch_all(pool)
        .await
    })
    .unwrap();
    assert!(meters.len() >= 8, "the demo has metered wallets");
    let seeded: i64 = on_db!(&platform.db, pool => {
        sqlx::query_scalar("SELECT MAX(id) FROM accounts").fetch_one(pool).await
    })
    .unwrap();
    let ReadingTime(last_stored) = on_db!(&platform.db, pool => {
        sqlx::query_scalar("SELECT COALESCE(MAX(taken_at), $1) FROM readings")
            .bind(ReadingTime(Utc::now() - Span::days(1)))
            .fetch_one(pool)
            .await
    })
    .unwrap();
    platform.db.close().await;
    drop(platform);
    let reference_name = format!("{name}_reference");
    copy_database(&admin_url, &name, &reference_name).await;

    // The broker, the two instances, and a meter gateway that acknowledges every command.
    let (broker, mosquitto) = start_broker(dir);
    let (port_a, port_b) = (support::free_port(), support::free_port());
    let _running = Killed(vec![
        mosquitto,
        start_instance(dir, &url, "a", port_a, broker),
        start_instance(dir, &url, "b", port_b, broker),
    ]);
    let (a, b) = (
        format!("http://127.0.0.1:{port_a}"),
        format!("http://127.0.0.1:{port_b}"),
    );
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    support::wait_ready(&http, &a).await;
    support::wait_ready(&http, &b).await;

    // Times each command arrived, by id, with its kind.
    let received: Arc<Mutex<HashMap<i64, (CommandKind, u32)>>> = Arc::default();
    let mut options = MqttOptions::new("meters-gateway", "127.0.0.1", broker);
    options.set_keep_alive(Duration::from_secs(30));
    options.set_max_packet_size(64 * 1024, 64 * 1024);
    let (gateway, mut eventloop) = AsyncClient::new(options, 10_000);
    gateway
        .subscribe(
            format!("{}/+/down/command", wire::TOPIC_ROOT),
            QoS::AtLeastOnce,
        )
        .await
        .unwrap();
    {
        let (gateway, received) = (gateway.clone(), received.clone());
        tokio::spawn(async move {
            while let Ok(event) = eventloop.poll().await {
                let Event::Incoming(Incoming::Publish(publish)) = event else {
                    continue;
                };
                let Ok(downlink) = serde_json::from_slice::<Downlink>(&publish.payload) else {
                    continue;
                };
                received
                    .lock()
                    .unwrap()
                    .entry(downlink.command_id)
                    .or_insert((downlink.command, 0))
                    .1 += 1;
                let serial = publish
                    .topic
                    .split('/')
                    .nth(2)
                    .unwrap_or_default()
                    .to_owned();
                let ack = Uplink::Ack(Ack {
                    command_id: downlink.command_id,
                    seq: downlink.seq,
                    result: AckResult::Ok,
                    detail: String::new(),
                });
                let _ = gateway
                    .publish(
                        wire::uplink_topic(&serial, "ack"),
                        QoS::AtLeastOnce,
                        false,
                        ack.to_json(),
                    )
                    .await;
            }
        });
    }

    // Readings: every meter, ROUNDS times, a minute apart, registers rising by 1.5.
    let start = last_stored + Span::minutes(1);
    let mut sent: Vec<IncomingReading> = Vec::new();
    for round in 0..ROUNDS {
        for (id, serial) in &meters {
            let reading = Reading {
                taken_at: start + Span::minutes(round),
                register: rust_decimal::Decimal::new(1_000_000 + 15 * round, 1),
                power_kw: None,
            };
            sent.push(IncomingReading {
                meter: *id,
                taken_at: reading.taken_at,
                register: reading.register,
            });
            gateway
                .publish(
                    wire::uplink_topic(serial, "reading"),
                    QoS::AtLeastOnce,
                    false,
                    Uplink::Reading(reading).to_json(),
                )
                .await
                .unwrap();
        }
        // The first round waits until both instances have joined the group.
        if round == 0 {
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }
    let db = Db::connect(&url).await.unwrap();
    let expected = sent.len();
    let stored = || async {
        let count: i64 = on_db!(&db, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM readings WHERE taken_at >= $1")
                .bind(ReadingTime(start))
                .fetch_one(pool)
                .await
        })
        .unwrap();
        count as usize == expected
    };
    assert!(
        eventually(Duration::from_secs(60), stored).await,
        "every reading is stored"
    );

    // The broker split the readings between the two.
    let (by_a, by_b) = (
        readings_counted(&http, &a).await,
        readings_counted(&http, &b).await,
    );
    eprintln!("readings rated: instance a {by_a}, instance b {by_b}, sent {expected}");
    assert!(by_a > 0 && by_b > 0, "both instances rated readings");

    // One engine rating the same readings in order, on the copy made before the run.
    let reference = Platform::open(config_for(&dir.join("reference"), &{
        let (base, _) = url.rsplit_once('/').unwrap();
        format!("{base}/{reference_name}")
    }))
    .await
    .unwrap();
    reference.engine.rate(sent.clone()).await.unwrap();
    let (run_readings, run_charges) = books(&db, seeded).await;
    let (reference_readings, reference_charges) = books(&reference.db, seeded).await;
    assert_eq!(
        run_readings, reference_readings,
        "the same readings, each once"
    );
    assert_eq!(
        run_charges, reference_charges,
        "every account charged what one engine rating in order charges"
    );
    let (_, differences) = ledger::reconcile(&db).await.unwrap();
    assert!(
        differences.is_empty(),
        "the ledger reconciles: {differences:?}"
    );
    reference.db.close().await;

    // A session made on one instance is good on the other.
    let cookie = sign_in(&http, &a, demo::MANAGER).await;
    let page = http
        .get(format!("{b}/manage"))
        .header("cookie", &cookie)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200, "the session is known to b");
    assert!(
        page.text().await.unwrap().contains(demo::SITE),
        "b shows the manager's site"
    );

    // A rule changed on one instance holds the manager on the other at once, though b keeps
    // the callers it read for some seconds (`callers::TRUSTED_FOR`): the bus tells it.
    let admin_cookie = sign_in(&http, &a, demo::ADMIN).await;
    let required = http
        .post(format!("{a}/api/require_staff_two_factor"))
        .header("origin", &a)
        .header("cookie", &admin_cookie)
        .form(&[("required", "yes")])
        .send()
        .await
        .unwrap();
    assert!(
        required.status().is_success(),
        "the admin required two-factor sign-in on a"
    );
    assert!(
        eventually(server::auth::callers::TRUSTED_FOR / 4, || async {
            let page = http
                .get(format!("{b}/manage"))
                .header("cookie", &cookie)
                .header("accept", "text/html")
                .send()
                .await
                .unwrap();
            page.status() == 302 && page.headers()["location"] == "/account/two-factor"
        })
        .await,
        "b held the manager for two-factor set-up before its copy of them went stale"
    );

    // Signing out on one instance ends the session on the other at once, though b keeps
    // sessions it read for some seconds (`sessions::TRUSTED_FOR`): the bus tells it.
    let signed_out = http
        .post(format!("{a}/api/sign_out"))
        .header("origin", &a)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert!(signed_out.status().is_success(), "signed out on a");
    let manage_on_b = || async {
        http.get(format!("{b}/manage"))
            .header("cookie", &cookie)
            .header("accept", "text/html")
            .send()
            .await
            .unwrap()
    };
    assert!(
        eventually(server::auth::sessions::TRUSTED_FOR / 4, || async {
            let page = manage_on_b().await;
            page.status() == 302 && page.headers()["location"] == "/sign-in"
        })
        .await,
        "b sent the signed-out session to sign in before its copy went stale"
    );

    // Commands queued elsewhere while both outboxes poll: each reaches its meter once.
    let console = Platform::open(config_for(&dir.join("console"), &url))
        .await
        .unwrap();
    let _listening = console.join_bus(server::bus::Bus::new(console.db.clone()));
    let actor = Actor {
        user: on_db!(&db, pool => {
            sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
                .bind(demo::ADMIN)
                .fetch_one(pool)
                .await
        })
        .unwrap(),
        roles: vec![Role::Admin],
    };
    for _ in 0..3 {
        for (id, _) in &meters {
            console
                .fleet
                .operate(&actor, *id, Operation::ReadNow, "")
                .await
                .unwrap();
        }
    }
    let queued = 3 * meters.len();
    let acknowledged = || async {
        let done: i64 = on_db!(&db, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM meter_commands WHERE command = 'read' AND status = 'acknowledged'")
                .fetch_one(pool)
                .await
        })
        .unwrap();
        done as usize == queued
    };
    assert!(
        eventually(Duration::from_secs(60), acknowledged).await,
        "every command is acknowledged"
    );
    let twice: Vec<(i64, u32)> = received
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, (_, times))| *times > 1)
        .map(|(id, (_, times))| (*id, *times))
        .collect();
    let reads = received
        .lock()
        .unwrap()
        .values()
        .filter(|(kind, _)| *kind == CommandKind::Read)
        .count();
    assert_eq!(reads, queued, "every command was sent");
    assert!(twice.is_empty(), "commands sent more than once: {twice:?}");

    // A meter taken out of service elsewhere: both instances forget it, and its later
    // readings are dropped as a stranger's instead of charged.
    let (gone, gone_serial) = meters[0].clone();
    console
        .fleet
        .decommission(
            actor.user,
            gone,
            rust_decimal::Decimal::new(1_000_000 + 15 * ROUNDS, 1),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before: i64 = count_readings(&db, gone).await;
    for round in 0..6 {
        let reading = Reading {
            taken_at: start + Span::minutes(ROUNDS + 10 + round),
            register: rust_decimal::Decimal::new(2_000_000 + 15 * round, 1),
            power_kw: None,
        };
        gateway
            .publish(
                wire::uplink_topic(&gone_serial, "reading"),
                QoS::AtLeastOnce,
                false,
                Uplink::Reading(reading).to_json(),
            )
            .await
            .unwrap();
    }
    // A live meter's reading sent after them shows when they have been handled.
    let (marker, marker_serial) = meters[1].clone();
    let marker_at = start + Span::minutes(ROUNDS + 30);
    gateway
        .publish(
            wire::uplink_topic(&marker_serial, "reading"),
            QoS::AtLeastOnce,
            false,
            Uplink::Reading(Reading {
                taken_at: marker_at,
                register: rust_decimal::Decimal::new(3_000_000, 1),
                power_kw: None,
            })
            .to_json(),
        )
        .await
        .unwrap();
    let marked = || async {
        let found: i64 = on_db!(&db, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM readings WHERE meter_id = $1 AND taken_at = $2")
                .bind(marker)
                .bind(ReadingTime(marker_at))
                .fetch_one(pool)
                .await
        })
        .unwrap();
        found == 1
    };
    assert!(eventually(Duration::from_secs(30), marked).await);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        count_readings(&db, gone).await,
        before,
        "no instance rated the decommissioned meter"
    );
    console.db.close().await;
    db.close().await;
}

async fn count_readings(db: &Db, meter: i64) -> i64 {
    on_db!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM readings WHERE meter_id = $1")
            .bind(meter)
            .fetch_one(pool)
            .await
    })
    .unwrap()
}
