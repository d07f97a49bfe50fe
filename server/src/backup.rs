//! Online backup and restore of the embedded SQLite database. PostgreSQL has its own tools
//! (`pg_dump -Fc`, `pg_restore`; the README shows both), which these commands point to.

use crate::db::Db;
use sqlx::{Connection, sqlite::SqliteConnectOptions};
use std::{
    path::{Path, PathBuf},
    str::FromStr,
};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("this database is PostgreSQL: use pg_dump and pg_restore (see the README)")]
    NotSqlite,
    #[error("{0} already exists: choose a new file, a backup never overwrites one")]
    Exists(PathBuf),
    #[error("{0} is not a usable backup: {1}")]
    Unusable(PathBuf, String),
    #[error("the database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
}

/// Writes a consistent copy of the live database to `to` with `VACUUM INTO`: it reads one
/// snapshot while the server goes on writing, and the copy is compact and needs no WAL.
pub async fn backup(db: &Db, to: &Path) -> Result<u64, BackupError> {
    let Db::Sqlite { pool, .. } = db else {
        return Err(BackupError::NotSqlite);
    };
    if to.exists() {
        return Err(BackupError::Exists(to.to_owned()));
    }
    sqlx::query("VACUUM INTO $1")
        .bind(to.to_string_lossy().into_owned())
        .execute(pool)
        .await?;
    let size = std::fs::metadata(to)
        .map_err(|error| BackupError::Io(to.to_owned(), error))?
        .len();
    Ok(size)
}

/// Where an `sqlite:` URL keeps its file.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// Checks a backup (SQLite's integrity check, and that it is this platform's database), sets
/// the current database aside beside it (`….before-restore-<time>`), and puts the backup in its
/// place. The server must be stopped: a running one would go on writing to the old file.
pub async fn restore(url: &str, from: &Path) -> Result<PathBuf, BackupError> {
    let target = sqlite_path(url).ok_or(BackupError::NotSqlite)?;
    check(from).await?;
    let aside = if target.exists() {
        let mut name = target.clone().into_os_string();
        name.push(format!(
            ".before-restore-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
        ));
        let aside = PathBuf::from(name);
        rename(&target, &aside)?;
        for suffix in ["-wal", "-shm"] {
            let mut side = target.clone().into_os_string();
            side.push(suffix);
            let side = PathBuf::from(side);
            if side.exists() {
                let mut moved = aside.clone().into_os_string();
                moved.push(suffix);
                rename(&side, &PathBuf::from(moved))?;
            }
        }
        Some(aside)
    } else {
        None
    };
    std::fs::copy(from, &target).map_err(|error| BackupError::Io(target.clone(), error))?;
    Ok(aside.unwrap_or(target))
}

async fn check(file: &Path) -> Result<(), BackupError> {
    let unusable = |why: String| BackupError::Unusable(file.to_owned(), why);
    if !file.is_file() {
        return Err(unusable("no such file".into()));
    }
    crate::db::configure_sqlite();
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", file.display()))
        .map_err(|error| unusable(error.to_string()))?
        .read_only(true);
    let mut connection = sqlx::SqliteConnection::connect_with(&options)
        .await
        .map_err(|error| unusable(error.to_string()))?;
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut connection)
        .await
        .map_err(|error| unusable(error.to_string()))?;
    if integrity != "ok" {
        return Err(unusable(format!("the integrity check says {integrity:?}")));
    }
    let migrations: Result<i64, _> = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(&mut connection)
        .await;
    let has_ledger: Result<i64, _> = sqlx::query_scalar("SELECT COUNT(*) FROM ledger_entries")
        .fetch_one(&mut connection)
        .await;
    connection.close().await.ok();
    match (migrations, has_ledger) {
        (Ok(count), Ok(_)) if count > 0 => Ok(()),
        _ => Err(unusable("it is not a prepaid platform database".into())),
    }
}

fn rename(from: &Path, to: &Path) -> Result<(), BackupError> {
    std::fs::rename(from, to).map_err(|error| BackupError::Io(from.to_owned(), error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_of_an_sqlite_url() {
        assert_eq!(
            sqlite_path("sqlite://data/prepaid.db"),
            Some(PathBuf::from("data/prepaid.db"))
        );
        assert_eq!(
            sqlite_path("sqlite:///var/lib/p.db?mode=rwc"),
            Some(PathBuf::from("/var/lib/p.db"))
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://x/y"), None);
    }
}
