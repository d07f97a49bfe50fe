//! `/metrics` in Prometheus' text format: what this process counted since it started
//! (readings rated and the time rating took by phase, HTTP responses by group and status,
//! which is callbacks by result too), and
//! what the database holds now (commands by state, deliveries by channel and state, open
//! alarms, payments by state), which every instance reports alike.

use crate::{db::Db, engine::rating::RatingReport};
use app::ports::ClientAddr;
use axum::{
    Extension, Router,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use std::{
    collections::BTreeMap,
    fmt::Write,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

#[derive(Default)]
struct Counters {
    rated: AtomicU64,
    baselines: AtomicU64,
    duplicates: AtomicU64,
    late: AtomicU64,
    rejected: AtomicU64,
    /// Microseconds rating spent in each [`RatingPhase`].
    rating_micros: [AtomicU64; 3],
    /// Meters whose state a rating batch found held from the last batch, and loaded.
    meters_held: AtomicU64,
    meters_loaded: AtomicU64,
    responses: Mutex<BTreeMap<(&'static str, u16), u64>>,
}

/// The parts of rating a batch, timed apart to show where its time goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RatingPhase {
    /// Reading the meters', wallets' and sites' state.
    Load,
    /// Classifying and pricing each reading in memory, while the database adds each part
    /// priced to the roll-ups.
    Price,
    /// Writing the ledger, readings and states, deciding supply, and committing.
    Write,
}

impl RatingPhase {
    pub const ALL: [RatingPhase; 3] = [RatingPhase::Load, RatingPhase::Price, RatingPhase::Write];

    fn name(self) -> &'static str {
        match self {
            RatingPhase::Load => "load",
            RatingPhase::Price => "price",
            RatingPhase::Write => "write",
        }
    }
}

static COUNTERS: std::sync::LazyLock<Counters> = std::sync::LazyLock::new(Counters::default);

/// Counts a rated batch (called once its transactions committed).
pub fn readings(report: &RatingReport) {
    let add = |counter: &AtomicU64, n: usize| counter.fetch_add(n as u64, Ordering::Relaxed);
    add(&COUNTERS.rated, report.rated);
    add(&COUNTERS.baselines, report.baselines);
    add(&COUNTERS.duplicates, report.duplicates);
    add(&COUNTERS.late, report.late);
    add(&COUNTERS.rejected, report.rejected.len());
}

/// Adds time rating spent in `phase`.
pub fn rating_time(phase: RatingPhase, spent: std::time::Duration) {
    let micros = u64::try_from(spent.as_micros()).unwrap_or(u64::MAX);
    COUNTERS.rating_micros[phase as usize].fetch_add(micros, Ordering::Relaxed);
}

/// Counts the meters of a rating batch by where their state came from: held from the last
/// batch, or loaded from the database.
pub fn rating_meters(held: usize, loaded: usize) {
    COUNTERS
        .meters_held
        .fetch_add(held as u64, Ordering::Relaxed);
    COUNTERS
        .meters_loaded
        .fetch_add(loaded as u64, Ordering::Relaxed);
}

/// Meters rating found held, and loaded, since the process started.
pub fn rating_meter_counts() -> (u64, u64) {
    (
        COUNTERS.meters_held.load(Ordering::Relaxed),
        COUNTERS.meters_loaded.load(Ordering::Relaxed),
    )
}

/// Seconds rating spent in `phase` since the process started.
pub fn rating_seconds(phase: RatingPhase) -> f64 {
    COUNTERS.rating_micros[phase as usize].load(Ordering::Relaxed) as f64 / 1e6
}

/// The group a path belongs to, for counting responses.
pub fn group(path: &str) -> &'static str {
    if path.starts_with("/hooks/") || path.starts_with("/callbacks/") {
        "callbacks"
    } else if path.starts_with("/api/v1/") {
        "api"
    } else if path.starts_with("/api/") {
        "server_functions"
    } else if path.starts_with("/pkg/") {
        "assets"
    } else if path == "/metrics" || path.starts_with("/health") {
        "operations"
    } else {
        "pages"
    }
}

pub fn response(group: &'static str, status: u16) {
    *COUNTERS
        .responses
        .lock()
        .expect("metrics lock")
        .entry((group, status))
        .or_default() += 1;
}

#[derive(Clone)]
pub struct Metrics {
    pub db: Db,
    /// A bearer token Prometheus presents; without one, only loopback clients are answered.
    pub token: Option<crate::config::Secret>,
}

pub fn router(metrics: Metrics) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(metrics)
}

