//! API keys: made by an organisation's admins, shown once, kept as SHA-256 only. A key is
//! `ppk_` + a public prefix (finds the row, names the key in lists and logs) + `_` + 256 random
//! bits. An organisation's key carries scopes; a gateway's key posts readings for one site.

use crate::{
    audit::AuditEntry,
    db::Db,
    internal, on_db, on_db_write, on_tx,
    secrets::{self, digest},
};
use app::error::AppError;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::fmt;

/// What a key may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Read everything of the organisation.
    Read,
    /// Create and change sites' buildings, units, meters and residents; move-outs; alarms.
    Write,
    /// Post meter readings and alarms.
    Readings,
    /// Record top-ups.
    Payments,
}

impl Scope {
    pub const ALL: [Scope; 4] = [Scope::Read, Scope::Write, Scope::Readings, Scope::Payments];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Readings => "readings",
            Scope::Payments => "payments",
        }
    }

    pub fn parse(raw: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == raw)
    }
}

/// Scopes as stored: sorted, comma-separated, each once.
fn scopes_text(scopes: &[Scope]) -> String {
    let mut scopes = scopes.to_vec();
    scopes.sort();
    scopes.dedup();
    scopes
        .iter()
        .map(|scope| scope.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn scopes_of(text: &str) -> Vec<Scope> {
    text.split(',').filter_map(Scope::parse).collect()
}

/// The holder of a valid key, as a request carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyHolder {
    pub id: i64,
    pub org: i64,
    pub prefix: String,
    pub scopes: Vec<Scope>,
    /// A gateway's site: readings for its meters only.
    pub site: Option<i64>,
    /// Whoever made the key answers for what it does (the audit log names them).
    pub created_by: i64,
}

impl KeyHolder {
    pub fn may(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }

    /// An audit entry for something done with this key, in the name of whoever made it.
    pub fn audit(&self, action: &'static str, subject: &'static str, id: i64) -> AuditEntry {
        AuditEntry::new(action, subject, id).by(self.org, Some(self.created_by))
    }
}

/// A key as its organisation's admins see it (never the secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyLine {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub site: Option<(i64, String)>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What to make: an organisation's key with scopes, or a gateway's for one site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NewKey {
    Organisation(Vec<Scope>),
    Gateway { site: i64 },
}

/// The secret itself, shown once. `Debug` does not show it.
pub struct IssuedKey {
    pub id: i64,
    pub secret: String,
}

impl fmt::Debug for IssuedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IssuedKey({}, ..)", self.id)
    }
}

#[derive(Clone, Debug)]
pub struct ApiKeys {
    db: Db,
}

