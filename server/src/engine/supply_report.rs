//! The warnings and cut-offs report, from the notices the engine queues at each change of an
//! account's supply (`supply::queue_notice`): one read of the site's notices over the days
//! (through their index by site and time), one naming the few accounts cut more than once, and
//! one counting the accounts cut now.

use super::{Engine, EngineError, reports::LocalDays};
use crate::on_db;
use app::domain::{
    SiteId,
    reports::DaysAsked,
    supply_report::{Happening, SupplyEvent, SupplyReport, often_cut_accounts},
};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

impl Engine {
    pub async fn supply_report(
        &self,
        site: SiteId,
        asked: DaysAsked,
    ) -> Result<SupplyReport, EngineError> {
        let LocalDays {
            heading,
            days,
            start,
            end,
        } = self.local_days(site, asked).await?;
        let rows: Vec<(DateTime<Utc>, i64, String)> = on_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT created_at, wallet_account_id, kind FROM notifications \
                 WHERE site_id = $1 AND created_at >= $2 AND created_at < $3 \
                 AND wallet_account_id IS NOT NULL",
            )
            .bind(site.0)
            .bind(start)
            .bind(end)
            .fetch_all(pool)
            .await
        })?;
        let happenings: Vec<Happening> = rows
            .into_iter()
            .filter_map(|(at, account, kind)| {
                Some(Happening {
                    day: at.with_timezone(&heading.tz).date_naive(),
                    account,
                    event: SupplyEvent::of_kind(&kind)?,
                })
            })
            .collect();
        let places = self.places(&often_cut_accounts(&happenings)).await?;
        let cut_now: i64 = on_db!(&self.db, pool => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM wallets WHERE site_id = $1 AND closed_at IS NULL \
                 AND supply_state IN ('cut', 'restricted')",
            )
            .bind(site.0)
            .fetch_one(pool)
            .await
        })?;
        Ok(SupplyReport::new(
            heading.name,
            days,
            &happenings,
            &places,
            usize::try_from(cut_now).unwrap_or_default(),
        ))
    }

    /// "Building · unit · utility" (or "· whole unit") for each wallet named.
    async fn places(&self, wallets: &[i64]) -> Result<HashMap<i64, String>, EngineError> {
        if wallets.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT w.account_id, b.name, u.name, m.utility FROM wallets w \
             LEFT JOIN meters m ON m.id = w.meter_id \
             JOIN units u ON u.id = COALESCE(w.unit_id, m.unit_id) \
             JOIN buildings b ON b.id = u.building_id WHERE w.account_id IN ({})",
            crate::db::placeholders(1, wallets.len())
        );
        let rows: Vec<(i64, String, String, Option<String>)> = on_db!(&self.db, pool => {
            let mut query = sqlx::query_as(&sql);
            for wallet in wallets {
                query = query.bind(*wallet);
            }
            query.fetch_all(pool).await
        })?;
        Ok(rows
            .into_iter()
            .map(|(wallet, building, unit, utility)| {
                let utility = utility.unwrap_or_else(|| "whole unit".into());
                (wallet, format!("{building} · {unit} · {utility}"))
            })
            .collect())
    }
}
