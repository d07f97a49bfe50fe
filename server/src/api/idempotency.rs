//! Every write carries an `Idempotency-Key`. The first request with a key is answered and its
//! answer kept; a repeat (same key, same method, path and body) gets that answer again with
//! `Idempotent-Replayed: true` and changes nothing; the same key with another request is
//! refused (422), and one still being answered is 409. A server error is not kept, so the
//! client may try again with the same key.

use super::{error::ApiError, keys::KeyHolder};
use crate::{db::Db, db::is_unique_violation, on_db, on_db_write};
use axum::{
    body::{Body, to_bytes},
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use chrono::Utc;

pub const HEADER: &str = "idempotency-key";
/// How long a first answer is kept for repeats: longer than any client retries.
pub const KEPT_DAYS: i64 = 7;
/// Larger bodies are refused before they are read whole.
pub const MAX_BODY: usize = 1024 * 1024;

fn fingerprint(method: &str, path: &str, body: &[u8]) -> String {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    context.update(method.as_bytes());
    context.update(b" ");
    context.update(path.as_bytes());
    context.update(b"\n");
    context.update(body);
    crate::payments::provider::signature::hex(context.finish().as_ref())
}

/// The key as sent: 1 to 255 visible ASCII characters.
fn key_of(request: &Request) -> Result<String, ApiError> {
    let missing = || {
        ApiError::bad(
            "Send an Idempotency-Key header (1 to 255 visible characters, such as a UUID) with every write.",
        )
    };
    let value = request.headers().get(HEADER).ok_or_else(missing)?;
    let value = value.to_str().map_err(|_| missing())?.trim();
    let valid =
        !value.is_empty() && value.len() <= 255 && value.bytes().all(|b| b.is_ascii_graphic());
    if valid {
        Ok(value.to_owned())
    } else {
        Err(missing())
    }
}

#[derive(sqlx::FromRow)]
struct Kept {
    fingerprint: String,
    status: Option<i64>,
    body: Option<String>,
}

pub async fn layer(State(db): State<Db>, request: Request, next: Next) -> Response {
    // Other methods on a write's path are the router's to refuse (405), not ours.
    if request.method() != axum::http::Method::POST {
        return next.run(request).await;
    }
    match handle(db, request, next).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn handle(db: Db, request: Request, next: Next) -> Result<Response, ApiError> {
    let holder = request
        .extensions()
        .get::<KeyHolder>()
        .cloned()
        .ok_or(ApiError::Unauthenticated)?;
    let key = key_of(&request)?;
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| ApiError::bad("The body is too large (at most 1 MiB)."))?;
    let print = fingerprint(parts.method.as_str(), parts.uri.path(), &bytes);

    let claimed = on_db_write!(&db, pool => {
        sqlx::query(
            "INSERT INTO api_idempotency (key_id, idempotency_key, fingerprint, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(holder.id)
        .bind(&key)
        .bind(&print)
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(|_| ())
    });
    match claimed {
        Ok(_) => {}
        Err(error) if is_unique_violation(&error) => {
            return replay(&db, holder.id, &key, &print).await;
        }
        Err(error) => return Err(error.into()),
    }

    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let (parts, body) = response.into_parts();
    let bytes = to_bytes(body, usize::MAX)
        .await
        .map_err(|_| ApiError::Internal)?;
    let kept = on_db_write!(&db, pool => {
        if parts.status.is_server_error() {
            sqlx::query("DELETE FROM api_idempotency WHERE key_id = $1 AND idempotency_key = $2")
                .bind(holder.id)
                .bind(&key)
                .execute(pool)
                .await
                .map(|_| ())
        } else {
            sqlx::query("UPDATE api_idempotency SET status = $1, body = $2 WHERE key_id = $3 AND idempotency_key = $4")
                .bind(i64::from(parts.status.as_u16()))
                .bind(String::from_utf8_lossy(&bytes).into_owned())
                .bind(holder.id)
                .bind(&key)
                .execute(pool)
                .await
                .map(|_| ())
        }
    });
    if let Err(error) = kept {
        // The write itself is done; a repeat would now be refused as "in progress" rather
        // than repeated, which is the safe side.
        tracing::warn!(%error, "could not keep an idempotent answer");
    }
    Ok(Response::from_parts(parts, Body::from(bytes)))
}

async fn replay(db: &Db, key_id: i64, key: &str, print: &str) -> Result<Response, ApiError> {
    let kept: Option<Kept> = on_db!(db, pool => {
        sqlx::query_as(
            "SELECT fingerprint, status, body FROM api_idempotency WHERE key_id = $1 AND idempotency_key = $2",
        )
        .bind(key_id)
        .bind(key)
        .fetch_optional(pool)
        .await
    })?;
    let Some(kept) = kept else {
        return Err(ApiError::Conflict(
            "A request with this Idempotency-Key failed on our side just now; send it again."
                .into(),
        ));
    };
    if kept.fingerprint != print {
        return Err(ApiError::Unprocessable(
            "This Idempotency-Key was used for another request; use a new key for a new request."
                .into(),
        ));
    }
    let (Some(status), Some(body)) = (kept.status, kept.body) else {
        return Err(ApiError::Conflict(
            "A request with this Idempotency-Key is still being answered; try again shortly."
                .into(),
        ));
    };
    let status = u16::try_from(status)
        .ok()
        .and_then(|status| StatusCode::from_u16(status).ok())
        .ok_or(ApiError::Internal)?;
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    Ok(response)
}

/// Forgets answers older than [`KEPT_DAYS`]; a key used again after that is a new request.
pub async fn forget_old(db: &Db, now: chrono::DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let cutoff = now - chrono::Duration::days(KEPT_DAYS);
    on_db_write!(db, pool => {
        sqlx::query("DELETE FROM api_idempotency WHERE created_at < $1")
            .bind(cutoff)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_tells_requests_apart() {
        let one = fingerprint("POST", "/api/v1/units", b"{\"a\":1}");
        assert_eq!(one, fingerprint("POST", "/api/v1/units", b"{\"a\":1}"));
        assert_ne!(one, fingerprint("POST", "/api/v1/units", b"{\"a\":2}"));
        assert_ne!(one, fingerprint("POST", "/api/v1/meters", b"{\"a\":1}"));
        assert_ne!(one, fingerprint("PUT", "/api/v1/units", b"{\"a\":1}"));
    }
}
