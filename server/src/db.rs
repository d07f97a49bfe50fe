//! One code base on SQLite (embedded, the default) and PostgreSQL, chosen by `DATABASE_URL`.
//!
//! Queries are written once with `$N` placeholders, which both drivers accept; the schema is
//! kept per backend under `migrations/` where the SQL must differ. [`on_db!`] runs one body
//! against whichever pool is in use, so each query keeps its native, typed driver.

mod reading_time;

pub use reading_time::ReadingTime;

use sqlx::{
    PgPool, QueryBuilder, SqlitePool,
    migrate::{MigrateError, Migrator},
    postgres::PgPoolOptions,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};
use std::{
    str::FromStr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// The advisory lock key of [`Db::begin_write`] on PostgreSQL ("prepaid" in ASCII, so that
/// an operator reading `pg_locks` knows whose it is).
pub const WRITER_LOCK: i64 = 0x0070_7265_7061_6964;

#[derive(Clone, Debug)]
pub enum Db {
    /// Reads share `pool`. Write transactions ([`Db::begin_write`]) and single writes
    /// ([`on_db_write!`]) take `writer`'s one connection: SQLite lets one writer in at a
    /// time anyway, and a connection that alone writes keeps its page cache from one
    /// transaction to the next (a commit made on another connection empties it), so a
    /// rating batch finds the pages of the indexes it wrote last time still in memory.
    Sqlite {
        pool: SqlitePool,
        writer: SqlitePool,
        /// What `writer`'s connections have done: see [`WriterMark`].
        watch: Arc<WriterWatch>,
    },
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the concrete pool of `$db`. The body is an async block
/// of its own: a `?` inside it ends the body, not the enclosing function.
#[macro_export]
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        $crate::on_db!(@sqlite pool, $db, $pool => $body)
    };
    // `$sqlite` names the field of `Db::Sqlite` whose pool the body gets.
    (@sqlite $sqlite:ident, $db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite { $sqlite: $pool, .. } => async { $body }.await,
            $crate::db::Db::Postgres($pool) => async { $body }.await,
        }
    };
}

/// A database transaction on whichever backend is in use.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// [`on_db!`] for a body that writes: on SQLite `$pool` is the writer's pool, whose one
/// connection makes every write of this process, as [`Db::begin_write`]'s transactions do.
/// A commit made on any other connection moves the writer's `data_version`, and rating then
/// drops the meters and wallets it held from its last batch ([`WriterMark`]): a sign-in, a
/// notice sent or a payment page looked up through the readers' pool would each cost the next
/// batch a full load of its state. On PostgreSQL it is [`on_db!`].
#[macro_export]
macro_rules! on_db_write {
    ($db:expr, $pool:ident => $body:expr) => {
        $crate::on_db!(@sqlite writer, $db, $pool => $body)
    };
}

/// Runs `$body` with `$conn` bound to the open transaction's connection (`&mut` to the
/// backend's own connection type): pass `&mut *$conn` to each query.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(transaction) => {
                let $conn = &mut **transaction;
                async { $body }.await
            }
            $crate::db::Tx::Postgres(transaction) => {
                let $conn = &mut **transaction;
                async { $body }.await
            }
        }
    };
}

/// Runs the statements `$build` makes of each of `$items`, in order, in the open transaction
/// `$tx`, each built while the database runs the one before (see [`run_ahead_sqlite`]).
/// `$build` is written once and compiled for each backend, as [`on_tx!`]'s body is.
#[macro_export]
macro_rules! on_tx_ahead {
    ($tx:expr, $items:expr, $item:pat => $build:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(transaction) => {
                $crate::db::run_ahead_sqlite(&mut **transaction, $items, |$item| $build).await
            }
            $crate::db::Tx::Postgres(transaction) => {
                $crate::db::run_ahead_postgres(&mut **transaction, $items, |$item| $build).await
            }
        }
    };
}

