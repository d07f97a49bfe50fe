//! Charges and checks that come with time rather than readings: the daily standing charge, a
//! package's fee at each cycle start, allowances that expire, and the supply sweep when
//! friendly hours end. Each posting's key names its day or cycle, so running the jobs again
//! (or on two machines) charges nothing twice. A day the jobs did not run is not charged
//! later: a known limit, listed in the README.

use super::{
    Engine, EngineError, FEEDS_OTHERS,
    setup::{SiteRules, load_rules, stored_plan},
    supply::{evaluate, load_wallet},
};
use crate::{
    ledger::{Posted, Posting, SiteAccount, post, site_account},
    on_tx,
};
use app::domain::{Minor, Utility, money::round_half_up, tariff::cycle_start_containing};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::collections::{HashMap, hash_map::Entry};

/// What one run of the jobs did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobsReport {
    pub standing_charges: usize,
    pub package_fees: usize,
    pub allowances_expired: usize,
    pub supply_changes: usize,
}

impl Engine {
    pub async fn run_jobs(&self, now: DateTime<Utc>) -> Result<JobsReport, EngineError> {
        let mut report = JobsReport::default();
        self.periodic_charges(now, &mut report).await?;
        report.allowances_expired = self.expire_allowances(now).await?;
        report.supply_changes += self.sweep_supply(now).await?;
        Ok(report)
    }

    async fn periodic_charges(
        &self,
        now: DateTime<Utc>,
        report: &mut JobsReport,
    ) -> Result<(), EngineError> {
        let _turn = self.write.lock().await;
        let mut tx = self.db.begin_write().await?;
        // Every open resident wallet, with the utility of each meter it pays for but a bulk
        // meter's.
        let wallets: Vec<(i64, i64, i64, String, String)> = on_tx!(&mut tx, conn => {
            sqlx::query_as(&format!(
                "SELECT w.account_id, w.site_id, m.id, m.utility, u.tariff_plan FROM wallets w \
                 JOIN meters m ON (m.id = w.meter_id OR (w.meter_id IS NULL AND m.unit_id = w.unit_id)) \
                 JOIN units u ON u.id = m.unit_id \
                 WHERE w.closed_at IS NULL AND w.unit_id IS NOT NULL AND m.removed_at IS NULL \
                 AND NOT {FEEDS_OTHERS} ORDER BY w.site_id, w.account_id, m.id"
            ))
            .fetch_all(&mut *conn)
            .await
        })?;
        // Each site's rules, loaded once, serve the charges and the supply decisions after.
        let mut sites: HashMap<i64, SiteRules> = HashMap::new();
        let mut charged = Vec::new();
        for (wallet, site, meter, utility, plan) in wallets {
            if let Entry::Vacant(entry) = sites.entry(site) {
                entry.insert(load_rules(&mut tx, site).await?);
            }
            let rules = &sites[&site];
            let Ok(utility) = utility.parse::<Utility>() else {
                continue;
            };
            let plan = stored_plan(&plan)?;
            let Some(tariff) = rules.tariff_now(&plan, utility, now) else {
                continue;
            };
            let today = now.with_timezone(&rules.tz).date_naive();
            let standing = tariff.standing_charge_per_day;
            if standing > Decimal::ZERO {
                let key = format!("standing:{wallet}:{meter}:{today}");
                let posted = charge(
                    &mut tx,
                    rules,
                    wallet,
                    SiteAccount::StandingCharges,
                    standing,
                    tariff.tax_percent,
                    key,
                    "Standing charge",
                    now,
                )
                .await?;
                if let Posted::New(id) = posted {
                    report.standing_charges += 1;
                    charged.push((wallet, site, id));
                }
            }
            if let Some(package) = tariff.package.as_ref().filter(|p| p.fee > Decimal::ZERO) {
                let cycle = cycle_start_containing(now, &rules.tz, tariff.cycle_start_day);
                let key = format!("package:{wallet}:{meter}:{}", cycle.timestamp());
                let posted = charge(
                    &mut tx,
                    rules,
                    wallet,
                    SiteAccount::Revenue(utility),
                    package.fee,
                    tariff.tax_percent,
                    key,
                    "Monthly package",
                    now,
                )
                .await?;
                if let Posted::New(id) = posted {
                    report.package_fees += 1;
                    charged.push((wallet, site, id));
                }
            }
        }
        for (wallet, site, transaction) in charged {
            let supply = load_wallet(&mut tx, wallet).await?;
            if evaluate(
                &mut tx,
                &supply,
                &sites[&site],
                &format!("txn:{transaction}"),
                now,
            )
            .await?
            .is_some()
            {
                report.supply_changes += 1;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn expire_allowances(&self, now: DateTime<Utc>) -> Result<usize, EngineError> {
        let _turn = self.write.lock().await;
        let mut tx = self.db.begin_write().await?;
        let due: Vec<(i64, i64, i64, i64, DateTime<Utc>)> = on_tx!(&mut tx, conn => {
            sqlx::query_as(
                "SELECT w.account_id, w.site_id, a.id, a.balance_minor, w.allowance_expires_at FROM wallets w \
                 JOIN accounts a ON a.id = w.allowance_account_id \
                 WHERE w.allowance_expires_at <= $1 AND a.balance_minor > 0",
            )
            .bind(now)
            .fetch_all(&mut *conn)
            .await
        })?;
        let mut expired = 0;
        for (wallet, site, allowance, balance, expires_at) in due {
            let granted = site_account(&mut tx, site, SiteAccount::AllowancesGranted, now).await?;
            let key = format!(
                "allowance-expiry:{wallet}:{}:{balance}",
                expires_at.timestamp()
            );
            let mut posting = Posting::new(site, key, "allowance_expiry").memo("Allowance expired");
            posting.transfer(allowance, granted, Minor(balance));
            if let Posted::New(_) = post(&mut tx, &posting, now).await? {
                expired += 1;
            }
        }
        tx.commit().await?;
        Ok(expired)
    }
}

/// Posts a time-based charge (net plus tax, each rounded once) from a wallet.
#[allow(clippy::too_many_arguments)]
async fn charge(
    tx: &mut crate::db::Tx,
    rules: &SiteRules,
    wallet: i64,
    to: SiteAccount,
    net: Decimal,
    tax_percent: Decimal,
    key: String,
    memo: &str,
    now: DateTime<Utc>,
) -> Result<Posted, EngineError> {
    let net_minor =
        Minor::from_decimal(round_half_up(net, rules.digits), rules.digits).unwrap_or_default();
    let tax = net * tax_percent / Decimal::ONE_HUNDRED;
    let tax_minor =
        Minor::from_decimal(round_half_up(tax, rules.digits), rules.digits).unwrap_or_default();
    let income = site_account(tx, rules.site, to, now).await?;
    let tax_account = site_account(tx, rules.site, SiteAccount::TaxPayable, now).await?;
    let mut posting = Posting::new(rules.site, key, "periodic").memo(memo);
    posting
        .add(wallet, -(net_minor + tax_minor))
        .add(income, net_minor)
        .add(tax_account, tax_minor);
    Ok(post(tx, &posting, now).await?)
}
