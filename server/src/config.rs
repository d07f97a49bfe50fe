//! Configuration in three layers: safe defaults for the demo, then an optional TOML file
//! (`--config FILE` or `PREPAID_CONFIG`), then environment variables.

use serde::Deserialize;
use std::{collections::HashMap, fmt, net::IpAddr, net::SocketAddr, path::PathBuf};

/// A secret given by the operator. No `Serialize`, and `Debug` shows nothing of it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    /// `sqlite://…` or `postgres://…`; by default an SQLite file in `data_dir`.
    pub database_url: Option<Secret>,
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// The address people use, such as `https://prepaid.example.org`. Its origin is accepted
    /// on state-changing requests, and an `https` one makes session cookies `Secure`.
    pub public_url: Option<String>,
    /// Seed demo data at start and print its sign-ins.
    pub demo: bool,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    pub session_idle_hours: i64,
    pub throttle: ThrottleConfig,
    /// Secrets the operator gives instead of letting the platform generate them.
    pub session_key: Option<Secret>,
    pub vapid_private_key: Option<Secret>,
    pub webhook_secret: Option<Secret>,
    /// Seals token meters' device keys (32 bytes, base64); by default a file in `data_dir`.
    pub token_vault_key: Option<Secret>,
    /// The vending service STS meters' tokens come from, if any.
    pub sts_vending: Option<StsVendingConfig>,
    /// Run the built-in meter simulator; by default it runs with the demo.
    pub simulator: Option<bool>,
    /// Simulated seconds of use per real second.
    pub simulator_speed: u32,
    /// Real seconds between simulated readings.
    pub simulator_interval_s: u64,
    pub mqtt: Option<MqttConfig>,
    pub push: PushConfig,
    /// The SMS provider notices and codes go through, if any.
    pub sms: Option<SmsConfig>,
    /// The mail server e-mails go through, if any.
    pub smtp: Option<SmtpConfig>,
    /// Requests a minute each API key may make (in bursts of a quarter of it).
    pub api_requests_per_minute: u32,
    /// Webhooks may be sent to loopback and private addresses (tests, a local receiver);
    /// otherwise such URLs are refused, so a subscription cannot probe the operator's network.
    pub webhooks_to_private: bool,
    /// The largest request body accepted, in bytes; a larger one is refused with 413.
    pub max_body_bytes: usize,
    /// How long a request may take before it is answered 408 and abandoned.
    pub request_timeout_s: u64,
    /// Sign-in, code and password-reset requests a minute from one client address.
    pub sign_in_per_minute: u32,
    /// Payment and delivery-report callbacks a minute from one client address.
    pub callbacks_per_minute: u32,
    /// The bearer token `/metrics` asks of Prometheus; without one it answers loopback only.
    pub metrics_token: Option<Secret>,
    /// How SQLite makes commits durable: `full` (the default) or `normal`.
    pub sqlite_durability: crate::db::Durability,
    /// Days sent notices and webhook deliveries are kept once finished.
    pub retention_days: u32,
}

/// The HTTP SMS APIs the platform speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmsProvider {
    /// A form POST to `{url}/version1/messaging` with an `apiKey` header (Africa's Talking and
    /// the gateways that copy it).
    AfricasTalking,
    /// A form POST to `{url}/2010-04-01/Accounts/{account}/Messages.json` with basic auth
    /// (Twilio and the gateways that copy it).
    Twilio,
}

#[derive(Clone, Debug)]
pub struct SmsConfig {
    pub provider: SmsProvider,
    /// The API's base address; by default the provider's own.
    pub url: String,
    /// The account: Africa's Talking's username, Twilio's account SID.
    pub account: String,
    /// Africa's Talking's API key, Twilio's auth token (which also signs its callbacks).
    pub key: Secret,
    /// The sender id or number messages come from.
    pub from: Option<String>,
    /// Africa's Talking does not sign its delivery reports: they are believed only at an
    /// address that carries this secret.
    pub callback_token: Option<Secret>,
}

#[derive(Clone, Debug)]
pub struct SmtpConfig {
    /// `smtps://user:password@host:465`, `smtp://…?tls=required` (STARTTLS), or plain
    /// `smtp://host:port` (a relay on the same machine, a test sink).
    pub url: Secret,
    /// The sender when a site names none: `Prepaid <no-reply@example.org>`.
    pub from: String,
}