/// Defines `$name`, which runs the statements `build` makes of each of `items` one after
/// another on a `$db` connection, building each while the database runs the one before. A
/// rating batch's multi-row statements take about as long to build (thousands of values
/// formatted and bound) as the database takes to run them: one after the other, each side
/// waited for the other, and on two cores one of them sat idle. One function per backend:
/// over a generic backend the compiler keeps each builder borrowed for as long as its
/// arguments may live (it cannot shorten that borrow through `Database::Arguments<'q>`), so
/// the loop could not go on to the next.
macro_rules! run_ahead {
    ($name:ident, $db:ty) => {
        pub async fn $name<'q, T>(
            conn: &mut <$db as sqlx::Database>::Connection,
            items: impl IntoIterator<Item = T>,
            build: impl FnMut(T) -> QueryBuilder<'q, $db>,
        ) -> Result<(), sqlx::Error> {
            let mut statements = items.into_iter().map(build);
            let Some(mut current) = statements.next() else {
                return Ok(());
            };
            loop {
                let (ran, next) =
                    $crate::db::meanwhile(current.build().execute(&mut *conn), || {
                        statements.next()
                    })
                    .await;
                ran?;
                match next {
                    Some(statement) => current = statement,
                    None => return Ok(()),
                }
            }
        }
    };
}

run_ahead!(run_ahead_sqlite, sqlx::Sqlite);
run_ahead!(run_ahead_postgres, sqlx::Postgres);

/// Starts `work`, runs `also` while it is under way, then finishes `work`. Polled once, a
/// database call is on its way to the database (the SQLite driver's worker thread, or
/// PostgreSQL's socket), so what `also` does on this thread overlaps it.
pub async fn meanwhile<F: Future, T>(work: F, also: impl FnOnce() -> T) -> (F::Output, T) {
    use std::task::Poll;
    let mut work = std::pin::pin!(work);
    let started = std::future::poll_fn(|cx| match work.as_mut().poll(cx) {
        Poll::Ready(output) => Poll::Ready(Some(output)),
        Poll::Pending => Poll::Ready(None),
    })
    .await;
    let also = also();
    let output = match started {
        Some(output) => output,
        None => work.await,
    };
    (output, also)
}

impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, Tx::Sqlite(_))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("DATABASE_URL must start with sqlite: or postgres:, got {0:?}")]
    UnknownScheme(String),
    #[error("could not open the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("a database migration failed, the server will not start: {0}")]
    Migrate(#[source] MigrateError),
}

/// How SQLite makes a commit durable (WAL mode either way).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// Every commit waits until the WAL is on disk (`synchronous = FULL`): a payment the
    /// provider was told we have survives a power cut too. The default.
    #[default]
    Full,
    /// Commits reach the OS at once and the disk at checkpoints (`synchronous = NORMAL`):
    /// safe against the process being killed, not against the machine losing power, which
    /// may roll back the last moments' commits (the database stays consistent).
    Normal,
}

/// Turns SQLite's memory statistics off, once per process, before its first connection.
///
/// With them on (the bundled library's default), every `malloc` and `free` SQLite makes takes
/// one process-wide mutex to count bytes nobody reads. Reading a rating batch's rows, the
/// connection's thread copies each value (a `malloc`) while the runtime's thread drops the
/// rows it has decoded (a `free`): the two fought over that mutex for a tenth of the profile.
pub(crate) fn configure_sqlite() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: `sqlite3_config` may only run before SQLite initialises, that is before the
        // first connection opens; `Once` runs it before this process's first SQLite pool
        // connects. Were SQLite already initialised it would return SQLITE_MISUSE and change
        // nothing.
        let code = unsafe {
            libsqlite3_sys::sqlite3_config(
                libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS,
                std::os::raw::c_int::from(0u8),
            )
        };
        if code != libsqlite3_sys::SQLITE_OK {
            tracing::debug!(code, "SQLite's memory statistics stay on");
        }
    });
}

/// The tables whose rows rating keeps in memory from one batch to the next
/// (`engine::rating::held`): the meters, where they stand and who pays for them.
pub(crate) const HELD_TABLES: [&str; 7] = [
    "accounts",
    "buildings",
    "meter_states",
    "meters",
    "token_meters",
    "units",
    "wallets",
];

