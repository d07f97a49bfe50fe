//! Move-in and move-out: wallets open when someone moves in and close, settled, when they
//! leave. At move-out the final readings are charged, the allowance expires, emergency credit
//! is repaid from the balance, and what remains becomes a refund payable or the person's debt
//! (recovered from their future top-ups at the site). A transfer to another unit carries the
//! balance to the new unit's wallet of the same utility instead of refunding it.
//!
//! A replacement meter takes over the wallet of the meter it replaced (same unit, same
//! utility), so the balance carries on; its first reading is its baseline.
//!
//! A unit wallet (sites that bill per unit) is shared by room-mates and closes when the last
//! of them moves out. On sites that bill per meter, a meter's wallet belongs to the first
//! occupant; a room-mate moving in later shares it.

use super::{
    Engine, EngineError,
    rating::IncomingReading,
    setup::{BillingMode, load_rules},
};
use crate::{
    audit::AuditEntry,
    db::Tx,
    ledger::{Posting, SiteAccount, open_account, post, site_account},
    on_tx,
};
use app::domain::{Minor, UnitId, Utility};
use chrono::{DateTime, Utc};
use serde_json::json;

/// What a move-out leaves: per wallet, and in total.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settlement {
    pub wallets: Vec<WalletSettlement>,
    pub refund: Minor,
    pub debt: Minor,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalletSettlement {
    pub account: i64,
    pub utility: Option<Utility>,
    pub balance: Minor,
    pub emergency_owed: Minor,
    pub allowance_expired: Minor,
    /// Balance less emergency credit owed: refunded if positive, debt if negative.
    pub remainder: Minor,
    /// The wallet in the new unit that receives the remainder (transfers only).
    pub carried_to: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct Closing {
    account_id: i64,
    utility: Option<String>,
    balance: i64,
    allowance_account_id: Option<i64>,
    allowance: i64,
    emergency_account_id: Option<i64>,
    emergency: i64,
    shared: bool,
}

/// Opens the missing wallets of a unit's current occupants; returns how many were opened.
pub async fn open_wallets(
    tx: &mut Tx,
    unit: i64,
    now: DateTime<Utc>,
) -> Result<usize, EngineError> {
    let site: Option<i64> = on_tx!(tx, conn => {
        sqlx::query_scalar("SELECT b.site_id FROM units u JOIN buildings b ON b.id = u.building_id WHERE u.id = $1")
            .bind(unit)
            .fetch_optional(&mut *conn)
            .await
    })?;
    let site = site.ok_or(EngineError::NotFound("unit"))?;
    let occupancy: Option<(i64, DateTime<Utc>)> = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT id, starts_at FROM occupancies WHERE unit_id = $1 AND starts_at <= $2 \
             AND (ends_at IS NULL OR ends_at > $2) ORDER BY starts_at, id LIMIT 1",
        )
        .bind(unit)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await
    })?;
    // The wallet opens when the occupancy starts: readings since the move-in are the occupant's.
    let Some((occupancy, opened_at)) = occupancy else {
        return Ok(0);
    };
    let rules = load_rules(tx, site).await?;
    let meters: Vec<(i64, String, bool)> = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT m.id, m.utility, EXISTS (SELECT 1 FROM wallets w WHERE w.meter_id = m.id AND w.closed_at IS NULL) \
             FROM meters m WHERE m.unit_id = $1 AND m.removed_at IS NULL ORDER BY m.id",
        )
        .bind(unit)
        .fetch_all(&mut *conn)
        .await
    })?;
    let mut opened = 0;
    let mut fresh_meters = Vec::new();
    match rules.mode {
        BillingMode::PerMeter => {
            for (meter, utility, has_wallet) in meters {
                if has_wallet {
                    continue;
                }
                let utility: Utility = utility
                    .parse()
                    .map_err(|_| EngineError::Corrupt(utility.clone()))?;
                // A replacement meter takes over the wallet of the meter it replaced.
                let replaced: Option<i64> = on_tx!(tx, conn => {
                    sqlx::query_scalar(
                        "SELECT w.account_id FROM wallets w JOIN meters m ON m.id = w.meter_id \
                         WHERE w.unit_id = $1 AND w.closed_at IS NULL AND m.removed_at IS NOT NULL AND m.utility = $2 \
                         ORDER BY w.account_id LIMIT 1",
                    )
                    .bind(unit)
                    .bind(utility.as_str())
                    .fetch_optional(&mut *conn)
                    .await
                })?;
                if let Some(wallet) = replaced {
                    on_tx!(tx, conn => {
                        sqlx::query("UPDATE wallets SET meter_id = $1 WHERE account_id = $2")
                            .bind(meter)
                            .bind(wallet)
                            .execute(&mut *conn)
                            .await
                            .map(|_| ())
                    })?;
                    continue;
                }
                let account = open_account(tx, site, "prepaid", Some(utility), None, now).await?;
                insert_wallet(tx, account, site, unit, Some(meter), occupancy, opened_at).await?;
                fresh_meters.push(meter);
                opened += 1;
            }
        }
        BillingMode::UnitWallet => {
            let has_wallet: Option<i64> = on_tx!(tx, conn => {
                sqlx::query_scalar("SELECT account_id FROM wallets WHERE unit_id = $1 AND meter_id IS NULL AND closed_at IS NULL")
                    .bind(unit)
                    .fetch_optional(&mut *conn)
                    .await
            })?;
            if has_wallet.is_none() {
                let account = open_account(tx, site, "prepaid", None, None, now).await?;
                insert_wallet(tx, account, site, unit, None, occupancy, opened_at).await?;
                fresh_meters.extend(meters.iter().map(|(id, _, _)| *id));
                opened += 1;
            }
        }
    }
    // A new occupant's tiers start afresh.
    for meter in fresh_meters {
        on_tx!(tx, conn => {
            sqlx::query("UPDATE meter_states SET cycle_start = NULL, cycle_used = '0', max_demand = '0' WHERE meter_id = $1")
                .bind(meter)
                .execute(&mut *conn)
                .await
                .map(|_| ())
        })?;
    }
    Ok(opened)
}

