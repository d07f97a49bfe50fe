//! Closing a site's books through a day: recorded with who closed them and how many ledger
//! transactions the closed period holds. The lock itself is in `ledger::post` (nothing posted
//! at a time inside a closed period) and in voiding a receipt (none taken in a closed period).

use super::{Engine, EngineError, setup::SiteHeading, tariffs::organisation_of};
use crate::{audit::AuditEntry, on_db, on_tx};
use app::domain::{
    SiteId,
    periods::{PeriodClose, Periods, check_through},
    tariff::local_midnight,
};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

#[derive(sqlx::FromRow)]
struct CloseRow {
    through_day: NaiveDate,
    transactions: i64,
    closed_by: String,
    closed_at: DateTime<Utc>,
}

const CLOSES: &str = "SELECT c.through_day, c.transactions, u.display_name AS closed_by, c.closed_at \
    FROM period_closes c JOIN users u ON u.id = c.closed_by WHERE c.site_id = $1 \
    ORDER BY c.through_day DESC";

impl Engine {
    /// The site's closes, newest first, and today on its clock.
    pub async fn periods(&self, site: SiteId) -> Result<Periods, EngineError> {
        let SiteHeading { name, tz, .. } = self.site_heading(site).await?;
        let rows: Vec<CloseRow> = on_db!(&self.db, pool => {
            sqlx::query_as(CLOSES).bind(site.0).fetch_all(pool).await
        })?;
        Ok(Periods {
            site_name: name,
            today: Utc::now().with_timezone(&tz).date_naive(),
            closes: rows
                .into_iter()
                .map(|row| PeriodClose {
                    through: row.through_day,
                    transactions: row.transactions,
                    closed_by: row.closed_by,
                    closed_at_local: row.closed_at.with_timezone(&tz).naive_local(),
                })
                .collect(),
            may_close: false,
        })
    }

    /// Closes the site's books through `through`, a day on its clock that has ended and is not
    /// before the last close. Closing the same day again is a success that changes nothing;
    /// answers whether this call closed it.
    pub async fn close_period(
        &self,
        site: SiteId,
        through: NaiveDate,
        actor: i64,
    ) -> Result<bool, EngineError> {
        let SiteHeading { tz, .. } = self.site_heading(site).await?;
        let now = Utc::now();
        let today = now.with_timezone(&tz).date_naive();
        let next_day = through
            .succ_opt()
            .ok_or_else(|| EngineError::refused("That day cannot be closed."))?;
        let closes_at = local_midnight(&tz, next_day);
        let _turn = self.turn().await;
        let mut tx = self.db.begin_write().await?;
        let last: Option<NaiveDate> = on_tx!(&mut tx, conn => {
            sqlx::query_scalar("SELECT MAX(through_day) FROM period_closes WHERE site_id = $1")
                .bind(site.0)
                .fetch_one(&mut *conn)
                .await
        })?;
        if last == Some(through) {
            return Ok(false);
        }
        check_through(through, today, last).map_err(EngineError::Refused)?;
        let transactions: i64 = on_tx!(&mut tx, conn => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM ledger_transactions WHERE site_id = $1 AND posted_at < $2",
            )
            .bind(site.0)
            .bind(closes_at)
            .fetch_one(&mut *conn)
            .await
        })?;
        on_tx!(&mut tx, conn => {
            sqlx::query(
                "INSERT INTO period_closes (site_id, through_day, closes_at, transactions, closed_by, closed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(site.0)
            .bind(through)
            .bind(closes_at)
            .bind(transactions)
            .bind(actor)
            .bind(now)
            .execute(&mut *conn)
            .await
            .map(|_| ())
        })?;
        let organisation = organisation_of(&mut tx, site).await?;
        AuditEntry::new("period_closed", "site", site.0)
            .by(organisation, Some(actor))
            .before(json!({ "closed_through": last }))
            .after(json!({ "closed_through": through, "transactions": transactions }))
            .insert_tx(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }
}
