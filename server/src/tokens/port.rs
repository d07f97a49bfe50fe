//! The tokens' door for the server functions, which have already checked who may do what.

use super::{KeySource, Order, Provision, TokenLine, Tokens, VendorKind, openpaygo::Format};
use crate::{engine::EngineError, on_db};
use app::{
    domain::{
        AccountId, MeterId, UserId,
        tokens::{MeterTokens, NewDeviceKey, TokenMeterView, TokenSetup, TokenView},
    },
    error::AppError,
    ports::TokensPort,
};

fn app_error(error: EngineError) -> AppError {
    match error {
        EngineError::Refused(message) => AppError::Invalid(message),
        EngineError::NotFound(_) => AppError::NotFound,
        other => crate::internal(other),
    }
}

impl Tokens {
    /// Lines as people see them, the units named in the meter's unit of measure.
    fn views(lines: Vec<TokenLine>) -> Vec<TokenView> {
        lines
            .into_iter()
            .map(|line| TokenView {
                units: line
                    .units
                    .map(|units| format!("{} {}", units.normalize(), line.unit_of_measure)),
                public_id: line.public_id,
                kind: line.kind,
                amount_minor: line.amount_minor,
                status: line.status,
                digits: line.digits,
                failure: line.failure,
                created_at: line.created_at,
                created_local: line.created_local,
            })
            .collect()
    }

    async fn meter_of_token(&self, token: &str) -> Result<Option<(i64, Option<i64>)>, AppError> {
        on_db!(&self.engine.db, pool => {
            sqlx::query_as("SELECT meter_id, wallet_account_id FROM meter_tokens WHERE public_id = $1")
                .bind(token)
                .fetch_optional(pool)
                .await
        })
        .map_err(crate::internal)
    }
}

#[async_trait::async_trait]
impl TokensPort for Tokens {
    async fn account_tokens(&self, account: AccountId) -> Result<Vec<TokenView>, AppError> {
        let lines = self.of_wallet(account.0).await.map_err(app_error)?;
        Ok(Self::views(lines))
    }

    async fn payment_token(&self, payment: &str) -> Result<Option<TokenView>, AppError> {
        let line = self.of_payment(payment).await.map_err(app_error)?;
        Ok(Self::views(line.into_iter().collect()).pop())
    }

    async fn resend(&self, account: AccountId, token: &str) -> Result<(), AppError> {
        match self.meter_of_token(token).await? {
            Some((_, Some(wallet))) if wallet == account.0 => {
                Tokens::resend(self, token).await.map_err(app_error)
            }
            _ => Err(AppError::NotFound),
        }
    }

    async fn meter_tokens(&self, meter: MeterId) -> Result<MeterTokens, AppError> {
        type Row = (String, bool, bool, String, i64);
        let setup: Option<Row> = on_db!(&self.engine.db, pool => {
            sqlx::query_as(
                "SELECT vendor, extended, restricted, value_step, last_count FROM token_meters WHERE meter_id = $1",
            )
            .bind(meter.0)
            .fetch_optional(pool)
            .await
        })
        .map_err(crate::internal)?;
        let lines = self.of_meter(meter.0).await.map_err(app_error)?;
        Ok(MeterTokens {
            setup: setup.map(|(vendor, extended, restricted, value_step, last_count)| {
                TokenMeterView {
                    vendor,
                    extended,
                    restricted,
                    value_step,
                    last_count,
                }
            }),
            tokens: Self::views(lines),
        })
    }

    async fn provision(
        &self,
        meter: MeterId,
        setup: TokenSetup,
        actor: UserId,
    ) -> Result<Option<NewDeviceKey>, AppError> {
        let vendor = VendorKind::parse(&setup.vendor)
            .ok_or_else(|| AppError::Invalid("Choose OpenPAYGO or STS.".into()))?;
        let key = match setup.key {
            Some((hex, starting_code)) => KeySource::Given { hex, starting_code },
            None => KeySource::Generate,
        };
        let provisioned = Tokens::provision(
            self,
            meter.0,
            Provision {
                vendor,
                key,
                format: Format {
                    extended: setup.extended,
                    restricted: setup.restricted,
                },
                value_step: setup.value_step,
            },
            Some(actor.0),
        )
        .await
        .map_err(app_error)?;
        Ok(provisioned
            .key_hex
            .zip(provisioned.starting_code)
            .map(|(key_hex, starting_code)| NewDeviceKey {
                key_hex,
                starting_code,
            }))
    }

    async fn order(
        &self,
        meter: MeterId,
        kind: &str,
        value: Option<u32>,
        actor: UserId,
    ) -> Result<String, AppError> {
        let order = Order::parse(kind, value)
            .filter(|order| !matches!(order, Order::Credit(_)))
            .ok_or_else(|| {
                AppError::Invalid(
                    "Choose counter sync, disable, clear credit, or set credit with a value."
                        .into(),
                )
            })?;
        Tokens::order(self, meter.0, order, Some(actor.0))
            .await
            .map_err(app_error)
    }

    async fn approve(&self, meter: MeterId, token: &str, approver: UserId) -> Result<(), AppError> {
        match self.meter_of_token(token).await? {
            Some((on, _)) if on == meter.0 => Tokens::approve(self, token, approver.0)
                .await
                .map_err(app_error),
            _ => Err(AppError::NotFound),
        }
    }
}
