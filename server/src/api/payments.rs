//! Payments made through the platform's providers, and top-ups recorded by other systems.

use super::{
    Api, Authed, Created, Listed, Page, Paging,
    error::ApiError,
    extract::{Body, Params},
    model::{NewTopUp, Payment, TopUp},
    money, page_of,
};
use crate::{engine::money::Source, on_db};
use app::domain::money::PositiveAmount;
use axum::{Json, extract::State};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

#[derive(sqlx::FromRow)]
struct PaymentRow {
    id: i64,
    public_id: String,
    site_id: i64,
    wallet_account_id: Option<i64>,
    provider: String,
    channel: String,
    amount_minor: i64,
    currency: String,
    status: String,
    receipt_number: Option<i64>,
    created_at: DateTime<Utc>,
    paid_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PaymentFilter {
    pub site_id: Option<i64>,
    pub account_id: Option<i64>,
    /// pending, paid, failed, conflict, refunded or charged_back.
    pub status: Option<String>,
}

#[utoipa::path(get, path = "/payments", tag = "payments", params(Paging, PaymentFilter),
    responses((status = 200, body = Page<Payment>)))]
/// Payments through the platform's providers, oldest first.
pub async fn list_payments(
    State(api): State<Api>,
    Authed(key): Authed,
    Params(paging): Params<Paging>,
    Params(filter): Params<PaymentFilter>,
) -> Listed<Payment> {
    let (after, limit) = paging.bounds()?;
    let rows: Vec<PaymentRow> = on_db!(&api.db, pool => {
        sqlx::query_as(
            "SELECT p.id, p.public_id, p.site_id, p.wallet_account_id, p.provider, p.channel, p.amount_minor, \
             p.currency, p.status, p.receipt_number, p.created_at, p.paid_at \
             FROM payments p JOIN sites s ON s.id = p.site_id WHERE s.organisation_id = $1 \
             AND ($2 IS NULL OR p.site_id = $2) AND ($3 IS NULL OR p.wallet_account_id = $3) \
             AND ($4 IS NULL OR p.status = $4) AND p.id > $5 ORDER BY p.id LIMIT $6",
        )
        .bind(key.org)
        .bind(filter.site_id)
        .bind(filter.account_id)
        .bind(filter.status.as_deref())
        .bind(after)
        .bind(limit + 1)
        .fetch_all(pool)
        .await
    })?;
    Ok(Json(page_of(
        rows,
        limit,
        |row| row.id,
        |row| Payment {
            id: row.public_id,
            site_id: row.site_id,
            account_id: row.wallet_account_id,
            provider: row.provider,
            channel: row.channel,
            amount: money(row.amount_minor, &row.currency),
            status: row.status,
            receipt_number: row.receipt_number,
            created_at: row.created_at,
            paid_at: row.paid_at,
        },
    )))
}

#[utoipa::path(post, path = "/top-ups", tag = "payments", request_body = NewTopUp,
    responses((status = 201, body = TopUp)))]
/// Credits money another system received (a campus cashier, a bank, an ERP) to an account,
/// with a receipt. The same `reference` is credited once: a repeat answers the first top-up
/// with `new: false`.
pub async fn create_top_up(
    State(api): State<Api>,
    Authed(key): Authed,
    Body(new): Body<NewTopUp>,
) -> Created<TopUp> {
    let reference = new.reference.trim();
    if reference.is_empty() || reference.chars().count() > 100 {
        return Err(ApiError::Unprocessable(
            "Give your reference for this money (1 to 100 characters).".into(),
        ));
    }
    let account = api
        .account(key.org, new.account_id)
        .await
        .map_err(ApiError::named("account"))?;
    let currency = account.balance.currency.clone();
    let amount = PositiveAmount::parse(&new.amount, crate::payments::digits_of(&currency))
        .map_err(|error| ApiError::Unprocessable(error.to_string()))?
        .0;
    let source = Source::Provider {
        // One reference space per organisation: two organisations' systems may both say "1".
        provider: format!("api:{}", key.org),
        reference: reference.to_owned(),
    };
    let top_up = api
        .engine
        .top_up(account.id, amount, source, Some(key.created_by))
        .await?;
    if top_up.new {
        let entry = key.audit("api_top_up", "account", account.id).after(json!({
            "amount_minor": amount.0,
            "reference": reference,
            "transaction": top_up.transaction,
            "api_key": key.prefix,
        }));
        let logged = entry.record(&api.db).await;
        if let Err(error) = logged {
            tracing::warn!(%error, "could not audit an API top-up");
        }
    }
    Ok(super::created(TopUp {
        transaction_id: top_up.transaction,
        receipt: top_up.receipt_label(),
        account_id: account.id,
        amount: money(amount.0, &currency),
        balance: money(top_up.balance.0, &currency),
        new: top_up.new,
    }))
}
