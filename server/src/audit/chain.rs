//! The audit log's hash chains: one per organisation (chain 0 holds entries that belong to
//! none). An entry's hash covers its place in the chain, the hash of the entry before and its
//! whole content, so changing, removing or reordering any entry breaks every hash after it.

use super::AuditEntry;
use crate::db::Db;
use chrono::{DateTime, SecondsFormat, Utc};
use std::future::Future;

/// The content of an entry as it is stored, which is what is hashed.
pub struct Content<'a> {
    pub at: DateTime<Utc>,
    pub organisation_id: Option<i64>,
    pub actor_user_id: Option<i64>,
    pub client_addr: Option<&'a str>,
    pub action: &'a str,
    pub subject_type: &'a str,
    pub subject_id: &'a str,
    pub before: Option<&'a str>,
    pub after: Option<&'a str>,
}

/// SHA-256, hex, of a JSON array of the entry's place, the hash before it and its content: a
/// JSON array so that no field's text can run into the next one's.
pub fn hash(seq: i64, prev: &str, content: &Content<'_>) -> String {
    let text = serde_json::json!([
        seq,
        prev,
        content.at.to_rfc3339_opts(SecondsFormat::Micros, true),
        content.organisation_id,
        content.actor_user_id,
        content.client_addr,
        content.action,
        content.subject_type,
        content.subject_id,
        content.before,
        content.after,
    ])
    .to_string();
    crate::secrets::digest(&text)
}

/// Takes the next place in the entry's chain, creating the chain at its first entry. The row
/// stays locked (PostgreSQL) or the database written (SQLite) until the transaction ends, so
/// two entries never take the same place.
const NEXT: &str = "INSERT INTO audit_chains (chain, seq, head) \
    VALUES (COALESCE($1, (SELECT organisation_id FROM users WHERE id = $2), 0), 1, '') \
    ON CONFLICT (chain) DO UPDATE SET seq = audit_chains.seq + 1 \
    RETURNING chain, seq, head";

const INSERT: &str = "INSERT INTO audit_log (at, organisation_id, actor_user_id, client_addr, \
    action, subject_type, subject_id, before_json, after_json, chain_seq, prev_hash, hash) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

/// A connection that can append audit entries: each backend's own.
pub trait Append {
    fn append(
        &mut self,
        entry: &AuditEntry,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
}

macro_rules! append_on {
    ($connection:ty) => {
        impl Append for $connection {
            async fn append(&mut self, entry: &AuditEntry) -> Result<(), sqlx::Error> {
                let (chain, seq, prev): (i64, i64, String) = sqlx::query_as(NEXT)
                    .bind(entry.organisation_id)
                    .bind(entry.actor_user_id)
                    .fetch_one(&mut *self)
                    .await?;
                let before = entry.before.as_ref().map(ToString::to_string);
                let after = entry.after.as_ref().map(ToString::to_string);
                let content = Content {
                    at: entry.at,
                    organisation_id: (chain != 0).then_some(chain),
                    actor_user_id: entry.actor_user_id,
                    client_addr: entry.client_addr.as_deref(),
                    action: entry.action,
                    subject_type: entry.subject_type,
                    subject_id: &entry.subject_id,
                    before: before.as_deref(),
                    after: after.as_deref(),
                };
                let hash = hash(seq, &prev, &content);
                sqlx::query(INSERT)
                    .bind(content.at)
                    .bind(content.organisation_id)
                    .bind(content.actor_user_id)
                    .bind(content.client_addr)
                    .bind(content.action)
                    .bind(content.subject_type)
                    .bind(content.subject_id)
                    .bind(content.before)
                    .bind(content.after)
                    .bind(seq)
                    .bind(&prev)
                    .bind(&hash)
                    .execute(&mut *self)
                    .await?;
                sqlx::query("UPDATE audit_chains SET head = $1 WHERE chain = $2")
                    .bind(&hash)
                    .bind(chain)
                    .execute(&mut *self)
                    .await?;
                Ok(())
            }
        }
    };
}

append_on!(sqlx::SqliteConnection);
append_on!(sqlx::PgConnection);

/// What `prepaid audit verify` found.
#[derive(Debug, Default)]
pub struct Verdict {
    pub chains: usize,
    pub entries: u64,
    /// Entries written before the chain began: not covered by it.
    pub unchained: u64,
    /// Every place the chain does not hold, in words.
    pub breaks: Vec<String>,
    /// Each chain's last place and hash: note them elsewhere to detect a rewrite of the
    /// whole chain by someone who can also drop the triggers.
    pub heads: Vec<(i64, i64, String)>,
}

type Row = (
    i64,
    i64,
    DateTime<Utc>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
);

const PAGE: i64 = 5_000;

/// Recomputes every chain, a page at a time, and compares the last place of each with the
/// chain's recorded head (which catches entries removed from the end).
pub async fn verify(db: &Db) -> Result<Verdict, sqlx::Error> {
    let mut verdict = Verdict::default();
    let heads: Vec<(i64, i64, String)> = crate::on_db!(db, pool => {
        sqlx::query_as("SELECT chain, seq, head FROM audit_chains ORDER BY chain")
            .fetch_all(pool)
            .await
    })?;
    verdict.unchained = crate::on_db!(db, pool => {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_log WHERE chain_seq IS NULL")
            .fetch_one(pool)
            .await
    })? as u64;
    for (chain, head_seq, head) in &heads {
        let (last_seq, last_hash) = verify_chain(db, *chain, &mut verdict).await?;
        if (last_seq, last_hash.as_str()) != (*head_seq, head.as_str()) {
            verdict.breaks.push(format!(
                "chain {chain}: its head is place {head_seq} ({head}) but its last entry is \
                 place {last_seq} ({last_hash})"
            ));
        }
    }
    let orphans: i64 = crate::on_db!(db, pool => {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE chain_seq IS NOT NULL \
             AND COALESCE(organisation_id, 0) NOT IN (SELECT chain FROM audit_chains)",
        )
        .fetch_one(pool)
        .await
    })?;
    if orphans > 0 {
        verdict.breaks.push(format!(
            "{orphans} chained entries belong to no recorded chain"
        ));
    }
    verdict.chains = heads.len();
    verdict.heads = heads;
    Ok(verdict)
}

