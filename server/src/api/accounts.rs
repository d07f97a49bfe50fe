//! Accounts and balances, their transactions and usage, and meters' readings.

use super::{
    Api, Authed, Listed, Page, Paging,
    error::ApiError,
    extract::{Id, Params},
    model::{
        Account, Granularity, Reading, SupplyStateName, Transaction, Usage, UsagePoint, UsageQuery,
    },
    money, page_of,
};
use crate::{db::ReadingTime, engine::usage::MICRO, on_db};
use axum::{Json, extract::State};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: i64,
    site_id: i64,
    unit_id: Option<i64>,
    meter_id: Option<i64>,
    utility: Option<String>,
    resident_id: Option<i64>,
    balance_minor: i64,
    currency: String,
    supply_state: String,
    opened_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
}

impl From<AccountRow> for Account {
    fn from(row: AccountRow) -> Self {
        Account {
            id: row.id,
            site_id: row.site_id,
            unit_id: row.unit_id,
            meter_id: row.meter_id,
            utility: row.utility,
            resident_id: row.resident_id,
            balance: money(row.balance_minor, &row.currency),
            supply_state: row.supply_state,
            opened_at: row.opened_at,
            closed_at: row.closed_at,
        }
    }
}

/// Residents' wallets: what people spend from (the ledger's other accounts are the site's).
const ACCOUNT_SELECT: &str = "SELECT a.id, a.site_id, w.unit_id, w.meter_id, a.utility, \
    o.user_id AS resident_id, a.balance_minor, s.currency, w.supply_state, a.opened_at, a.closed_at \
    FROM wallets w JOIN accounts a ON a.id = w.account_id JOIN sites s ON s.id = a.site_id \
    LEFT JOIN occupancies o ON o.id = w.occupancy_id \
    WHERE s.organisation_id = $1 AND a.kind = 'prepaid'";

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountFilter {
    pub site_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub resident_id: Option<i64>,
    pub supply_state: Option<SupplyStateName>,
    /// Closed accounts too (false by default).
    pub include_closed: Option<bool>,
}

#[utoipa::path(get, path = "/accounts", tag = "accounts", params(Paging, AccountFilter),
    responses((status = 200, body = Page<Account>)))]
/// Residents' prepaid accounts with their balances and supply state.
pub async fn list_accounts(
    State(api): State<Api>,
    Authed(key): Authed,
    Params(paging): Params<Paging>,
    Params(filter): Params<AccountFilter>,
) -> Listed<Account> {
    let (after, limit) = paging.bounds()?;
    let rows: Vec<AccountRow> = on_db!(&api.db, pool => {
        sqlx::query_as(&format!(
            "{ACCOUNT_SELECT} AND ($2 IS NULL OR a.site_id = $2) AND ($3 IS NULL OR w.unit_id = $3) \
             AND ($4 IS NULL OR o.user_id = $4) AND ($5 IS NULL OR w.supply_state = $5) \
             AND ($6 OR a.closed_at IS NULL) AND a.id > $7 ORDER BY a.id LIMIT $8"
        ))
        .bind(key.org)
        .bind(filter.site_id)
        .bind(filter.unit_id)
        .bind(filter.resident_id)
        .bind(filter.supply_state.map(SupplyStateName::as_str))
        .bind(filter.include_closed.unwrap_or(false))
        .bind(after)
        .bind(limit + 1)
        .fetch_all(pool)
        .await
    })?;
    Ok(Json(page_of(rows, limit, |row| row.id, Account::from)))
}

#[utoipa::path(get, path = "/accounts/{account_id}", tag = "accounts",
    params(("account_id" = i64, Path)), responses((status = 200, body = Account)))]
/// One account.
pub async fn get_account(
    State(api): State<Api>,
    Authed(key): Authed,
    Id(account): Id<i64>,
) -> Result<Json<Account>, ApiError> {
    api.account(key.org, account).await.map(Json)
}

