//! Four eyes on large cash. A site may set an amount above which cash taken at the desk is not
//! credited at once: the one who took it asks, and another of the site's managers or an admin
//! approves. The approval posts the top-up as the taker's own (their receipt, in their shift,
//! under the cash form's key), so the drawer expects it from then on; a refused or withdrawn
//! request credits nothing and the cash goes back to whoever brought it.

use super::{
    Engine, EngineError,
    adjustments::open_on_site,
    form_key::form_key,
    money::{Source, TopUp, check_amount, credit},
    tariffs::organisation_of,
};
use crate::{audit::AuditEntry, db::Tx, on_db, on_tx};
use app::domain::{
    AccountId, Minor, SiteId,
    adjustments::RequestState,
    cash_desk::{CashRequest, needs_approval},
    four_eyes::{Decision, Verdict},
};
use chrono::{DateTime, Utc};
use serde_json::json;

/// How many decided requests the cash desk keeps showing under the waiting ones.
const DECIDED_SHOWN: i64 = 10;

/// What taking cash came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CashTaken {
    /// Credited: under the site's limit, or approved already (a repeated form).
    Credited(TopUp),
    /// Above the site's limit: waiting for a second person. `new` is false for the same form
    /// sent again.
    Waiting { request: i64, new: bool },
}

#[derive(sqlx::FromRow)]
struct RequestRow {
    id: i64,
    account: i64,
    unit: Option<String>,
    amount_minor: i64,
    asked_by: i64,
    asker: String,
    asked_at: DateTime<Utc>,
    state: String,
    decider: Option<String>,
}

const REQUESTS: &str = "SELECT r.id, r.wallet_account_id AS account, u.name AS unit, r.amount_minor, r.asked_by, \
     a.display_name AS asker, r.asked_at, r.state, d.display_name AS decider FROM cash_requests r \
     JOIN users a ON a.id = r.asked_by LEFT JOIN users d ON d.id = r.decided_by \
     LEFT JOIN wallets w ON w.account_id = r.wallet_account_id LEFT JOIN meters m ON m.id = w.meter_id \
     LEFT JOIN units u ON u.id = COALESCE(w.unit_id, m.unit_id) WHERE r.site_id = $1";

impl Engine {
    /// Cash of `amount` taken by `actor` for `wallet` with the form's `nonce`: credited at
    /// once, or asked for when it is above the site's limit. The same form sent again with
    /// the same amount answers as the first time did (or with the receipt, once approved);
    /// another amount is other cash.
    pub async fn take_cash(
        &self,
        wallet: i64,
        amount: Minor,
        nonce: &str,
        actor: i64,
    ) -> Result<CashTaken, EngineError> {
        let nonce = &form_key(nonce, &[&amount.0.to_string()])?;
        let _turn = self.turn().await;
        let now = Utc::now();
        let mut tx = self.db.begin_write().await?;
        check_amount(&mut tx, wallet, amount, now).await?;
        let asked: Option<(i64, String)> = on_tx!(&mut tx, conn => {
            sqlx::query_as("SELECT id, state FROM cash_requests WHERE wallet_account_id = $1 AND nonce = $2")
                .bind(wallet)
                .bind(nonce)
                .fetch_optional(&mut *conn)
                .await
        })?;
        match asked {
            // Approved: the credit below finds its posting and answers with its receipt.
            Some((_, state)) if state == RequestState::Posted.as_str() => {}
            Some((request, state)) if state == RequestState::Pending.as_str() => {
                return Ok(CashTaken::Waiting {
                    request,
                    new: false,
                });
            }
            Some((request, state)) => {
                let state = RequestState::parse(&state).map_or(state, |s| s.label().to_lowercase());
                return Err(EngineError::refused(format!(
                    "Request {request} for this cash was {state}: hand the cash back, or take it again from a fresh page."
                )));
            }
            None => {
                let site = site_of_wallet(&mut tx, wallet).await?;
                if needs_approval(amount, cash_limit(&mut tx, site).await?) {
                    let request = ask(&mut tx, site, wallet, amount, nonce, actor, now).await?;
                    tx.commit().await?;
                    return Ok(CashTaken::Waiting { request, new: true });
                }
            }
        }
        let source = Source::Cash {
            nonce: nonce.to_owned(),
        };
        let top_up = credit(&mut tx, wallet, amount, &source, Some(actor), now).await?;
        tx.commit().await?;
        if top_up.token_sold {
            self.ring_token_sold();
        }
        Ok(CashTaken::Credited(top_up))
    }

