//! The audit log: who did what, when, with the state before and after. Written in the same
//! database transaction as the change it records, so neither exists without the other.
//!
//! It is tamper-evident: the database refuses to update or delete an entry (triggers on both
//! backends), and each organisation's entries form a chain in which every entry carries the
//! SHA-256 of its content and of the entry before ([`chain`]); `prepaid audit verify`
//! recomputes it. Entries written before the chain began (the migration that added it) carry
//! no hash and are counted apart.

pub mod chain;

use chrono::{DateTime, SubsecRound, Utc};

#[derive(Clone, Debug)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub organisation_id: Option<i64>,
    pub actor_user_id: Option<i64>,
    pub client_addr: Option<String>,
    pub action: &'static str,
    pub subject_type: &'static str,
    pub subject_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl AuditEntry {
    pub fn new(
        action: &'static str,
        subject_type: &'static str,
        subject_id: impl ToString,
    ) -> Self {
        Self {
            // Microseconds: what PostgreSQL keeps, so the hashed time is the stored one.
            at: Utc::now().trunc_subsecs(6),
            organisation_id: None,
            actor_user_id: None,
            client_addr: None,
            action,
            subject_type,
            subject_id: subject_id.to_string(),
            before: None,
            after: None,
        }
    }

    pub fn by(mut self, organisation_id: i64, actor_user_id: Option<i64>) -> Self {
        self.organisation_id = Some(organisation_id);
        self.actor_user_id = actor_user_id;
        self
    }

    pub fn from_addr(mut self, addr: impl ToString) -> Self {
        self.client_addr = Some(addr.to_string());
        self
    }

    pub fn after(mut self, after: serde_json::Value) -> Self {
        self.after = Some(after);
        self
    }

    pub fn before(mut self, before: serde_json::Value) -> Self {
        self.before = Some(before);
        self
    }

    pub fn by_actor(mut self, actor_user_id: Option<i64>) -> Self {
        self.actor_user_id = actor_user_id;
        self
    }

    /// Appends the entry in an engine transaction.
    pub async fn insert_tx(&self, tx: &mut crate::db::Tx) -> Result<(), sqlx::Error> {
        crate::on_tx!(tx, conn => self.append(&mut *conn).await)
    }

    /// Appends the entry in a transaction of its own, for an action that changed nothing else
    /// in the database (a sign-in, a top-up already committed).
    pub async fn record(&self, db: &crate::db::Db) -> Result<(), sqlx::Error> {
        let mut tx = db.begin_write().await?;
        self.insert_tx(&mut tx).await?;
        tx.commit().await
    }

    /// Appends the entry to its organisation's chain on a connection inside a transaction:
    /// takes the next place in the chain (locking its head until the transaction ends, so
    /// entries are chained in the order they commit), writes the entry with the hash of the
    /// one before, and moves the head.
    pub async fn append<C: chain::Append>(&self, conn: &mut C) -> Result<(), sqlx::Error> {
        conn.append(self).await
    }
}

/// A page of one organisation's audit log, newest first, as [`app::domain::audit::AuditQuery`]
/// narrows it: the search text in the action, the subject, the actor's e-mail or the recorded
/// state, case-insensitively; whole UTC days; older than a line already shown.
pub async fn search(
    db: &crate::db::Db,
    org: app::domain::OrgId,
    query: &app::domain::audit::AuditQuery,
) -> Result<app::domain::audit::AuditPage, app::error::AppError> {
    use app::domain::audit::{AuditLine, AuditPage, PAGE};
    type Row = (
        i64,
        DateTime<Utc>,
        Option<String>,
        Option<String>,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
    );
    const SQL: &str = "SELECT a.id, a.at, u.email, a.client_addr, a.action, a.subject_type, \
        a.subject_id, a.before_json, a.after_json \
        FROM audit_log a LEFT JOIN users u ON u.id = a.actor_user_id \
        WHERE a.organisation_id = $1 \
        AND ($2 = '%%' OR LOWER(a.action) LIKE $2 ESCAPE '\\' \
            OR LOWER(a.subject_type || ' ' || a.subject_id) LIKE $2 ESCAPE '\\' \
            OR LOWER(COALESCE(u.email, '')) LIKE $2 ESCAPE '\\' \
            OR LOWER(COALESCE(a.before_json, '') || ' ' || COALESCE(a.after_json, '')) LIKE $2 ESCAPE '\\') \
        AND ($3 IS NULL OR a.at >= $3) AND ($4 IS NULL OR a.at < $4) \
        AND ($5 IS NULL OR a.id < $5) \
        ORDER BY a.id DESC LIMIT $6";
    let (from, until) = query.window();
    let pattern = query.like_pattern();
    let limit = PAGE as i64 + 1;
    let rows: Vec<Row> = crate::on_db!(db, pool => {
        sqlx::query_as(SQL)
            .bind(org.0)
            .bind(&pattern)
            .bind(from)
            .bind(until)
            .bind(query.before)
            .bind(limit)
            .fetch_all(pool)
            .await
    })
    .map_err(crate::internal)?;
    Ok(AuditPage::from_lines(
        rows.into_iter()
            .map(
                |(id, at, actor, client_addr, action, subject_type, subject_id, before, after)| {
                    AuditLine {
                        id,
                        at,
                        actor,
                        client_addr,
                        action,
                        subject_type,
                        subject_id,
                        before,
                        after,
                    }
                },
            )
            .collect(),
    ))
}
