//! Adjustments on four eyes. A request holds one amount and reason for one account or a batch;
//! it posts nothing until a second person approves it, and then posts each account's
//! adjustment in one transaction under a key of its own, so a repeated approval posts nothing
//! twice. An account closed while the request waited is left out, and shows so.

use super::{
    Engine, EngineError,
    form_key::form_key,
    money::{adjustment_books, adjustment_reason, post_adjustment},
    setup::SiteHeading,
    tariffs::organisation_of,
};
use crate::{audit::AuditEntry, db::Tx, on_db, on_tx};
use app::domain::{
    AccountId, Minor, SiteId,
    adjustments::{MAX_ACCOUNTS, RequestBook, RequestState, RequestView, RequestedAccount},
    common_charges::ShareRule,
    four_eyes::Decision,
};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::json;

/// How many decided requests the page keeps showing under the waiting ones.
const DECIDED_SHOWN: i64 = 20;

#[derive(sqlx::FromRow)]
struct RequestRow {
    id: i64,
    amount_minor: i64,
    reason: String,
    requested_by: i64,
    requester: String,
    requested_at: DateTime<Utc>,
    state: String,
    decider: Option<String>,
    decided_at: Option<DateTime<Utc>>,
    share_rule: Option<String>,
}

const REQUESTS: &str = "SELECT r.id, r.amount_minor, r.reason, r.requested_by, ru.display_name AS requester, \
    r.requested_at, r.state, du.display_name AS decider, r.decided_at, r.share_rule \
    FROM adjustment_requests r JOIN users ru ON ru.id = r.requested_by \
    LEFT JOIN users du ON du.id = r.decided_by WHERE r.site_id = $1";

impl Engine {
    /// Asks for `amount` on each of `wallets` (open accounts of the site) with a reason.
    /// The same form (the page's `nonce`) sent again with the same amount and reason answers
    /// the request it made; with others it asks anew.
    pub async fn request_adjustments(
        &self,
        site: SiteId,
        wallets: &[AccountId],
        amount: Minor,
        reason: &str,
        nonce: &str,
        actor: i64,
    ) -> Result<i64, EngineError> {
        let reason = adjustment_reason(reason)?;
        let form_key = &form_key(nonce, &[&amount.0.to_string(), reason])?;
        if amount == Minor::ZERO {
            return Err(EngineError::refused("An adjustment cannot be zero."));
        }
        if wallets.is_empty() {
            return Err(EngineError::refused("Choose at least one account."));
        }
        if wallets.len() > MAX_ACCOUNTS {
            return Err(EngineError::refused(format!(
                "Adjust at most {MAX_ACCOUNTS} accounts at once: narrow the search."
            )));
        }
        let _turn = self.turn().await;
        let now = Utc::now();
        let mut tx = self.db.begin_write().await?;
        if let Some(request) = asked_before(&mut tx, site, form_key).await? {
            return Ok(request);
        }
        let lines: Vec<(AccountId, Option<Minor>)> = wallets.iter().map(|w| (*w, None)).collect();
        let request = insert_request(
            &mut tx,
            Asked {
                site,
                form_key,
                amount,
                reason,
                share_rule: None,
                actor,
                now,
            },
            &lines,
        )
        .await?;
        tx.commit().await?;
        Ok(request)
    }