    /// Approves or refuses (`may_decide`: a manager of the site or an admin, never the one who
    /// asked) or withdraws (the one who asked) large cash waiting at `site`. Deciding the same
    /// way again answers as before.
    pub async fn decide_cash(
        &self,
        site: SiteId,
        request: i64,
        decision: Decision,
        actor: i64,
        may_decide: bool,
    ) -> Result<RequestState, EngineError> {
        let _turn = self.turn().await;
        let now = Utc::now();
        let mut tx = self.db.begin_write().await?;
        type Row = (i64, i64, String, i64, String, Option<i64>);
        let row: Option<Row> = on_tx!(&mut tx, conn => {
            sqlx::query_as(
                "SELECT wallet_account_id, amount_minor, nonce, asked_by, state, decided_by \
                 FROM cash_requests WHERE id = $1 AND site_id = $2",
            )
            .bind(request)
            .bind(site.0)
            .fetch_optional(&mut *conn)
            .await
        })?;
        let (wallet, amount, nonce, asked_by, state, decided_by) =
            row.ok_or(EngineError::NotFound("cash request"))?;
        let state = RequestState::parse(&state)
            .ok_or_else(|| EngineError::Corrupt(format!("cash request state {state:?}")))?;
        let wanted = match decision.verdict(asked_by == actor) {
            None => {
                return Err(EngineError::refused(
                    "A second person must approve cash you took: another manager of the site or an admin.",
                ));
            }
            Some(Verdict::Withdrawn) => RequestState::Withdrawn,
            Some(_) if !may_decide => {
                return Err(EngineError::refused(
                    "Large cash is approved or refused by the site's managers or an admin.",
                ));
            }
            Some(verdict) => RequestState::after(verdict),
        };
        if let Some(done) = state
            .decided_again(wanted, decided_by, actor)
            .map_err(EngineError::Refused)?
        {
            return Ok(done);
        }
        let mut credited: Option<TopUp> = None;
        if wanted == RequestState::Posted {
            if !open_on_site(&mut tx, site, AccountId(wallet)).await? {
                return Err(EngineError::refused(
                    "The account was closed while the cash waited: refuse it, and hand the cash back.",
                ));
            }
            let source = Source::Cash { nonce };
            // Posted as the taker's: the receipt is theirs and their drawer holds the cash.
            let top_up =
                credit(&mut tx, wallet, Minor(amount), &source, Some(asked_by), now).await?;
            credited = Some(top_up);
        }
        on_tx!(&mut tx, conn => {
            sqlx::query("UPDATE cash_requests SET state = $2, decided_by = $3, decided_at = $4 WHERE id = $1")
                .bind(request)
                .bind(wanted.as_str())
                .bind(actor)
                .bind(now)
                .execute(&mut *conn)
                .await
                .map(|_| ())
        })?;
        let organisation = organisation_of(&mut tx, site).await?;
        AuditEntry::new(decision_action(wanted), "account", wallet)
            .by(organisation, Some(actor))
            .before(json!({ "request": request, "state": RequestState::Pending.as_str() }))
            .after(json!({
                "request": request, "state": wanted.as_str(), "amount_minor": amount,
                "transaction": credited.as_ref().map(|top_up| top_up.transaction),
            }))
            .insert_tx(&mut tx)
            .await?;
        tx.commit().await?;
        if credited.is_some_and(|top_up| top_up.token_sold) {
            self.ring_token_sold();
        }
        Ok(wanted)
    }

