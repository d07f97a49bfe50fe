//! The prepaid engine: readings become charges, money comes in and goes out, balances drive
//! supply. Every write goes through [`Engine`], one at a time per process (a SQLite database has
//! one writer anyway; several instances on PostgreSQL are the scale-out issue's work), each in
//! one database transaction with the ledger entries it causes.

pub mod adjustments;
pub mod bands;
pub mod cash_desk;
pub mod cash_requests;
pub mod common_charges;
pub mod form_key;
pub mod jobs;
pub mod losses;
pub mod money;
pub mod month_statement;
pub mod move_outs;
pub mod occupancy;
pub mod periods;
pub mod planner;
pub mod plans;
pub mod rating;
pub mod reports;
pub mod setup;
pub mod site_notices;
pub mod supply;
pub mod supply_report;
pub mod tariffs;
pub mod usage;
pub mod views;

use crate::{db::Db, ledger::LedgerError};
use app::error::AppError;
use std::sync::Arc;
use tokio::sync::Mutex;

#[derive(Clone, Debug)]
pub struct Engine {
    pub db: Db,
    write: Arc<Mutex<()>>,
    /// What rating's last batch left, for the next to use while nothing else writes.
    held: Arc<std::sync::Mutex<rating::Held>>,
    /// Rung after a top-up sells a token, so the vending worker issues it at once.
    token_sold: Arc<tokio::sync::Notify>,
}

impl Engine {
    pub fn new(db: Db) -> Self {
        Engine {
            db,
            write: Arc::new(Mutex::new(())),
            held: Arc::default(),
            token_sold: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// Tells the vending worker a token may be waiting.
    pub(crate) fn ring_token_sold(&self) {
        self.token_sold.notify_one();
    }

    /// Waits until a token is sold or `at_most` passes.
    pub async fn tokens_sold(&self, at_most: std::time::Duration) {
        let _ = tokio::time::timeout(at_most, self.token_sold.notified()).await;
    }

    /// This process's turn to write, for the fleet's own bookkeeping beside the engine's.
    pub(crate) async fn turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.write.lock().await
    }
}

/// What can go wrong inside the engine. Refusals carry a message for the person who asked.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    Refused(String),
    #[error("not found: {0}")]
    NotFound(&'static str),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
}

impl EngineError {
    pub fn refused(message: impl Into<String>) -> Self {
        EngineError::Refused(message.into())
    }
}

impl From<EngineError> for AppError {
    fn from(error: EngineError) -> Self {
        match error {
            EngineError::Refused(message) => AppError::Invalid(message),
            EngineError::Ledger(LedgerError::PeriodClosed { until }) => AppError::Invalid(format!(
                "The books are closed until {}: nothing is posted in a closed period.",
                until.format("%Y-%m-%d %H:%M UTC")
            )),
            EngineError::NotFound(_) => AppError::NotFound,
            other => crate::internal(other),
        }
    }
}

/// SQL that is true when the meter aliased `m` is a bulk meter, one other meters are fed
/// through. Such a meter is measured, never charged (`rating`, `jobs`) nor cut for credit
/// (`supply`): the homes it feeds pay for what passes through it, and cutting it would cut
/// them too.
pub(crate) const FEEDS_OTHERS: &str =
    "EXISTS (SELECT 1 FROM meters f WHERE f.master_meter_id = m.id)";

/// Parses exact decimal text from the database.
pub(crate) fn decimal(raw: &str) -> Result<rust_decimal::Decimal, EngineError> {
    raw.parse()
        .map_err(|_| EngineError::Corrupt(format!("{raw:?} is not a decimal")))
}

/// Parses stored decimal text, treating NULL as zero.
pub(crate) fn decimal_or_zero(raw: Option<&str>) -> Result<rust_decimal::Decimal, EngineError> {
    raw.map_or(Ok(rust_decimal::Decimal::ZERO), decimal)
}

/// A site's time zone, by its IANA name.
pub(crate) fn time_zone(name: &str) -> Result<chrono_tz::Tz, EngineError> {
    name.parse()
        .map_err(|_| EngineError::Corrupt(format!("unknown time zone {name:?}")))
}

/// A site's clock for the pages: the offsets `tz` has from 400 days before `around` to 60
/// after, which covers every time a page shows (older instants take the first offset).
pub(crate) fn site_zone(
    tz: chrono_tz::Tz,
    around: chrono::DateTime<chrono::Utc>,
) -> app::domain::zone::SiteZone {
    use chrono::{DateTime, Duration, Offset, TimeZone};
    let offset = |seconds: i64| {
        tz.offset_from_utc_datetime(
            &DateTime::from_timestamp(seconds, 0)
                .unwrap_or_default()
                .naive_utc(),
        )
        .fix()
        .local_minus_utc()
    };
    let start = (around - Duration::days(400)).timestamp();
    let end = (around + Duration::days(60)).timestamp();
    let mut changes = vec![(i64::MIN, offset(start))];
    let mut day = start;
    while day < end {
        let next = day + 86_400;
        if offset(next) != offset(day) {
            // The change is somewhere in this day: halve the gap down to the second.
            let (mut before, mut after) = (day, next);
            while after - before > 1 {
                let middle = before + (after - before) / 2;
                if offset(middle) == offset(day) {
                    before = middle;
                } else {
                    after = middle;
                }
            }
            changes.push((after, offset(next)));
        }
        day = next;
    }
    app::domain::zone::SiteZone::new(tz.name().to_owned(), changes)
}

#[cfg(test)]
mod site_zone_tests {
    use super::site_zone;
    use chrono::{Duration, TimeZone, Utc};

    #[test]
    fn the_pages_clock_agrees_with_the_zone_database_all_year() {
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
        for tz in [
            chrono_tz::Europe::London,
            chrono_tz::Australia::Sydney,
            chrono_tz::America::Santiago,
            chrono_tz::Africa::Nairobi,
            chrono_tz::Asia::Kolkata,
        ] {
            let zone = site_zone(tz, now);
            let mut at = now - Duration::days(390);
            while at < now + Duration::days(50) {
                assert_eq!(
                    zone.local(at),
                    at.with_timezone(&tz).naive_local(),
                    "{tz} at {at}"
                );
                at += Duration::minutes(37);
            }
        }
    }
}
