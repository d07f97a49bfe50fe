//! A real mosquitto with TLS, per-meter credentials and access rules written by the platform,
//! a fixture site, the fleet with its MQTT transport, and meters simulated over MQTT.

#![allow(dead_code)]

use super::fixture::{Fixture, d};
use app::domain::{Utility, fleet::FleetRules};
use server::{
    config::Secret,
    engine::setup::BillingMode,
    fleet::{
        Fleet, FleetConfig, Running,
        broker::{BrokerFiles, new_password},
        event_channel,
        mqtt::{MqttDevice, MqttSettings, MqttTransport},
        ops::NewMeter,
        simulator::VirtualMeter,
        transport::{Delivery, Transport, TransportKind},
    },
    on_db,
};
use std::{
    future::Future,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::Arc,
    time::Duration,
};

pub struct Broker {
    pub port: u16,
    pub ca: PathBuf,
    child: Child,
    dir: tempfile::TempDir,
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(program: &str, args: &[&str], dir: &Path) {
    let status = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap_or_else(|error| panic!("{program} could not run: {error}"));
    assert!(status.success(), "{program} {args:?} failed");
}

/// A throwaway CA and a certificate for localhost signed by it (P-256, two days).
fn certificates(dir: &Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=prepaid test CA",
    ]);
    run("openssl", &ca, dir);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    run("openssl", &csr, dir);
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .unwrap();
    run(
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "san.ext",
        ],
        dir,
    );
}

impl Broker {
    /// Starts mosquitto on a free loopback port with TLS only, no anonymous clients, and the
    /// password and access files in `files.dir` (which must exist already).
    pub async fn start(files: &BrokerFiles) -> Broker {
        let dir = tempfile::tempdir().unwrap();
        certificates(dir.path());
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().port()
        };
        let conf = dir.path().join("mosquitto.conf");
        let p = |name: &str| dir.path().join(name).display().to_string();
        std::fs::write(
            &conf,
            format!(
                "user root\npersistence false\nallow_anonymous false\npid_file {pid}\n\
                 password_file {passwd}\nacl_file {acl}\nlistener {port} 127.0.0.1\n\
                 cafile {ca}\ncertfile {cert}\nkeyfile {key}\nlog_type error\n",
                pid = files.pid_file.as_ref().unwrap().display(),
                passwd = files.passwd_path().display(),
                acl = files.acl_path().display(),
                ca = p("ca.crt"),
                cert = p("server.crt"),
                key = p("server.key"),
            ),
        )
        .unwrap();
        let child = Command::new("mosquitto")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("mosquitto is installed (.ci/setup installs it)");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Broker {
            port,
            ca: dir.path().join("ca.crt"),
            child,
            dir,
        }
    }

    pub fn settings(&self, user: &str, password: &str) -> MqttSettings {
        MqttSettings {
            host: "localhost".into(),
            port: self.port,
            ca_file: Some(self.ca.clone()),
            user: user.into(),
            password: Secret::new(password),
            client_id: user.into(),
            shared_group: None,
        }
    }
}

/// Short time-outs, so retries and expiry happen within a test.
pub fn quick_config() -> FleetConfig {
    let delivery = Delivery {
        ack_timeout: chrono::Duration::milliseconds(400),
        retry_base: chrono::Duration::milliseconds(200),
        retry_cap: chrono::Duration::milliseconds(400),
        max_attempts: 3,
        lifetime: chrono::Duration::seconds(30),
    };
    FleetConfig {
        mqtt: delivery,
        simulator: delivery,
        catch_up_quiet: Duration::from_millis(200),
        outbox_tick: Duration::from_millis(100),
        ..FleetConfig::default()
    }
}

pub struct Rig {
    pub fx: Fixture,
    pub fleet: Fleet,
    pub broker: Broker,
    pub transport: Arc<MqttTransport>,
    _running: Running,
    _files: tempfile::TempDir,
}

pub struct Meter {
    pub id: i64,
    pub wallet: i64,
    pub device: MqttDevice,
}