    /// Large cash at `site` as `viewer` sees it: waiting, then the latest decided; everyone's
    /// when `everyone`, else theirs.
    pub async fn cash_requests(
        &self,
        site: SiteId,
        viewer: i64,
        everyone: bool,
    ) -> Result<Vec<CashRequest>, EngineError> {
        let whose = if everyone { "" } else { " AND r.asked_by = $2" };
        let waiting =
            format!("{REQUESTS}{whose} AND r.state = 'pending' AND $2 = $2 ORDER BY r.id DESC");
        let decided = format!(
            "{REQUESTS}{whose} AND r.state <> 'pending' AND $2 = $2 ORDER BY r.id DESC LIMIT {DECIDED_SHOWN}"
        );
        let mut rows: Vec<RequestRow> = Vec::new();
        for sql in [waiting, decided] {
            let found: Vec<RequestRow> = on_db!(&self.db, pool => {
                sqlx::query_as(&sql).bind(site.0).bind(viewer).fetch_all(pool).await
            })?;
            rows.extend(found);
        }
        rows.into_iter()
            .map(|row| {
                let state = RequestState::parse(&row.state).ok_or_else(|| {
                    EngineError::Corrupt(format!("cash request state {:?}", row.state))
                })?;
                Ok(CashRequest {
                    id: row.id,
                    account: AccountId(row.account),
                    unit: row.unit.unwrap_or_default(),
                    amount: Minor(row.amount_minor),
                    asked_by: row.asker,
                    asked_at: row.asked_at,
                    state,
                    decided_by: row.decider,
                    mine: row.asked_by == viewer,
                })
            })
            .collect()
    }

    /// The amount above which cash at `site` waits for approval (zero: none).
    pub async fn cash_approval_limit(&self, site: SiteId) -> Result<Minor, EngineError> {
        let mut tx = self.db.begin_read().await?;
        cash_limit(&mut tx, site.0).await
    }

    /// Sets the amount above which cash at `site` waits for approval; zero for none. Audited
    /// with the limit before and after; the same limit again changes nothing.
    pub async fn set_cash_approval_limit(
        &self,
        site: SiteId,
        limit: Minor,
        actor: Option<i64>,
    ) -> Result<(), EngineError> {
        if limit < Minor::ZERO {
            return Err(EngineError::refused("The limit cannot be negative."));
        }
        let _turn = self.turn().await;
        let mut tx = self.db.begin_write().await?;
        let before = cash_limit(&mut tx, site.0).await?;
        if before == limit {
            return Ok(());
        }
        on_tx!(&mut tx, conn => {
            sqlx::query("UPDATE sites SET cash_approval_over_minor = $2 WHERE id = $1")
                .bind(site.0)
                .bind(limit.0)
                .execute(&mut *conn)
                .await
                .map(|_| ())
        })?;
        let organisation = organisation_of(&mut tx, site).await?;
        AuditEntry::new("cash_limit_changed", "site", site.0)
            .by(organisation, actor)
            .before(json!({ "cash_approval_over_minor": before.0 }))
            .after(json!({ "cash_approval_over_minor": limit.0 }))
            .insert_tx(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

async fn site_of_wallet(tx: &mut Tx, wallet: i64) -> Result<i64, EngineError> {
    let site: Option<i64> = on_tx!(tx, conn => {
        sqlx::query_scalar("SELECT site_id FROM wallets WHERE account_id = $1")
            .bind(wallet)
            .fetch_optional(&mut *conn)
            .await
    })?;
    site.ok_or(EngineError::NotFound("account"))
}

async fn cash_limit(tx: &mut Tx, site: i64) -> Result<Minor, EngineError> {
    let limit: Option<i64> = on_tx!(tx, conn => {
        sqlx::query_scalar("SELECT cash_approval_over_minor FROM sites WHERE id = $1")
            .bind(site)
            .fetch_optional(&mut *conn)
            .await
    })?;
    Ok(Minor(limit.ok_or(EngineError::NotFound("site"))?))
}

/// Records large cash waiting, with its audit line; answers the request's id.
async fn ask(
    tx: &mut Tx,
    site: i64,
    wallet: i64,
    amount: Minor,
    nonce: &str,
    actor: i64,
    now: DateTime<Utc>,
) -> Result<i64, EngineError> {
    let request: i64 = on_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO cash_requests (site_id, wallet_account_id, amount_minor, nonce, asked_by, asked_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(site)
        .bind(wallet)
        .bind(amount.0)
        .bind(nonce)
        .bind(actor)
        .bind(now)
        .fetch_one(&mut *conn)
        .await
    })?;
    let organisation = organisation_of(tx, SiteId(site)).await?;
    AuditEntry::new("cash_approval_asked", "account", wallet)
        .by(organisation, Some(actor))
        .after(json!({ "request": request, "amount_minor": amount.0 }))
        .insert_tx(tx)
        .await?;
    Ok(request)
}

fn decision_action(state: RequestState) -> &'static str {
    match state {
        RequestState::Posted => "cash_approved",
        RequestState::Refused => "cash_refused",
        RequestState::Withdrawn | RequestState::Pending => "cash_withdrawn",
    }
}