async fn insert_wallet(
    tx: &mut Tx,
    account: i64,
    site: i64,
    unit: i64,
    meter: Option<i64>,
    occupancy: i64,
    opened_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO wallets (account_id, site_id, unit_id, meter_id, occupancy_id, opened_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(account)
        .bind(site)
        .bind(unit)
        .bind(meter)
        .bind(occupancy)
        .bind(opened_at)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    })
}

/// The wallets an occupancy's move-out closes, with their balances.
async fn closing_wallets(
    tx: &mut Tx,
    occupancy: i64,
    now: DateTime<Utc>,
) -> Result<Vec<Closing>, sqlx::Error> {
    on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT w.account_id, a.utility, a.balance_minor AS balance, w.allowance_account_id, \
             COALESCE(al.balance_minor, 0) AS allowance, w.emergency_account_id, COALESCE(em.balance_minor, 0) AS emergency, \
             (w.meter_id IS NULL AND EXISTS (SELECT 1 FROM occupancies o WHERE o.unit_id = w.unit_id AND o.id <> $1 \
               AND o.starts_at <= $2 AND (o.ends_at IS NULL OR o.ends_at > $2))) AS shared \
             FROM wallets w JOIN accounts a ON a.id = w.account_id \
             LEFT JOIN accounts al ON al.id = w.allowance_account_id LEFT JOIN accounts em ON em.id = w.emergency_account_id \
             WHERE w.closed_at IS NULL AND (w.occupancy_id = $1 OR (w.meter_id IS NULL AND w.unit_id = \
               (SELECT unit_id FROM occupancies WHERE id = $1))) ORDER BY w.account_id",
        )
        .bind(occupancy)
        .bind(now)
        .fetch_all(&mut *conn)
        .await
    })
}

fn settle(closing: &[Closing]) -> Settlement {
    let mut settlement = Settlement::default();
    for wallet in closing.iter().filter(|w| !w.shared) {
        let remainder = Minor(wallet.balance + wallet.emergency);
        if remainder > Minor::ZERO {
            settlement.refund = settlement.refund + remainder;
        } else {
            settlement.debt = settlement.debt - remainder;
        }
        settlement.wallets.push(WalletSettlement {
            account: wallet.account_id,
            utility: wallet.utility.as_deref().and_then(|u| u.parse().ok()),
            balance: Minor(wallet.balance),
            emergency_owed: Minor(-wallet.emergency),
            allowance_expired: Minor(wallet.allowance.max(0)),
            remainder,
            carried_to: None,
        });
    }
    settlement
}