#[derive(sqlx::FromRow)]
struct TransactionRow {
    id: i64,
    kind: String,
    memo: String,
    amount_minor: i64,
    posted_at: DateTime<Utc>,
    reverses_id: Option<i64>,
}

#[utoipa::path(get, path = "/accounts/{account_id}/transactions", tag = "accounts",
    params(("account_id" = i64, Path), Paging), responses((status = 200, body = Page<Transaction>)))]
/// What moved the account's balance, oldest first.
pub async fn list_transactions(
    State(api): State<Api>,
    Authed(key): Authed,
    Id(account): Id<i64>,
    Params(paging): Params<Paging>,
) -> Listed<Transaction> {
    let (after, limit) = paging.bounds()?;
    let account = api.account(key.org, account).await?;
    let rows: Vec<TransactionRow> = on_db!(&api.db, pool => {
        sqlx::query_as(
            "SELECT t.id, t.kind, t.memo, CAST(SUM(e.amount_minor) AS BIGINT) AS amount_minor, t.posted_at, t.reverses_id \
             FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id \
             WHERE e.account_id = $1 AND t.id > $2 \
             GROUP BY t.id, t.kind, t.memo, t.posted_at, t.reverses_id ORDER BY t.id LIMIT $3",
        )
        .bind(account.id)
        .bind(after)
        .bind(limit + 1)
        .fetch_all(pool)
        .await
    })?;
    let currency = account.balance.currency;
    Ok(Json(page_of(
        rows,
        limit,
        |row| row.id,
        |row| Transaction {
            id: row.id,
            kind: row.kind,
            memo: row.memo,
            amount: money(row.amount_minor, &currency),
            posted_at: row.posted_at,
            reverses_id: row.reverses_id,
        },
    )))
}

#[derive(sqlx::FromRow)]
struct HourRow {
    meter_id: i64,
    #[sqlx(try_from = "ReadingTime")]
    hour_start: DateTime<Utc>,
    quantity_micro: i64,
    cost_micro: i64,
    readings: i64,
}

#[derive(sqlx::FromRow)]
struct DayRow {
    meter_id: i64,
    day: String,
    quantity_micro: i64,
    cost_micro: i64,
    readings: i64,
}

#[utoipa::path(get, path = "/accounts/{account_id}/usage", tag = "accounts",
    params(("account_id" = i64, Path), UsageQuery), responses((status = 200, body = Usage)))]
/// The account's use and its cost per hour or per local day, from the roll-ups kept as
/// readings are rated.
pub async fn get_usage(
    State(api): State<Api>,
    Authed(key): Authed,
    Id(account): Id<i64>,
    Params(query): Params<UsageQuery>,
) -> Result<Json<Usage>, ApiError> {
    if query.to <= query.from || query.to - query.from > Duration::days(400) {
        return Err(ApiError::Unprocessable(
            "`to` must come after `from`, at most 400 days later.".into(),
        ));
    }
    let account = api.account(key.org, account).await?;
    let digits = crate::payments::digits_of(&account.balance.currency);
    let quantity = |micro: i64| Decimal::new(micro, MICRO).normalize().to_string();
    let cost = |micro: i64| Decimal::new(micro, MICRO + digits).normalize().to_string();
    let points = match query.granularity {
        Granularity::Hour => {
            let rows: Vec<HourRow> = on_db!(&api.db, pool => {
                sqlx::query_as(
                    "SELECT meter_id, hour_start, quantity_micro, cost_micro, readings FROM usage_hourly \
                     WHERE wallet_account_id = $1 AND hour_start >= $2 AND hour_start < $3 \
                     ORDER BY hour_start, meter_id",
                )
                .bind(account.id)
                .bind(ReadingTime(query.from))
                .bind(ReadingTime(query.to))
                .fetch_all(pool)
                .await
            })?;
            rows.into_iter()
                .map(|row| UsagePoint {
                    start: row.hour_start.to_rfc3339(),
                    meter_id: row.meter_id,
                    quantity: quantity(row.quantity_micro),
                    cost: cost(row.cost_micro),
                    readings: row.readings,
                })
                .collect()
        }
        Granularity::Day => {
            let (from, to): (NaiveDate, NaiveDate) =
                (query.from.date_naive(), query.to.date_naive());
            let rows: Vec<DayRow> = on_db!(&api.db, pool => {
                sqlx::query_as(
                    "SELECT meter_id, CAST(day AS TEXT) AS day, quantity_micro, cost_micro, readings FROM usage_daily \
                     WHERE wallet_account_id = $1 AND day >= $2 AND day <= $3 ORDER BY day, meter_id",
                )
                .bind(account.id)
                .bind(from)
                .bind(to)
                .fetch_all(pool)
                .await
            })?;
            rows.into_iter()
                .map(|row| UsagePoint {
                    start: row.day,
                    meter_id: row.meter_id,
                    quantity: quantity(row.quantity_micro),
                    cost: cost(row.cost_micro),
                    readings: row.readings,
                })
                .collect()
        }
    };
    Ok(Json(Usage {
        account_id: account.id,
        granularity: query.granularity,
        points,
    }))
}

