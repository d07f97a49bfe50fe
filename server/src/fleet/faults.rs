//! Fault reports: a resident tells their site's managers what is wrong; the managers see it in
//! the fleet console, hear of it as a notice, and close it with a note. Each report and each
//! closing is one transaction with its notice and its audit entry.

use super::{Fleet, FleetError};
use crate::{
    audit::AuditEntry,
    engine::{EngineError, form_key::form_key},
    on_db, on_tx,
};
use app::domain::faults::{FaultKind, FaultReport, FaultView};
use chrono::{DateTime, Utc};
use serde_json::json;

/// What a report's notice quotes of its words; the console shows them all.
const QUOTED: usize = 140;

/// Which reports a list holds.
pub enum FaultsOf {
    /// A site's open reports, and its closed ones too if asked.
    Site { site: i64, closed: bool },
    /// Everything reported about one account, for its resident.
    Account(i64),
}

impl Fleet {
    /// Files a report about `account` by `reporter`; the form's `nonce` makes sending the same
    /// report twice one report (another report from the same page is another). Answers the
    /// report's number and whether it was a repeat.
    pub async fn report_fault(
        &self,
        reporter: i64,
        account: i64,
        report: &FaultReport,
        nonce: &str,
    ) -> Result<(i64, bool), FleetError> {
        let nonce = &form_key(nonce, &[report.kind.as_str(), &report.details])?;
        let now = Utc::now();
        let _turn = self.engine().turn().await;
        let mut tx = self.engine().db.begin_write().await?;
        let place: Option<(i64, i64, String)> = on_tx!(&mut tx, conn => {
            sqlx::query_as(
                "SELECT w.site_id, s.organisation_id, b.name || ' · ' || u.name FROM wallets w \
                 JOIN sites s ON s.id = w.site_id JOIN units u ON u.id = w.unit_id \
                 JOIN buildings b ON b.id = u.building_id WHERE w.account_id = $1",
            )
            .bind(account)
            .fetch_optional(&mut *conn)
            .await
        })?;
        let (site, org, place) = place.ok_or(EngineError::NotFound("account"))?;
        let inserted: Option<i64> = on_tx!(&mut tx, conn => {
            sqlx::query_scalar(
                "INSERT INTO fault_reports (site_id, wallet_account_id, reporter_user_id, kind, details, nonce, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (nonce) DO NOTHING RETURNING id",
            )
            .bind(site)
            .bind(account)
            .bind(reporter)
            .bind(report.kind.as_str())
            .bind(&report.details)
            .bind(nonce)
            .bind(now)
            .fetch_optional(&mut *conn)
            .await
        })?;
        let Some(id) = inserted else {
            return self.repeated(&mut tx, reporter, account, nonce).await;
        };
        let quoted: String = report.details.chars().take(QUOTED).collect();
        let ellipsis = if quoted.len() < report.details.len() {
            "…"
        } else {
            ""
        };
        let body = json!({
            "account": account,
            "fault": id,
            "detail": format!("{place}: {}. “{quoted}{ellipsis}”", report.kind.label()),
        })
        .to_string();
        on_tx!(&mut tx, conn => {
            sqlx::query(
                "INSERT INTO notifications (site_id, wallet_account_id, audience, kind, body, dedupe_key, created_at) \
                 VALUES ($1, $2, 'managers', 'fault_report', $3, $4, $5)",
            )
            .bind(site)
            .bind(account)
            .bind(&body)
            .bind(format!("fault:{id}"))
            .bind(now)
            .execute(&mut *conn)
            .await
            .map(|_| ())
        })?;
        AuditEntry::new("fault_reported", "fault_report", id)
            .by(org, Some(reporter))
            .after(json!({ "account": account, "kind": report.kind.as_str() }))
            .insert_tx(&mut tx)
            .await?;
        tx.commit().await?;
        Ok((id, false))
    }

