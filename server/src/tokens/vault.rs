//! Keeps secrets sealed at rest: keypad meters' device keys and webhooks' signing secrets. Each
//! is encrypted with AES-256-GCM under the vault key, with what it belongs to as associated
//! data (a meter's id, a subscription's), so a sealed secret copied onto another row does not
//! open. The vault key is not in the database, so a copy of the database alone
//! reveals no device key: it comes from `PREPAID_TOKEN_VAULT_KEY` (32 bytes, base64; every
//! instance on one database needs the same) or, failing that, from a file in the data
//! directory, created at first use and readable by its owner only.

use base64::{Engine, engine::general_purpose::STANDARD};
use ring::{
    aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey},
    rand::{SecureRandom, SystemRandom},
};
use std::{fmt, path::Path};

const FILE_NAME: &str = "token-vault.key";

pub struct Vault {
    key: LessSafeKey,
    random: SystemRandom,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Vault(..)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("PREPAID_TOKEN_VAULT_KEY must be 32 bytes in base64")]
    Malformed,
    #[error("could not read or create the token vault key {0}: {1}")]
    File(String, std::io::Error),
    #[error("a sealed secret did not open: wrong vault key, or not sealed for this")]
    Open,
    #[error("the system's random source failed")]
    Random,
}

impl Vault {
    pub fn from_key(bytes: &[u8; 32]) -> Self {
        let key = UnboundKey::new(&AES_256_GCM, bytes).expect("a 32-byte AES-256 key");
        Self {
            key: LessSafeKey::new(key),
            random: SystemRandom::new(),
        }
    }

    /// The vault of this installation: the given key, or the data directory's.
    pub fn load(given: Option<&str>, data_dir: &Path) -> Result<Self, VaultError> {
        let encoded = match given {
            Some(given) => given.trim().to_owned(),
            None => key_file(&data_dir.join(FILE_NAME))?,
        };
        let bytes: [u8; 32] = STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(VaultError::Malformed)?;
        Ok(Self::from_key(&bytes))
    }

    /// Seals a device key for one meter: base64 of nonce, ciphertext and tag.
    pub fn seal(&self, meter: i64, device_key: &[u8; 16]) -> Result<String, VaultError> {
        self.seal_bytes(&meter.to_be_bytes(), device_key)
    }

    pub fn open(&self, meter: i64, sealed: &str) -> Result<[u8; 16], VaultError> {
        self.open_bytes(&meter.to_be_bytes(), sealed)?
            .try_into()
            .map_err(|_| VaultError::Open)
    }

    /// Seals any secret bound to `context` (associated data): it opens only with the same.
    pub fn seal_bytes(&self, context: &[u8], secret: &[u8]) -> Result<String, VaultError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.random
            .fill(&mut nonce)
            .map_err(|_| VaultError::Random)?;
        let mut sealed = secret.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context),
                &mut sealed,
            )
            .map_err(|_| VaultError::Random)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(STANDARD.encode(out))
    }

    pub fn open_bytes(&self, context: &[u8], sealed: &str) -> Result<Vec<u8>, VaultError> {
        let bytes = STANDARD.decode(sealed).map_err(|_| VaultError::Open)?;
        if bytes.len() < NONCE_LEN {
            return Err(VaultError::Open);
        }
        let (nonce, rest) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| VaultError::Open)?;
        let mut rest = rest.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(context), &mut rest)
            .map_err(|_| VaultError::Open)?;
        Ok(plain.to_vec())
    }

    /// Sixteen fresh random bytes: a new device key.
    pub fn new_device_key(&self) -> Result<[u8; 16], VaultError> {
        let mut key = [0u8; 16];
        self.random.fill(&mut key).map_err(|_| VaultError::Random)?;
        Ok(key)
    }
}

/// Reads the vault key file, creating it (owner-only) with a fresh key the first time.
fn key_file(path: &Path) -> Result<String, VaultError> {
    let failed = |error| VaultError::File(path.display().to_string(), error);
    match std::fs::read_to_string(path) {
        Ok(text) => return Ok(text),
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(failed(error)),
        Err(_) => {}
    }
    let mut key = [0u8; 32];
    SystemRandom::new()
        .fill(&mut key)
        .map_err(|_| VaultError::Random)?;
    let encoded = STANDARD.encode(key);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            std::io::Write::write_all(&mut file, encoded.as_bytes()).map_err(failed)?;
            Ok(encoded)
        }
        // Another process created it first: use theirs.
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::read_to_string(path).map_err(failed)
        }
        Err(error) => Err(failed(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_key_opens_for_its_meter_only() {
        let vault = Vault::from_key(&[7; 32]);
        let device = [42u8; 16];
        let sealed = vault.seal(5, &device).unwrap();
        assert!(
            !sealed.contains("KioqKioq"),
            "the key is not stored in the clear"
        );
        assert_eq!(vault.open(5, &sealed).unwrap(), device);
        assert!(vault.open(6, &sealed).is_err());
        assert!(Vault::from_key(&[8; 32]).open(5, &sealed).is_err());
        assert_ne!(
            vault.seal(5, &device).unwrap(),
            sealed,
            "a fresh nonce each time"
        );
    }

    #[test]
    fn the_key_file_is_created_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let first = key_file(&dir.path().join(FILE_NAME)).unwrap();
        let second = key_file(&dir.path().join(FILE_NAME)).unwrap();
        assert_eq!(first, second);
        let vault = Vault::load(None, dir.path()).unwrap();
        let sealed = vault.seal(1, &[1; 16]).unwrap();
        assert_eq!(
            Vault::load(None, dir.path())
                .unwrap()
                .open(1, &sealed)
                .unwrap(),
            [1; 16]
        );
        assert!(matches!(
            Vault::load(Some("short"), dir.path()),
            Err(VaultError::Malformed)
        ));
    }
}