/// A vending service for STS tokens: its base URL and API key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StsVendingConfig {
    pub url: String,
    pub key: Secret,
}

/// Where Web Push messages may go and who the platform says it is to push services.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushConfig {
    /// Push services' host names a subscription's endpoint may point at (`*.example` covers
    /// subdomains). The endpoint comes from a browser, so an open list would let anyone make
    /// the server send requests wherever they like.
    pub services: Vec<String>,
    /// Accept `http://` endpoints: only for a test push service on loopback.
    pub allow_http: bool,
    /// The VAPID `sub` claim: a `mailto:` or `https:` address push services can reach the
    /// operator at; by default the public URL.
    pub subject: Option<String>,
}

impl Default for PushConfig {
    fn default() -> Self {
        Self {
            services: [
                "fcm.googleapis.com",
                "updates.push.services.mozilla.com",
                "*.push.apple.com",
                "*.notify.windows.com",
            ]
            .map(String::from)
            .to_vec(),
            allow_http: false,
            subject: None,
        }
    }
}

/// The MQTT broker meters use, and whether this platform writes its credential files.
#[derive(Clone, Debug)]
pub struct MqttConfig {
    /// Where the broker is and the platform's account on it.
    pub broker: crate::fleet::mqtt::MqttSettings,
    /// Where to write mosquitto's `passwd` and `acl` files (none: the operator manages them).
    pub broker_dir: Option<PathBuf>,
    /// mosquitto's pid file: signalled to reload after the files change.
    pub broker_pid_file: Option<PathBuf>,
}

impl Config {
    pub fn simulator_enabled(&self) -> bool {
        self.simulator.unwrap_or(self.demo)
    }
}

/// Limits on failed sign-ins within a sliding window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThrottleConfig {
    pub window_minutes: i64,
    pub max_failures_per_account: i64,
    pub max_failures_per_address: i64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: None,
            data_dir: PathBuf::from("data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            public_url: None,
            demo: false,
            trusted_proxies: Vec::new(),
            session_idle_hours: 12,
            throttle: ThrottleConfig {
                window_minutes: 15,
                max_failures_per_account: 5,
                max_failures_per_address: 20,
            },
            session_key: None,
            vapid_private_key: None,
            webhook_secret: None,
            token_vault_key: None,
            sts_vending: None,
            simulator: None,
            simulator_speed: 360,
            simulator_interval_s: 10,
            mqtt: None,
            push: PushConfig::default(),
            sms: None,
            smtp: None,
            api_requests_per_minute: 600,
            webhooks_to_private: false,
            max_body_bytes: 4 * 1024 * 1024,
            request_timeout_s: 30,
            sign_in_per_minute: 300,
            callbacks_per_minute: 6_000,
            metrics_token: None,
            sqlite_durability: crate::db::Durability::Full,
            retention_days: 365,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("could not read the configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the configuration file {path} is not valid: {message}")]
    File { path: PathBuf, message: String },
    #[error("the environment variable {name} is not valid: {message}")]
    Env { name: &'static str, message: String },
}

/// The file layer; every key optional, unknown keys refused (a typo must not pass silently).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLayer {
    database_url: Option<String>,
    data_dir: Option<PathBuf>,
    listen: Option<SocketAddr>,
    public_url: Option<String>,
    demo: Option<bool>,
    trusted_proxies: Option<Vec<IpAddr>>,
    session_idle_hours: Option<i64>,
    throttle_window_minutes: Option<i64>,
    throttle_max_failures_per_account: Option<i64>,
    throttle_max_failures_per_address: Option<i64>,
}

impl Config {
    /// Defaults, then the file (if any), then the process environment.
    pub fn load(file: Option<PathBuf>) -> Result<Self, ConfigError> {
        let env: HashMap<String, String> = std::env::vars().collect();
        let mut config = Config::default();
        // cargo-leptos tells the server where to listen; PREPAID_LISTEN still wins below.
        if let Some(addr) = env.get("LEPTOS_SITE_ADDR") {
            config.listen = parse_env("LEPTOS_SITE_ADDR", addr)?;
        }
        if let Some(path) = file.or_else(|| env.get("PREPAID_CONFIG").map(PathBuf::from)) {
            let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            config
                .apply_file(&text)
                .map_err(|message| ConfigError::File { path, message })?;
        }
        config.apply_env(&env)?;
        Ok(config)
    }