    /// Approves (a second person), refuses (a second person) or withdraws (the one who
    /// asked) a waiting request. Deciding the same way again answers as before.
    pub async fn decide_adjustments(
        &self,
        site: SiteId,
        request: i64,
        decision: Decision,
        actor: i64,
    ) -> Result<RequestState, EngineError> {
        let _turn = self.turn().await;
        let now = Utc::now();
        let mut tx = self.db.begin_write().await?;
        type Row = (i64, String, i64, String, Option<i64>);
        let row: Option<Row> = on_tx!(&mut tx, conn => {
            sqlx::query_as(
                "SELECT amount_minor, reason, requested_by, state, decided_by \
                 FROM adjustment_requests WHERE id = $1 AND site_id = $2",
            )
            .bind(request)
            .bind(site.0)
            .fetch_optional(&mut *conn)
            .await
        })?;
        let (amount, reason, requested_by, state, decided_by) =
            row.ok_or(EngineError::NotFound("adjustment request"))?;
        let state = RequestState::parse(&state)
            .ok_or_else(|| EngineError::Corrupt(format!("adjustment request state {state:?}")))?;
        let wanted = match decision.verdict(requested_by == actor) {
            None => {
                return Err(EngineError::refused(
                    "A second person must approve an adjustment you asked for.",
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
        let mut posted = Vec::new();
        if wanted == RequestState::Posted {
            let wallets: Vec<(i64, Option<i64>)> = on_tx!(&mut tx, conn => {
                sqlx::query_as(
                    "SELECT wallet_account_id, amount_minor FROM adjustment_request_accounts \
                     WHERE request_id = $1 ORDER BY wallet_account_id",
                )
                .bind(request)
                .fetch_all(&mut *conn)
                .await
            })?;
            let books = adjustment_books(&mut tx, site.0, now).await?;
            for (wallet, share) in wallets {
                if !open_on_site(&mut tx, site, AccountId(wallet)).await? {
                    continue;
                }
                let key = format!("adjust-request:{request}:{wallet}");
                let transaction = post_adjustment(
                    &mut tx,
                    &books,
                    wallet,
                    Minor(share.unwrap_or(amount)),
                    &reason,
                    &key,
                    Some(requested_by),
                    now,
                )
                .await?;
                on_tx!(&mut tx, conn => {
                    sqlx::query(
                        "UPDATE adjustment_request_accounts SET transaction_id = $3 \
                         WHERE request_id = $1 AND wallet_account_id = $2",
                    )
                    .bind(request)
                    .bind(wallet)
                    .bind(transaction)
                    .execute(&mut *conn)
                    .await
                    .map(|_| ())
                })?;
                posted.push(wallet);
            }
        }
        on_tx!(&mut tx, conn => {
            sqlx::query(
                "UPDATE adjustment_requests SET state = $2, decided_by = $3, decided_at = $4 WHERE id = $1",
            )
            .bind(request)
            .bind(wanted.as_str())
            .bind(actor)
            .bind(now)
            .execute(&mut *conn)
            .await
            .map(|_| ())
        })?;
        let organisation = organisation_of(&mut tx, site).await?;
        AuditEntry::new(decision_action(wanted), "site", site.0)
            .by(organisation, Some(actor))
            .before(json!({ "request": request, "state": RequestState::Pending.as_str() }))
            .after(json!({ "request": request, "state": wanted.as_str(), "posted": posted }))
            .insert_tx(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(wanted)
    }

    /// The site's waiting requests and the latest decided, as `viewer` sees them.
    pub async fn adjustment_book(
        &self,
        site: SiteId,
        viewer: i64,
    ) -> Result<RequestBook, EngineError> {
        let SiteHeading {
            name,
            digits,
            currency,
            tz,
        } = self.site_heading(site).await?;
        let waiting: Vec<RequestRow> = on_db!(&self.db, pool => {
            sqlx::query_as(&format!("{REQUESTS} AND r.state = 'pending' ORDER BY r.id DESC"))
                .bind(site.0)
                .fetch_all(pool)
                .await
        })?;
        let decided: Vec<RequestRow> = on_db!(&self.db, pool => {
            sqlx::query_as(&format!(
                "{REQUESTS} AND r.state <> 'pending' ORDER BY r.id DESC LIMIT {DECIDED_SHOWN}"
            ))
            .bind(site.0)
            .fetch_all(pool)
            .await
        })?;
        let shown = Shown {
            viewer,
            digits,
            currency: &currency,
            tz,
        };
        let mut book = RequestBook {
            site_name: name,
            zone: tz.name().to_owned(),
            waiting: Vec::with_capacity(waiting.len()),
            decided: Vec::with_capacity(decided.len()),
        };
        for row in waiting {
            book.waiting.push(self.request_view(row, &shown).await?);
        }
        for row in decided {
            book.decided.push(self.request_view(row, &shown).await?);
        }
        Ok(book)
    }

    async fn request_view(
        &self,
        row: RequestRow,
        shown: &Shown<'_>,
    ) -> Result<RequestView, EngineError> {
        type Line = (
            i64,
            String,
            String,
            Option<String>,
            Option<i64>,
            Option<i64>,
        );
        let lines: Vec<Line> = on_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT x.wallet_account_id, b.name, u.name, a.utility, x.transaction_id, x.amount_minor \
                 FROM adjustment_request_accounts x JOIN wallets w ON w.account_id = x.wallet_account_id \
                 JOIN accounts a ON a.id = x.wallet_account_id JOIN units u ON u.id = w.unit_id \
                 JOIN buildings b ON b.id = u.building_id WHERE x.request_id = $1 ORDER BY b.name, u.name, a.utility",
            )
            .bind(row.id)
            .fetch_all(pool)
            .await
        })?;
        let state = RequestState::parse(&row.state).ok_or_else(|| {
            EngineError::Corrupt(format!("adjustment request state {:?}", row.state))
        })?;
        let share_rule = match row.share_rule.as_deref() {
            None => None,
            Some(rule) => Some(ShareRule::parse(rule).map_err(EngineError::Corrupt)?),
        };
        Ok(RequestView {
            id: row.id,
            amount: shown.amount(Minor(row.amount_minor)),
            amount_minor: row.amount_minor,
            reason: row.reason,
            requested_by: row.requester,
            requested_at: row.requested_at.with_timezone(&shown.tz).naive_local(),
            state,
            decided_by: row.decider,
            decided_at: row
                .decided_at
                .map(|at| at.with_timezone(&shown.tz).naive_local()),
            accounts: lines
                .into_iter()
                .map(
                    |(id, building, unit, utility, transaction, share)| RequestedAccount {
                        id: AccountId(id),
                        label: account_label(&building, &unit, utility.as_deref()),
                        posted: transaction.is_some(),
                        share: share.map(|share| shown.amount(Minor(share))),
                    },
                )
                .collect(),
            mine: row.requested_by == shown.viewer,
            share_rule,
        })
    }
}

/// How the approvals page writes amounts and times.
struct Shown<'a> {
    viewer: i64,
    digits: u32,
    currency: &'a str,
    tz: Tz,
}

impl Shown<'_> {
    fn amount(&self, amount: Minor) -> String {
        format!("{} {}", amount.format(self.digits), self.currency)
    }
}

