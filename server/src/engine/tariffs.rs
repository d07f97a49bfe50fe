//! Tariff versions set from the console, on four eyes: one person proposes a version with its
//! start, another approves it, and only then does it join the versions that charge readings.
//! A version starts in the future, so nothing already charged is priced again; a proposal
//! whose start has passed while it waited cannot be approved, and is proposed again.

use super::{
    Engine, EngineError,
    setup::{SiteHeading, stored_plan},
};
use crate::{audit::AuditEntry, on_db, on_tx};
use app::domain::{
    SiteId, Utility,
    four_eyes::{Verdict, repeated},
    tariff::{
        Plan, Tariff,
        book::{
            Decision, NewProposal, Proposal, ProposalState, TariffBook, UtilityTariffs, VersionLine,
        },
    },
};
use chrono::{DateTime, LocalResult, TimeZone, Utc};
use serde_json::json;
use std::collections::BTreeMap;

/// How many decided proposals the page keeps showing under the pending ones.
const DECIDED_SHOWN: i64 = 20;

#[derive(sqlx::FromRow)]
struct ProposalRow {
    id: i64,
    plan: String,
    utility: String,
    effective_from: DateTime<Utc>,
    definition: String,
    note: String,
    proposed_by: i64,
    proposer: String,
    proposed_at: DateTime<Utc>,
    state: String,
    decider: Option<String>,
}

/// A proposal as deciding it needs it.
#[derive(sqlx::FromRow)]
struct Decided {
    plan: String,
    utility: String,
    effective_from: DateTime<Utc>,
    definition: String,
    proposed_by: i64,
    state: String,
    decided_by: Option<i64>,
}

const PROPOSALS: &str = "SELECT p.id, p.plan, p.utility, p.effective_from, p.definition, p.note, p.proposed_by, \
    pu.display_name AS proposer, p.proposed_at, p.state, du.display_name AS decider \
    FROM tariff_proposals p JOIN users pu ON pu.id = p.proposed_by \
    LEFT JOIN users du ON du.id = p.decided_by WHERE p.site_id = $1";

