//! The vending worker: issues every pending token once. The vendor is asked outside any
//! database transaction (a vending service may be slow); the answer is recorded only while the
//! token is still pending and the meter's counter still where the token was made from, so two
//! workers never issue one token twice or skip a count.

use super::{Format, IssueReport, Order, TokenMeter, Tokens, VendError, Vended, VendorKind};
use crate::{
    engine::{Engine, EngineError},
    on_db, on_tx,
};
use app::domain::tokens::grouped;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

/// A vending service that could not be reached is asked again this many times, waiting
/// twice as long each time from ten seconds up to ten minutes, then the token is failed for a
/// manager to look at (the sale stays in the ledger).
const MAX_ATTEMPTS: i32 = 12;

impl Tokens {
    /// Issues every pending token that is due. Safe to run from several places at once: a
    /// token is recorded only while still pending, and the meter's counter only moves from
    /// the value the token was made from.
    pub async fn issue_pending(&self, now: DateTime<Utc>) -> Result<IssueReport, EngineError> {
        let due: Vec<i64> = on_db!(&self.engine.db, pool => {
            sqlx::query_scalar(
                "SELECT id FROM meter_tokens WHERE status = 'pending' \
                 AND (next_attempt_at IS NULL OR next_attempt_at <= $1) ORDER BY id LIMIT 200",
            )
            .bind(now)
            .fetch_all(pool)
            .await
        })?;
        let mut report = IssueReport::default();
        for id in due {
            match self.issue_one(id, now).await? {
                Some(Outcome::Issued) => report.issued += 1,
                Some(Outcome::Retrying) => report.retrying += 1,
                Some(Outcome::Failed) => report.failed += 1,
                None => {}
            }
        }
        Ok(report)
    }

    async fn issue_one(&self, id: i64, now: DateTime<Utc>) -> Result<Option<Outcome>, EngineError> {
        let Some(job) = load_job(&self.engine, id).await? else {
            return Ok(None);
        };
        let result = match self.vendors.get(&job.meter.vendor) {
            Some(vendor) => vendor.vend(&job.meter, &job.public_id, job.order).await,
            None => Err(VendError::Refused(format!(
                "no {} vending service is configured",
                job.meter.vendor.as_str()
            ))),
        };
        let _turn = self.engine.turn().await;
        let mut tx = self.engine.db.begin_write().await?;
        let outcome = match result {
            Ok(vended) => {
                if !record_issued(&mut tx, &job, &vended, now).await? {
                    return Ok(None); // issued or moved on meanwhile: the next round decides
                }
                Outcome::Issued
            }
            Err(error @ VendError::Unavailable(_)) if job.attempts + 1 < MAX_ATTEMPTS => {
                let wait = Duration::seconds(10 * (1_i64 << job.attempts.min(6)))
                    .min(Duration::minutes(10));
                tracing::warn!(token = %job.public_id, %error, "vending failed; asking again later");
                on_tx!(&mut tx, conn => {
                    sqlx::query(
                        "UPDATE meter_tokens SET attempts = attempts + 1, next_attempt_at = $1, failure = $2 \
                         WHERE id = $3 AND status = 'pending'",
                    )
                    .bind(now + wait)
                    .bind(error.to_string())
                    .bind(id)
                    .execute(&mut *conn)
                    .await
                    .map(|_| ())
                })?;
                Outcome::Retrying
            }
            Err(error) => {
                tracing::warn!(token = %job.public_id, %error, "a token could not be issued");
                on_tx!(&mut tx, conn => {
                    sqlx::query(
                        "UPDATE meter_tokens SET status = 'failed', attempts = attempts + 1, failure = $1 \
                         WHERE id = $2 AND status = 'pending'",
                    )
                    .bind(error.to_string())
                    .bind(id)
                    .execute(&mut *conn)
                    .await
                    .map(|_| ())
                })?;
                Outcome::Failed
            }
        };
        tx.commit().await?;
        Ok(Some(outcome))
    }
}

enum Outcome {
    Issued,
    Retrying,
    Failed,
}

struct Job {
    public_id: String,
    site: i64,
    wallet: Option<i64>,
    order: Order,
    units: Option<String>,
    unit_of_measure: String,
    attempts: i32,
    meter: TokenMeter,
}

#[derive(sqlx::FromRow)]
struct JobRow {
    public_id: String,
    site_id: i64,
    wallet_account_id: Option<i64>,
    kind: String,
    token_value: Option<i64>,
    units: Option<String>,
    attempts: i32,
    meter_id: i64,
    serial: String,
    unit_of_measure: String,
    vendor: String,
    sealed_key: Option<String>,
    starting_code: Option<i64>,
    last_count: i64,
    extended: bool,
    restricted: bool,
    value_step: String,
}