/// What SQLite's writer connections have done, counted as they do it.
#[derive(Debug, Default)]
pub struct WriterWatch {
    /// Connections opened: the pool replaces its one after an idle spell.
    opened: AtomicU64,
    /// Rows inserted, updated or deleted in [`HELD_TABLES`], told by SQLite's update hook,
    /// whether their transaction committed or not.
    held_changes: AtomicU64,
}

/// Where SQLite's writer stands: which of its connections, how many rows of [`HELD_TABLES`]
/// it has changed, and its `data_version`, which moves whenever another connection or process
/// commits. Equal marks read in two write transactions mean nobody changed those tables in
/// between (a write elsewhere, say a meter marked heard or a command queued, leaves the mark
/// as it was), so what rating read and wrote of them at the first still stands at the second.
/// Schema changes are not counted: migrations run before anything is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriterMark {
    connection: u64,
    held_changes: u64,
    data_version: i64,
}

/// A pool of `connections` SQLite connections opened with `options`; with a `watch`, each
/// connection is counted and tells it of every row changed in [`HELD_TABLES`].
async fn sqlite_pool(
    connections: u32,
    options: SqliteConnectOptions,
    watch: Option<Arc<WriterWatch>>,
) -> Result<SqlitePool, DbError> {
    SqlitePoolOptions::new()
        .after_connect(move |conn, _| {
            let watch = watch.clone();
            Box::pin(async move {
                let Some(watch) = watch else {
                    return Ok(());
                };
                watch.opened.fetch_add(1, Ordering::SeqCst);
                conn.lock_handle().await?.set_update_hook(move |change| {
                    if HELD_TABLES.contains(&change.table) {
                        watch.held_changes.fetch_add(1, Ordering::Relaxed);
                    }
                });
                Ok(())
            })
        })
        .max_connections(connections)
        // Well under the 30 s request timeout: a request starved of a connection fails with
        // the pool's error in the log, not a silent 408 from the timeout layer.
        .acquire_timeout(Duration::from_secs(10))
        // A connection is a library handle in this process, not a socket that can go stale:
        // testing it on every acquire only adds a round trip to its thread.
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .map_err(DbError::Connect)
}

