//! What a site needs before it can charge: its supply policy and billing mode, its tariffs,
//! and the landlord's wallet that pays for consumption no resident account covers.

use super::{Engine, EngineError, time_zone};
use crate::{
    db::Tx,
    ledger::{SiteAccount, site_account},
    on_db, on_db_write, on_tx,
};
use app::domain::{
    Currency, SiteId, Utility, minor_digits,
    supply::SupplyPolicy,
    tariff::{Band, Plan, Tariff, Version, plan::on_plan, version_at},
};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::collections::HashMap;

/// How a site bills: a wallet per meter per occupancy, or one wallet per unit for all its
/// utilities (room-mates share it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BillingMode {
    PerMeter,
    UnitWallet,
}

impl BillingMode {
    pub fn as_str(self) -> &'static str {
        match self {
            BillingMode::PerMeter => "per_meter",
            BillingMode::UnitWallet => "unit_wallet",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "per_meter" => Some(BillingMode::PerMeter),
            "unit_wallet" => Some(BillingMode::UnitWallet),
            _ => None,
        }
    }
}

/// Everything about a site the rules need.
#[derive(Clone, Debug)]
pub struct SiteRules {
    pub site: i64,
    pub tz: Tz,
    pub currency: Currency,
    pub digits: u32,
    pub mode: BillingMode,
    pub policy: SupplyPolicy,
    /// Versions per plan and utility, oldest first.
    pub tariffs: HashMap<(Plan, Utility), Vec<Version>>,
}

impl SiteRules {
    /// The versions that price a utility for units on `plan`: the plan's own, or the standard
    /// plan's when the plan does not price that utility.
    pub fn versions(&self, plan: &Plan, utility: Utility) -> Option<&[Version]> {
        self.tariffs
            .get(&(plan.clone(), utility))
            .or_else(|| self.tariffs.get(&(Plan::standard(), utility)))
            .map(Vec::as_slice)
    }

    /// The tariff in force at `at` for units on `plan` (the first version also covers anything
    /// earlier).
    pub fn tariff_now(&self, plan: &Plan, utility: Utility, at: DateTime<Utc>) -> Option<&Tariff> {
        let versions = self.versions(plan, utility)?;
        version_at(versions, at)
            .or(versions.first())
            .map(|v| &v.tariff)
    }

    /// The time-of-use bands of the tariff in force at `at`: none where it has none (or there
    /// is no tariff). What a meter that switches rates itself must hold.
    pub fn bands_now(&self, plan: &Plan, utility: Utility, at: DateTime<Utc>) -> &[Band] {
        self.tariff_now(plan, utility, at)
            .map_or(&[], |tariff| &tariff.bands)
    }
}

/// Loads a site's rules inside a transaction.
pub async fn load_rules(tx: &mut Tx, site: i64) -> Result<SiteRules, EngineError> {
    type Row = (String, String, Option<String>, Option<String>);
    let row: Option<Row> = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT s.time_zone, s.currency, p.billing_mode, p.policy FROM sites s \
             LEFT JOIN site_policies p ON p.site_id = s.id WHERE s.id = $1",
        )
        .bind(site)
        .fetch_optional(&mut *conn)
        .await
    })?;
    let (zone, currency, mode, policy) = row.ok_or(EngineError::NotFound("site"))?;
    let mut rules = site_terms(site, &zone, &currency, mode.as_deref(), policy.as_deref())?;
    let versions: Vec<(String, String, DateTime<Utc>, String)> = on_tx!(tx, conn => {
        sqlx::query_as("SELECT plan, utility, effective_from, definition FROM tariffs WHERE site_id = $1 ORDER BY effective_from")
            .bind(site)
            .fetch_all(&mut *conn)
            .await
    })?;
    let mut tariffs: HashMap<(Plan, Utility), Vec<Version>> = HashMap::new();
    for (plan, utility, effective_from, definition) in versions {
        let plan = stored_plan(&plan)?;
        let utility: Utility = utility
            .parse()
            .map_err(|e: app::domain::site::UnknownUtility| EngineError::Corrupt(e.to_string()))?;
        let tariff: Tariff =
            serde_json::from_str(&definition).map_err(|e| EngineError::Corrupt(e.to_string()))?;
        tariffs.entry((plan, utility)).or_default().push(Version {
            effective_from,
            tariff,
        });
    }
    // A plan's units pay the standard tariff until the plan's first version starts.
    let standard: HashMap<Utility, Vec<Version>> = tariffs
        .iter()
        .filter(|((plan, _), _)| plan.is_standard())
        .map(|((_, utility), versions)| (*utility, versions.clone()))
        .collect();
    for ((plan, utility), versions) in tariffs.iter_mut() {
        if !plan.is_standard() {
            let own = std::mem::take(versions);
            *versions = on_plan(standard.get(utility).map_or(&[], Vec::as_slice), own);
        }
    }
    rules.tariffs = tariffs;
    Ok(rules)
}

/// A site's rules without its tariffs, from the columns of its row and its policy's: for
/// views that show money and price nothing, which read these beside their own rows.
pub fn site_terms(
    site: i64,
    zone: &str,
    currency: &str,
    mode: Option<&str>,
    policy: Option<&str>,
) -> Result<SiteRules, EngineError> {
    let currency = Currency::parse(currency).map_err(|e| EngineError::Corrupt(e.to_string()))?;
    let policy = match policy {
        Some(json) => {
            serde_json::from_str(json).map_err(|e| EngineError::Corrupt(e.to_string()))?
        }
        None => SupplyPolicy::default(),
    };
    Ok(SiteRules {
        site,
        tz: time_zone(zone)?,
        digits: minor_digits(&currency),
        currency,
        mode: mode
            .and_then(BillingMode::parse)
            .unwrap_or(BillingMode::PerMeter),
        policy,
        tariffs: HashMap::new(),
    })
}

