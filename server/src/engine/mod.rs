//! The prepaid engine: readings become charges, money comes in and goes out, balances drive
//! supply. Every write goes through [`Engine`], one at a time per process (a SQLite database has
//! one writer anyway; several instances on PostgreSQL are the scale-out issue's work), each in
//! one database transaction with the ledger entries it causes.

pub mod jobs;
pub mod money;
pub mod occupancy;
pub mod planner;
pub mod rating;
pub mod setup;
pub mod supply;
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
}

impl Engine {
    pub fn new(db: Db) -> Self {
        Engine {
            db,
            write: Arc::new(Mutex::new(())),
        }
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
            EngineError::NotFound(_) => AppError::NotFound,
            other => crate::internal(other),
        }
    }
}

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