impl Db {
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        Self::connect_with(url, Durability::default()).await
    }

    pub async fn connect_with(url: &str, durability: Durability) -> Result<Self, DbError> {
        if url.starts_with("sqlite:") {
            configure_sqlite();
            let options = SqliteConnectOptions::from_str(url)
                .map_err(DbError::Connect)?
                .create_if_missing(true)
                .foreign_keys(true)
                // WAL lets readers go on while one writer writes.
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(match durability {
                    Durability::Full => SqliteSynchronous::Full,
                    Durability::Normal => SqliteSynchronous::Normal,
                })
                .busy_timeout(Duration::from_secs(10))
                // Rows come back from the connection's thread through a bounded channel: at
                // sqlx's 50, reading a rating batch's thousands of meters and wallets parked
                // and woke the two threads every 50 rows.
                .row_buffer_size(1024);
            let watch = Arc::new(WriterWatch::default());
            let writer = sqlite_pool(1, options.clone(), Some(watch.clone())).await?;
            let pool = sqlite_pool(8, options, None).await?;
            Ok(Db::Sqlite {
                pool,
                writer,
                watch,
            })
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await
                .map_err(DbError::Connect)?;
            Ok(Db::Postgres(pool))
        } else {
            Err(DbError::UnknownScheme(redact_url(url)))
        }
    }

    pub async fn migrate(&self) -> Result<(), DbError> {
        match self {
            Db::Sqlite { pool, .. } => SQLITE_MIGRATIONS.run(pool).await,
            Db::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
        }
        .map_err(DbError::Migrate)
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so it waits its turn instead of failing when it first writes. On
    /// PostgreSQL it takes [`WRITER_LOCK`], a transaction-scoped advisory lock every server
    /// instance shares: the engine's read-then-write transactions (rating, top-ups, supply,
    /// the outbox's claims) keep the one-writer-at-a-time order they have on SQLite, however
    /// many instances run. Reads, rendering, HTTP, telemetry parsing and sending scale out;
    /// these transactions are short and batched, so the lock is held briefly.
    pub async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Sqlite { writer, .. } => Tx::Sqlite(writer.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(WRITER_LOCK)
                    .execute(&mut *tx)
                    .await?;
                Tx::Postgres(tx)
            }
        })
    }

    /// The writer's mark, read inside `tx`, a transaction of this database's
    /// [`Db::begin_write`] (a reader's would compare with nothing). `None` on PostgreSQL:
    /// other server instances write there without this process seeing it.
    pub async fn writer_mark(&self, tx: &mut Tx) -> Result<Option<WriterMark>, sqlx::Error> {
        let (Db::Sqlite { watch, .. }, Tx::Sqlite(tx)) = (self, tx) else {
            return Ok(None);
        };
        let data_version: i64 = sqlx::query_scalar("SELECT data_version FROM pragma_data_version")
            .fetch_one(&mut **tx)
            .await?;
        Ok(Some(WriterMark {
            connection: watch.opened.load(Ordering::SeqCst),
            // The hook runs on the connection's thread, before the statement that changed
            // the row returns its result here.
            held_changes: watch.held_changes.load(Ordering::SeqCst),
            data_version,
        }))
    }

    /// The writer's mark later in the write transaction `start` was read in, without asking
    /// SQLite again: only the rows the transaction has since changed in [`HELD_TABLES`] can
    /// move it, as no other connection commits while it holds the write lock.
    pub fn writer_mark_later(&self, start: Option<WriterMark>) -> Option<WriterMark> {
        let (Db::Sqlite { watch, .. }, Some(start)) = (self, start) else {
            return None;
        };
        Some(WriterMark {
            held_changes: watch.held_changes.load(Ordering::SeqCst),
            ..start
        })
    }

    /// Starts a transaction that only reads: one consistent snapshot.
    pub async fn begin_read(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Sqlite { pool, .. } => Tx::Sqlite(pool.begin().await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite { .. } => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        on_db!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))
    }

    pub async fn close(&self) {
        if let Db::Sqlite { writer, .. } = self {
            writer.close().await;
        }
        on_db!(self, pool => pool.close().await)
    }
}

/// A database URL fit for a log line: any password replaced.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// True when a database error is a UNIQUE violation: a duplicate, to be answered as such.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Appends ` IN (…)` with every id bound.
pub fn push_ids<'args, DB: sqlx::Database>(
    query: &mut QueryBuilder<'args, DB>,
    ids: impl IntoIterator<Item = i64>,
) where
    i64: sqlx::Encode<'args, DB> + sqlx::Type<DB>,
{
    query.push(" IN (");
    let mut list = query.separated(", ");
    for id in ids {
        list.push_bind(id);
    }
    list.push_unseparated(")");
}