    /// A nonce seen before: the same report again if it is the same person about the same
    /// account, otherwise a stale form.
    async fn repeated(
        &self,
        tx: &mut crate::db::Tx,
        reporter: i64,
        account: i64,
        nonce: &str,
    ) -> Result<(i64, bool), FleetError> {
        let first: Option<(i64, i64, i64)> = on_tx!(tx, conn => {
            sqlx::query_as(
                "SELECT id, reporter_user_id, wallet_account_id FROM fault_reports WHERE nonce = $1",
            )
            .bind(nonce)
            .fetch_optional(&mut *conn)
            .await
        })?;
        match first {
            Some((id, by, about)) if by == reporter && about == account => Ok((id, true)),
            _ => Err(EngineError::refused("The form is out of date: reload the page.").into()),
        }
    }

    /// Closes an open report with what was done.
    pub async fn close_fault(&self, actor: i64, fault: i64, note: &str) -> Result<(), FleetError> {
        let note = note.trim();
        if note.is_empty() || note.chars().count() > 500 {
            return Err(EngineError::refused("Say in a few words what was done.").into());
        }
        let _turn = self.engine().turn().await;
        let mut tx = self.engine().db.begin_write().await?;
        let closed = on_tx!(&mut tx, conn => {
            sqlx::query(
                "UPDATE fault_reports SET closed_at = $1, closed_by_user_id = $2, closing_note = $3 \
                 WHERE id = $4 AND closed_at IS NULL",
            )
            .bind(Utc::now())
            .bind(actor)
            .bind(note)
            .bind(fault)
            .execute(&mut *conn)
            .await
            .map(|done| done.rows_affected())
        })?;
        if closed == 0 {
            return Err(EngineError::refused("This report is closed already.").into());
        }
        AuditEntry::new("fault_closed", "fault_report", fault)
            .by_actor(Some(actor))
            .after(json!({ "note": note }))
            .insert_tx(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The site a report belongs to, with its organisation.
    pub async fn fault_site(&self, fault: i64) -> Result<Option<(i64, i64)>, FleetError> {
        Ok(on_db!(&self.engine().db, pool => {
            sqlx::query_as(
                "SELECT f.site_id, s.organisation_id FROM fault_reports f JOIN sites s ON s.id = f.site_id \
                 WHERE f.id = $1",
            )
            .bind(fault)
            .fetch_optional(pool)
            .await
        })?)
    }

    /// Reports, newest first.
    pub async fn faults(&self, of: FaultsOf) -> Result<Vec<FaultView>, FleetError> {
        type Row = (
            i64,
            DateTime<Utc>,
            String,
            i64,
            String,
            String,
            String,
            Option<DateTime<Utc>>,
            Option<String>,
            String,
        );
        let (filter, key, closed) = match of {
            FaultsOf::Site { site, closed } => (
                "f.site_id = $1 AND (f.closed_at IS NULL OR $2)",
                site,
                closed,
            ),
            FaultsOf::Account(account) => ("f.wallet_account_id = $1 AND $2", account, true),
        };
        let sql = format!(
            "SELECT f.id, f.created_at, b.name || ' · ' || u.name, f.wallet_account_id, f.kind, f.details, \
             p.display_name, f.closed_at, f.closing_note, s.time_zone FROM fault_reports f \
             JOIN sites s ON s.id = f.site_id \
             JOIN wallets w ON w.account_id = f.wallet_account_id JOIN units u ON u.id = w.unit_id \
             JOIN buildings b ON b.id = u.building_id JOIN users p ON p.id = f.reporter_user_id \
             WHERE {filter} ORDER BY f.id DESC LIMIT 200"
        );
        let rows: Vec<Row> = on_db!(&self.engine().db, pool => {
            sqlx::query_as(&sql).bind(key).bind(closed).fetch_all(pool).await
        })?;
        rows.into_iter()
            .map(
                |(
                    id,
                    created_at,
                    place,
                    account,
                    kind,
                    details,
                    reporter,
                    closed_at,
                    note,
                    zone,
                )| {
                    let tz = crate::engine::time_zone(&zone)?;
                    let local = |at: DateTime<Utc>| at.with_timezone(&tz).naive_local();
                    Ok(FaultView {
                        created_local: local(created_at),
                        closed_local: closed_at.map(local),
                        id,
                        created_at,
                        place,
                        account,
                        kind: FaultKind::parse(&kind)
                            .ok_or_else(|| FleetError::Corrupt(format!("fault kind {kind:?}")))?,
                        details,
                        reporter,
                        closed_at,
                        closing_note: note,
                    })
                },
            )
            .collect()
    }
}
