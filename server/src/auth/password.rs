//! Password hashing with argon2id at OWASP's recommended parameters, off the async threads.

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version,
    password_hash::{SaltString, rand_core::OsRng},
};
use std::sync::OnceLock;

/// OWASP Password Storage Cheat Sheet: argon2id, 19 MiB of memory, 2 iterations, 1 lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`). Not `Serialize`: it stays in the engine.
#[derive(Clone)]
pub struct PasswordHashString(pub String);

impl std::fmt::Debug for PasswordHashString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHashString(<redacted>)")
    }
}

pub fn hash_blocking(password: &str) -> PasswordHashString {
    let salt = SaltString::generate(&mut OsRng);
    let hash = argon2()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing cannot fail with valid parameters");
    PasswordHashString(hash.to_string())
}

pub async fn hash(password: String) -> PasswordHashString {
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .expect("the hashing task does not panic")
}

/// Checks a password against a stored hash. With no hash (an unknown account) it checks
/// against a dummy one, so that an unknown account costs the same time as a wrong password.
pub async fn verify(password: String, stored: Option<PasswordHashString>) -> bool {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let phc = stored
            .map(|hash| hash.0)
            .unwrap_or_else(|| dummy_hash().to_owned());
        let matches = PasswordHash::new(&phc)
            .map(|parsed| {
                argon2()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false);
        known && matches
    })
    .await
    .expect("the verifying task does not panic")
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_blocking("no account has this password; it only spends time").0)
}

/// A random initial password, from an alphabet without look-alike characters, for a person to
/// type once before choosing their own.
pub fn initial_password() -> String {
    use argon2::password_hash::rand_core::RngCore;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut out = String::with_capacity(16);
    while out.len() < 16 {
        let byte = (OsRng.next_u32() & 0xff) as usize;
        // Rejection sampling keeps every character equally likely.
        if byte < ALPHABET.len() * (256 / ALPHABET.len()) {
            out.push(ALPHABET[byte % ALPHABET.len()] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let hash = hash("correct horse battery".into()).await;
        assert!(hash.0.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse battery".into(), Some(hash.clone())).await);
        assert!(!verify("Correct horse battery".into(), Some(hash)).await);
    }

    #[tokio::test]
    async fn an_unknown_account_never_verifies() {
        assert!(
            !verify(
                "no account has this password; it only spends time".into(),
                None
            )
            .await
        );
    }

    #[test]
    fn initial_passwords_are_long_and_unambiguous() {
        let password = initial_password();
        assert_eq!(password.len(), 16);
        assert!(!password.contains(['0', 'O', '1', 'l', 'I']));
        assert_ne!(password, initial_password());
    }
}
