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
