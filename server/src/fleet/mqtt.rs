//! MQTT: the platform as one client of a real broker (mosquitto), and a simulated meter as
//! another. The topic and payload scheme is in [`super::wire`]; who may use which topic is in
//! [`super::broker`]. Connections are TLS (rustls, with the broker's CA) unless the operator
//! names a plain `mqtt://` broker, which only makes sense on loopback.
//!
//! The platform's session is persistent (a fixed client id, no clean start) and subscribes
//! at QoS 1, so the broker keeps readings while the platform is down and hands them over when
//! it returns. A reading lost anyway costs nothing: registers are cumulative, and the next
//! reading carries the consumption.
//!
//! Several server instances each connect with their own client id and join one shared
//! subscription group, so the broker splits the meters' uplinks between them. Which instance
//! rates a reading does not matter: rating takes the engine's writer lock (on PostgreSQL an
//! advisory lock all instances share), and a reading arriving after a newer one of its meter
//! is late and charges nothing, so each meter's consumption is charged once, in order.

use super::{
    simulator::VirtualMeter,
    transport::{Event, Transport, TransportError, TransportKind},
    wire::{self, Downlink, Uplink},
};
use crate::config::Secret;
use chrono::Utc;
use rumqttc::{AsyncClient, EventLoop, Incoming, MqttOptions, QoS, TlsConfiguration};
use std::{
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};
use tokio::sync::mpsc;