async fn scrape(
    State(metrics): State<Metrics>,
    client: Option<Extension<ClientAddr>>,
    headers: HeaderMap,
) -> Response {
    let allowed = match &metrics.token {
        Some(token) => headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .is_some_and(|given| {
                crate::secrets::same_bytes(given.trim().as_bytes(), token.expose().as_bytes())
            }),
        None => client.is_some_and(|Extension(addr)| addr.0.is_loopback()),
    };
    if !allowed {
        return StatusCode::FORBIDDEN.into_response();
    }
    match render(&metrics.db).await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            )],
            text,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "could not read the metrics' counts");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The whole exposition.
pub async fn render(db: &Db) -> Result<String, sqlx::Error> {
    let mut out = String::new();
    family(
        &mut out,
        "prepaid_readings_total",
        "counter",
        "Readings received by this process, by what rating made of them.",
    );
    for (outcome, counter) in [
        ("rated", &COUNTERS.rated),
        ("baseline", &COUNTERS.baselines),
        ("duplicate", &COUNTERS.duplicates),
        ("late", &COUNTERS.late),
        ("rejected", &COUNTERS.rejected),
    ] {
        let value = counter.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "prepaid_readings_total{{outcome=\"{outcome}\"}} {value}"
        );
    }
    family(
        &mut out,
        "prepaid_rating_seconds_total",
        "counter",
        "Time this process spent rating readings, by phase (load state, price, write and commit).",
    );
    for phase in RatingPhase::ALL {
        let _ = writeln!(
            out,
            "prepaid_rating_seconds_total{{phase=\"{}\"}} {}",
            phase.name(),
            rating_seconds(phase)
        );
    }
    family(
        &mut out,
        "prepaid_rating_meters_total",
        "counter",
        "Meters in rating batches, by whether their state was held from the batch before (nothing else wrote in between) or loaded.",
    );
    let (held, loaded) = rating_meter_counts();
    let _ = writeln!(out, "prepaid_rating_meters_total{{state=\"held\"}} {held}");
    let _ = writeln!(
        out,
        "prepaid_rating_meters_total{{state=\"loaded\"}} {loaded}"
    );
    family(
        &mut out,
        "prepaid_http_responses_total",
        "counter",
        "Responses of this process by group (callbacks are payment and message providers') and status.",
    );
    let responses = COUNTERS.responses.lock().expect("metrics lock").clone();
    for ((group, status), count) in responses {
        let _ = writeln!(
            out,
            "prepaid_http_responses_total{{group=\"{group}\",status=\"{status}\"}} {count}"
        );
    }
    let gauges: [(&str, &str, &str, &str); 4] = [
        (
            "prepaid_meter_commands",
            "state",
            "Meter commands in the outbox by state.",
            "SELECT status, COUNT(*) FROM meter_commands GROUP BY status ORDER BY status",
        ),
        (
            "prepaid_notification_deliveries",
            "channel_state",
            "Notice deliveries by channel and state (push_sent, push_failed, sms_delivered, ...).",
            "SELECT channel || '_' || status, COUNT(*) FROM notification_deliveries \
             GROUP BY channel, status ORDER BY channel, status",
        ),
        (
            "prepaid_alarms_open",
            "kind",
            "Open and acknowledged alarms by kind.",
            "SELECT kind, COUNT(*) FROM alarms WHERE status <> 'resolved' GROUP BY kind ORDER BY kind",
        ),
        (
            "prepaid_payments",
            "state",
            "Payments by state.",
            "SELECT status, COUNT(*) FROM payments GROUP BY status ORDER BY status",
        ),
    ];
    for (name, label_name, help, sql) in gauges {
        family(&mut out, name, "gauge", help);
        let rows: Vec<(String, i64)> = crate::on_db!(db, pool => {
            sqlx::query_as(sql).fetch_all(pool).await
        })?;
        for (label, count) in rows {
            let label = label.replace(['\\', '"', '\n'], "_");
            let _ = writeln!(out, "{name}{{{label_name}=\"{label}\"}} {count}");
        }
    }
    Ok(out)
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_fall_in_their_groups() {
        assert_eq!(group("/hooks/stripe/1"), "callbacks");
        assert_eq!(group("/callbacks/sms/twilio"), "callbacks");
        assert_eq!(group("/api/v1/accounts"), "api");
        assert_eq!(group("/api/sign_in"), "server_functions");
        assert_eq!(group("/pkg/prepaid.wasm"), "assets");
        assert_eq!(group("/manage"), "pages");
    }
}