    fn apply_file(&mut self, text: &str) -> Result<(), String> {
        let layer: FileLayer = toml::from_str(text).map_err(|error| error.to_string())?;
        if let Some(url) = layer.database_url {
            self.database_url = Some(Secret::new(url));
        }
        set(&mut self.data_dir, layer.data_dir);
        set(&mut self.listen, layer.listen);
        if layer.public_url.is_some() {
            self.public_url = layer.public_url;
        }
        set(&mut self.demo, layer.demo);
        set(&mut self.trusted_proxies, layer.trusted_proxies);
        set(&mut self.session_idle_hours, layer.session_idle_hours);
        set(
            &mut self.throttle.window_minutes,
            layer.throttle_window_minutes,
        );
        set(
            &mut self.throttle.max_failures_per_account,
            layer.throttle_max_failures_per_account,
        );
        set(
            &mut self.throttle.max_failures_per_address,
            layer.throttle_max_failures_per_address,
        );
        Ok(())
    }

    fn apply_env(&mut self, env: &HashMap<String, String>) -> Result<(), ConfigError> {
        let get = |name: &str| env.get(name).filter(|value| !value.trim().is_empty());
        if let Some(url) = get("DATABASE_URL") {
            self.database_url = Some(Secret::new(url.trim()));
        }
        if let Some(dir) = get("PREPAID_DATA_DIR") {
            self.data_dir = PathBuf::from(dir);
        }
        if let Some(listen) = get("PREPAID_LISTEN") {
            self.listen = parse_env("PREPAID_LISTEN", listen)?;
        }
        if let Some(url) = get("PREPAID_PUBLIC_URL") {
            self.public_url = Some(url.trim().trim_end_matches('/').to_owned());
        }
        if let Some(demo) = get("PREPAID_DEMO") {
            self.demo = parse_bool("PREPAID_DEMO", demo)?;
        }
        if let Some(proxies) = get("PREPAID_TRUSTED_PROXIES") {
            self.trusted_proxies = proxies
                .split(',')
                .map(str::trim)
                .filter(|part| !part.is_empty())
                .map(|part| parse_env("PREPAID_TRUSTED_PROXIES", part))
                .collect::<Result<_, _>>()?;
        }
        if let Some(hours) = get("PREPAID_SESSION_IDLE_HOURS") {
            self.session_idle_hours = parse_env("PREPAID_SESSION_IDLE_HOURS", hours)?;
        }
        if let Some(value) = get("PREPAID_THROTTLE_WINDOW_MINUTES") {
            self.throttle.window_minutes = parse_env("PREPAID_THROTTLE_WINDOW_MINUTES", value)?;
        }
        if let Some(value) = get("PREPAID_THROTTLE_MAX_PER_ACCOUNT") {
            self.throttle.max_failures_per_account =
                parse_env("PREPAID_THROTTLE_MAX_PER_ACCOUNT", value)?;
        }
        if let Some(value) = get("PREPAID_THROTTLE_MAX_PER_ADDRESS") {
            self.throttle.max_failures_per_address =
                parse_env("PREPAID_THROTTLE_MAX_PER_ADDRESS", value)?;
        }
        self.session_key = get("PREPAID_SESSION_KEY")
            .map(Secret::new)
            .or(self.session_key.take());
        self.vapid_private_key = get("PREPAID_VAPID_PRIVATE_KEY")
            .map(Secret::new)
            .or(self.vapid_private_key.take());
        if let Some(value) = get("PREPAID_SIMULATOR") {
            self.simulator = Some(parse_bool("PREPAID_SIMULATOR", value)?);
        }
        if let Some(value) = get("PREPAID_SIMULATOR_SPEED") {
            self.simulator_speed = parse_env("PREPAID_SIMULATOR_SPEED", value)?;
        }
        if let Some(value) = get("PREPAID_SIMULATOR_INTERVAL_S") {
            self.simulator_interval_s = parse_env("PREPAID_SIMULATOR_INTERVAL_S", value)?;
        }
        if let Some(url) = get("PREPAID_MQTT_URL") {
            self.mqtt = Some(mqtt_from_env(url, &get)?);
        }
        if let Some(hosts) = get("PREPAID_PUSH_SERVICES") {
            self.push.services = hosts
                .split(',')
                .map(|host| host.trim().to_ascii_lowercase())
                .filter(|host| !host.is_empty())
                .collect();
        }
        if let Some(value) = get("PREPAID_PUSH_ALLOW_HTTP") {
            self.push.allow_http = parse_bool("PREPAID_PUSH_ALLOW_HTTP", value)?;
        }
        if let Some(subject) = get("PREPAID_VAPID_SUBJECT") {
            self.push.subject = Some(subject.trim().to_owned());
        }
        self.webhook_secret = get("PREPAID_WEBHOOK_SECRET")
            .map(Secret::new)
            .or(self.webhook_secret.take());
        self.token_vault_key = get("PREPAID_TOKEN_VAULT_KEY")
            .map(Secret::new)
            .or(self.token_vault_key.take());
        if let Some(url) = get("PREPAID_STS_VENDING_URL") {
            let key = get("PREPAID_STS_VENDING_KEY").ok_or_else(|| ConfigError::Env {
                name: "PREPAID_STS_VENDING_KEY",
                message: "required with PREPAID_STS_VENDING_URL".into(),
            })?;
            self.sts_vending = Some(StsVendingConfig {
                url: url.trim().to_owned(),
                key: Secret::new(key.trim()),
            });
        }
        if let Some(value) = get("PREPAID_API_REQUESTS_PER_MINUTE") {
            self.api_requests_per_minute = parse_env("PREPAID_API_REQUESTS_PER_MINUTE", value)?;
        }
        if let Some(value) = get("PREPAID_WEBHOOKS_TO_PRIVATE") {
            self.webhooks_to_private = parse_env("PREPAID_WEBHOOKS_TO_PRIVATE", value)?;
        }
        if let Some(value) = get("PREPAID_MAX_BODY_BYTES") {
            self.max_body_bytes = parse_env("PREPAID_MAX_BODY_BYTES", value)?;
        }
        if let Some(value) = get("PREPAID_REQUEST_TIMEOUT_S") {
            self.request_timeout_s = parse_env("PREPAID_REQUEST_TIMEOUT_S", value)?;
        }
        if let Some(value) = get("PREPAID_SIGN_IN_PER_MINUTE") {
            self.sign_in_per_minute = parse_env("PREPAID_SIGN_IN_PER_MINUTE", value)?;
        }
        if let Some(value) = get("PREPAID_CALLBACKS_PER_MINUTE") {
            self.callbacks_per_minute = parse_env("PREPAID_CALLBACKS_PER_MINUTE", value)?;
        }
        if let Some(value) = get("PREPAID_SQLITE_SYNCHRONOUS") {
            self.sqlite_durability = match value.trim().to_ascii_lowercase().as_str() {
                "full" => crate::db::Durability::Full,
                "normal" => crate::db::Durability::Normal,
                _ => {
                    return Err(ConfigError::Env {
                        name: "PREPAID_SQLITE_SYNCHRONOUS",
                        message: "full or normal".into(),
                    });
                }
            };
        }
        if let Some(value) = get("PREPAID_RETENTION_DAYS") {
            self.retention_days = parse_env("PREPAID_RETENTION_DAYS", value)?;
        }
        if let Some(token) = get("PREPAID_METRICS_TOKEN") {
            self.metrics_token = Some(Secret::new(token.trim()));
        }
        if let Some(provider) = get("PREPAID_SMS_PROVIDER") {
            self.sms = Some(sms_from_env(provider, &get)?);
        }
        if let Some(url) = get("PREPAID_SMTP_URL") {
            let from = get("PREPAID_MAIL_FROM").ok_or_else(|| ConfigError::Env {
                name: "PREPAID_MAIL_FROM",
                message: "required with PREPAID_SMTP_URL (such as Prepaid <no-reply@example.org>)"
                    .into(),
            })?;
            self.smtp = Some(SmtpConfig {
                url: Secret::new(url.trim()),
                from: from.trim().to_owned(),
            });
        }
        Ok(())
    }

