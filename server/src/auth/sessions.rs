//! Session storage in the platform's own database, on either backend, with the records this
//! instance has read kept in memory for a few seconds.
//!
//! Every request with a cookie loads its session, and on the resident's home that load was one
//! of five statements. On one instance every change to a session passes through this store,
//! so the copy it keeps is exact. With several instances, a change made elsewhere reaches this
//! one over the bus ([`crate::bus`]); a signal lost on the way costs at most [`TRUSTED_FOR`]
//! of a stale copy, after which the record is read again.

use crate::{
    bus::{Bus, Signal},
    db::Db,
};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock},
    time::{Duration, Instant},
};
use tower_sessions::{
    ExpiredDeletion, SessionStore,
    session::{Id, Record},
    session_store,
};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// How long a record read from the database is used without reading it again.
pub const TRUSTED_FOR: Duration = Duration::from_secs(10);

/// At most this many records are kept; past it, the stale ones go, then all of them.
const MOST_KEPT: usize = 50_000;

/// The sqlx session store of whichever backend is in use. On SQLite a session is written
/// through the writer's connection, as every write of the process is, and read through the
/// pool: a commit made on any other connection moves the writer's `data_version`, and rating
/// then drops the meters and wallets it held from its last batch ([`crate::db::WriterMark`]),
/// so each sign-in would cost the next batch a full load of its state.
#[derive(Clone, Debug)]
enum Store {
    Sqlite {
        reads: SqliteStore,
        writes: SqliteStore,
    },
    Postgres(PostgresStore),
}

/// The sessions of this instance: the database's store, a short-lived copy of what it read,
/// and the bus that tells the other instances of changes.
#[derive(Clone, Debug)]
pub struct Sessions {
    store: Store,
    kept: Arc<Mutex<Kept>>,
    bus: Arc<OnceLock<Bus>>,
}

impl Sessions {
    /// The store, with its table created if this is a new database.
    pub async fn open(db: &Db) -> Result<Self, sqlx::Error> {
        let store = match db {
            Db::Sqlite { pool, writer, .. } => {
                let writes = SqliteStore::new(writer.clone());
                writes.migrate().await?;
                Store::Sqlite {
                    reads: SqliteStore::new(pool.clone()),
                    writes,
                }
            }
            Db::Postgres(pool) => {
                let store = PostgresStore::new(pool.clone());
                store.migrate().await?;
                Store::Postgres(store)
            }
        };
        Ok(Sessions {
            store,
            kept: Arc::default(),
            bus: Arc::default(),
        })
    }

    pub async fn delete_expired(&self) -> session_store::Result<()> {
        match &self.store {
            Store::Sqlite { writes, .. } => writes.delete_expired().await,
            Store::Postgres(store) => store.delete_expired().await,
        }
    }

    /// From now on, changes made here are told to the other instances.
    pub fn use_bus(&self, bus: Bus) {
        let _ = self.bus.set(bus);
    }

    /// Another instance changed or ended the session `id`: the copy kept here goes.
    pub fn forget_here(&self, id: &str) {
        if let Ok(id) = id.parse::<Id>() {
            self.kept().forget(&id);
        }
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, Kept> {
        // The map holds no invariant a panicking holder could break half-way.
        self.kept
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn tell_others(&self, id: &Id) {
        if let Some(bus) = self.bus.get() {
            bus.publish(Signal::SessionChanged { id: id.to_string() });
        }
    }
}

#[async_trait::async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match &self.store {
            Store::Sqlite { writes, .. } => writes.create(record).await?,
            Store::Postgres(store) => store.create(record).await?,
        }
        self.kept().put(record.clone(), Instant::now());
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match &self.store {
            Store::Sqlite { writes, .. } => writes.save(record).await?,
            Store::Postgres(store) => store.save(record).await?,
        }
        self.kept().put(record.clone(), Instant::now());
        self.tell_others(&record.id);
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = Instant::now();
        if let Some(known) = self.kept().known(id, now, unix_now()) {
            return Ok(known);
        }
        let record = match &self.store {
            Store::Sqlite { reads, .. } => reads.load(id).await?,
            Store::Postgres(store) => store.load(id).await?,
        };
        if let Some(record) = &record {
            self.kept().offer(record.clone(), now);
        }
        Ok(record)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match &self.store {
            Store::Sqlite { writes, .. } => writes.delete(id).await?,
            Store::Postgres(store) => store.delete(id).await?,
        }
        self.kept().end(*id, Instant::now());
        self.tell_others(id);
        Ok(())
    }
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// What this instance knows of a session.
#[derive(Debug)]
enum Copy {
    /// As the database had it at `since`.
    Live { record: Record, since: Instant },
    /// Deleted here at `since`. A load that read the row before the deletion and finishes
    /// after it finds this and keeps its record to itself.
    Ended { since: Instant },
}

impl Copy {
    fn since(&self) -> Instant {
        match self {
            Copy::Live { since, .. } | Copy::Ended { since } => *since,
        }
    }
}

#[derive(Debug, Default)]
struct Kept {
    copies: HashMap<Id, Copy>,
}