/// Walks one chain in order; returns its last place and hash.
async fn verify_chain(
    db: &Db,
    chain: i64,
    verdict: &mut Verdict,
) -> Result<(i64, String), sqlx::Error> {
    const SQL: &str = "SELECT id, chain_seq, at, organisation_id, actor_user_id, client_addr, \
        action, subject_type, subject_id, before_json, after_json, prev_hash, hash \
        FROM audit_log WHERE COALESCE(organisation_id, 0) = $1 AND chain_seq > $2 \
        ORDER BY chain_seq LIMIT $3";
    let (mut seq, mut hash_before) = (0_i64, String::new());
    loop {
        let rows: Vec<Row> = crate::on_db!(db, pool => {
            sqlx::query_as(SQL).bind(chain).bind(seq).bind(PAGE).fetch_all(pool).await
        })?;
        let full = rows.len() as i64 == PAGE;
        for row in rows {
            let (id, place, at, org, actor, addr, action, subject_type, subject_id) = (
                row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8,
            );
            let (before, after, prev, stored) = (row.9, row.10, row.11, row.12);
            verdict.entries += 1;
            if place != seq + 1 {
                verdict.breaks.push(format!(
                    "chain {chain}: place {} is missing before entry {id}",
                    seq + 1
                ));
            }
            if prev != hash_before {
                verdict.breaks.push(format!(
                    "chain {chain}: entry {id} does not follow the entry before it"
                ));
            }
            let content = Content {
                at,
                organisation_id: org,
                actor_user_id: actor,
                client_addr: addr.as_deref(),
                action: &action,
                subject_type: &subject_type,
                subject_id: &subject_id,
                before: before.as_deref(),
                after: after.as_deref(),
            };
            if hash(place, &prev, &content) != stored {
                verdict.breaks.push(format!(
                    "chain {chain}: entry {id} ({action} {subject_type} {subject_id}) \
                     was changed after it was written"
                ));
            }
            seq = place;
            hash_before = stored;
        }
        if !full {
            return Ok((seq, hash_before));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(action: &str) -> Content<'_> {
        Content {
            at: DateTime::parse_from_rfc3339("2026-12-01T10:00:00.123456Z")
                .unwrap()
                .to_utc(),
            organisation_id: Some(1),
            actor_user_id: Some(2),
            client_addr: None,
            action,
            subject_type: "unit",
            subject_id: "7",
            before: None,
            after: Some("{\"a\":1}"),
        }
    }

    #[test]
    fn the_hash_covers_the_place_the_entry_before_and_every_field() {
        let base = hash(1, "", &content("unit_created"));
        assert_eq!(base.len(), 64);
        assert_ne!(base, hash(2, "", &content("unit_created")));
        assert_ne!(base, hash(1, "x", &content("unit_created")));
        assert_ne!(base, hash(1, "", &content("unit_deleted")));
        let mut moved = content("unit_created");
        moved.at += chrono::Duration::microseconds(1);
        assert_ne!(base, hash(1, "", &moved));
        // Fields cannot be shifted into one another.
        let mut shifted = content("unit_created");
        shifted.subject_type = "unit7";
        shifted.subject_id = "";
        assert_ne!(base, hash(1, "", &shifted));
    }
}