#[derive(sqlx::FromRow)]
struct ReadingRow {
    id: i64,
    meter_id: i64,
    #[sqlx(try_from = "ReadingTime")]
    taken_at: DateTime<Utc>,
    #[sqlx(try_from = "ReadingTime")]
    received_at: DateTime<Utc>,
    register: String,
    status: String,
    quantity: Option<String>,
    net: Option<String>,
    tax: Option<String>,
    wallet_account_id: Option<i64>,
    note: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Window {
    /// Readings taken at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Readings taken before this instant.
    pub to: Option<DateTime<Utc>>,
}

#[utoipa::path(get, path = "/meters/{meter_id}/readings", tag = "readings",
    params(("meter_id" = i64, Path), Paging, Window), responses((status = 200, body = Page<Reading>)))]
/// The meter's readings as received and rated, in the order they arrived.
pub async fn list_readings(
    State(api): State<Api>,
    Authed(key): Authed,
    Id(meter): Id<i64>,
    Params(paging): Params<Paging>,
    Params(window): Params<Window>,
) -> Listed<Reading> {
    let (after, limit) = paging.bounds()?;
    let meter = api.meter(key.org, meter).await?;
    let rows: Vec<ReadingRow> = on_db!(&api.db, pool => {
        sqlx::query_as(
            "SELECT id, meter_id, taken_at, received_at, register, status, quantity, net, tax, wallet_account_id, note \
             FROM readings WHERE meter_id = $1 AND ($2 IS NULL OR taken_at >= $2) \
             AND ($3 IS NULL OR taken_at < $3) AND id > $4 ORDER BY id LIMIT $5",
        )
        .bind(meter.id)
        .bind(window.from.map(ReadingTime))
        .bind(window.to.map(ReadingTime))
        .bind(after)
        .bind(limit + 1)
        .fetch_all(pool)
        .await
    })?;
    Ok(Json(page_of(
        rows,
        limit,
        |row| row.id,
        |row| Reading {
            id: row.id,
            meter_id: row.meter_id,
            taken_at: row.taken_at,
            received_at: row.received_at,
            register: row.register,
            status: row.status,
            quantity: row.quantity,
            net: row.net,
            tax: row.tax,
            account_id: row.wallet_account_id,
            note: row.note,
        },
    )))
}

impl Api {
    pub(super) async fn account(&self, org: i64, account: i64) -> Result<Account, ApiError> {
        let row: Option<AccountRow> = on_db!(&self.db, pool => {
            sqlx::query_as(&format!("{ACCOUNT_SELECT} AND a.id = $2"))
                .bind(org)
                .bind(account)
                .fetch_optional(pool)
                .await
        })?;
        row.map(Account::from).ok_or(ApiError::NotFound)
    }
}