impl Engine {
    /// The site's versions per plan and utility, its plans and its proposals, as `viewer`
    /// sees them.
    pub async fn tariff_book(
        &self,
        site: SiteId,
        viewer: i64,
        may_change: bool,
    ) -> Result<TariffBook, EngineError> {
        let SiteHeading {
            name,
            currency,
            digits,
            tz,
        } = self.site_heading(site).await?;
        let now = Utc::now();
        type VersionRow = (
            String,
            String,
            DateTime<Utc>,
            String,
            Option<String>,
            Option<String>,
        );
        let versions: Vec<VersionRow> = on_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT t.plan, t.utility, t.effective_from, t.definition, cu.display_name, au.display_name \
                 FROM tariffs t LEFT JOIN users cu ON cu.id = t.created_by \
                 LEFT JOIN tariff_proposals p ON p.tariff_id = t.id LEFT JOIN users au ON au.id = p.decided_by \
                 WHERE t.site_id = $1 ORDER BY t.effective_from DESC",
            )
            .bind(site.0)
            .fetch_all(pool)
            .await
        })?;
        // Sorted by plan (the standard plan's empty name first), then utility.
        let mut lines: BTreeMap<(Plan, usize), UtilityTariffs> = BTreeMap::new();
        for (plan, utility, effective_from, definition, by, approved_by) in versions {
            let plan = stored_plan(&plan)?;
            let utility = parse_utility(&utility)?;
            let order = Utility::ALL.iter().position(|u| *u == utility).unwrap_or(0);
            lines
                .entry((plan.clone(), order))
                .or_insert_with(|| UtilityTariffs {
                    plan,
                    utility,
                    versions: Vec::new(),
                })
                .versions
                .push(VersionLine {
                    effective_from,
                    tariff: definition_of(&definition)?,
                    by,
                    approved_by,
                });
        }
        let utilities = lines.into_values().collect();
        let plans = self.site_plans(site).await?;
        let pending: Vec<ProposalRow> = on_db!(&self.db, pool => {
            sqlx::query_as(&format!("{PROPOSALS} AND p.state = 'pending' ORDER BY p.id DESC"))
                .bind(site.0)
                .fetch_all(pool)
                .await
        })?;
        let decided: Vec<ProposalRow> = on_db!(&self.db, pool => {
            sqlx::query_as(&format!(
                "{PROPOSALS} AND p.state <> 'pending' ORDER BY p.id DESC LIMIT {DECIDED_SHOWN}"
            ))
            .bind(site.0)
            .fetch_all(pool)
            .await
        })?;
        let proposals = pending
            .into_iter()
            .chain(decided)
            .map(|row| proposal(row, viewer))
            .collect::<Result<_, _>>()?;
        Ok(TariffBook {
            site_name: name,
            currency,
            digits,
            zone: super::site_zone(tz, now),
            now,
            utilities,
            plans,
            proposals,
            may_change,
        })
    }

    /// Records a version for a second person to approve; its start, on the site's clock, must
    /// be ahead. Returns the proposal's id.
    pub async fn propose_tariff(
        &self,
        site: SiteId,
        proposal: &NewProposal,
        actor: i64,
    ) -> Result<i64, EngineError> {
        let SiteHeading { tz, .. } = self.site_heading(site).await?;
        let starts = match tz.from_local_datetime(&proposal.starts_local) {
            LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => at.with_timezone(&Utc),
            LocalResult::None => {
                return Err(EngineError::refused(
                    "That time does not exist on the site's clock (the clocks change then).",
                ));
            }
        };
        let now = Utc::now();
        if starts <= now {
            return Err(EngineError::refused(
                "A new version starts in the future: what was charged already stands.",
            ));
        }
        let definition = serde_json::to_string(&proposal.tariff)
            .map_err(|e| EngineError::Corrupt(e.to_string()))?;
        let _turn = self.turn().await;
        let mut tx = self.db.begin_write().await?;
        let id: i64 = on_tx!(&mut tx, conn => {
            sqlx::query_scalar(
                "INSERT INTO tariff_proposals (site_id, plan, utility, effective_from, definition, note, proposed_by, proposed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(site.0)
            .bind(proposal.plan.as_str())
            .bind(proposal.utility.as_str())
            .bind(starts)
            .bind(&definition)
            .bind(&proposal.note)
            .bind(actor)
            .bind(now)
            .fetch_one(&mut *conn)
            .await
        })?;
        let organisation = organisation_of(&mut tx, site).await?;
        AuditEntry::new("tariff_proposed", "site", site.0)
            .by(organisation, Some(actor))
            .after(json!({
                "proposal": id,
                "plan": proposal.plan.label(),
                "utility": proposal.utility.as_str(),
                "effective_from": starts,
                "tariff": proposal.tariff,
                "note": proposal.note,
            }))
            .insert_tx(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Approves (publishes) or refuses a proposal. The proposer cannot approve their own; their
    /// refusal is a withdrawal. Deciding again as already decided is a success that changes
    /// nothing (a double click); anything else about a decided proposal is refused.
    pub async fn decide_tariff(
        &self,
        site: SiteId,
        proposal: i64,
        decision: Decision,
        actor: i64,
    ) -> Result<(), EngineError> {
        let _turn = self.turn().await;
        let mut tx = self.db.begin_write().await?;
        let row: Option<Decided> = on_tx!(&mut tx, conn => {
            sqlx::query_as(
                "SELECT plan, utility, effective_from, definition, proposed_by, state, decided_by \
                 FROM tariff_proposals WHERE id = $1 AND site_id = $2",
            )
            .bind(proposal)
            .bind(site.0)
            .fetch_optional(&mut *conn)
            .await
        })?;
        let decided = row.ok_or(EngineError::NotFound("tariff proposal"))?;
        let (proposed_by, starts, decided_by) = (
            decided.proposed_by,
            decided.effective_from,
            decided.decided_by,
        );
        let state = ProposalState::parse(&decided.state)
            .ok_or_else(|| EngineError::Corrupt(format!("proposal state {:?}", decided.state)))?;
        let wanted = match decision.verdict(proposed_by == actor) {
            None => {
                return Err(EngineError::refused(
                    "A second person must approve a tariff you proposed.",
                ));
            }
            Some(Verdict::Approved) => ProposalState::Published,
            Some(Verdict::Withdrawn) => ProposalState::Withdrawn,
            Some(Verdict::Refused) => ProposalState::Refused,
        };
        if state != ProposalState::Pending {
            return if repeated(state, wanted, decided_by, actor) {
                Ok(())
            } else {
                Err(EngineError::refused(format!(
                    "This proposal is no longer waiting: {}.",
                    state.label().to_lowercase()
                )))
            };
        }
        let now = Utc::now();
        let tariff_id = if wanted == ProposalState::Published {
            if starts <= now {
                return Err(EngineError::refused(
                    "Its start has passed while it waited: propose it again with a later start.",
                ));
            }
            Some(publish(&mut tx, site, &decided, now).await?)
        } else {
            None
        };
        on_tx!(&mut tx, conn => {
            sqlx::query(
                "UPDATE tariff_proposals SET state = $1, decided_by = $2, decided_at = $3, tariff_id = $4 \
                 WHERE id = $5 AND state = 'pending'",
            )
            .bind(wanted.as_str())
            .bind(actor)
            .bind(now)
            .bind(tariff_id)
            .bind(proposal)
            .execute(&mut *conn)
            .await
            .map(|_| ())
        })?;
        let organisation = organisation_of(&mut tx, site).await?;
        let action = match wanted {
            ProposalState::Published => "tariff_published",
            ProposalState::Withdrawn => "tariff_withdrawn",
            _ => "tariff_refused",
        };
        AuditEntry::new(action, "site", site.0)
            .by(organisation, Some(actor))
            .before(json!({ "proposal": proposal, "state": "pending" }))
            .after(json!({
                "proposal": proposal,
                "state": wanted.as_str(),
                "plan": stored_plan(&decided.plan)?.label(),
                "utility": decided.utility,
                "effective_from": starts,
                "tariff_version": tariff_id,
            }))
            .insert_tx(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Adds the version the approval publishes, in the approval's transaction.
async fn publish(
    tx: &mut crate::db::Tx,
    site: SiteId,
    proposal: &Decided,
    now: DateTime<Utc>,
) -> Result<i64, EngineError> {
    let plan = stored_plan(&proposal.plan)?;
    // Checked again: the rules may have grown stricter since it was proposed.
    definition_of(&proposal.definition)?
        .check()
        .map_err(|e| EngineError::refused(e.to_string()))?;
    let inserted: Result<i64, sqlx::Error> = on_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO tariffs (site_id, plan, utility, effective_from, definition, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(site.0)
        .bind(plan.as_str())
        .bind(&proposal.utility)
        .bind(proposal.effective_from)
        .bind(&proposal.definition)
        .bind(now)
        .bind(proposal.proposed_by)
        .fetch_one(&mut *conn)
        .await
    });
    match inserted {
        Ok(id) => Ok(id),
        Err(e) if crate::db::is_unique_violation(&e) => Err(EngineError::refused(
            "A version already starts at that moment: refuse one of the two.",
        )),
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn organisation_of(
    tx: &mut crate::db::Tx,
    site: SiteId,
) -> Result<i64, EngineError> {
    crate::owners::site_organisation(tx, site.0)
        .await?
        .ok_or(EngineError::NotFound("site"))
}

fn proposal(row: ProposalRow, viewer: i64) -> Result<Proposal, EngineError> {
    Ok(Proposal {
        id: row.id,
        plan: stored_plan(&row.plan)?,
        utility: parse_utility(&row.utility)?,
        effective_from: row.effective_from,
        tariff: definition_of(&row.definition)?,
        note: row.note,
        proposed_by: row.proposer,
        mine: row.proposed_by == viewer,
        proposed_at: row.proposed_at,
        state: ProposalState::parse(&row.state)
            .ok_or_else(|| EngineError::Corrupt(format!("proposal state {:?}", row.state)))?,
        decided_by: row.decider,
    })
}

fn parse_utility(raw: &str) -> Result<Utility, EngineError> {
    raw.parse()
        .map_err(|e: app::domain::site::UnknownUtility| EngineError::Corrupt(e.to_string()))
}

fn definition_of(raw: &str) -> Result<Tariff, EngineError> {
    serde_json::from_str(raw).map_err(|e| EngineError::Corrupt(e.to_string()))
}
