//! Sustained ingestion over MQTT, end to end: `cargo bench -p server --bench fleet` (options
//! after `--`: meters, rounds, target readings per second).
//!
//! A site of `meters` MQTT meters (SQLite, the demo's tariffs, no friendly hours), a real
//! mosquitto on loopback, the platform's fleet with its MQTT transport, and a load generator
//! publishing every meter's reading (15 simulated minutes apart) round after round, as fast
//! as the target rate allows, from several connections. 100,000 meters reading every 15
//! minutes is 111 readings/s; the benchmark runs many times faster than that.
//!
//! Some wallets start empty: their first timed reading empties them, and the time from
//! publishing that reading to receiving the cut-off command on the meter's command topic is
//! measured under the full load.
//!
//! The broker here accepts anonymous clients without TLS (loopback only): the load generator
//! publishes for every meter, which per-meter credentials would not allow. TLS costs per
//! connection, and there are few.

mod support;

use app::domain::{Minor, UnitId, fleet::CommandKind, supply::SupplyPolicy};
use chrono::{Duration as Span, Utc};
use rumqttc::{AsyncClient, Event, Incoming, MqttOptions, QoS};
use server::{
    Platform,
    config::{Config, Secret},
    demo,
    engine::{money::Source, setup::BillingMode},
    fleet::{
        Fleet, FleetConfig, event_channel,
        mqtt::{MqttSettings, MqttTransport},
        wire,
    },
    on_db,
};
use std::{
    collections::HashMap,
    process::{Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

const PUBLISHERS: usize = 4;
/// One wallet in this many starts empty and is cut by its first timed reading.
const VICTIM_EVERY: usize = 250;

fn main() {
    support::run(bench());
}

async fn bench() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let meters = args.first().copied().unwrap_or(30_000).max(3) / 3 * 3;
    let rounds = args.get(1).copied().unwrap_or(3).max(1);
    let target = args.get(2).copied().unwrap_or(20_000).max(1);
    println!(
        "fleet benchmark: {meters} MQTT meters, {rounds} timed rounds, target {target} readings/s"
    );

    let dir = tempfile::tempdir().unwrap();
    let mut broker = start_broker(dir.path());
    let port = broker.port;
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        database_url: Some(Secret::new(format!(
            "sqlite://{}",
            dir.path().join("fleet.db").display()
        ))),
        ..Config::default()
    };
    let platform = Platform::open(config).await.expect("opens");
    let setup = Instant::now();
    let (serials, victims) = build(&platform, meters).await;
    println!(
        "  set-up: {meters} meters, {} empty wallets, in {:.1} s",
        victims.len(),
        setup.elapsed().as_secs_f64()
    );

    let (sender, events) = event_channel();
    let settings = MqttSettings {
        host: "127.0.0.1".into(),
        port,
        ca_file: None,
        user: "platform".into(),
        password: Secret::new("unused"),
        client_id: "prepaid-platform-bench".into(),
        shared_group: None,
    };
    let transport = MqttTransport::start(&settings, sender).unwrap();
    let fleet = Fleet::new(
        platform.engine.clone(),
        FleetConfig::default(),
        vec![transport],
        None,
    );
    let _running = fleet.start(events);
    let cuts = watch_commands(port).await;

    let publishers = publishers(port).await;
    // Baselines, not timed.
    publish_round(&publishers, &serials, 0, target, &HashMap::new()).await;
    wait_for_readings(&platform, meters).await;
    while !fleet.caught_up() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let mut sent_at = HashMap::new();
    let timer = Instant::now();
    for round in 1..=rounds {
        let stamps = publish_round(&publishers, &serials, round, target, &victims).await;
        if round == 1 {
            sent_at = stamps;
        }
    }
    let published = timer.elapsed().as_secs_f64();
    wait_for_readings(&platform, meters * (rounds + 1)).await;
    let seconds = timer.elapsed().as_secs_f64();
    let rated = meters * rounds;
    println!("  published {rated} readings in {published:.1} s; all rated after {seconds:.1} s");
    println!(
        "end to end:        {:>10.0} readings/s",
        rated as f64 / seconds
    );
    println!(
        "equivalent fleet:  {:>10.0} meters reading every 15 minutes",
        rated as f64 / seconds * 900.0
    );
    if let Some(peak) = support::peak_memory_mb() {
        println!(
            "peak memory:       {peak:>10.0} MB (the platform with {meters} meters, and the load generator)"
        );
    }
    let (held, loaded) = server::metrics::rating_meter_counts();
    println!("  meters' state held from the batch before: {held}, loaded: {loaded}");

    // Every empty wallet's cut-off must arrive.
    let deadline = Instant::now() + Duration::from_secs(30);
    while cuts.lock().unwrap().len() < sent_at.len() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let received = cuts.lock().unwrap().clone();
    let mut latencies: Vec<f64> = sent_at
        .iter()
        .filter_map(|(serial, sent)| {
            received
                .get(serial)
                .map(|got| got.duration_since(*sent).as_secs_f64() * 1000.0)
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    let pick = |q: f64| {
        latencies[((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1]
    };
    println!(
        "reading → cut:     {} of {} cut; p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        latencies.len(),
        sent_at.len(),
        pick(0.5),
        pick(0.99),
        pick(1.0)
    );
    for serial in sent_at
        .keys()
        .filter(|serial| !received.contains_key(*serial))
        .take(3)
    {
        let state: (String, i64, String) = on_db!(&platform.db, pool => {
            sqlx::query_as(
                "SELECT w.supply_state, a.balance_minor, COALESCE((SELECT group_concat(c.command || ':' || c.status) \
                 FROM meter_commands c WHERE c.meter_id = m.id), '') FROM meters m JOIN wallets w ON w.meter_id = m.id \
                 JOIN accounts a ON a.id = w.account_id WHERE m.serial = $1",
            )
            .bind(serial)
            .fetch_one(pool)
            .await
        })
        .unwrap();
        println!("  not cut: {serial}: {state:?}");
    }
    let (_, differences) = server::ledger::reconcile(&platform.db).await.unwrap();
    assert!(
        differences.is_empty(),
        "the ledger reconciles after the run"
    );
    let _ = broker.child.kill();
    let _ = broker.child.wait();
}

struct Broker {
    port: u16,
    child: std::process::Child,
}

/// mosquitto on a free loopback port, anonymous, no persistence; stopped at the end.
fn start_broker(dir: &std::path::Path) -> Broker {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let conf = dir.join("mosquitto.conf");
    std::fs::write(&conf, format!("user root\nallow_anonymous true\npersistence false\nmax_queued_messages 1000000\nlistener {port} 127.0.0.1\n")).unwrap();
    let child = Command::new("mosquitto")
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("mosquitto");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Broker { port, child }
}

/// The site, every meter on MQTT, every wallet in credit but one in `VICTIM_EVERY`.
async fn build(platform: &Platform, meters: usize) -> (Vec<String>, HashMap<String, ()>) {
    let engine = &platform.engine;
    let (site, units, _) = support::build_site(&platform.db, meters / 3).await;
    let policy = SupplyPolicy {
        friendly_from: None,
        friendly_to: None,
        friendly_weekends: false,
        ..SupplyPolicy::default()
    };
    engine
        .set_policy(site, BillingMode::PerMeter, &policy)
        .await
        .unwrap();
    // The site's cap on cut-offs per minute would hold most of the measured ones back.
    let fleet = Fleet::new(engine.clone(), FleetConfig::default(), Vec::new(), None);
    let rules = app::domain::fleet::FleetRules {
        credit_cuts_per_minute: 1_000_000,
        ..Default::default()
    };
    fleet.set_rules(None, site.0, &rules).await.unwrap();
    for (utility, tariff) in demo::demo_tariffs() {
        engine
            .set_tariff(site, utility, Utc::now() - Span::days(400), &tariff, None)
            .await
            .unwrap();
    }
    for unit in &units {
        engine.move_in(UnitId(*unit)).await.unwrap();
    }
    let rows: Vec<(i64, String)> = on_db!(&platform.db, pool => {
        sqlx::query("UPDATE meters SET transport = 'mqtt'").execute(pool).await?;
        sqlx::query_as("SELECT w.account_id, m.serial FROM wallets w JOIN meters m ON m.id = w.meter_id ORDER BY m.id")
            .fetch_all(pool).await
    })
    .unwrap();
    let mut victims = HashMap::new();
    for (index, (wallet, serial)) in rows.iter().enumerate() {
        if index % VICTIM_EVERY == VICTIM_EVERY / 2 {
            victims.insert(serial.clone(), ());
            continue;
        }
        let source = Source::Provider {
            provider: "bench".into(),
            reference: format!("w{wallet}"),
        };
        engine
            .top_up(*wallet, Minor(10_000_000), source, None)
            .await
            .unwrap();
    }
    (
        rows.into_iter().map(|(_, serial)| serial).collect(),
        victims,
    )
}

async fn client(port: u16, id: String) -> (AsyncClient, Arc<std::sync::atomic::AtomicBool>) {
    let mut options = MqttOptions::new(id, "127.0.0.1", port);
    options
        .set_inflight(2_000)
        .set_request_channel_capacity(50_000)
        .set_keep_alive(Duration::from_secs(30));
    let (client, mut eventloop) = AsyncClient::new(options, 50_000);
    let ready = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = ready.clone();
    tokio::spawn(async move {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Incoming::ConnAck(_))) => {
                    flag.store(true, std::sync::atomic::Ordering::Release)
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    });
    (client, ready)
}

async fn publishers(port: u16) -> Vec<AsyncClient> {
    let mut clients = Vec::new();
    for n in 0..PUBLISHERS {
        let (client, ready) = client(port, format!("load-{n}")).await;
        while !ready.load(std::sync::atomic::Ordering::Acquire) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        clients.push(client);
    }
    clients
}

/// Every meter's reading of `round`, paced to `target` per second. Returns when each
/// victim's reading was handed to the network.
async fn publish_round(
    publishers: &[AsyncClient],
    serials: &[String],
    round: usize,
    target: usize,
    victims: &HashMap<String, ()>,
) -> HashMap<String, Instant> {
    let start = Utc::now() - Span::days(30);
    let began = Instant::now();
    let mut stamps = HashMap::new();
    for (index, serial) in serials.iter().enumerate() {
        let due = Duration::from_secs_f64(index as f64 / target as f64);
        if let Some(wait) = due.checked_sub(began.elapsed()) {
            tokio::time::sleep(wait).await;
        }
        let reading = wire::Uplink::Reading(wire::Reading {
            taken_at: start + Span::minutes(15 * round as i64),
            register: rust_decimal::Decimal::new((1 + index as i64 % 50) * round as i64, 2),
            power_kw: None,
        });
        let topic = wire::uplink_topic(serial, "reading");
        let client = &publishers[index % publishers.len()];
        client
            .publish(topic, QoS::AtLeastOnce, false, reading.to_json())
            .await
            .unwrap();
        if victims.contains_key(serial) {
            stamps.insert(serial.clone(), Instant::now());
        }
    }
    stamps
}

/// When each meter's first cut-off (close, or restrict where the policy restricts) arrived
/// on its command topic.
async fn watch_commands(port: u16) -> Arc<Mutex<HashMap<String, Instant>>> {
    let seen = Arc::new(Mutex::new(HashMap::new()));
    let mut options = MqttOptions::new("bench-watch", "127.0.0.1", port);
    options.set_keep_alive(Duration::from_secs(30));
    let (client, mut eventloop) = AsyncClient::new(options, 1_000);
    client
        .subscribe(
            format!("{}/+/down/command", wire::TOPIC_ROOT),
            QoS::AtMostOnce,
        )
        .await
        .unwrap();
    let record = seen.clone();
    tokio::spawn(async move {
        let _client = client;
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Incoming::Publish(publish))) => {
                    let serial = publish
                        .topic
                        .split('/')
                        .nth(2)
                        .unwrap_or_default()
                        .to_owned();
                    if let Ok(command) = serde_json::from_slice::<wire::Downlink>(&publish.payload)
                        && matches!(command.command, CommandKind::Close | CommandKind::Restrict)
                    {
                        record
                            .lock()
                            .unwrap()
                            .entry(serial)
                            .or_insert_with(Instant::now);
                    }
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    });
    seen
}

async fn wait_for_readings(platform: &Platform, count: usize) {
    loop {
        let stored: i64 = on_db!(&platform.db, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM readings").fetch_one(pool).await
        })
        .unwrap();
        if stored as usize >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