impl Rig {
    pub async fn new(occupied: usize, config: FleetConfig) -> Rig {
        let fx = Fixture::new(occupied, 0, BillingMode::PerMeter).await;
        let files_dir = tempfile::tempdir().unwrap();
        let files = BrokerFiles {
            dir: files_dir.path().to_path_buf(),
            platform_user: "prepaid-platform".into(),
            platform_password: Secret::new(new_password()),
            pid_file: Some(files_dir.path().join("mosquitto.pid")),
        };
        files.write(&fx.db).await.unwrap();
        let broker = Broker::start(&files).await;
        let (sender, events) = event_channel();
        let transport = MqttTransport::start(
            &broker.settings(&files.platform_user, files.platform_password.expose()),
            sender,
        )
        .unwrap();
        let fleet = Fleet::new(
            fx.engine.clone(),
            config,
            vec![transport.clone()],
            Some(files),
        );
        let running = fleet.start(events);
        let connected =
            eventually(Duration::from_secs(10), || async { transport.connected() }).await;
        assert!(connected, "the platform connects to mosquitto over TLS");
        let caught_up = eventually(Duration::from_secs(5), || async { fleet.caught_up() }).await;
        assert!(caught_up, "the fleet catches up once the broker is quiet");
        Rig {
            fx,
            fleet,
            broker,
            transport,
            _running: running,
            _files: files_dir,
        }
    }

    /// Replaces unit `unit`'s meter of `utility` with an MQTT meter (the old one's final
    /// reading and the new one's first are both 1000), tops its wallet up with `minor`, and
    /// connects it to the broker with the credentials the platform generated.
    pub async fn mqtt_meter(&self, unit: usize, utility: Utility, minor: i64) -> Meter {
        let old = self.fx.units[unit].meter(utility);
        let serial = format!("{}-mq-{unit}", utility.as_str()[..2].to_uppercase());
        let installed = self
            .fleet
            .replace(
                1,
                old,
                d("1000"),
                NewMeter {
                    serial: app::domain::fleet::MeterSerial::parse(&serial).unwrap(),
                    utility,
                    multiplier: app::domain::Multiplier::ONE,
                    first_register: d("1000"),
                    transport: TransportKind::Mqtt,
                    sleeps: false,
                    switches_rates: false,
                },
            )
            .await
            .expect("the meter is replaced");
        let wallet = self.fx.wallet_of(installed.id).await;
        if minor > 0 {
            self.fx
                .top_up(wallet, minor, &format!("opening-{serial}"))
                .await;
        }
        let password = installed
            .broker_password
            .expect("an MQTT meter gets a broker password");
        let device = MqttDevice::connect(
            &self.broker.settings(&serial, &password),
            VirtualMeter::new(&serial, utility, d("1000"), 7),
        )
        .await
        .unwrap();
        assert!(
            device.ready(Duration::from_secs(10)).await,
            "{serial} connects with its own credentials"
        );
        Meter {
            id: installed.id,
            wallet,
            device,
        }
    }

    pub async fn set_rules(&self, rules: FleetRules) {
        self.fleet
            .set_rules(Some(1), self.fx.site.0, &rules)
            .await
            .unwrap();
    }

    /// (command, status, attempts) of a meter's commands, oldest first.
    pub async fn commands(&self, meter: i64) -> Vec<(String, String, i32)> {
        on_db!(&self.fx.db, pool => {
            sqlx::query_as("SELECT command, status, attempts FROM meter_commands WHERE meter_id = $1 ORDER BY seq")
                .bind(meter).fetch_all(pool).await
        })
        .unwrap()
    }

    pub async fn alarms(&self) -> Vec<(String, Option<i64>, String)> {
        on_db!(&self.fx.db, pool => {
            sqlx::query_as("SELECT kind, meter_id, status FROM alarms ORDER BY id")
                .fetch_all(pool).await
        })
        .unwrap()
    }

    pub async fn alarms_of(&self, meter: i64) -> Vec<(String, Option<i64>, String)> {
        self.alarms()
            .await
            .into_iter()
            .filter(|a| a.1 == Some(meter))
            .collect()
    }

    pub async fn readings(&self, meter: i64) -> Vec<(String, String)> {
        on_db!(&self.fx.db, pool => {
            sqlx::query_as("SELECT register, status FROM readings WHERE meter_id = $1 ORDER BY taken_at")
                .bind(meter).fetch_all(pool).await
        })
        .unwrap()
    }
}

/// Polls `check` until it holds or `within` has passed; says whether it held.
pub async fn eventually<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
