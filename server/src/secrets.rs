//! Secrets every server instance on one database must share: the session-signing key, the
//! VAPID key pair for Web Push, and the webhook signing secret. The operator may give them in
//! the environment; otherwise they are generated at first start and kept in the database, so
//! a second instance started against it finds the same ones. They are never logged.

use crate::{config::Config, config::Secret, db::Db, on_db_write};
use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use std::fmt;

const SESSION_KEY: &str = "session_key";
const VAPID_PRIVATE_KEY: &str = "vapid_private_key";
const WEBHOOK_SECRET: &str = "webhook_secret";

pub struct SharedSecrets {
    /// Signs session cookies (64 bytes).
    pub session_key: [u8; 64],
    /// VAPID private key: the P-256 scalar, base64url without padding (RFC 8292).
    pub vapid_private_key: Secret,
    /// VAPID public key: the uncompressed P-256 point, base64url; given to browsers.
    pub vapid_public_key: String,
    /// Signs the platform's own outgoing webhooks and sandbox callbacks.
    pub webhook_secret: Secret,
}

impl fmt::Debug for SharedSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedSecrets")
            .field("vapid_public_key", &self.vapid_public_key)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("could not read or store the shared secrets: {0}")]
    Storage(#[from] sqlx::Error),
    #[error("the secret {0} is malformed: {1}")]
    Malformed(&'static str, &'static str),
}

pub async fn load_or_create(db: &Db, config: &Config) -> Result<SharedSecrets, SecretsError> {
    let session = match &config.session_key {
        Some(given) => given.clone(),
        None => shared(db, SESSION_KEY, || STANDARD.encode(random::<64>())).await?,
    };
    let session_key: [u8; 64] = STANDARD
        .decode(session.expose().trim())
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(SecretsError::Malformed(
            "PREPAID_SESSION_KEY",
            "expected 64 bytes in base64",
        ))?;

    let vapid = match &config.vapid_private_key {
        Some(given) => given.clone(),
        None => shared(db, VAPID_PRIVATE_KEY, new_vapid_private_key).await?,
    };
    let vapid_public_key = vapid_public_key(vapid.expose()).ok_or(SecretsError::Malformed(
        "PREPAID_VAPID_PRIVATE_KEY",
        "expected a P-256 private key, 32 bytes in base64url",
    ))?;

    let webhook_secret = match &config.webhook_secret {
        Some(given) => given.clone(),
        None => {
            shared(db, WEBHOOK_SECRET, || {
                URL_SAFE_NO_PAD.encode(random::<32>())
            })
            .await?
        }
    };

    Ok(SharedSecrets {
        session_key,
        vapid_private_key: vapid,
        vapid_public_key,
        webhook_secret,
    })
}

/// The stored value of a secret, creating it first if no instance has yet. Two instances
/// starting at once both insert; the database keeps the first and both read that one.
async fn shared(
    db: &Db,
    name: &str,
    generate: impl FnOnce() -> String,
) -> Result<Secret, sqlx::Error> {
    let candidate = generate();
    let now = chrono::Utc::now();
    let value: String = on_db_write!(db, pool => {
        sqlx::query(
            "INSERT INTO secrets (name, value, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(&candidate)
        .bind(now)
        .execute(pool)
        .await?;
        sqlx::query_scalar("SELECT value FROM secrets WHERE name = $1").bind(name).fetch_one(pool).await
    })?;
    Ok(Secret::new(value))
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

/// 256 random bits, URL-safe: the secret of a one-time link.
pub(crate) fn link_token() -> String {
    URL_SAFE_NO_PAD.encode(random::<32>())
}

/// SHA-256 of a secret, hex: what is stored of one-time links, codes and API keys.
pub(crate) fn digest(secret: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, secret.as_bytes());
    crate::payments::provider::signature::hex(digest.as_ref())
}

/// Whether two secrets are equal, in a time that does not tell how much of them matched.
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// 128 random bits, URL-safe, after a prefix naming what they name (`pay_…`, `tok_…`): the
/// unguessable public name of a payment or a token.
pub(crate) fn public_id(prefix: &str) -> String {
    format!("{prefix}_{}", URL_SAFE_NO_PAD.encode(random::<16>()))
}

fn new_vapid_private_key() -> String {
    let key = p256::SecretKey::random(&mut OsRng);
    URL_SAFE_NO_PAD.encode(key.to_bytes())
}

/// The public half of a VAPID private key, as browsers' `applicationServerKey` wants it.
pub fn vapid_public_key(private_base64url: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD
        .decode(private_base64url.trim().trim_end_matches('='))
        .ok()?;
    let key = p256::SecretKey::from_slice(&bytes).ok()?;
    let uncompressed = key.public_key().to_encoded_point(false);
    Some(URL_SAFE_NO_PAD.encode(uncompressed.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vapid_public_key_is_an_uncompressed_p256_point() {
        let private = new_vapid_private_key();
        let public = URL_SAFE_NO_PAD
            .decode(vapid_public_key(&private).unwrap())
            .unwrap();
        assert_eq!(public.len(), 65);
        assert_eq!(public[0], 0x04);
    }

    #[test]
    fn malformed_vapid_keys_are_refused() {
        assert!(vapid_public_key("not a key").is_none());
        assert!(vapid_public_key(&URL_SAFE_NO_PAD.encode([0u8; 32])).is_none());
    }
}
