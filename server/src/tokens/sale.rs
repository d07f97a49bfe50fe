//! The sale of a token, inside the transaction that credits a top-up: what the wallet now
//! holds is turned into one token's worth of units at the tariff in force, the ledger moves
//! exactly that price from the wallet to revenue and tax, and a pending token is queued. One
//! sale per top-up transaction (unique in the database), so a repeated callback sells nothing.

use crate::{
    db::Tx,
    engine::{EngineError, setup::SiteRules},
    ledger::{Posting, SiteAccount, post, site_account},
    on_tx,
};
use app::domain::{
    Minor, Utility,
    tariff::cycle_start_containing,
    tokens::{Sale, sell},
};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::openpaygo::{MAX_EXTENDED_VALUE, MAX_STANDARD_VALUE};

/// A token's public name, also its vend reference.
pub(crate) fn new_public_id() -> String {
    crate::secrets::public_id("tok")
}

/// Sells a token for the wallet's meter after `top_up` credited it, when that meter holds its
/// own credit. Answers the queued token's id, or `None` for a meter switched through the
/// network (or when the credit does not reach one step: it stays for the next top-up).
pub(crate) async fn sell_after_top_up(
    tx: &mut Tx,
    wallet: i64,
    top_up: i64,
    rules: &SiteRules,
    now: DateTime<Utc>,
) -> Result<Option<i64>, EngineError> {
    type Row = (i64, String, String, bool, i64, String);
    let row: Option<Row> = on_tx!(&mut *tx, conn => {
        sqlx::query_as(
            "SELECT t.meter_id, m.utility, t.value_step, t.extended, a.balance_minor, u.tariff_plan \
             FROM wallets w JOIN token_meters t ON t.meter_id = w.meter_id JOIN meters m ON m.id = t.meter_id \
             JOIN units u ON u.id = m.unit_id JOIN accounts a ON a.id = w.account_id WHERE w.account_id = $1",
        )
        .bind(wallet)
        .fetch_optional(&mut *conn)
        .await
    })?;
    let Some((meter, utility, step, extended, balance, plan)) = row else {
        return Ok(None);
    };
    let utility: Utility = utility
        .parse()
        .map_err(|_| EngineError::Corrupt(utility.clone()))?;
    let plan = crate::engine::setup::stored_plan(&plan)?;
    let Some(tariff) = rules.tariff_now(&plan, utility, now) else {
        tracing::warn!(
            meter,
            "no tariff to sell a token by: the credit stays in the wallet"
        );
        return Ok(None);
    };
    let cycle_start = cycle_start_containing(now, &rules.tz, tariff.cycle_start_day);
    let sold = sold_since(tx, meter, cycle_start).await?;
    let max_value = if extended {
        MAX_EXTENDED_VALUE
    } else {
        MAX_STANDARD_VALUE
    };
    let step = crate::engine::decimal(&step)?;
    let Some(sale) = sell(tariff, sold, Minor(balance), rules.digits, step, max_value) else {
        return Ok(None);
    };
    let transaction = post_sale(tx, rules.site, wallet, utility, top_up, &sale, now).await?;
    let public_id = new_public_id();
    let id: Option<i64> = on_tx!(&mut *tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO meter_tokens (public_id, site_id, meter_id, wallet_account_id, kind, units, token_value, \
             amount_minor, top_up_transaction_id, sale_transaction_id, status, created_at) \
             VALUES ($1, $2, $3, $4, 'credit', $5, $6, $7, $8, $9, 'pending', $10) \
             ON CONFLICT (top_up_transaction_id) DO NOTHING RETURNING id",
        )
        .bind(&public_id)
        .bind(rules.site)
        .bind(meter)
        .bind(wallet)
        .bind(sale.units.to_string())
        .bind(i64::from(sale.value))
        .bind(sale.total().0)
        .bind(top_up)
        .bind(transaction)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await
    })?;
    Ok(id)
}

/// Units sold to a meter since the cycle began: tiered blocks count purchases, as a keypad
/// meter's own consumption is not what the platform charges.
async fn sold_since(tx: &mut Tx, meter: i64, since: DateTime<Utc>) -> Result<Decimal, EngineError> {
    let units: Vec<String> = on_tx!(&mut *tx, conn => {
        sqlx::query_scalar(
            "SELECT units FROM meter_tokens WHERE meter_id = $1 AND kind = 'credit' AND units IS NOT NULL \
             AND status <> 'failed' AND created_at >= $2",
        )
        .bind(meter)
        .bind(since)
        .fetch_all(&mut *conn)
        .await
    })?;
    units.iter().try_fold(Decimal::ZERO, |sum, units| {
        Ok(sum + crate::engine::decimal(units)?)
    })
}

async fn post_sale(
    tx: &mut Tx,
    site: i64,
    wallet: i64,
    utility: Utility,
    top_up: i64,
    sale: &Sale,
    now: DateTime<Utc>,
) -> Result<i64, EngineError> {
    let revenue = site_account(tx, site, SiteAccount::Revenue(utility), now).await?;
    let tax = site_account(tx, site, SiteAccount::TaxPayable, now).await?;
    let mut posting = Posting::new(site, format!("token_sale:{top_up}"), "token_sale")
        .memo(format!("Token sale: {} units", sale.units));
    posting
        .transfer(wallet, revenue, sale.net)
        .transfer(wallet, tax, sale.tax);
    let posted = post(tx, &posting, now).await?;
    posted
        .transaction()
        .ok_or_else(|| EngineError::Corrupt("a token sale without entries".into()))
}