/// The public prefix in a presented key, if it has the shape of one.
fn prefix_of(presented: &str) -> Option<&str> {
    let rest = presented.strip_prefix("ppk_")?;
    let (prefix, secret) = rest.split_at_checked(12)?;
    let valid = prefix.bytes().all(|b| b.is_ascii_hexdigit()) && secret.starts_with('_');
    valid.then_some(prefix)
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    id: i64,
    organisation_id: i64,
    prefix: String,
    secret_hash: String,
    scopes: String,
    site_id: Option<i64>,
    created_by: i64,
    last_used_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct LineRow {
    id: i64,
    name: String,
    prefix: String,
    scopes: String,
    site_id: Option<i64>,
    site_name: Option<String>,
    created_by: String,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl ApiKeys {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Makes a key; the caller has been checked to be an admin of `org`, and a gateway's
    /// site to be the organisation's.
    pub async fn create(
        &self,
        org: i64,
        actor: i64,
        name: &str,
        kind: NewKey,
    ) -> Result<IssuedKey, AppError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 80 {
            return Err(AppError::Invalid(
                "Name the key (up to 80 characters), such as the system that will use it.".into(),
            ));
        }
        let (scopes, site) = match kind {
            NewKey::Organisation(scopes) if !scopes.is_empty() => (scopes_text(&scopes), None),
            NewKey::Organisation(_) => {
                return Err(AppError::Invalid("Choose at least one scope.".into()));
            }
            NewKey::Gateway { site } => (Scope::Readings.as_str().to_owned(), Some(site)),
        };
        let token = secrets::link_token();
        let prefix: String = digest(&token).chars().take(12).collect();
        let secret = format!("ppk_{prefix}_{token}");
        let now = Utc::now();
        let id: i64 = on_db_write!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO api_keys (organisation_id, name, prefix, secret_hash, scopes, site_id, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(org)
            .bind(name)
            .bind(&prefix)
            .bind(digest(&secret))
            .bind(&scopes)
            .bind(site)
            .bind(actor)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            AuditEntry::new("api_key_created", "api_key", id)
                .by(org, Some(actor))
                .after(json!({ "name": name, "prefix": prefix, "scopes": scopes, "site_id": site }))
                .append(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(id)
        })
        .map_err(internal)?;
        Ok(IssuedKey { id, secret })
    }

    /// The holder of a presented key, if it is whole, known and not revoked.
    pub async fn authenticate(&self, presented: &str) -> Result<Option<KeyHolder>, AppError> {
        let Some(prefix) = prefix_of(presented) else {
            return Ok(None);
        };
        let row: Option<KeyRow> = on_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT id, organisation_id, prefix, secret_hash, scopes, site_id, created_by, last_used_at \
                 FROM api_keys WHERE prefix = $1 AND revoked_at IS NULL",
            )
            .bind(prefix)
            .fetch_optional(pool)
            .await
        })
        .map_err(internal)?;
        let Some(row) = row else { return Ok(None) };
        if !secrets::same_bytes(digest(presented).as_bytes(), row.secret_hash.as_bytes()) {
            return Ok(None);
        }
        // "Last used" to the minute is enough, and spares a write per request.
        let now = Utc::now();
        if row
            .last_used_at
            .is_none_or(|at| now - at > Duration::minutes(1))
        {
            let marked = on_db_write!(&self.db, pool => {
                sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(row.id)
                    .execute(pool)
                    .await
                    .map(|_| ())
            });
            if let Err(error) = marked {
                tracing::warn!(%error, key = row.prefix, "could not mark an API key used");
            }
        }
        Ok(Some(KeyHolder {
            id: row.id,
            org: row.organisation_id,
            prefix: row.prefix,
            scopes: scopes_of(&row.scopes),
            site: row.site_id,
            created_by: row.created_by,
        }))
    }

    /// The organisation's keys, newest first, revoked ones too.
    pub async fn list(&self, org: i64) -> Result<Vec<KeyLine>, AppError> {
        let rows: Vec<LineRow> = on_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT k.id, k.name, k.prefix, k.scopes, k.site_id, s.name AS site_name, \
                 u.display_name AS created_by, k.created_at, k.last_used_at, k.revoked_at \
                 FROM api_keys k JOIN users u ON u.id = k.created_by LEFT JOIN sites s ON s.id = k.site_id \
                 WHERE k.organisation_id = $1 ORDER BY k.id DESC",
            )
            .bind(org)
            .fetch_all(pool)
            .await
        })
        .map_err(internal)?;
        Ok(rows
            .into_iter()
            .map(|row| KeyLine {
                id: row.id,
                name: row.name,
                prefix: row.prefix,
                scopes: scopes_of(&row.scopes),
                site: row.site_id.zip(row.site_name),
                created_by: row.created_by,
                created_at: row.created_at,
                last_used_at: row.last_used_at,
                revoked_at: row.revoked_at,
            })
            .collect())
    }

    /// Revokes one of the organisation's keys at once; revoking twice changes nothing.
    pub async fn revoke(&self, org: i64, actor: i64, key: i64) -> Result<(), AppError> {
        let now = Utc::now();
        // Read, then write: a write transaction from the start, so SQLite never has to
        // upgrade a read lock another writer is waiting on.
        let mut tx = self.db.begin_write().await.map_err(internal)?;
        let prefix: Option<String> = on_tx!(&mut tx, conn => {
            sqlx::query_scalar("SELECT prefix FROM api_keys WHERE id = $1 AND organisation_id = $2")
                .bind(key)
                .bind(org)
                .fetch_optional(&mut *conn)
                .await
        })
        .map_err(internal)?;
        let prefix = prefix.ok_or(AppError::NotFound)?;
        let changed = on_tx!(&mut tx, conn => {
            sqlx::query(
                "UPDATE api_keys SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(actor)
            .bind(key)
            .execute(&mut *conn)
            .await
            .map(|done| done.rows_affected())
        })
        .map_err(internal)?;
        if changed > 0 {
            AuditEntry::new("api_key_revoked", "api_key", key)
                .by(org, Some(actor))
                .after(json!({ "prefix": prefix }))
                .insert_tx(&mut tx)
                .await
                .map_err(internal)?;
        }
        tx.commit().await.map_err(internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_keys_have_a_prefix() {
        assert_eq!(prefix_of("ppk_0123456789ab_secret"), Some("0123456789ab"));
        assert_eq!(prefix_of("ppk_0123456789ab"), None);
        assert_eq!(prefix_of("ppk_0123456789xz_secret"), None);
        assert_eq!(prefix_of("pk_0123456789ab_secret"), None);
        assert_eq!(prefix_of("ppk_é123456789ab_secret"), None);
        assert_eq!(prefix_of(""), None);
    }

    #[test]
    fn scopes_are_stored_sorted_and_once() {
        let text = scopes_text(&[Scope::Payments, Scope::Read, Scope::Payments]);
        assert_eq!(text, "read,payments");
        assert_eq!(scopes_of(&text), vec![Scope::Read, Scope::Payments]);
        assert_eq!(scopes_of("read,nonsense"), vec![Scope::Read]);
    }
}