async fn load_job(engine: &Engine, id: i64) -> Result<Option<Job>, EngineError> {
    let row: Option<JobRow> = on_db!(&engine.db, pool => {
        sqlx::query_as(
            "SELECT t.public_id, t.site_id, t.wallet_account_id, t.kind, t.token_value, t.units, t.attempts, \
             m.id AS meter_id, m.serial, m.unit_of_measure, k.vendor, k.sealed_key, k.starting_code, k.last_count, \
             k.extended, k.restricted, k.value_step FROM meter_tokens t JOIN meters m ON m.id = t.meter_id \
             JOIN token_meters k ON k.meter_id = t.meter_id WHERE t.id = $1 AND t.status = 'pending'",
        )
        .bind(id)
        .fetch_optional(pool)
        .await
    })?;
    let Some(row) = row else {
        return Ok(None);
    };
    let order = Order::from_row(&row.kind, row.token_value)
        .ok_or_else(|| EngineError::Corrupt(row.kind.clone()))?;
    let vendor =
        VendorKind::parse(&row.vendor).ok_or_else(|| EngineError::Corrupt(row.vendor.clone()))?;
    Ok(Some(Job {
        order,
        meter: TokenMeter {
            id: row.meter_id,
            serial: row.serial,
            vendor,
            sealed_key: row.sealed_key,
            starting_code: row.starting_code,
            last_count: u32::try_from(row.last_count)
                .map_err(|_| EngineError::Corrupt("a token counter".into()))?,
            format: Format {
                extended: row.extended,
                restricted: row.restricted,
            },
            value_step: crate::engine::decimal(&row.value_step)?,
        },
        public_id: row.public_id,
        site: row.site_id,
        wallet: row.wallet_account_id,
        units: row.units,
        attempts: row.attempts,
        unit_of_measure: row.unit_of_measure,
    }))
}

/// Records a token as issued, moves the meter's counter from where the token was made, and
/// tells the resident. False (nothing written) when either moved meanwhile.
async fn record_issued(
    tx: &mut crate::db::Tx,
    job: &Job,
    vended: &Vended,
    now: DateTime<Utc>,
) -> Result<bool, EngineError> {
    if let Some(count) = vended.count {
        let moved = on_tx!(&mut *tx, conn => {
            sqlx::query("UPDATE token_meters SET last_count = $1 WHERE meter_id = $2 AND last_count = $3")
                .bind(i64::from(count))
                .bind(job.meter.id)
                .bind(i64::from(job.meter.last_count))
                .execute(&mut *conn)
                .await
                .map(|done| done.rows_affected())
        })?;
        if moved == 0 {
            return Ok(false);
        }
    }
    let recorded = on_tx!(&mut *tx, conn => {
        sqlx::query(
            "UPDATE meter_tokens SET status = 'issued', digits = $1, token_count = $2, issued_at = $3, failure = NULL, \
             attempts = attempts + 1 WHERE public_id = $4 AND status = 'pending'",
        )
        .bind(&vended.digits)
        .bind(vended.count.map(i64::from))
        .bind(now)
        .bind(&job.public_id)
        .execute(&mut *conn)
        .await
        .map(|done| done.rows_affected())
    })?;
    if recorded == 0 {
        return Ok(false);
    }
    if let Some(wallet) = job.wallet {
        TokenNotice {
            site: job.site,
            wallet,
            digits: &vended.digits,
            units: job.units.as_deref(),
            unit_of_measure: &job.unit_of_measure,
            dedupe: format!("token:{}", job.public_id),
        }
        .queue(tx, now)
        .await?;
    }
    Ok(true)
}

/// "Your token is …": queued for the resident's devices and in-app list.
pub(super) struct TokenNotice<'a> {
    pub site: i64,
    pub wallet: i64,
    pub digits: &'a str,
    pub units: Option<&'a str>,
    pub unit_of_measure: &'a str,
    pub dedupe: String,
}

impl TokenNotice<'_> {
    pub async fn queue(
        &self,
        tx: &mut crate::db::Tx,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        let detail = self
            .units
            .map(|units| format!("{units} {}", self.unit_of_measure))
            .unwrap_or_default();
        let body = json!({
            "account": self.wallet,
            "token": grouped(self.digits),
            "detail": detail,
        });
        on_tx!(tx, conn => {
            sqlx::query(
                "INSERT INTO notifications (site_id, wallet_account_id, audience, kind, body, dedupe_key, created_at) \
                 VALUES ($1, $2, 'resident', 'token_issued', $3, $4, $5) ON CONFLICT (dedupe_key) DO NOTHING",
            )
            .bind(self.site)
            .bind(self.wallet)
            .bind(body.to_string())
            .bind(&self.dedupe)
            .bind(now)
            .execute(&mut *conn)
            .await
            .map(|_| ())
        })
    }
}
