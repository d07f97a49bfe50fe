//! Axum's extractors, answering a malformed path, query or body with the API's error body
//! instead of plain text.

use super::error::ApiError;
use axum::{
    extract::{FromRequest, FromRequestParts, Request},
    http::request::Parts,
};
use serde::de::DeserializeOwned;

/// A NUL character as JSON writes it inside a string.
const NUL_ESCAPE: &[u8] = br"\u0000";
const NO_NUL: &str = "text may not contain NUL characters";

pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let bytes =
            axum::body::Bytes::from_request(Request::from_parts(parts.clone(), body), state)
                .await
                .map_err(|rejection| ApiError::bad(rejection.body_text()))?;
        // PostgreSQL's text cannot hold NUL: refuse it here, for both backends alike.
        if bytes
            .windows(NUL_ESCAPE.len())
            .any(|window| window == NUL_ESCAPE)
        {
            return Err(ApiError::bad(NO_NUL));
        }
        axum::Json::<T>::from_request(Request::from_parts(parts, bytes.into()), state)
            .await
            .map(|axum::Json(value)| Body(value))
            .map_err(|rejection| ApiError::bad(rejection.body_text()))
    }
}

pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if parts.uri.query().is_some_and(|query| query.contains("%00")) {
            return Err(ApiError::bad(NO_NUL));
        }
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Params(value))
            .map_err(|rejection| ApiError::bad(rejection.body_text()))
    }
}

pub struct Id<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Id<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Id(value))
            .map_err(|rejection| ApiError::bad(rejection.body_text()))
    }
}
