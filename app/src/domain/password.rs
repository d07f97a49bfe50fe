//! The password policy for new passwords (NIST SP 800-63B: length over composition rules).

use std::fmt;

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 128;

/// A password that satisfies the policy. It has no `Serialize` and a redacted `Debug`, so it
/// cannot leak into logs or responses.
#[derive(Clone)]
pub struct NewPassword(String);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("A password needs at least {MIN_PASSWORD_CHARS} characters.")]
    TooShort,
    #[error("A password can have at most {MAX_PASSWORD_CHARS} characters.")]
    TooLong,
    #[error("Choose a password that is not the same as your e-mail address.")]
    SameAsEmail,
}

impl NewPassword {
    pub fn parse(raw: &str, email: &str) -> Result<Self, PasswordError> {
        let chars = raw.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(PasswordError::TooShort);
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(PasswordError::TooLong);
        }
        if raw.trim().eq_ignore_ascii_case(email.trim()) {
            return Err(PasswordError::SameAsEmail);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_long_and_email_passwords_are_refused() {
        assert_eq!(
            NewPassword::parse("short", "a@b.c").unwrap_err(),
            PasswordError::TooShort
        );
        let long = "x".repeat(MAX_PASSWORD_CHARS + 1);
        assert_eq!(
            NewPassword::parse(&long, "a@b.c").unwrap_err(),
            PasswordError::TooLong
        );
        assert_eq!(
            NewPassword::parse("Someone@Example.org", "someone@example.org").unwrap_err(),
            PasswordError::SameAsEmail
        );
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert!(NewPassword::parse("密码密码密码密码密码", "a@b.c").is_ok());
    }

    #[test]
    fn debug_never_shows_the_password() {
        let password = NewPassword::parse("correct horse battery", "a@b.c").unwrap();
        assert!(!format!("{password:?}").contains("horse"));
    }
}