/// An account as requests name it: `Block A · A-101 · water`, or without the utility for a
/// unit's wallet.
pub(super) fn account_label(building: &str, unit: &str, utility: Option<&str>) -> String {
    match utility {
        Some(utility) => format!("{building} · {unit} · {utility}"),
        None => format!("{building} · {unit}"),
    }
}

fn decision_action(state: RequestState) -> &'static str {
    match state {
        RequestState::Posted => "adjustment_approved",
        RequestState::Refused => "adjustment_refused",
        RequestState::Withdrawn | RequestState::Pending => "adjustment_withdrawn",
    }
}

pub(super) async fn open_on_site(
    tx: &mut Tx,
    site: SiteId,
    wallet: AccountId,
) -> Result<bool, EngineError> {
    let found: Option<i64> = on_tx!(tx, conn => {
        sqlx::query_scalar(
            "SELECT account_id FROM wallets WHERE account_id = $1 AND site_id = $2 \
             AND closed_at IS NULL AND unit_id IS NOT NULL",
        )
        .bind(wallet.0)
        .bind(site.0)
        .fetch_optional(&mut *conn)
        .await
    })?;
    Ok(found.is_some())
}

/// A request as it is asked for: by whom, when, for how much (each account's, unless a line
/// carries its own share) and why.
pub(super) struct Asked<'a> {
    pub site: SiteId,
    pub form_key: &'a str,
    pub amount: Minor,
    pub reason: &'a str,
    /// How a common charge was shared out; `None` for the same amount on every account.
    pub share_rule: Option<ShareRule>,
    pub actor: i64,
    pub now: DateTime<Utc>,
}

/// The request the same form (`form_key`) asked for already, if it did.
pub(super) async fn asked_before(
    tx: &mut Tx,
    site: SiteId,
    form_key: &str,
) -> Result<Option<i64>, EngineError> {
    Ok(on_tx!(tx, conn => {
        sqlx::query_scalar("SELECT id FROM adjustment_requests WHERE site_id = $1 AND form_key = $2")
            .bind(site.0)
            .bind(form_key)
            .fetch_optional(&mut *conn)
            .await
    })?)
}

/// Records a waiting request and its accounts (each open on the site, or nothing is asked),
/// with the audit line; answers its id.
pub(super) async fn insert_request(
    tx: &mut Tx,
    asked: Asked<'_>,
    lines: &[(AccountId, Option<Minor>)],
) -> Result<i64, EngineError> {
    let Asked {
        site,
        form_key,
        amount,
        reason,
        share_rule,
        actor,
        now,
    } = asked;
    for (wallet, _) in lines {
        if !open_on_site(tx, site, *wallet).await? {
            return Err(EngineError::refused(format!(
                "Account {wallet} is not an open account of this site."
            )));
        }
    }
    let rule = share_rule.map(ShareRule::as_str);
    let request: i64 = on_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO adjustment_requests \
             (site_id, form_key, amount_minor, reason, share_rule, requested_by, requested_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(site.0)
        .bind(form_key)
        .bind(amount.0)
        .bind(reason)
        .bind(rule)
        .bind(actor)
        .bind(now)
        .fetch_one(&mut *conn)
        .await
    })?;
    for (wallet, share) in lines {
        on_tx!(tx, conn => {
            sqlx::query(
                "INSERT INTO adjustment_request_accounts (request_id, wallet_account_id, amount_minor) \
                 VALUES ($1, $2, $3)",
            )
            .bind(request)
            .bind(wallet.0)
            .bind(share.map(|s| s.0))
            .execute(&mut *conn)
            .await
            .map(|_| ())
        })?;
    }
    let organisation = organisation_of(tx, site).await?;
    let accounts: Vec<serde_json::Value> = lines
        .iter()
        .map(|(wallet, share)| match share {
            Some(share) => json!([wallet.0, share.0]),
            None => json!(wallet.0),
        })
        .collect();
    AuditEntry::new("adjustment_requested", "site", site.0)
        .by(organisation, Some(actor))
        .after(json!({
            "request": request,
            "amount_minor": amount.0,
            "reason": reason,
            "shared": rule,
            "accounts": accounts,
        }))
        .insert_tx(tx)
        .await?;
    Ok(request)
}
