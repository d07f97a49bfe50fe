//! A tenant's monthly statement, read from the ledger and the usage roll-ups in one read
//! transaction, so its opening balance, its lines and its closing balance are one snapshot.

use super::{
    Engine, EngineError,
    reports::cost_minor,
    views::{Row, SELECT, STATEMENT_LINES, StatementRow, day_lines, view},
};
use crate::{on_db, on_tx};
use app::domain::{
    AccountId, SiteId,
    month_statement::{BATCH_MAX, MeterUse, Month, MonthStatement, StatementBatch},
    tariff::local_midnight,
};
use chrono::{DateTime, Utc};

/// The sum of an account's entries posted before an instant: its balance then.
const BALANCE_BEFORE: &str = "SELECT CAST(COALESCE(SUM(e.amount_minor), 0) AS BIGINT) \
    FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id \
    WHERE e.account_id = $1 AND t.posted_at < $2";

type UseRow = (String, String, String, i64, i64);

impl Engine {
    /// The account's statement for the month asked (the current one when `None`), in its
    /// site's local time, as it stands at `now`.
    pub async fn month_statement(
        &self,
        account: AccountId,
        asked: Option<Month>,
        now: DateTime<Utc>,
    ) -> Result<MonthStatement, EngineError> {
        let mut tx = self.db.begin_read().await?;
        let sql = format!("{SELECT} WHERE w.account_id = $1");
        let row: Option<Row> = on_tx!(&mut tx, conn => {
            sqlx::query_as(&sql).bind(account.0).fetch_optional(&mut *conn).await
        })?;
        let row = row.ok_or(EngineError::NotFound("account"))?;
        let rules = row.terms()?;
        let today = now.with_timezone(&rules.tz).date_naive();
        let month = Month::resolve(asked, today).map_err(EngineError::Refused)?;
        let start = local_midnight(&rules.tz, month.first_day());
        let end = local_midnight(&rules.tz, month.end());
        let lines_sql = format!(
            "{STATEMENT_LINES} WHERE e.account_id = $1 AND t.posted_at >= $2 AND t.posted_at < $3 \
             ORDER BY t.posted_at, t.id"
        );
        type Found = (i64, i64, Vec<StatementRow>, Vec<UseRow>);
        let (opening, closing, lines, uses): Found = on_tx!(&mut tx, conn => {
            let opening = sqlx::query_scalar(BALANCE_BEFORE)
                .bind(account.0).bind(start).fetch_one(&mut *conn).await?;
            let closing = sqlx::query_scalar(BALANCE_BEFORE)
                .bind(account.0).bind(end).fetch_one(&mut *conn).await?;
            let lines = sqlx::query_as(&lines_sql)
                .bind(account.0).bind(start).bind(end).fetch_all(&mut *conn).await?;
            let uses = sqlx::query_as(
                "SELECT m.serial, m.utility, m.unit_of_measure, \
                 CAST(SUM(d.quantity_micro) AS BIGINT), CAST(SUM(d.cost_micro) AS BIGINT) \
                 FROM usage_daily d JOIN meters m ON m.id = d.meter_id \
                 WHERE d.wallet_account_id = $1 AND d.day >= $2 AND d.day <= $3 \
                 GROUP BY m.id, m.serial, m.utility, m.unit_of_measure ORDER BY m.utility, m.serial",
            )
            .bind(account.0).bind(month.first_day()).bind(month.last_day())
            .fetch_all(&mut *conn).await?;
            Ok::<_, sqlx::Error>((opening, closing, lines, uses))
        })?;
        let meters = uses
            .into_iter()
            .map(|(serial, utility, unit_of_measure, quantity, cost)| {
                Ok(MeterUse {
                    utility: utility
                        .parse()
                        .map_err(|_| EngineError::Corrupt(format!("utility {utility:?}")))?,
                    serial,
                    unit_of_measure,
                    quantity_micro: quantity,
                    cost_minor: cost_minor(cost, rules.digits).0,
                })
            })
            .collect::<Result<_, EngineError>>()?;
        let site_name = row.site_name.clone();
        Ok(MonthStatement {
            lines: day_lines(lines, &rules),
            account: view(row, &rules),
            site_name,
            month,
            digits: rules.digits,
            opening_minor: opening,
            closing_minor: closing,
            meters,
            issued: now.with_timezone(&rules.tz).naive_local(),
            to_date: month.end() > today,
        })
    }
}

impl Engine {
    /// The statements of every account of the site (of one building, when named) open at
    /// some time in the month asked, in building and unit order; each read as
    /// [`Engine::month_statement`] reads one, at most [`BATCH_MAX`]. `building` is a name
    /// the server function has trimmed, or `None` for all.
    pub async fn statement_batch(
        &self,
        site: SiteId,
        building: Option<String>,
        asked: Option<Month>,
        now: DateTime<Utc>,
    ) -> Result<StatementBatch, EngineError> {
        let heading = self.site_heading(site).await?;
        let today = now.with_timezone(&heading.tz).date_naive();
        let month = Month::resolve(asked, today).map_err(EngineError::Refused)?;
        let start = local_midnight(&heading.tz, month.first_day());
        let end = local_midnight(&heading.tz, month.end());
        type Found = (Vec<String>, Vec<i64>);
        let (buildings, accounts): Found = on_db!(&self.db, pool => {
            let buildings = sqlx::query_scalar("SELECT name FROM buildings WHERE site_id = $1 ORDER BY name")
                .bind(site.0)
                .fetch_all(pool)
                .await?;
            let accounts = sqlx::query_scalar(
                "SELECT w.account_id FROM wallets w JOIN units u ON u.id = w.unit_id \
                 JOIN buildings b ON b.id = u.building_id JOIN accounts a ON a.id = w.account_id \
                 WHERE w.site_id = $1 AND ($2 IS NULL OR b.name = $2) AND w.opened_at < $4 \
                 AND (w.closed_at IS NULL OR w.closed_at >= $3) \
                 ORDER BY b.name, u.name, a.utility, w.account_id",
            )
            .bind(site.0)
            .bind(building.as_deref())
            .bind(start)
            .bind(end)
            .fetch_all(pool)
            .await?;
            Ok::<_, sqlx::Error>((buildings, accounts))
        })?;
        if let Some(name) = &building
            && !buildings.contains(name)
        {
            return Err(EngineError::refused(format!(
                "The site has no building called {name}."
            )));
        }
        let left_out = accounts.len().saturating_sub(BATCH_MAX);
        let mut statements = Vec::with_capacity(accounts.len().min(BATCH_MAX));
        for account in accounts.into_iter().take(BATCH_MAX) {
            statements.push(
                self.month_statement(AccountId(account), Some(month), now)
                    .await?,
            );
        }
        Ok(StatementBatch {
            site_name: heading.name,
            currency: heading.currency,
            digits: heading.digits,
            buildings,
            building,
            month,
            statements,
            left_out,
        })
    }
}
