//! The API's one error type and its body: `{"error": {"code": "...", "message": "..."}}`,
//! the same shape for every status, so clients handle failures in one place.

use app::error::AppError;
use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(
        "Send an API key as `Authorization: Bearer ppk_…`; this one is missing, unknown or revoked."
    )]
    Unauthenticated,
    #[error("This key's scopes do not allow that.")]
    Forbidden,
    #[error("That was not found.")]
    NotFound,
    /// A malformed request: a body, query or path that does not parse.
    #[error("{0}")]
    BadRequest(String),
    /// A well-formed request the platform refuses (a rule, a limit, a state).
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    Conflict(String),
    #[error("Too many requests for this key; try again in {retry_after_s} s.")]
    RateLimited { retry_after_s: u64 },
    #[error("Something went wrong on our side; try again.")]
    Internal,
}

/// The body of every error answer.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, for programs: `unauthenticated`, `forbidden`, `not_found`, `bad_request`,
    /// `unprocessable`, `conflict`, `rate_limited`, `internal`.
    pub code: String,
    /// For people: what was wrong and how to put it right.
    pub message: String,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::Forbidden => "forbidden",
            ApiError::NotFound => "not_found",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unprocessable(_) => "unprocessable",
            ApiError::Conflict(_) => "conflict",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Internal => "internal",
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message: self.to_string(),
            },
        }
    }

    pub fn bad(message: impl Into<String>) -> Self {
        ApiError::BadRequest(message.into())
    }

    /// A body naming something not found (in the key's organisation) is refused as a whole:
    /// 422 naming what, where a 404 would say the address itself is wrong.
    pub fn named(what: &'static str) -> impl Fn(ApiError) -> ApiError {
        move |error| match error {
            ApiError::NotFound => ApiError::Unprocessable(format!("No such {what}.")),
            other => other,
        }
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Unauthenticated | AppError::BadCredentials => ApiError::Unauthenticated,
            AppError::Forbidden
            | AppError::PasswordChangeRequired
            | AppError::TwoFactorSetupRequired => ApiError::Forbidden,
            AppError::NotFound => ApiError::NotFound,
            AppError::Invalid(message) => ApiError::Unprocessable(message),
            AppError::Conflict(message) => ApiError::Conflict(message),
            AppError::Throttled {
                retry_after_minutes,
            } => ApiError::RateLimited {
                retry_after_s: u64::from(retry_after_minutes) * 60,
            },
            AppError::Internal | AppError::Transport(_) => ApiError::Internal,
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        crate::internal(error).into()
    }
}

impl From<crate::engine::EngineError> for ApiError {
    fn from(error: crate::engine::EngineError) -> Self {
        AppError::from(error).into()
    }
}

impl From<crate::fleet::FleetError> for ApiError {
    fn from(error: crate::fleet::FleetError) -> Self {
        AppError::from(error).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), Json(self.body())).into_response();
        match self {
            ApiError::RateLimited { retry_after_s } => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
            }
            ApiError::Unauthenticated => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        response
    }
}
