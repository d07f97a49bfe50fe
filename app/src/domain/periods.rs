//! Closed accounting periods: a site's books closed through a day on its clock. Once closed,
//! nothing is posted at a time inside the period and no receipt taken in it is voided; a close
//! is never undone. What the periods page shows, and the day a close is asked for, parsed at
//! the edge.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// One close of the books.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PeriodClose {
    /// The last day closed, on the site's clock.
    pub through: NaiveDate,
    /// The site's ledger transactions up to the end of that day.
    pub transactions: i64,
    pub closed_by: String,
    /// When it was closed, on the site's clock.
    pub closed_at_local: chrono::NaiveDateTime,
}

/// The site's closes and what the viewer may do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Periods {
    pub site_name: String,
    /// Today on the site's clock: only days before it can be closed.
    pub today: NaiveDate,
    /// Newest first.
    pub closes: Vec<PeriodClose>,
    /// The viewer may close the books (the site's managers and the organisation's admins).
    pub may_close: bool,
}

impl Periods {
    /// The last day closed, if any.
    pub fn closed_through(&self) -> Option<NaiveDate> {
        self.closes.first().map(|close| close.through)
    }

    /// What the form offers: the last day of the month before this one, unless it is closed
    /// already.
    pub fn suggested(&self) -> Option<NaiveDate> {
        let end_of_last_month = self.today.with_day(1)?.pred_opt()?;
        (self.closed_through() < Some(end_of_last_month)).then_some(end_of_last_month)
    }
}

/// Why a close is refused before anything is read.
pub fn check_through(
    through: NaiveDate,
    today: NaiveDate,
    closed: Option<NaiveDate>,
) -> Result<(), String> {
    if through >= today {
        return Err(format!(
            "Only days that have ended can be closed: the last is {}.",
            today.pred_opt().unwrap_or(today)
        ));
    }
    match closed {
        Some(closed) if through < closed => Err(format!(
            "The books are closed through {closed} already; a close is never undone."
        )),
        _ => Ok(()),
    }
}

/// The last day to close, as a form sends it (`YYYY-MM-DD`).
pub fn parse_through(raw: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| "Give the last day to close as a date, such as 2026-11-30.".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn periods(today: NaiveDate, closed: Option<NaiveDate>) -> Periods {
        Periods {
            site_name: "Site".into(),
            today,
            closes: closed
                .into_iter()
                .map(|through| PeriodClose {
                    through,
                    transactions: 0,
                    closed_by: "A".into(),
                    closed_at_local: through.and_hms_opt(23, 0, 0).unwrap(),
                })
                .collect(),
            may_close: true,
        }
    }

    #[test]
    fn the_form_offers_the_end_of_last_month_until_it_is_closed() {
        let today = day(2027, 3, 5);
        assert_eq!(periods(today, None).suggested(), Some(day(2027, 2, 28)));
        assert_eq!(
            periods(today, Some(day(2027, 1, 31))).suggested(),
            Some(day(2027, 2, 28))
        );
        assert_eq!(periods(today, Some(day(2027, 2, 28))).suggested(), None);
        assert_eq!(
            periods(day(2028, 1, 1), None).suggested(),
            Some(day(2027, 12, 31))
        );
    }

    #[test]
    fn only_ended_days_after_the_last_close_are_closed() {
        let today = day(2027, 3, 5);
        assert!(check_through(day(2027, 3, 4), today, None).is_ok());
        assert!(
            check_through(day(2027, 3, 5), today, None)
                .unwrap_err()
                .contains("2027-03-04")
        );
        assert!(check_through(day(2027, 1, 31), today, Some(day(2027, 2, 28))).is_err());
        // The same day again is not refused here: the engine answers it as already done.
        assert!(check_through(day(2027, 2, 28), today, Some(day(2027, 2, 28))).is_ok());
        assert_eq!(parse_through(" 2027-02-28 "), Ok(day(2027, 2, 28)));
        assert!(parse_through("28/02/2027").is_err());
    }
}
