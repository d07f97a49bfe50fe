//! Reading the audit log: what an admin may look for in it (parsed here, at the edge) and the
//! lines they get back, newest first, a page at a time.

use crate::error::AppError;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Lines on one page of the audit log; the next page starts below the last id shown.
pub const PAGE: usize = 50;
/// Search words longer than this are a pasted document, not a search.
const LONGEST_TEXT: usize = 100;

/// What to look for: words in the action, the subject, the actor's e-mail or the recorded
/// state; UTC days from and to (both included); entries older than `before` (an id).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AuditQuery {
    pub text: String,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub before: Option<i64>,
}

impl AuditQuery {
    /// The query from a form's fields, each possibly empty.
    pub fn parse(text: &str, from: &str, to: &str, before: &str) -> Result<Self, AppError> {
        let text = text.trim();
        if text.chars().count() > LONGEST_TEXT {
            return Err(AppError::invalid(format!(
                "Search for at most {LONGEST_TEXT} characters."
            )));
        }
        let day = |raw: &str, which: &str| -> Result<Option<NaiveDate>, AppError> {
            let raw = raw.trim();
            if raw.is_empty() {
                return Ok(None);
            }
            NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| AppError::invalid(format!("The {which} day must be YYYY-MM-DD.")))
        };
        let (from, to) = (day(from, "first")?, day(to, "last")?);
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            return Err(AppError::invalid("The first day comes after the last."));
        }
        let before = match before.trim() {
            "" => None,
            raw => Some(
                raw.parse::<i64>()
                    .ok()
                    .filter(|id| *id > 0)
                    .ok_or_else(|| AppError::invalid("Not a place in the audit log."))?,
            ),
        };
        Ok(Self {
            text: text.to_owned(),
            from,
            to,
            before,
        })
    }

    /// The text as a case-insensitive `LIKE` pattern, its own `%`, `_` and `\` taken
    /// literally (the query says `ESCAPE '\'`).
    pub fn like_pattern(&self) -> String {
        let mut pattern = String::from("%");
        for c in self.text.to_lowercase().chars() {
            if matches!(c, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        pattern
    }

    /// The first instant included and the first excluded, in UTC.
    pub fn window(&self) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        let midnight = |day: NaiveDate| day.and_hms_opt(0, 0, 0).map(|at| at.and_utc());
        (
            self.from.and_then(midnight),
            self.to.and_then(|day| day.succ_opt()).and_then(midnight),
        )
    }
}

/// One recorded action.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditLine {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// The actor's e-mail; `None` for the platform itself (jobs, callbacks, alarms).
    pub actor: Option<String>,
    pub client_addr: Option<String>,
    pub action: String,
    pub subject_type: String,
    pub subject_id: String,
    /// The state before and after, as the JSON recorded.
    pub before: Option<String>,
    pub after: Option<String>,
}

/// A page of the audit log and where the next (older) one starts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub lines: Vec<AuditLine>,
    pub older: Option<i64>,
}

impl AuditPage {
    /// A page from up to [`PAGE`] + 1 lines read: the extra one only says there are more.
    pub fn from_lines(mut lines: Vec<AuditLine>) -> Self {
        let more = lines.len() > PAGE;
        lines.truncate(PAGE);
        let older = lines.last().filter(|_| more).map(|line| line.id);
        Self { lines, older }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_is_parsed_from_its_form_fields() {
        let query = AuditQuery::parse("  Adjustment ", "2026-11-01", "2026-11-30", "120").unwrap();
        assert_eq!(query.text, "Adjustment");
        assert_eq!(query.before, Some(120));
        let (from, to) = query.window();
        assert_eq!(from.unwrap().to_rfc3339(), "2026-11-01T00:00:00+00:00");
        assert_eq!(
            to.unwrap().to_rfc3339(),
            "2026-12-01T00:00:00+00:00",
            "the last day included"
        );
        assert_eq!(
            AuditQuery::parse("", "", "", "").unwrap(),
            AuditQuery::default()
        );
    }

    #[test]
    fn bad_fields_are_refused_with_a_reason() {
        for (text, from, to, before) in [
            ("", "1 Nov", "", ""),
            ("", "", "2026-02-30", ""),
            ("", "2026-11-30", "2026-11-01", ""),
            ("", "", "", "-3"),
            ("", "", "", "abc"),
            (&"x".repeat(101) as &str, "", "", ""),
        ] {
            assert!(
                matches!(
                    AuditQuery::parse(text, from, to, before),
                    Err(AppError::Invalid(_))
                ),
                "{text:?} {from:?} {to:?} {before:?}"
            );
        }
    }

    #[test]
    fn search_text_is_taken_literally() {
        let query = AuditQuery::parse("50%_off\\", "", "", "").unwrap();
        assert_eq!(query.like_pattern(), "%50\\%\\_off\\\\%");
    }

    #[test]
    fn a_page_says_where_the_older_lines_start_only_when_there_are_some() {
        let line = |id| AuditLine {
            id,
            at: DateTime::UNIX_EPOCH,
            actor: None,
            client_addr: None,
            action: "x".into(),
            subject_type: "y".into(),
            subject_id: "1".into(),
            before: None,
            after: None,
        };
        let full = AuditPage::from_lines((0..=PAGE as i64).rev().map(line).collect());
        assert_eq!(full.lines.len(), PAGE);
        assert_eq!(full.older, Some(1));
        let last = AuditPage::from_lines((1..=3).rev().map(line).collect());
        assert_eq!((last.lines.len(), last.older), (3, None));
    }
}