/// The occupancy a person holds in a unit now.
async fn current_occupancy(
    tx: &mut Tx,
    unit: i64,
    person: i64,
    now: DateTime<Utc>,
) -> Result<(i64, i64), EngineError> {
    let found: Option<(i64, i64)> = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT o.id, b.site_id FROM occupancies o JOIN units u ON u.id = o.unit_id JOIN buildings b ON b.id = u.building_id \
             WHERE o.unit_id = $1 AND o.user_id = $2 AND o.starts_at <= $3 AND (o.ends_at IS NULL OR o.ends_at > $3)",
        )
        .bind(unit)
        .bind(person)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await
    })?;
    found.ok_or(EngineError::NotFound("occupancy"))
}

impl Engine {
    /// Opens wallets for whoever lives in the unit now and has none.
    pub async fn move_in(&self, unit: UnitId) -> Result<usize, EngineError> {
        let _turn = self.write.lock().await;
        let mut tx = self.db.begin_write().await?;
        let opened = open_wallets(&mut tx, unit.0, Utc::now()).await?;
        tx.commit().await?;
        Ok(opened)
    }

    /// What moving out now would settle, without changing anything.
    pub async fn settlement_preview(
        &self,
        unit: UnitId,
        person: i64,
    ) -> Result<Settlement, EngineError> {
        let now = Utc::now();
        let mut tx = self.db.begin_read().await?;
        let (occupancy, _) = current_occupancy(&mut tx, unit.0, person, now).await?;
        Ok(settle(&closing_wallets(&mut tx, occupancy, now).await?))
    }

