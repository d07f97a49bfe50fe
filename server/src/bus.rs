//! What one server instance tells the others. Everything durable is in the shared database;
//! what is not is a little memory kept to save queries (the fleet's meters by serial, the
//! sessions read in the last seconds). When an instance changes one of those, the others must
//! forget their copy: on PostgreSQL that news travels by `NOTIFY` on one channel, which every
//! instance `LISTEN`s to.
//!
//! On SQLite one instance serves, and publishing does nothing. Pages need no signal: each
//! refresh reads the shared database, so a dashboard on one instance shows what another did.

use crate::db::Db;
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgListener;

/// The channel every instance listens on.
pub const CHANNEL: &str = "prepaid_bus";

/// Something another instance should act on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "signal")]
pub enum Signal {
    /// The meter was installed, replaced or decommissioned: drop any cached copy.
    MeterChanged { serial: String },
    /// The session was changed or ended (signed out): drop any cached copy. The id is as
    /// secret as the cookie; it travels only through the database every instance shares.
    SessionChanged { id: String },
    /// The person's details, password, second factor or grants changed: drop any cached
    /// copy of them as a caller.
    CallerChanged { user: i64 },
    /// The organisation's rules for its people changed: drop every cached caller of it.
    OrganisationChanged { org: i64 },
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    /// The instance that sent it, which ignores its own news.
    from: String,
    #[serde(flatten)]
    signal: Signal,
}

/// This instance's end of the bus.
#[derive(Clone, Debug)]
pub struct Bus {
    db: Db,
    instance: String,
}

impl Bus {
    /// A bus for this process, with an instance id of its own.
    pub fn new(db: Db) -> Self {
        Bus {
            db,
            instance: crate::secrets::public_id("instance"),
        }
    }

    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Tells the other instances, in the background: a lost signal costs a stale cache
    /// entry, which is why the sender acts on its own copy first.
    pub fn publish(&self, signal: Signal) {
        let Db::Postgres(pool) = &self.db else {
            return;
        };
        let payload = match serde_json::to_string(&Envelope {
            from: self.instance.clone(),
            signal,
        }) {
            Ok(payload) => payload,
            Err(error) => return tracing::warn!(%error, "could not encode a bus signal"),
        };
        let pool = pool.clone();
        tokio::spawn(async move {
            let sent = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(payload)
                .execute(&pool)
                .await;
            if let Err(error) = sent {
                tracing::warn!(%error, "could not notify the other instances");
            }
        });
    }

    /// Calls `on` with every signal another instance sends, until the task is aborted.
    /// `None` on SQLite, where there are no other instances.
    pub fn listen(
        &self,
        on: impl Fn(Signal) + Send + Sync + 'static,
    ) -> Option<tokio::task::JoinHandle<()>> {
        let Db::Postgres(pool) = &self.db else {
            return None;
        };
        let pool = pool.clone();
        let me = self.instance.clone();
        Some(tokio::spawn(async move {
            loop {
                match listen_once(&pool, &me, &on).await {
                    Ok(()) => return,
                    Err(error) => {
                        tracing::warn!(%error, "lost the bus; listening again shortly");
                        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                    }
                }
            }
        }))
    }
}

/// Listens until the connection fails. sqlx reconnects a listener by itself; signals sent
/// while it was away are lost, which costs at most a stale cache entry.
async fn listen_once(
    pool: &sqlx::PgPool,
    me: &str,
    on: &impl Fn(Signal),
) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    loop {
        let notification = listener.recv().await?;
        match serde_json::from_str::<Envelope>(notification.payload()) {
            Ok(envelope) if envelope.from == me => {}
            Ok(envelope) => on(envelope.signal),
            Err(error) => tracing::warn!(%error, "an unreadable bus signal was ignored"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signal_reads_back_as_sent() {
        let text = serde_json::to_string(&Envelope {
            from: "a1".into(),
            signal: Signal::MeterChanged {
                serial: "E-1".into(),
            },
        })
        .unwrap();
        assert_eq!(
            text,
            r#"{"from":"a1","signal":"meter_changed","serial":"E-1"}"#
        );
        let back: Envelope = serde_json::from_str(&text).unwrap();
        assert_eq!(
            back.signal,
            Signal::MeterChanged {
                serial: "E-1".into()
            }
        );
    }

    #[test]
    fn every_signal_reads_back_as_sent() {
        for signal in [
            Signal::MeterChanged {
                serial: "E-1".into(),
            },
            Signal::SessionChanged { id: "abc".into() },
            Signal::CallerChanged { user: 42 },
            Signal::OrganisationChanged { org: 7 },
        ] {
            let text = serde_json::to_string(&Envelope {
                from: "a1".into(),
                signal: signal.clone(),
            })
            .unwrap();
            let back: Envelope = serde_json::from_str(&text).unwrap();
            assert_eq!(back.signal, signal, "{text}");
        }
    }
}