impl Kept {
    /// `Some` answer when the copy kept answers for the database: a live record that has not
    /// expired, or `None` for a session ended here. Stale copies are dropped.
    fn known(&mut self, id: &Id, now: Instant, unix_now: i64) -> Option<Option<Record>> {
        let copy = self.copies.get(id)?;
        if now.duration_since(copy.since()) >= TRUSTED_FOR {
            self.copies.remove(id);
            return None;
        }
        match copy {
            Copy::Live { record, .. } if record.expiry_date.unix_timestamp() > unix_now => {
                Some(Some(record.clone()))
            }
            Copy::Live { .. } => Some(None),
            Copy::Ended { .. } => Some(None),
        }
    }

    /// A record just read from the database, kept unless something newer came in meanwhile
    /// (a save, or an end).
    fn offer(&mut self, record: Record, since: Instant) {
        self.make_room(since);
        self.copies
            .entry(record.id)
            .or_insert(Copy::Live { record, since });
    }

    /// A record just written: it is the newest there is.
    fn put(&mut self, record: Record, since: Instant) {
        self.make_room(since);
        self.copies.insert(record.id, Copy::Live { record, since });
    }

    fn end(&mut self, id: Id, since: Instant) {
        self.make_room(since);
        self.copies.insert(id, Copy::Ended { since });
    }

    fn forget(&mut self, id: &Id) {
        self.copies.remove(id);
    }

    fn make_room(&mut self, now: Instant) {
        if self.copies.len() < MOST_KEPT {
            return;
        }
        self.copies
            .retain(|_, copy| now.duration_since(copy.since()) < TRUSTED_FOR);
        if self.copies.len() >= MOST_KEPT {
            self.copies.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: i128, expires_at: i64, note: &str) -> Record {
        let mut data = HashMap::new();
        data.insert("note".to_owned(), serde_json::Value::from(note));
        Record {
            id: Id(id),
            data,
            expiry_date: tower_sessions::cookie::time::OffsetDateTime::from_unix_timestamp(
                expires_at,
            )
            .unwrap(),
        }
    }

    fn note(answer: Option<Option<Record>>) -> Option<Option<String>> {
        answer.map(|record| record.map(|record| record.data["note"].as_str().unwrap().to_owned()))
    }

    const NOW: i64 = 1_800_000_000;

    #[tokio::test]
    async fn sessions_written_on_sqlite_leave_what_rating_holds_in_place() {
        let (_dir, db) = crate::db::tests::sqlite_file().await;
        let sessions = Sessions::open(&db).await.unwrap();
        let start = crate::db::tests::mark(&db).await;
        assert!(start.is_some());

        // Signing in, a change to the session, expiry's clean-up and signing out.
        let mut signed_in = record(7, unix_now() + 3_600, "signed in");
        sessions.create(&mut signed_in).await.unwrap();
        signed_in.data.insert(
            "note".to_owned(),
            serde_json::Value::from("language chosen"),
        );
        sessions.save(&signed_in).await.unwrap();
        sessions.delete_expired().await.unwrap();
        let loaded = sessions.load(&signed_in.id).await.unwrap().unwrap();
        assert_eq!(loaded.data["note"], "language chosen");
        sessions.delete(&signed_in.id).await.unwrap();
        assert_eq!(sessions.load(&signed_in.id).await.unwrap(), None);

        assert_eq!(
            crate::db::tests::mark(&db).await,
            start,
            "the next rating batch may keep the meters and wallets it holds"
        );
    }

    #[test]
    fn a_copy_answers_until_it_is_stale_or_the_session_expires() {
        let start = Instant::now();
        let mut kept = Kept::default();
        kept.offer(record(1, NOW + 60, "a"), start);
        assert_eq!(note(kept.known(&Id(1), start, NOW)), Some(Some("a".into())));
        assert_eq!(
            note(kept.known(&Id(1), start, NOW + 60)),
            Some(None),
            "an expired session is no session"
        );
        assert_eq!(
            note(kept.known(&Id(1), start + TRUSTED_FOR, NOW)),
            None,
            "a stale copy sends the load to the database"
        );
        assert!(kept.copies.is_empty(), "and is dropped");
        assert_eq!(note(kept.known(&Id(2), start, NOW)), None);
    }

    #[test]
    fn a_load_that_finishes_late_never_hides_a_save_or_an_end() {
        let start = Instant::now();
        let mut kept = Kept::default();
        kept.put(record(1, NOW + 60, "saved"), start);
        kept.offer(record(1, NOW + 60, "read before the save"), start);
        assert_eq!(
            note(kept.known(&Id(1), start, NOW)),
            Some(Some("saved".into()))
        );

        kept.end(Id(1), start);
        kept.offer(record(1, NOW + 60, "read before the end"), start);
        assert_eq!(note(kept.known(&Id(1), start, NOW)), Some(None));

        kept.forget(&Id(1));
        assert_eq!(note(kept.known(&Id(1), start, NOW)), None);
    }

    #[test]
    fn a_full_store_drops_stale_copies_first() {
        let start = Instant::now();
        let later = start + TRUSTED_FOR;
        let mut kept = Kept::default();
        for id in 0..MOST_KEPT as i128 - 1 {
            kept.offer(record(id, NOW + 60, "old"), start);
        }
        kept.offer(record(-1, NOW + 60, "fresh"), later);
        assert_eq!(kept.copies.len(), MOST_KEPT);
        kept.offer(record(-2, NOW + 60, "new"), later);
        assert_eq!(kept.copies.len(), 2, "only the fresh copies stay");
        assert_eq!(
            note(kept.known(&Id(-1), later, NOW)),
            Some(Some("fresh".into()))
        );
    }
}