    /// Moves a person out: charges the final readings, settles and closes their wallets, ends
    /// the occupancy. With `to`, moves them into that unit and carries each remainder to the
    /// new wallet of the same utility (refunding what has no counterpart).
    pub async fn move_out(
        &self,
        unit: UnitId,
        person: i64,
        final_readings: Vec<IncomingReading>,
        to: Option<UnitId>,
        actor: Option<i64>,
    ) -> Result<Settlement, EngineError> {
        if !final_readings.is_empty() {
            self.rate(final_readings).await?;
        }
        let _turn = self.write.lock().await;
        let now = Utc::now();
        let mut tx = self.db.begin_write().await?;
        let (occupancy, site) = current_occupancy(&mut tx, unit.0, person, now).await?;
        let closing = closing_wallets(&mut tx, occupancy, now).await?;
        let mut settlement = settle(&closing);

        on_tx!(&mut tx, conn => {
            sqlx::query("UPDATE occupancies SET ends_at = $1 WHERE id = $2")
                .bind(now)
                .bind(occupancy)
                .execute(&mut *conn)
                .await
                .map(|_| ())
        })?;
        let mut new_wallets: Vec<(i64, Option<String>)> = Vec::new();
        if let Some(to) = to {
            on_tx!(&mut tx, conn => {
                sqlx::query("INSERT INTO occupancies (unit_id, user_id, starts_at) VALUES ($1, $2, $3)")
                    .bind(to.0)
                    .bind(person)
                    .bind(now)
                    .execute(&mut *conn)
                    .await
                    .map(|_| ())
            })?;
            open_wallets(&mut tx, to.0, now).await?;
            new_wallets = on_tx!(&mut tx, conn => {
                sqlx::query_as(
                    "SELECT w.account_id, a.utility FROM wallets w JOIN accounts a ON a.id = w.account_id \
                     WHERE w.unit_id = $1 AND w.closed_at IS NULL ORDER BY w.account_id",
                )
                .bind(to.0)
                .fetch_all(&mut *conn)
                .await
            })?;
        }

        let refunds = site_account(&mut tx, site, SiteAccount::RefundsPayable, now).await?;
        let granted = site_account(&mut tx, site, SiteAccount::AllowancesGranted, now).await?;
        let mut owed = Minor::ZERO;
        for (wallet, line) in closing
            .iter()
            .filter(|w| !w.shared)
            .zip(settlement.wallets.iter_mut())
        {
            let mut posting =
                Posting::new(site, format!("settle:{}", wallet.account_id), "settlement")
                    .memo("Move-out settlement")
                    .by(actor);
            if let Some(allowance) = wallet.allowance_account_id {
                posting.transfer(allowance, granted, Minor(wallet.allowance.max(0)));
            }
            if let Some(emergency) = wallet.emergency_account_id {
                posting.transfer(wallet.account_id, emergency, Minor(-wallet.emergency));
            }
            let remainder = line.remainder;
            let carry_to = new_wallets
                .iter()
                .find(|(_, utility)| *utility == wallet.utility || utility.is_none())
                .map(|(id, _)| *id);
            if remainder > Minor::ZERO {
                match carry_to {
                    Some(target) => {
                        posting.transfer(wallet.account_id, target, remainder);
                        line.carried_to = Some(target);
                        settlement.refund = settlement.refund - remainder;
                    }
                    None => {
                        posting.transfer(wallet.account_id, refunds, remainder);
                        owed = owed + remainder;
                    }
                }
            } else if remainder < Minor::ZERO {
                let debt = debt_account_for(&mut tx, site, person, now).await?;
                posting.transfer(debt, wallet.account_id, -remainder);
            }
            post(&mut tx, &posting, now).await?;
            on_tx!(&mut tx, conn => {
                sqlx::query("UPDATE wallets SET closed_at = $1 WHERE account_id = $2")
                    .bind(now)
                    .bind(wallet.account_id)
                    .execute(&mut *conn)
                    .await?;
                sqlx::query("UPDATE accounts SET closed_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(wallet.account_id)
                    .execute(&mut *conn)
                    .await
                    .map(|_| ())
            })?;
        }
        if owed > Minor::ZERO {
            // What the refunds-payable account now holds for this person, to be paid out
            // through a provider or by hand (see `payments::payouts`).
            on_tx!(&mut tx, conn => {
                sqlx::query(
                    "INSERT INTO payouts (site_id, user_id, occupancy_id, amount_minor, reference, created_at, settled_by) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(site)
                .bind(person)
                .bind(occupancy)
                .bind(owed.0)
                .bind(format!("moveout-{occupancy}"))
                .bind(now)
                .bind(actor)
                .execute(&mut *conn)
                .await
                .map(|_| ())
            })?;
        }
        AuditEntry::new(
            if to.is_some() { "transfer" } else { "move_out" },
            "occupancy",
            occupancy,
        )
        .by_actor(actor)
        .after(json!({
            "refund_minor": settlement.refund.0,
            "debt_minor": settlement.debt.0,
            "to_unit": to.map(|u| u.0),
        }))
        .insert_tx(&mut tx)
        .await?;
        queue_statement(&mut tx, occupancy, site, &settlement, now).await?;
        tx.commit().await?;
        Ok(settlement)
    }
}

/// The move-out notice with its statement, to the person who moved out (by push, SMS or
/// e-mail like every notice; the e-mail carries the statement as an attachment). Queued once
/// per occupancy, in the transaction that settles it.
async fn queue_statement(
    tx: &mut Tx,
    occupancy: i64,
    site: i64,
    settlement: &Settlement,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    use app::domain::notices::{MoveOutStatement, StatementLine};
    let found: Option<(Option<i64>, String, String)> = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT (SELECT account_id FROM wallets WHERE occupancy_id = $1 ORDER BY account_id LIMIT 1), \
             n.name, s.time_zone FROM occupancies o JOIN units n ON n.id = o.unit_id \
             JOIN buildings b ON b.id = n.building_id JOIN sites s ON s.id = b.site_id WHERE o.id = $1",
        )
        .bind(occupancy)
        .fetch_optional(&mut *conn)
        .await
    })?;
    // Only a wallet of this occupancy leads a notice to its person (a room-mate's does not).
    let Some((Some(wallet), unit, zone)) = found else {
        return Ok(());
    };
    let zone: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::UTC);
    let statement = MoveOutStatement {
        unit,
        date: now.with_timezone(&zone).date_naive().to_string(),
        lines: settlement
            .wallets
            .iter()
            .map(|line| StatementLine {
                utility: line.utility.map(|u| u.to_string()).unwrap_or_default(),
                remainder_minor: line.remainder.0,
                carried: line.carried_to.is_some(),
            })
            .collect(),
        refund_minor: settlement.refund.0,
        debt_minor: settlement.debt.0,
    };
    let body = json!({ "account": wallet, "statement": statement }).to_string();
    on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO notifications (site_id, wallet_account_id, audience, kind, body, dedupe_key, created_at) \
             VALUES ($1, $2, 'resident', 'moved_out', $3, $4, $5) ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind(site)
        .bind(wallet)
        .bind(&body)
        .bind(format!("moved_out:{occupancy}"))
        .bind(now)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    })
}

async fn debt_account_for(
    tx: &mut Tx,
    site: i64,
    person: i64,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    let found: Option<i64> = on_tx!(tx, conn => {
        sqlx::query_scalar("SELECT id FROM accounts WHERE site_id = $1 AND user_id = $2 AND kind = 'debt'")
            .bind(site)
            .bind(person)
            .fetch_optional(&mut *conn)
            .await
    })?;
    match found {
        Some(id) => Ok(id),
        None => open_account(tx, site, "debt", None, Some(person), now).await,
    }
}
