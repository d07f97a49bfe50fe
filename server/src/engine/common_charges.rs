//! Common charges: a bill the residents share, shared out across the accounts a manager chose
//! (equally, or by what each used of one utility over some days) and asked for as one
//! adjustment request, so a second person approves every share before anything is charged.

use super::{
    Engine, EngineError, FEEDS_OTHERS,
    adjustments::{Asked, account_label, asked_before, insert_request},
    form_key::form_key,
    money::adjustment_reason,
    reports::LocalDays,
    setup::SiteHeading,
};
use crate::{db::Tx, on_tx};
use app::domain::{
    AccountId, Minor, SiteId, Utility,
    adjustments::MAX_ACCOUNTS,
    common_charges::{Share, ShareRule, SharedCharge, Sharing, share_out},
    reports::quantity,
};
use chrono::Utc;
use std::collections::HashMap;

impl Engine {
    /// Shares `total` (a charge, more than zero) across `wallets` (open accounts of the site)
    /// and asks for it as one adjustment request. Accounts whose share comes to nothing are
    /// left out. The same form (the page's `nonce`) sent again with the same charge, sharing
    /// and reason answers the request it made; with others it asks anew.
    #[allow(clippy::too_many_arguments)]
    pub async fn request_shared_charge(
        &self,
        site: SiteId,
        wallets: &[AccountId],
        total: Minor,
        sharing: &Sharing,
        reason: &str,
        nonce: &str,
        actor: i64,
    ) -> Result<SharedCharge, EngineError> {
        let reason = adjustment_reason(reason)?;
        let day =
            |day: Option<chrono::NaiveDate>| day.map(|day| day.to_string()).unwrap_or_default();
        let form_key = &form_key(
            nonce,
            &[
                &total.0.to_string(),
                sharing.rule.as_str(),
                sharing.measure.map_or("", |utility| utility.as_str()),
                &day(sharing.days.from),
                &day(sharing.days.to),
                reason,
            ],
        )?;
        if total <= Minor::ZERO {
            return Err(EngineError::refused(
                "The charge to share must be more than zero.",
            ));
        }
        if wallets.is_empty() {
            return Err(EngineError::refused("Choose at least one account."));
        }
        if wallets.len() > MAX_ACCOUNTS {
            return Err(EngineError::refused(format!(
                "Share among at most {MAX_ACCOUNTS} accounts at once: narrow the search."
            )));
        }
        let weights = self.weights(site, wallets, sharing).await?;
        let heading = self.site_heading(site).await?;
        let weighed: Vec<u64> = wallets
            .iter()
            .map(|wallet| match &weights {
                Weights::Equal => 1,
                Weights::Used { used, .. } => used.get(&wallet.0).copied().unwrap_or(0),
            })
            .collect();
        let shares = share_out(-total, &weighed).ok_or_else(|| {
            EngineError::refused(
                "None of these accounts used any of it over those days: share it equally or choose other days.",
            )
        })?;
        let lines: Vec<(AccountId, Option<Minor>)> = wallets
            .iter()
            .zip(shares)
            .filter(|(_, share)| *share != Minor::ZERO)
            .map(|(wallet, share)| (*wallet, Some(share)))
            .collect();
        let _turn = self.turn().await;
        let mut tx = self.db.begin_write().await?;
        let request = match asked_before(&mut tx, site, form_key).await? {
            Some(request) => request,
            None => {
                let asked = Asked {
                    site,
                    form_key,
                    amount: -total,
                    reason,
                    share_rule: Some(sharing.rule),
                    actor,
                    now: Utc::now(),
                };
                insert_request(&mut tx, asked, &lines).await?
            }
        };
        let used = match &weights {
            Weights::Equal => None,
            Weights::Used { unit, used } => Some((*unit, used)),
        };
        let charge = shared_charge(&mut tx, &heading, request, used).await?;
        tx.commit().await?;
        Ok(SharedCharge {
            left_out: wallets.len().saturating_sub(charge.shares.len()),
            ..charge
        })
    }

