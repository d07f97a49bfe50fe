//! Throttling of failed sign-ins, per client address and per account, over a sliding window.
//! Kept in the database so that every server instance counts the same failures.

use crate::{config::ThrottleConfig, db::Db, on_db, on_db_write};
use chrono::{DateTime, Duration, Utc};

#[derive(Clone, Copy, Debug)]
pub enum Scope {
    Address,
    Account,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Scope::Address => "address",
            Scope::Account => "account",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Throttle {
    db: Db,
    config: ThrottleConfig,
}

impl Throttle {
    pub fn new(db: Db, config: ThrottleConfig) -> Self {
        Self { db, config }
    }

    fn window(&self) -> Duration {
        Duration::minutes(self.config.window_minutes.max(1))
    }

    /// `Some(minutes)` to wait when either the address or the account has used up its
    /// failures in the window; `None` when a sign-in may be tried.
    pub async fn blocked_for(
        &self,
        address: &str,
        account: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<u32>, sqlx::Error> {
        let limits = [
            (
                Scope::Address,
                address,
                self.config.max_failures_per_address,
            ),
            (
                Scope::Account,
                account,
                self.config.max_failures_per_account,
            ),
        ];
        let mut wait: Option<Duration> = None;
        for (scope, key, limit) in limits {
            let (count, oldest) = self.failures(scope, key, now).await?;
            if count >= limit
                && let Some(oldest) = oldest
            {
                let until = oldest + self.window() - now;
                wait = Some(wait.map_or(until, |w| w.max(until)));
            }
        }
        Ok(wait.map(|wait| (wait.num_seconds().max(1) as u32).div_ceil(60)))
    }

    async fn failures(
        &self,
        scope: Scope,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<(i64, Option<DateTime<Utc>>), sqlx::Error> {
        let since = now - self.window();
        on_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT COUNT(*), MIN(at) FROM sign_in_failures WHERE scope = $1 AND key = $2 AND at > $3",
            )
            .bind(scope.as_str())
            .bind(key)
            .bind(since)
            .fetch_one(pool)
            .await
        })
    }

    pub async fn record_failure(
        &self,
        address: &str,
        account: &str,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        let stale = now - self.window() * 4;
        on_db_write!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            for (scope, key) in [(Scope::Address, address), (Scope::Account, account)] {
                sqlx::query("INSERT INTO sign_in_failures (scope, key, at) VALUES ($1, $2, $3)")
                    .bind(scope.as_str())
                    .bind(key)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            // Old failures no longer count; keep the table small.
            sqlx::query("DELETE FROM sign_in_failures WHERE at < $1").bind(stale).execute(&mut *tx).await?;
            tx.commit().await
        })
    }

    /// A successful sign-in forgives the account's failures (not the address's: one address
    /// trying many accounts stays throttled).
    pub async fn forgive_account(&self, account: &str) -> Result<(), sqlx::Error> {
        on_db_write!(&self.db, pool => {
            sqlx::query("DELETE FROM sign_in_failures WHERE scope = 'account' AND key = $1")
                .bind(account)
                .execute(pool)
                .await
                .map(|_| ())
        })
    }
}