/// Where the broker is and who we are to it.
#[derive(Clone, Debug)]
pub struct MqttSettings {
    pub host: String,
    pub port: u16,
    /// The CA that signed the broker's certificate (PEM); `None` means no TLS.
    pub ca_file: Option<PathBuf>,
    pub user: String,
    pub password: Secret,
    /// Unique per server instance: the broker keeps one session per client id.
    pub client_id: String,
    /// With several instances, the MQTT shared-subscription group they join
    /// (`$share/{group}/…`): the broker hands each uplink to one member of the group.
    pub shared_group: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum MqttError {
    #[error("could not read the broker CA {0}: {1}")]
    Ca(PathBuf, std::io::Error),
    #[error("the broker CA {0} holds no usable certificate")]
    BadCa(PathBuf),
    #[error("{0}")]
    Client(#[from] rumqttc::ClientError),
}

impl MqttSettings {
    fn options(&self, clean_session: bool) -> Result<MqttOptions, MqttError> {
        let mut options = MqttOptions::new(&self.client_id, &self.host, self.port);
        options
            .set_credentials(&self.user, self.password.expose())
            .set_keep_alive(Duration::from_secs(30))
            .set_clean_session(clean_session)
            .set_max_packet_size(64 * 1024, 64 * 1024)
            .set_inflight(1_000)
            .set_request_channel_capacity(10_000);
        if let Some(ca_file) = &self.ca_file {
            options.set_transport(rumqttc::Transport::tls_with_config(tls(ca_file)?));
        }
        Ok(options)
    }
}

/// A rustls client trusting only the given CA, with ring as its crypto.
fn tls(ca_file: &PathBuf) -> Result<TlsConfiguration, MqttError> {
    use rustls::pki_types::{CertificateDer, pem::PemObject};
    let pem = std::fs::read(ca_file).map_err(|error| MqttError::Ca(ca_file.clone(), error))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|_| MqttError::BadCa(ca_file.clone()))?;
        roots
            .add(cert)
            .map_err(|_| MqttError::BadCa(ca_file.clone()))?;
    }
    if roots.is_empty() {
        return Err(MqttError::BadCa(ca_file.clone()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|_| MqttError::BadCa(ca_file.clone()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConfiguration::Rustls(Arc::new(config)))
}

/// The platform's MQTT transport.
pub struct MqttTransport {
    client: AsyncClient,
    connected: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MqttTransport {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MqttTransport {
    /// Connects (and keeps reconnecting) in the background; uplinks become events.
    pub fn start(
        settings: &MqttSettings,
        events: mpsc::Sender<Event>,
    ) -> Result<Arc<Self>, MqttError> {
        let (client, eventloop) = AsyncClient::new(settings.options(false)?, 10_000);
        let connected = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn(platform_loop(
            settings.shared_group.clone(),
            eventloop,
            client.clone(),
            connected.clone(),
            events,
        ));
        Ok(Arc::new(MqttTransport {
            client,
            connected,
            task,
        }))
    }
}

/// The topic filter for every meter's uplinks, in the shared group when there is one.
fn uplink_filter(shared_group: Option<&str>) -> String {
    let uplinks = format!("{}/+/up/+", wire::TOPIC_ROOT);
    match shared_group {
        Some(group) => format!("$share/{group}/{uplinks}"),
        None => uplinks,
    }
}

async fn platform_loop(
    shared_group: Option<String>,
    mut eventloop: EventLoop,
    client: AsyncClient,
    connected: Arc<AtomicBool>,
    events: mpsc::Sender<Event>,
) {
    let uplinks = uplink_filter(shared_group.as_deref());
    loop {
        match eventloop.poll().await {
            Ok(rumqttc::Event::Incoming(Incoming::ConnAck(_))) => {
                tracing::info!("connected to the MQTT broker");
                if let Err(error) = client.subscribe(&uplinks, QoS::AtLeastOnce).await {
                    tracing::warn!(%error, "could not subscribe to meter uplinks");
                }
            }
            Ok(rumqttc::Event::Incoming(Incoming::SubAck(_))) => {
                connected.store(true, Ordering::Release);
            }
            Ok(rumqttc::Event::Incoming(Incoming::Publish(publish))) => {
                let received_at = Utc::now();
                let Some((serial, channel)) = wire::parse_uplink_topic(&publish.topic) else {
                    continue;
                };
                match Uplink::parse(channel, &publish.payload) {
                    Ok(uplink) => {
                        let event = Event {
                            serial: serial.to_owned(),
                            uplink,
                            received_at,
                        };
                        if events.send(event).await.is_err() {
                            return; // the fleet has stopped
                        }
                    }
                    Err(error) => {
                        // Told to the meter (and its installer), and changes nothing.
                        tracing::info!(serial, %error, "uplink refused");
                        let body = serde_json::json!({ "topic": publish.topic, "error": error });
                        let _ = client.try_publish(
                            wire::error_topic(serial),
                            QoS::AtMostOnce,
                            false,
                            body.to_string(),
                        );
                    }
                }
            }
            Ok(_) => {}
            Err(error) => {
                connected.store(false, Ordering::Release);
                tracing::warn!(%error, "MQTT connection lost; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

#[async_trait::async_trait]
impl Transport for MqttTransport {
    fn kind(&self) -> TransportKind {
        TransportKind::Mqtt
    }

    async fn send(&self, serial: &str, command: &Downlink) -> Result<(), TransportError> {
        if !self.connected() {
            return Err(TransportError::Disconnected);
        }
        let payload = serde_json::to_vec(command).expect("commands serialise");
        self.client
            .publish(
                wire::command_topic(serial),
                QoS::AtLeastOnce,
                false,
                payload,
            )
            .await
            .map_err(|error| TransportError::Failed(error.to_string()))
    }

    fn connected(&self) -> bool {
        self.connected.load(Ordering::Acquire)
    }
}

/// A simulated meter on a real broker, with its own credentials: it obeys the commands it
/// receives and publishes whatever it is told to. For tests, benchmarks and demonstrations.
pub struct MqttDevice {
    client: AsyncClient,
    pub serial: String,
    meter: Arc<Mutex<VirtualMeter>>,
    connected: Arc<AtomicBool>,
    link: Arc<Mutex<Link>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MqttDevice {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MqttDevice {
    /// Connects as `settings.user` and listens on its command topic.
    pub async fn connect(settings: &MqttSettings, meter: VirtualMeter) -> Result<Self, MqttError> {
        let (client, eventloop) = AsyncClient::new(settings.options(true)?, 1_000);
        let serial = meter.serial.clone();
        let meter = Arc::new(Mutex::new(meter));
        let connected = Arc::new(AtomicBool::new(false));
        let link = Arc::new(Mutex::new(Link::default()));
        let task = tokio::spawn(device_loop(
            eventloop,
            client.clone(),
            serial.clone(),
            meter.clone(),
            connected.clone(),
            link.clone(),
        ));
        Ok(MqttDevice {
            client,
            serial,
            meter,
            connected,
            link,
            task,
        })
    }

    /// Waits until subscribed (or the time is up).
    pub async fn ready(&self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        while !self.connected.load(Ordering::Acquire) {
            if tokio::time::Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }

    /// Publishes an uplink on this meter's own topic.
    pub async fn publish(&self, uplink: &Uplink) -> Result<(), MqttError> {
        self.publish_as(&self.serial, uplink).await
    }

    /// Publishes on another meter's topic: the broker must refuse it.
    pub async fn publish_as(&self, serial: &str, uplink: &Uplink) -> Result<(), MqttError> {
        self.client
            .publish(
                wire::uplink_topic(serial, uplink.channel()),
                QoS::AtLeastOnce,
                false,
                uplink.to_json(),
            )
            .await?;
        Ok(())
    }

    /// Publishes raw bytes on one of its uplink channels.
    pub async fn publish_raw(&self, channel: &str, payload: &[u8]) -> Result<(), MqttError> {
        self.client
            .publish(
                wire::uplink_topic(&self.serial, channel),
                QoS::AtLeastOnce,
                false,
                payload.to_vec(),
            )
            .await?;
        Ok(())
    }

    /// Makes the meter's radio link lose `percent` of the messages it would receive or send
    /// (commands in, answers out), at random but repeatably for a `seed`.
    pub fn set_loss(&self, percent: u32, seed: u64) {
        *self.link.lock().expect("link") = Link {
            loss_percent: percent.min(100),
            state: seed | 1,
        };
    }

    /// The simulated meter behind the connection.
    pub fn meter(&self) -> std::sync::MutexGuard<'_, VirtualMeter> {
        self.meter.lock().expect("device")
    }
}

/// A simulated radio link's losses: xorshift64, so a seed repeats a run.
#[derive(Default)]
struct Link {
    loss_percent: u32,
    state: u64,
}

impl Link {
    fn loses(&mut self) -> bool {
        if self.loss_percent == 0 {
            return false;
        }
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        (self.state % 100) < u64::from(self.loss_percent)
    }
}

async fn device_loop(
    mut eventloop: EventLoop,
    client: AsyncClient,
    serial: String,
    meter: Arc<Mutex<VirtualMeter>>,
    connected: Arc<AtomicBool>,
    link: Arc<Mutex<Link>>,
) {
    let commands = wire::command_topic(&serial);
    let lost = || link.lock().expect("link").loses();
    loop {
        match eventloop.poll().await {
            Ok(rumqttc::Event::Incoming(Incoming::ConnAck(_))) => {
                let _ = client.subscribe(&commands, QoS::AtLeastOnce).await;
            }
            Ok(rumqttc::Event::Incoming(Incoming::SubAck(_))) => {
                connected.store(true, Ordering::Release)
            }
            Ok(rumqttc::Event::Incoming(Incoming::Publish(publish)))
                if publish.topic == commands =>
            {
                let Ok(command) = serde_json::from_slice::<Downlink>(&publish.payload) else {
                    continue;
                };
                if lost() {
                    continue;
                }
                let answers = meter.lock().expect("device").apply(&command, Utc::now());
                for uplink in answers {
                    if lost() {
                        continue;
                    }
                    let topic = wire::uplink_topic(&serial, uplink.channel());
                    let _ = client
                        .publish(topic, QoS::AtLeastOnce, false, uplink.to_json())
                        .await;
                }
            }
            Ok(_) => {}
            Err(error) => {
                connected.store(false, Ordering::Release);
                tracing::debug!(serial, %error, "simulated meter lost its connection");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}
