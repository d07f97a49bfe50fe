//! The audit log: who did what, when, with the state before and after. Written in the same
//! database transaction as the change it records, so neither exists without the other.

use chrono::{DateTime, Utc};
use sqlx::{Database, Encode, Type, query::Query};

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
            at: Utc::now(),
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

    /// The INSERT for this entry, for whichever backend's transaction it joins. Without an
    /// organisation, the entry takes the actor's.
    pub fn insert<'q, DB>(&'q self) -> Query<'q, DB, DB::Arguments<'q>>
    where
        DB: Database,
        DateTime<Utc>: Encode<'q, DB> + Type<DB>,
        Option<i64>: Encode<'q, DB> + Type<DB>,
        Option<String>: Encode<'q, DB> + Type<DB>,
        &'q str: Encode<'q, DB> + Type<DB>,
    {
        sqlx::query(
            "INSERT INTO audit_log (at, organisation_id, actor_user_id, client_addr, action, \
             subject_type, subject_id, before_json, after_json) \
             VALUES ($1, COALESCE($2, (SELECT organisation_id FROM users WHERE id = $3)), $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(self.at)
        .bind(self.organisation_id)
        .bind(self.actor_user_id)
        .bind(self.client_addr.clone())
        .bind(self.action)
        .bind(self.subject_type)
        .bind(self.subject_id.as_str())
        .bind(self.before.as_ref().map(|value| value.to_string()))
        .bind(self.after.as_ref().map(|value| value.to_string()))
    }

    pub fn by_actor(mut self, actor_user_id: Option<i64>) -> Self {
        self.actor_user_id = actor_user_id;
        self
    }

    /// Inserts the entry in an engine transaction.
    pub async fn insert_tx(&self, tx: &mut crate::db::Tx) -> Result<(), sqlx::Error> {
        crate::on_tx!(tx, conn => self.insert().execute(&mut *conn).await.map(|_| ()))
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