    /// What each account weighs: the same, or what it used of the utility over the days.
    async fn weights(
        &self,
        site: SiteId,
        wallets: &[AccountId],
        sharing: &Sharing,
    ) -> Result<Weights, EngineError> {
        if sharing.rule == ShareRule::Equally {
            return Ok(Weights::Equal);
        }
        let utility = sharing.measure.ok_or_else(|| {
            EngineError::refused("Choose which utility's use to share the charge by.")
        })?;
        let LocalDays { days, .. } = self.local_days(site, sharing.days).await?;
        let mut tx = self.db.begin_read().await?;
        let rows: Vec<(i64, i64)> = on_tx!(&mut tx, conn => {
            // A bulk meter's use is its sub-meters': counted for its unit, it would weigh that
            // account with the whole building's.
            sqlx::query_as(&format!(
                "SELECT d.wallet_account_id, CAST(SUM(d.quantity_micro) AS BIGINT) FROM usage_daily d \
                 JOIN wallets w ON w.account_id = d.wallet_account_id JOIN meters m ON m.id = d.meter_id \
                 WHERE w.site_id = $1 AND m.utility = $2 AND d.day >= $3 AND d.day <= $4 AND NOT {FEEDS_OTHERS} \
                 GROUP BY d.wallet_account_id"
            ))
            .bind(site.0)
            .bind(utility.as_str())
            .bind(days.from)
            .bind(days.to)
            .fetch_all(&mut *conn)
            .await
        })?;
        let asked: std::collections::HashSet<i64> = wallets.iter().map(|w| w.0).collect();
        let used = rows
            .into_iter()
            .filter(|(wallet, _)| asked.contains(wallet))
            // A register read back below its last value is a correction, not negative use.
            .map(|(wallet, micro)| (wallet, u64::try_from(micro).unwrap_or(0)))
            .collect();
        Ok(Weights::Used {
            unit: utility,
            used,
        })
    }
}

/// A request's shares as the manager sees them once asked, with what each account used when
/// the charge was shared by use.
async fn shared_charge(
    tx: &mut Tx,
    heading: &SiteHeading,
    request: i64,
    used: Option<(Utility, &HashMap<i64, u64>)>,
) -> Result<SharedCharge, EngineError> {
    let amount = |minor: i64| {
        format!(
            "{} {}",
            Minor(minor).format(heading.digits),
            heading.currency
        )
    };
    type Head = (i64, Option<String>);
    type Line = (i64, String, String, Option<String>, Option<i64>);
    let (head, lines): (Head, Vec<Line>) = on_tx!(tx, conn => {
        let head = sqlx::query_as(
            "SELECT amount_minor, share_rule FROM adjustment_requests WHERE id = $1",
        )
        .bind(request)
        .fetch_one(&mut *conn)
        .await?;
        let lines = sqlx::query_as(
            "SELECT x.wallet_account_id, b.name, u.name, a.utility, x.amount_minor \
             FROM adjustment_request_accounts x JOIN wallets w ON w.account_id = x.wallet_account_id \
             JOIN accounts a ON a.id = x.wallet_account_id JOIN units u ON u.id = w.unit_id \
             JOIN buildings b ON b.id = u.building_id WHERE x.request_id = $1 \
             ORDER BY b.name, u.name, a.utility",
        )
        .bind(request)
        .fetch_all(&mut *conn)
        .await?;
        Ok::<_, sqlx::Error>((head, lines))
    })?;
    let (total, rule) = head;
    let rule = rule
        .as_deref()
        .map(ShareRule::parse)
        .transpose()
        .map_err(EngineError::Corrupt)?
        // The form sent before was a plain adjustment under the same key.
        .ok_or_else(|| EngineError::refused("This form asked for another adjustment already."))?;
    let shares = lines
        .into_iter()
        .map(|(id, building, unit, utility, share)| Share {
            account: AccountId(id),
            label: account_label(&building, &unit, utility.as_deref()),
            weight: used
                .map(|(utility, used)| {
                    let micro = used.get(&id).copied().unwrap_or(0);
                    let micro = i64::try_from(micro).unwrap_or(i64::MAX);
                    format!("{} {}", quantity(micro), utility.default_unit_of_measure())
                })
                .unwrap_or_default(),
            amount: amount(share.unwrap_or(total)),
        })
        .collect();
    Ok(SharedCharge {
        request,
        rule,
        total: amount(-total),
        shares,
        left_out: 0,
    })
}

/// What each account weighs in a sharing.
enum Weights {
    Equal,
    Used {
        unit: Utility,
        used: HashMap<i64, u64>,
    },
}
