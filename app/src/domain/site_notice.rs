//! A notice a site's manager writes to its residents ("water off on Tuesday from 9 to 12"),
//! sent to the homes of the accounts a search of the accounts table finds. Its words are the
//! manager's own, in one language; it reaches residents in-app, by push and by SMS or e-mail
//! as they chose, waits for their quiet hours, and cannot be muted (like a cut-off notice:
//! it is about their supply or their home).

use serde::{Deserialize, Serialize};

/// The kind a site notice is queued as.
pub const KIND: &str = "site_notice";

/// A lock screen shows about this much of a title.
pub const HEADING_MAX: usize = 80;
/// About four SMS segments: a notice, not a letter.
pub const TEXT_MAX: usize = 600;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteNotice {
    heading: String,
    text: String,
}

impl SiteNotice {
    /// The manager's heading and text, trimmed; each must say something, within its length,
    /// without control characters (the text may keep its line breaks).
    pub fn parse(heading: &str, text: &str) -> Result<SiteNotice, String> {
        let heading = heading.trim();
        let text = text.trim().replace("\r\n", "\n");
        if heading.is_empty() {
            return Err("Give the notice a heading.".into());
        }
        if text.is_empty() {
            return Err("Write what the notice says.".into());
        }
        if heading.chars().count() > HEADING_MAX {
            return Err(format!(
                "Keep the heading to {HEADING_MAX} characters: it is what a lock screen shows."
            ));
        }
        if text.chars().count() > TEXT_MAX {
            return Err(format!("Keep the notice to {TEXT_MAX} characters."));
        }
        if heading.chars().any(char::is_control)
            || text.chars().any(|c| c.is_control() && c != '\n')
        {
            return Err("Remove the control characters from the notice.".into());
        }
        Ok(SiteNotice {
            heading: heading.to_owned(),
            text,
        })
    }

    pub fn heading(&self) -> &str {
        &self.heading
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_notice_needs_words_within_their_lengths() {
        let notice =
            SiteNotice::parse("  Water off on Tuesday ", "From 9 to 12.\r\nSorry.\n").unwrap();
        assert_eq!(notice.heading(), "Water off on Tuesday");
        assert_eq!(notice.text(), "From 9 to 12.\nSorry.");
        assert!(SiteNotice::parse(" ", "text").is_err());
        assert!(SiteNotice::parse("heading", "\n ").is_err());
        assert!(SiteNotice::parse(&"x".repeat(HEADING_MAX + 1), "text").is_err());
        assert!(SiteNotice::parse(&"水".repeat(HEADING_MAX), &"水".repeat(TEXT_MAX)).is_ok());
        assert!(SiteNotice::parse("heading", &"x".repeat(TEXT_MAX + 1)).is_err());
        assert!(SiteNotice::parse("bell\u{7}", "text").is_err());
        assert!(SiteNotice::parse("heading", "a\u{0}b").is_err());
    }

    proptest! {
        /// What parses keeps its words: parsing it again gives the same notice.
        #[test]
        fn parsing_a_parsed_notice_changes_nothing(heading in "\\PC{0,90}", text in "[\\PC\n]{0,700}") {
            if let Ok(notice) = SiteNotice::parse(&heading, &text) {
                prop_assert_eq!(SiteNotice::parse(notice.heading(), notice.text()), Ok(notice.clone()));
                prop_assert!(!notice.heading().is_empty() && notice.heading().chars().count() <= HEADING_MAX);
                prop_assert!(!notice.text().is_empty() && notice.text().chars().count() <= TEXT_MAX);
            }
        }
    }
}
