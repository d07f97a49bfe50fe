//! Which tariff plan charges each unit. Every unit starts on its site's standard tariff; a
//! manager puts units on a named plan (one from its page, or every unit of the accounts a
//! search finds). A plan exists once one of its versions is published; a unit's meters are
//! priced by it from the next reading rated, and each unit's change is audited with what it
//! was before.

use super::{Engine, EngineError, setup::stored_plan, tariffs::organisation_of};
use crate::{audit::AuditEntry, db::push_ids, ledger::CHUNK, on_db, on_tx};
use app::domain::{
    AccountId, SiteId,
    tariff::plan::{Plan, PlanMove, PlanUse},
};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};

impl Engine {
    /// The site's plans, the standard one first and then by name, each with how many of the
    /// site's units it charges.
    pub async fn site_plans(&self, site: SiteId) -> Result<Vec<PlanUse>, EngineError> {
        type Loaded = (Vec<String>, Vec<(String, i64)>);
        let (published, used): Loaded = on_db!(&self.db, pool => {
            let published = sqlx::query_scalar("SELECT DISTINCT plan FROM tariffs WHERE site_id = $1")
                .bind(site.0)
                .fetch_all(pool)
                .await?;
            let used = sqlx::query_as(
                "SELECT u.tariff_plan, COUNT(*) FROM units u JOIN buildings b ON b.id = u.building_id \
                 WHERE b.site_id = $1 GROUP BY u.tariff_plan",
            )
            .bind(site.0)
            .fetch_all(pool)
            .await?;
            Ok::<_, sqlx::Error>((published, used))
        })?;
        let mut plans: BTreeMap<Plan, usize> = BTreeMap::from([(Plan::standard(), 0)]);
        for plan in published {
            plans.entry(stored_plan(&plan)?).or_default();
        }
        for (plan, units) in used {
            *plans.entry(stored_plan(&plan)?).or_default() += usize::try_from(units).unwrap_or(0);
        }
        // The standard plan sorts first: its stored name is empty.
        Ok(plans
            .into_iter()
            .map(|(plan, units)| PlanUse { plan, units })
            .collect())
    }

    /// The units of the site's accounts (a landlord's wallet has none), each once.
    pub async fn units_of_accounts(
        &self,
        site: SiteId,
        accounts: &[AccountId],
    ) -> Result<Vec<i64>, EngineError> {
        let mut units: Vec<i64> = Vec::with_capacity(accounts.len());
        for chunk in accounts.chunks(CHUNK) {
            let found: Vec<i64> = on_db!(&self.db, pool => {
                let mut query = sqlx::QueryBuilder::new(
                    "SELECT unit_id FROM wallets WHERE unit_id IS NOT NULL AND site_id = ",
                );
                query.push_bind(site.0).push(" AND account_id");
                push_ids(&mut query, chunk.iter().map(|account| account.0));
                query.build_query_scalar().fetch_all(pool).await
            })?;
            units.extend(found);
        }
        units.sort_unstable();
        units.dedup();
        Ok(units)
    }

    /// Puts `units` of the site on `plan`. A unit of another site is not found; a plan the
    /// site has never published is refused. Units already on the plan stay as they are, so
    /// sending the same twice changes nothing the second time.
    pub async fn put_on_plan(
        &self,
        site: SiteId,
        units: &[i64],
        plan: &Plan,
        actor: i64,
    ) -> Result<PlanMove, EngineError> {
        let _turn = self.turn().await;
        let mut tx = self.db.begin_write().await?;
        if !plan.is_standard() {
            let published: Option<i64> = on_tx!(&mut tx, conn => {
                sqlx::query_scalar("SELECT id FROM tariffs WHERE site_id = $1 AND plan = $2 LIMIT 1")
                    .bind(site.0)
                    .bind(plan.as_str())
                    .fetch_optional(&mut *conn)
                    .await
            })?;
            if published.is_none() {
                return Err(EngineError::refused(format!(
                    "The site has no plan called {plan}: a plan exists once a version of it is approved on the tariffs page."
                )));
            }
        }
        let current: Vec<(i64, String)> = on_tx!(&mut tx, conn => {
            sqlx::query_as(
                "SELECT u.id, u.tariff_plan FROM units u JOIN buildings b ON b.id = u.building_id \
                 WHERE b.site_id = $1",
            )
            .bind(site.0)
            .fetch_all(&mut *conn)
            .await
        })?;
        let current: HashMap<i64, String> = current.into_iter().collect();
        let mut asked = units.to_vec();
        asked.sort_unstable();
        asked.dedup();
        let mut moving: Vec<(i64, &str)> = Vec::with_capacity(asked.len());
        for unit in &asked {
            let before = current.get(unit).ok_or(EngineError::NotFound("unit"))?;
            if before != plan.as_str() {
                moving.push((*unit, before));
            }
        }
        let ids: Vec<i64> = moving.iter().map(|(id, _)| *id).collect();
        for chunk in ids.chunks(CHUNK) {
            on_tx!(&mut tx, conn => {
                let mut query = sqlx::QueryBuilder::new("UPDATE units SET tariff_plan = ");
                query.push_bind(plan.as_str()).push(" WHERE id");
                push_ids(&mut query, chunk.iter().copied());
                query.build().execute(&mut *conn).await.map(|_| ())
            })?;
        }
        let organisation = organisation_of(&mut tx, site).await?;
        for (unit, before) in &moving {
            AuditEntry::new("unit_tariff_plan_changed", "unit", *unit)
                .by(organisation, Some(actor))
                .before(json!({ "plan": stored_plan(before)?.label() }))
                .after(json!({ "plan": plan.label() }))
                .insert_tx(&mut tx)
                .await?;
        }
        tx.commit().await?;
        let moved = moving.len();
        Ok(PlanMove {
            plan: plan.clone(),
            moved,
            unchanged: asked.len() - moved,
        })
    }
}