/// What a report or a list needs to head its figures: the site's name, and how it writes
/// money and days.
pub struct SiteHeading {
    pub name: String,
    pub currency: String,
    pub digits: u32,
    pub tz: Tz,
}

impl Engine {
    pub async fn site_heading(&self, site: SiteId) -> Result<SiteHeading, EngineError> {
        let row: Option<(String, String, String)> = on_db!(&self.db, pool => {
            sqlx::query_as("SELECT name, currency, time_zone FROM sites WHERE id = $1")
                .bind(site.0)
                .fetch_optional(pool)
                .await
        })?;
        let (name, currency, zone) = row.ok_or(EngineError::NotFound("site"))?;
        let terms = site_terms(site.0, &zone, &currency, None, None)?;
        Ok(SiteHeading {
            name,
            digits: terms.digits,
            currency,
            tz: terms.tz,
        })
    }
}

/// The landlord's wallet for a site, opened the first time it is needed. It is never cut.
pub async fn landlord_wallet(
    tx: &mut Tx,
    site: i64,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    let account = site_account(tx, site, SiteAccount::Landlord, now).await?;
    on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO wallets (account_id, site_id, opened_at) VALUES ($1, $2, $3) ON CONFLICT (account_id) DO NOTHING",
        )
        .bind(account)
        .bind(site)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    })?;
    Ok(account)
}

impl Engine {
    /// Sets a site's billing mode and supply policy.
    pub async fn set_policy(
        &self,
        site: SiteId,
        mode: BillingMode,
        policy: &SupplyPolicy,
    ) -> Result<(), EngineError> {
        let _turn = self.write.lock().await;
        let json =
            serde_json::to_string(policy).map_err(|e| EngineError::Corrupt(e.to_string()))?;
        let now = Utc::now();
        let mut tx = self.db.begin_write().await?;
        on_tx!(&mut tx, conn => {
            sqlx::query(
                "INSERT INTO site_policies (site_id, billing_mode, policy, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (site_id) DO UPDATE SET billing_mode = excluded.billing_mode, policy = excluded.policy, \
                 updated_at = excluded.updated_at",
            )
            .bind(site.0)
            .bind(mode.as_str())
            .bind(&json)
            .bind(now)
            .execute(&mut *conn)
            .await
            .map(|_| ())
        })?;
        landlord_wallet(&mut tx, site.0, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds a version of the site's standard tariff taking effect at `effective_from`. A
    /// version already in force at that instant is refused: charges made under it stand.
    pub async fn set_tariff(
        &self,
        site: SiteId,
        utility: Utility,
        effective_from: DateTime<Utc>,
        tariff: &Tariff,
        actor: Option<i64>,
    ) -> Result<(), EngineError> {
        self.set_plan_tariff(
            site,
            &Plan::standard(),
            utility,
            effective_from,
            tariff,
            actor,
        )
        .await
    }

    /// Adds a version of one of the site's plans (set-up and tests; the console proposes
    /// versions for a second person to approve).
    pub async fn set_plan_tariff(
        &self,
        site: SiteId,
        plan: &Plan,
        utility: Utility,
        effective_from: DateTime<Utc>,
        tariff: &Tariff,
        actor: Option<i64>,
    ) -> Result<(), EngineError> {
        tariff
            .check()
            .map_err(|e| EngineError::refused(e.to_string()))?;
        let json =
            serde_json::to_string(tariff).map_err(|e| EngineError::Corrupt(e.to_string()))?;
        let _turn = self.write.lock().await;
        let now = Utc::now();
        let result = on_db_write!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO tariffs (site_id, plan, utility, effective_from, definition, created_at, created_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(site.0)
            .bind(plan.as_str())
            .bind(utility.as_str())
            .bind(effective_from)
            .bind(&json)
            .bind(now)
            .bind(actor)
            .execute(pool)
            .await
            .map(|_| ())
        });
        match result {
            Ok(_) => Ok(()),
            Err(e) if crate::db::is_unique_violation(&e) => Err(EngineError::refused(
                "A tariff version already starts at that moment.",
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// The site's rules as they stand.
    pub async fn rules(&self, site: SiteId) -> Result<SiteRules, EngineError> {
        let mut tx = self.db.begin_read().await?;
        let rules = load_rules(&mut tx, site.0).await;
        drop(tx);
        rules
    }

    /// The tariff plan of the unit a meter is in.
    pub async fn meter_plan(&self, meter: i64) -> Result<Plan, EngineError> {
        let mut tx = self.db.begin_read().await?;
        let plan = meter_plan(&mut tx, meter).await;
        drop(tx);
        plan
    }
}

/// The tariff plan of the unit a meter is in, inside a transaction.
pub(crate) async fn meter_plan(tx: &mut Tx, meter: i64) -> Result<Plan, EngineError> {
    let plan: Option<String> = on_tx!(tx, conn => {
        sqlx::query_scalar(
            "SELECT u.tariff_plan FROM meters m JOIN units u ON u.id = m.unit_id WHERE m.id = $1",
        )
        .bind(meter)
        .fetch_optional(&mut *conn)
        .await
    })?;
    stored_plan(&plan.ok_or(EngineError::NotFound("meter"))?)
}

/// A plan's name as storage holds it.
pub(crate) fn stored_plan(raw: &str) -> Result<Plan, EngineError> {
    Plan::parse(raw).map_err(|e| EngineError::Corrupt(e.to_string()))
}