    /// The database to use: as configured, or `prepaid.db` in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose().to_owned(),
            None => format!("sqlite://{}", self.data_dir.join("prepaid.db").display()),
        }
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|url| url.starts_with("https://"))
    }
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *slot = value;
    }
}

fn parse_env<T: std::str::FromStr>(name: &'static str, value: &str) -> Result<T, ConfigError>
where
    T::Err: fmt::Display,
{
    value
        .trim()
        .parse()
        .map_err(|error: T::Err| ConfigError::Env {
            name,
            message: error.to_string(),
        })
}

fn parse_bool(name: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        other => Err(ConfigError::Env {
            name,
            message: format!("expected true or false, got {other:?}"),
        }),
    }
}

/// `PREPAID_MQTT_URL` (`mqtts://host:port`, or `mqtt://` on loopback) and its companions.
fn sms_from_env<'a>(
    provider: &str,
    get: &impl Fn(&str) -> Option<&'a String>,
) -> Result<SmsConfig, ConfigError> {
    let (provider, default_url) = match provider.trim().to_ascii_lowercase().as_str() {
        "africastalking" => (
            SmsProvider::AfricasTalking,
            "https://api.africastalking.com",
        ),
        "twilio" => (SmsProvider::Twilio, "https://api.twilio.com"),
        other => {
            return Err(ConfigError::Env {
                name: "PREPAID_SMS_PROVIDER",
                message: format!("expected africastalking or twilio, got {other:?}"),
            });
        }
    };
    let required = |name: &'static str| {
        get(name)
            .map(|value| value.trim().to_owned())
            .ok_or_else(|| ConfigError::Env {
                name,
                message: "required with PREPAID_SMS_PROVIDER".into(),
            })
    };
    Ok(SmsConfig {
        provider,
        url: get("PREPAID_SMS_URL")
            .map_or(default_url, |url| url.trim())
            .trim_end_matches('/')
            .to_owned(),
        account: required("PREPAID_SMS_ACCOUNT")?,
        key: Secret::new(required("PREPAID_SMS_KEY")?),
        from: get("PREPAID_SMS_FROM").map(|from| from.trim().to_owned()),
        callback_token: get("PREPAID_SMS_CALLBACK_TOKEN").map(|token| Secret::new(token.trim())),
    })
}

