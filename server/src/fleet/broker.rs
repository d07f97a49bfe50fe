//! The broker's side of meter security, for mosquitto: every MQTT meter has its own user
//! (its serial) and password, and may publish only under `prepaid/meters/{serial}/up/` and
//! read only `prepaid/meters/{serial}/down/`. The platform generates each password (shown
//! once at install), keeps only its hash, and writes mosquitto's password and access files,
//! then asks the broker to reload them.

use super::wire::TOPIC_ROOT;
use crate::{config::Secret, db::Db, on_db};
use base64::{
    Engine as _,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use ring::rand::{SecureRandom, SystemRandom};
use std::{num::NonZeroU32, path::PathBuf};

/// mosquitto 2's PBKDF2-SHA512 parameters (`$7$`): 101 rounds, a 12-byte salt.
const ROUNDS: u32 = 101;
const SALT_BYTES: usize = 12;

/// A fresh broker password: 144 random bits, URL-safe text.
pub fn new_password() -> String {
    let mut bytes = [0_u8; 18];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the operating system's random source works");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The password's hash as mosquitto's password file holds it.
pub fn hash_password(password: &str) -> String {
    let mut salt = [0_u8; SALT_BYTES];
    SystemRandom::new()
        .fill(&mut salt)
        .expect("the operating system's random source works");
    hash_with_salt(password, &salt)
}

fn hash_with_salt(password: &str, salt: &[u8]) -> String {
    let mut hash = [0_u8; 64];
    ring::pbkdf2::derive(
        ring::pbkdf2::PBKDF2_HMAC_SHA512,
        NonZeroU32::new(ROUNDS).expect("non-zero"),
        salt,
        password.as_bytes(),
        &mut hash,
    );
    format!(
        "$7${ROUNDS}${}${}",
        STANDARD.encode(salt),
        STANDARD.encode(hash)
    )
}

/// The access rules: the platform reads and writes the whole tree, each meter only its own.
pub fn acl(platform_user: &str) -> String {
    format!(
        "# Written by the prepaid platform; changes here are overwritten.\n\
         user {platform_user}\n\
         topic readwrite {TOPIC_ROOT}/#\n\n\
         # Every meter (user name = serial) publishes under its own up/ and reads its own down/.\n\
         pattern write {TOPIC_ROOT}/%u/up/#\n\
         pattern read {TOPIC_ROOT}/%u/down/#\n"
    )
}

/// Where this platform keeps the broker's files, and how it tells the broker to reload.
#[derive(Clone, Debug)]
pub struct BrokerFiles {
    pub dir: PathBuf,
    pub platform_user: String,
    pub platform_password: Secret,
    /// mosquitto's `pid_file`: the broker reloads its files on SIGHUP.
    pub pid_file: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error("could not write {0}: {1}")]
    Write(PathBuf, std::io::Error),
}

impl BrokerFiles {
    pub fn passwd_path(&self) -> PathBuf {
        self.dir.join("passwd")
    }

    pub fn acl_path(&self) -> PathBuf {
        self.dir.join("acl")
    }

    /// Writes both files from the meters in service, then signals the broker.
    pub async fn write(&self, db: &Db) -> Result<(), BrokerError> {
        let meters: Vec<(String, String)> = on_db!(db, pool => {
            sqlx::query_as(
                "SELECT serial, broker_secret_hash FROM meters WHERE transport = 'mqtt' \
                 AND removed_at IS NULL AND broker_secret_hash IS NOT NULL ORDER BY serial",
            )
            .fetch_all(pool)
            .await
        })?;
        let mut passwd = format!(
            "{}:{}\n",
            self.platform_user,
            hash_password(self.platform_password.expose())
        );
        for (serial, hash) in meters {
            passwd.push_str(&format!("{serial}:{hash}\n"));
        }
        replace(&self.passwd_path(), &passwd)?;
        replace(&self.acl_path(), &acl(&self.platform_user))?;
        self.reload();
        Ok(())
    }

    fn reload(&self) {
        let Some(pid_file) = &self.pid_file else {
            return;
        };
        let pid = std::fs::read_to_string(pid_file).unwrap_or_default();
        let pid = pid.trim();
        if pid.is_empty() || !pid.chars().all(|c| c.is_ascii_digit()) {
            tracing::warn!(file = %pid_file.display(), "no broker pid to signal");
            return;
        }
        match std::process::Command::new("kill")
            .args(["-HUP", pid])
            .status()
        {
            Ok(status) if status.success() => {
                tracing::info!(pid, "broker reloading its credentials")
            }
            outcome => tracing::warn!(?outcome, pid, "could not signal the broker"),
        }
    }
}

/// Writes a file whole, then moves it into place: the broker never reads half a file.
fn replace(path: &std::path::Path, contents: &str) -> Result<(), BrokerError> {
    use std::os::unix::fs::PermissionsExt;
    let partial = path.with_extension("partial");
    let written = std::fs::write(&partial, contents)
        .and_then(|()| std::fs::set_permissions(&partial, std::fs::Permissions::from_mode(0o600)))
        .and_then(|()| std::fs::rename(&partial, path));
    written.map_err(|error| BrokerError::Write(path.to_owned(), error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_the_way_mosquitto_passwd_does() {
        // Made with `mosquitto_passwd -U` (mosquitto 2.0.11) for the password "secret".
        let theirs = "$7$101$ag59qqJq/vHJMayo$Ye3pphqcsD4pdabq8cgTx87YFzD0Wh0ySiEytlVa0J4riWfHm5FjREufUUe4mFPqtpA7+WG2gAzKrQV6nn5KVw==";
        let salt = STANDARD.decode("ag59qqJq/vHJMayo").unwrap();
        assert_eq!(hash_with_salt("secret", &salt), theirs);
        assert_ne!(hash_with_salt("Secret", &salt), theirs);
    }

    #[test]
    fn fresh_passwords_and_salts_differ() {
        assert_ne!(new_password(), new_password());
        assert_ne!(hash_password("same"), hash_password("same"));
        assert_eq!(new_password().len(), 24);
    }
}
