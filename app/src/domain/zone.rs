//! A site's clock for the browser: the UTC offsets a site's time zone had over the months a
//! page may show, so instants stored in UTC are written in the site's time without a time-zone
//! database in the WebAssembly (the server, which has one, works the offsets out).

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

/// The offsets of one zone, each from the instant it took effect (Unix seconds), in order.
/// Before the first change the first offset holds; most zones have a single one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteZone {
    pub name: String,
    changes: Vec<(i64, i32)>,
}

impl SiteZone {
    /// `changes`: (from, offset in seconds east of UTC), sorted by `from`; at least one.
    pub fn new(name: String, mut changes: Vec<(i64, i32)>) -> SiteZone {
        changes.sort_by_key(|change| change.0);
        if changes.is_empty() {
            changes.push((i64::MIN, 0));
        }
        SiteZone { name, changes }
    }

    pub fn utc() -> SiteZone {
        SiteZone::new("UTC".to_owned(), Vec::new())
    }

    /// The offset in effect at `at`.
    pub fn offset_at(&self, at: DateTime<Utc>) -> i32 {
        let seconds = at.timestamp();
        let after = self.changes.partition_point(|change| change.0 <= seconds);
        self.changes[after.saturating_sub(1)].1
    }

    /// `at` on the site's clock.
    pub fn local(&self, at: DateTime<Utc>) -> NaiveDateTime {
        at.naive_utc() + Duration::seconds(i64::from(self.offset_at(at)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn an_instant_takes_the_offset_in_effect_then() {
        // London: GMT, then BST from 2026-03-29 01:00 UTC, then GMT from 2026-10-25 01:00 UTC.
        let spring = Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).unwrap();
        let autumn = Utc.with_ymd_and_hms(2026, 10, 25, 1, 0, 0).unwrap();
        let zone = SiteZone::new(
            "Europe/London".into(),
            vec![
                (autumn.timestamp(), 0),
                (i64::MIN, 0),
                (spring.timestamp(), 3600),
            ],
        );
        let before = spring - Duration::seconds(1);
        assert_eq!(zone.local(before).to_string(), "2026-03-29 00:59:59");
        assert_eq!(zone.local(spring).to_string(), "2026-03-29 02:00:00");
        assert_eq!(
            zone.local(autumn - Duration::seconds(1)).to_string(),
            "2026-10-25 01:59:59"
        );
        assert_eq!(zone.local(autumn).to_string(), "2026-10-25 01:00:00");
    }

    #[test]
    fn a_zone_without_changes_is_utc() {
        let at = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
        assert_eq!(SiteZone::utc().local(at), at.naive_utc());
        let nairobi = SiteZone::new("Africa/Nairobi".into(), vec![(i64::MIN, 3 * 3600)]);
        assert_eq!(nairobi.local(at).to_string(), "2026-06-01 15:00:00");
    }
}
