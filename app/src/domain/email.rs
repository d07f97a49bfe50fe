//! E-mail addresses, parsed once at the edge and normalised so that look-ups are exact.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A syntactically plausible, lower-cased e-mail address.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("Enter an e-mail address.")]
    Empty,
    #[error("An e-mail address is at most 254 characters long.")]
    TooLong,
    #[error("That does not look like an e-mail address (name@example.org).")]
    Malformed,
}

impl Email {
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(EmailError::Empty);
        }
        if trimmed.len() > 254 {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = trimmed.rsplit_once('@').ok_or(EmailError::Malformed)?;
        let plausible = !local.is_empty()
            && !domain.is_empty()
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !trimmed.chars().any(|c| c.is_whitespace() || c.is_control())
            && !local.contains('@');
        if !plausible {
            return Err(EmailError::Malformed);
        }
        Ok(Self(trimmed.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = EmailError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_and_lower_cased() {
        let email = Email::parse("  Ada.Lovelace@Example.ORG ").unwrap();
        assert_eq!(email.as_str(), "ada.lovelace@example.org");
    }

    #[test]
    fn malformed_addresses_are_refused_with_a_reason() {
        assert_eq!(Email::parse(""), Err(EmailError::Empty));
        assert_eq!(Email::parse("no-at-sign"), Err(EmailError::Malformed));
        assert_eq!(Email::parse("@example.org"), Err(EmailError::Malformed));
        assert_eq!(Email::parse("ada@"), Err(EmailError::Malformed));
        assert_eq!(Email::parse("ada@.org"), Err(EmailError::Malformed));
        assert_eq!(Email::parse("a da@example.org"), Err(EmailError::Malformed));
        let long = format!("{}@example.org", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(EmailError::TooLong));
    }
}
