//! A manager's notice to the homes of chosen accounts: one queued notice per home (a home with
//! electricity, water and gas accounts hears it once), delivered like any other notice by the
//! notifier. The form's nonce and the notice's words key each home's notice, so the same form
//! sent twice queues nothing twice, while a second, different notice from the same page does.

use super::{Engine, EngineError, form_key::form_key, tariffs::organisation_of};
use crate::{audit::AuditEntry, on_tx};
use app::domain::{
    AccountId, SiteId,
    site_notice::{KIND, SiteNotice},
};
use chrono::Utc;
use serde_json::json;
use std::collections::BTreeSet;

impl Engine {
    /// Queues `notice` for the residents of each of `wallets` (open accounts of the site) and
    /// answers how many homes it is for.
    pub async fn send_site_notice(
        &self,
        site: SiteId,
        wallets: &[AccountId],
        notice: &SiteNotice,
        nonce: &str,
        actor: i64,
    ) -> Result<usize, EngineError> {
        if wallets.is_empty() {
            return Err(EngineError::refused("Choose at least one account."));
        }
        let key = notice_key(site, nonce, notice)?;
        // `NoticeFacts`' heading and detail.
        let body = json!({ "heading": notice.heading(), "detail": notice.text() }).to_string();

        let _turn = self.turn().await;
        let now = Utc::now();
        let mut tx = self.db.begin_write().await?;
        // One wallet per home: the notice is addressed through a wallet, and reaches whoever
        // lives where that wallet is.
        let mut homes = BTreeSet::new();
        let mut addressed = Vec::new();
        for wallet in wallets {
            let home: Option<Option<i64>> = on_tx!(&mut tx, conn => {
                sqlx::query_scalar(
                    "SELECT occupancy_id FROM wallets WHERE account_id = $1 AND site_id = $2 \
                     AND closed_at IS NULL AND unit_id IS NOT NULL",
                )
                .bind(wallet.0)
                .bind(site.0)
                .fetch_optional(&mut *conn)
                .await
            })?;
            let Some(home) = home else {
                return Err(EngineError::refused(format!(
                    "Account {wallet} is not an open account of this site."
                )));
            };
            // A vacant unit's account has nobody to tell.
            if let Some(home) = home
                && homes.insert(home)
            {
                addressed.push((home, *wallet));
            }
        }
        let mut queued = 0;
        for (home, wallet) in &addressed {
            queued += on_tx!(&mut tx, conn => {
                sqlx::query(
                    "INSERT INTO notifications (site_id, wallet_account_id, audience, kind, body, dedupe_key, created_at) \
                     VALUES ($1, $2, 'resident', $3, $4, $5, $6) ON CONFLICT (dedupe_key) DO NOTHING",
                )
                .bind(site.0)
                .bind(wallet.0)
                .bind(KIND)
                .bind(&body)
                .bind(format!("{key}:{home}"))
                .bind(now)
                .execute(&mut *conn)
                .await
                .map(|done| done.rows_affected())
            })?;
        }
        // A form sent again queued nothing, and is not a second action to audit.
        if queued > 0 {
            let organisation = organisation_of(&mut tx, site).await?;
            AuditEntry::new("site_notice_sent", "site", site.0)
                .by(organisation, Some(actor))
                .after(json!({
                    "heading": notice.heading(),
                    "text": notice.text(),
                    "homes": addressed.len(),
                    "accounts": wallets.iter().map(|w| w.0).collect::<Vec<_>>(),
                }))
                .insert_tx(&mut tx)
                .await?;
        }
        tx.commit().await?;
        Ok(addressed.len())
    }
}

/// The key of one sending of one notice: the form it came from and its words.
fn notice_key(site: SiteId, nonce: &str, notice: &SiteNotice) -> Result<String, EngineError> {
    let sending = form_key(nonce, &[notice.heading(), notice.text()])?;
    Ok(format!("site-notice:{}:{sending}", site.0))
}
