//! What makes a console form safe to send twice.
//!
//! Each page the console draws gives its forms a fresh nonce. A sending's key is that nonce
//! *and what the form asked*: the same words sent again (a double click, a retry after an
//! answer was lost) are one action, and different words sent from the same page (a second
//! adjustment typed after the first) are another. Keyed by the nonce alone, that second
//! request was answered with the first one's result and never made.

use super::EngineError;

/// A form's nonce as the page was given it; anything else is a form from another version of
/// the page, or none at all.
fn nonce(raw: &str) -> Result<&str, EngineError> {
    let ok =
        (8..=64).contains(&raw.len()) && raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    ok.then_some(raw)
        .ok_or_else(|| EngineError::refused("The form is out of date: reload the page."))
}

/// The key of one sending: the form's `nonce` and the fields it `asked`, in a fixed order.
pub(crate) fn form_key(nonce: &str, asked: &[&str]) -> Result<String, EngineError> {
    Ok(format!("{}-{}", self::nonce(nonce)?, digest(asked)))
}

/// 24 hex digits of SHA-256 over `parts`, each prefixed with its length so that no two lists
/// hash the same bytes (`["ab", "c"]` and `["a", "bc"]` differ).
fn digest(parts: &[&str]) -> String {
    let mut words = ring::digest::Context::new(&ring::digest::SHA256);
    for part in parts {
        words.update(&(part.len() as u64).to_be_bytes());
        words.update(part.as_bytes());
    }
    words.finish().as_ref()[..12]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONCE: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn the_same_words_from_the_same_form_are_one_sending() {
        let first = form_key(NONCE, &["-20.00", "meter misread"]).unwrap();
        assert_eq!(
            first,
            form_key(NONCE, &["-20.00", "meter misread"]).unwrap()
        );
        assert!(first.starts_with(NONCE));
    }

    #[test]
    fn other_words_or_another_form_are_another_sending() {
        let first = form_key(NONCE, &["-20.00", "meter misread"]).unwrap();
        assert_ne!(
            first,
            form_key(NONCE, &["-25.00", "meter misread"]).unwrap()
        );
        assert_ne!(
            first,
            form_key(NONCE, &["-20.00", "meter misread."]).unwrap()
        );
        assert_ne!(
            first,
            form_key("fedcba9876543210", &["-20.00", "meter misread"]).unwrap()
        );
        // Where one field ends and the next begins counts.
        assert_ne!(
            form_key(NONCE, &["ab", "c"]).unwrap(),
            form_key(NONCE, &["a", "bc"]).unwrap()
        );
    }

    #[test]
    fn a_nonce_the_page_never_gave_is_refused() {
        for bad in [
            "",
            "short",
            "has space in it",
            "semi;colon1",
            &"x".repeat(65),
        ] {
            assert!(form_key(bad, &["1"]).is_err(), "{bad:?}");
        }
    }
}