/// `count` placeholders from `$first` on, for an `IN (…)` list whose values are bound in
/// order after the query's other parameters: "$3, $4, $5".
pub fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::{placeholders, redact_url};
    use sqlx::QueryBuilder;

    #[test]
    fn in_lists_number_their_placeholders_after_the_others() {
        assert_eq!(placeholders(1, 3), "$1, $2, $3");
        assert_eq!(placeholders(3, 2), "$3, $4");
        assert_eq!(placeholders(1, 0), "");
    }

    #[test]
    fn passwords_in_database_urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://prepaid:s3cret@127.0.0.1:5432/prepaid"),
            "postgres://prepaid:***@127.0.0.1:5432/prepaid"
        );
        assert_eq!(
            redact_url("sqlite://data/prepaid.db"),
            "sqlite://data/prepaid.db"
        );
    }

    /// Counts the temporary table `marker` as the connection running it sees it.
    const MARKER_SEEN: &str = "SELECT count(*) FROM temp.sqlite_master WHERE name = 'marker'";

    #[tokio::test]
    async fn sqlite_writes_on_one_connection_that_keeps_its_cache() {
        let (_dir, db) = sqlite_file().await;
        // A temporary table lives on the connection that made it: a later write transaction
        // sees it only if it runs on that same connection.
        let mut first = db.begin_write().await.unwrap();
        crate::on_tx!(&mut first, conn => {
            sqlx::query("CREATE TEMP TABLE marker (x)")
                .execute(&mut *conn)
                .await
                .map(|_| ())
        })
        .unwrap();
        first.commit().await.unwrap();
        for _ in 0..3 {
            let mut next = db.begin_write().await.unwrap();
            let seen: i64 = crate::on_tx!(&mut next, conn => {
                sqlx::query_scalar(MARKER_SEEN)
                    .fetch_one(&mut *conn)
                    .await
            })
            .unwrap();
            assert_eq!(
                seen, 1,
                "every write transaction runs on the writer's connection"
            );
            next.commit().await.unwrap();
        }
        // Readers have connections of their own.
        let seen: i64 = crate::on_db!(&db, pool => {
            sqlx::query_scalar(MARKER_SEEN)
                .fetch_one(pool)
                .await
        })
        .unwrap();
        assert_eq!(seen, 0);
    }

    /// Runs statements that each insert `n` with the number of rows before it.
    async fn insert_steps(
        tx: &mut super::Tx,
        steps: impl IntoIterator<Item = i64>,
    ) -> Result<(), sqlx::Error> {
        crate::on_tx_ahead!(tx, steps, n => {
            let mut insert = QueryBuilder::new("INSERT INTO steps (n, seen) SELECT ");
            insert.push_bind(n).push(", count(*) FROM steps");
            insert
        })
    }

    #[tokio::test]
    async fn statements_run_ahead_in_order_and_the_first_that_fails_ends_the_run() {
        let (_dir, db) = sqlite_file().await;
        let mut tx = db.begin_write().await.unwrap();
        crate::on_tx!(&mut tx, conn => {
            sqlx::query("CREATE TABLE steps (n INTEGER PRIMARY KEY, seen INTEGER NOT NULL)")
                .execute(&mut *conn)
                .await
                .map(|_| ())
        })
        .unwrap();
        insert_steps(&mut tx, 0..5).await.unwrap();
        insert_steps(&mut tx, []).await.unwrap();
        // 0 is there already: the run stops at it, and 6, built meanwhile, never runs.
        let failed = insert_steps(&mut tx, [5, 0, 6]).await.unwrap_err();
        assert!(super::is_unique_violation(&failed), "{failed}");
        let steps: Vec<(i64, i64)> = crate::on_tx!(&mut tx, conn => {
            sqlx::query_as("SELECT n, seen FROM steps ORDER BY n")
                .fetch_all(&mut *conn)
                .await
        })
        .unwrap();
        assert_eq!(steps, [(0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (5, 5)]);
    }

    /// A database in a SQLite file of its own, which lasts as long as the directory returned.
    pub(crate) async fn sqlite_file() -> (tempfile::TempDir, super::Db) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let db = super::Db::connect(&url).await.unwrap();
        (dir, db)
    }

    /// The writer's mark in a write transaction of its own.
    pub(crate) async fn mark(db: &super::Db) -> Option<super::WriterMark> {
        let mut tx = db.begin_write().await.unwrap();
        let mark = db.writer_mark(&mut tx).await.unwrap();
        tx.commit().await.unwrap();
        mark
    }

    #[tokio::test]
    async fn a_write_through_the_writers_pool_moves_the_mark_only_in_what_rating_holds() {
        let (_dir, db) = sqlite_file().await;
        let execute = |sql: &'static str| {
            let db = db.clone();
            async move {
                crate::on_db_write!(&db, pool => sqlx::query(sql).execute(pool).await.map(|_| ()))
                    .unwrap();
            }
        };
        execute("CREATE TABLE accounts (x)").await;
        execute("CREATE TABLE notification_deliveries (x)").await;
        let start = mark(&db).await;
        execute("INSERT INTO notification_deliveries VALUES (1)").await;
        assert_eq!(mark(&db).await, start, "a notice sent leaves it");
        execute("UPDATE accounts SET x = 1").await;
        assert_eq!(mark(&db).await, start, "no row changed");
        execute("INSERT INTO accounts VALUES (1)").await;
        assert_ne!(mark(&db).await, start, "a balance changed moves it");
    }

    #[tokio::test]
    async fn the_writers_mark_moves_with_a_write_to_what_rating_holds_or_from_any_other_connection()
    {
        let (_dir, db) = sqlite_file().await;
        let execute = |sql: &'static str| {
            let db = db.clone();
            async move {
                let mut tx = db.begin_write().await.unwrap();
                crate::on_tx!(&mut tx, conn => sqlx::query(sql).execute(&mut *conn).await.map(|_| ()))
                    .unwrap();
                tx.commit().await.unwrap();
            }
        };
        execute("CREATE TABLE meters (x)").await;
        execute("CREATE TABLE meter_status (x)").await;
        let start = mark(&db).await;
        assert!(start.is_some());
        assert_eq!(mark(&db).await, start, "nothing written: the same mark");

        // The writer's own rows elsewhere leave it.
        execute("INSERT INTO meter_status VALUES (1)").await;
        assert_eq!(mark(&db).await, start, "a table rating does not hold");

        // A row of a table rating holds, written by the writer's own connection.
        execute("INSERT INTO meters VALUES (1)").await;
        let after_writer = mark(&db).await;
        assert_ne!(after_writer, start);

        // Any row written by a reader's connection, as another process would.
        crate::on_db!(&db, pool => sqlx::query("UPDATE meter_status SET x = 2").execute(pool).await.map(|_| ()))
            .unwrap();
        let after_reader = mark(&db).await;
        assert_ne!(after_reader, after_writer);
        assert_eq!(mark(&db).await, after_reader);

        // Within one write transaction, the mark brought up to date from its start is the
        // one read afresh, whatever the transaction writes.
        let mut tx = db.begin_write().await.unwrap();
        let begun = db.writer_mark(&mut tx).await.unwrap();
        for sql in [
            "INSERT INTO meter_status VALUES (4)",
            "INSERT INTO meters VALUES (4)",
        ] {
            crate::on_tx!(&mut tx, conn => sqlx::query(sql).execute(&mut *conn).await.map(|_| ()))
                .unwrap();
            assert_eq!(
                db.writer_mark_later(begun),
                db.writer_mark(&mut tx).await.unwrap(),
                "after {sql}"
            );
        }
        assert_ne!(db.writer_mark_later(begun), begun);
        tx.commit().await.unwrap();
        let after_both = mark(&db).await;
        assert_ne!(after_both, after_reader);

        // A write transaction rolled back still moves it: the mark never claims too much.
        let mut tx = db.begin_write().await.unwrap();
        crate::on_tx!(&mut tx, conn => sqlx::query("UPDATE meters SET x = 3").execute(&mut *conn).await.map(|_| ()))
            .unwrap();
        drop(tx);
        assert_ne!(mark(&db).await, after_both);
    }

    #[tokio::test]
    async fn sqlite_keeps_no_memory_statistics() {
        let (_dir, db) = sqlite_file().await;
        db.migrate().await.unwrap();
        let tables: i64 = crate::on_db!(&db, pool => {
            sqlx::query_scalar("SELECT count(*) FROM sqlite_master").fetch_one(pool).await
        })
        .unwrap();
        assert!(tables > 10, "the migrations ran");
        // SQLite counts the bytes it holds only while its statistics are on; this process's
        // connections (the pool's, migrations and all) have allocated plenty.
        // SAFETY: reads a counter; no arguments.
        assert_eq!(unsafe { libsqlite3_sys::sqlite3_memory_used() }, 0);
    }
}