/// `PREPAID_MQTT_SHARED_GROUP`: a name the broker accepts inside `$share/{group}/…`.
fn shared_group(raw: Option<&String>) -> Result<Option<String>, ConfigError> {
    let Some(group) = raw
        .map(|group| group.trim())
        .filter(|group| !group.is_empty())
    else {
        return Ok(None);
    };
    if group.contains(['/', '+', '#']) {
        return Err(ConfigError::Env {
            name: "PREPAID_MQTT_SHARED_GROUP",
            message: format!("{group:?} may not contain '/', '+' or '#'"),
        });
    }
    Ok(Some(group.to_owned()))
}

fn mqtt_from_env<'a>(
    url: &str,
    get: &impl Fn(&str) -> Option<&'a String>,
) -> Result<MqttConfig, ConfigError> {
    let bad = |why: &str| ConfigError::Env {
        name: "PREPAID_MQTT_URL",
        message: why.to_owned(),
    };
    let (tls, rest) = if let Some(rest) = url.trim().strip_prefix("mqtts://") {
        (true, rest)
    } else if let Some(rest) = url.trim().strip_prefix("mqtt://") {
        (false, rest)
    } else {
        return Err(bad("expected mqtts://host:port or mqtt://host:port"));
    };
    let (host, port) = rest
        .trim_end_matches('/')
        .rsplit_once(':')
        .ok_or_else(|| bad("the port is missing"))?;
    let port = port.parse().map_err(|_| bad("the port is not a number"))?;
    let ca_file = get("PREPAID_MQTT_CA").map(PathBuf::from);
    if tls && ca_file.is_none() {
        return Err(bad(
            "mqtts:// needs PREPAID_MQTT_CA, the broker certificate's CA",
        ));
    }
    let password = get("PREPAID_MQTT_PASSWORD")
        .map(Secret::new)
        .ok_or_else(|| bad("PREPAID_MQTT_PASSWORD is not set"))?;
    Ok(MqttConfig {
        broker: crate::fleet::mqtt::MqttSettings {
            host: host.to_owned(),
            port,
            ca_file: if tls { ca_file } else { None },
            user: get("PREPAID_MQTT_USER")
                .cloned()
                .unwrap_or_else(|| "prepaid-platform".into()),
            password,
            client_id: get("PREPAID_MQTT_CLIENT_ID")
                .cloned()
                .unwrap_or_else(|| "prepaid-platform".into()),
            shared_group: shared_group(get("PREPAID_MQTT_SHARED_GROUP"))?,
        },
        broker_dir: get("PREPAID_MQTT_BROKER_DIR").map(PathBuf::from),
        broker_pid_file: get("PREPAID_MQTT_BROKER_PID_FILE").map(PathBuf::from),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_give_an_sqlite_file_in_the_data_directory() {
        let config = Config::default();
        assert_eq!(config.database_url(), "sqlite://data/prepaid.db");
        assert!(!config.secure_cookies());
    }

    #[test]
    fn the_file_overrides_defaults_and_the_environment_overrides_the_file() {
        let mut config = Config::default();
        config
            .apply_file("listen = \"0.0.0.0:8080\"\ndemo = true\nthrottle_window_minutes = 30\n")
            .unwrap();
        assert_eq!(config.listen.port(), 8080);
        assert!(config.demo);
        config
            .apply_env(&env(&[
                ("PREPAID_LISTEN", "127.0.0.1:9000"),
                ("PREPAID_DEMO", "false"),
            ]))
            .unwrap();
        assert_eq!(config.listen.port(), 9000);
        assert!(!config.demo);
        assert_eq!(config.throttle.window_minutes, 30);
    }

    #[test]
    fn unknown_file_keys_and_bad_values_are_refused_with_their_names() {
        let mut config = Config::default();
        assert!(
            config
                .apply_file("lisen = \"0.0.0.0:1\"")
                .unwrap_err()
                .contains("lisen")
        );
        let error = config
            .apply_env(&env(&[("PREPAID_TRUSTED_PROXIES", "10.0.0.1, nope")]))
            .unwrap_err();
        assert!(error.to_string().contains("PREPAID_TRUSTED_PROXIES"));
    }

    #[test]
    fn https_public_urls_make_cookies_secure() {
        let mut config = Config::default();
        config
            .apply_env(&env(&[(
                "PREPAID_PUBLIC_URL",
                "https://prepaid.example.org/",
            )]))
            .unwrap();
        assert_eq!(
            config.public_url.as_deref(),
            Some("https://prepaid.example.org")
        );
        assert!(config.secure_cookies());
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let mut config = Config::default();
        config
            .apply_env(&env(&[
                ("DATABASE_URL", "postgres://u:hunter2@localhost/db"),
                ("PREPAID_SESSION_KEY", "super-secret-key"),
            ]))
            .unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"));
        assert!(!shown.contains("super-secret-key"));
    }

    #[test]
    fn an_mqtt_broker_needs_its_password_and_for_tls_its_ca() {
        let mut config = Config::default();
        let tls_without_ca = env(&[
            ("PREPAID_MQTT_URL", "mqtts://broker.example:8883"),
            ("PREPAID_MQTT_PASSWORD", "p"),
        ]);
        assert!(config.apply_env(&tls_without_ca).is_err());
        let no_password = env(&[("PREPAID_MQTT_URL", "mqtt://127.0.0.1:1883")]);
        assert!(config.apply_env(&no_password).is_err());
        let good = env(&[
            ("PREPAID_MQTT_URL", "mqtts://broker.example:8883"),
            ("PREPAID_MQTT_PASSWORD", "p"),
            ("PREPAID_MQTT_CA", "/etc/prepaid/ca.crt"),
            ("PREPAID_SIMULATOR", "false"),
        ]);
        config.apply_env(&good).unwrap();
        let mqtt = config.mqtt.clone().unwrap().broker;
        assert_eq!(
            (mqtt.host.as_str(), mqtt.port, mqtt.user.as_str()),
            ("broker.example", 8883, "prepaid-platform")
        );
        assert!(
            mqtt.ca_file.is_some() && !format!("{mqtt:?}").contains("\"p\""),
            "the password never shows"
        );
        assert!(!config.simulator_enabled());
        assert!(
            Config {
                demo: true,
                ..Config::default()
            }
            .simulator_enabled(),
            "the demo simulates"
        );
    }
}
