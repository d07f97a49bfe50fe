//! How a reading's times are stored, and the times kept of readings elsewhere (the start of a
//! roll-up hour, a meter's last reading time): as whole microseconds since 1970-01-01 UTC in
//! an integer column on SQLite (8 bytes where RFC 3339 text took 25 to 35, in the largest
//! tables and their keys; see migrations 32 and 33), as `timestamptz` on PostgreSQL, which
//! keeps the same microseconds. Every query that binds or reads `readings.taken_at` or
//! `received_at`, `usage_hourly.hour_start` or `meter_states.last_reading_at` goes through
//! [`ReadingTime`]: a `DateTime` bound there on SQLite would be text, which SQLite orders after
//! every integer, so comparisons would quietly find nothing.

use chrono::{DateTime, Utc};
use sqlx::{
    Decode, Encode, Postgres, Sqlite, Type,
    encode::IsNull,
    error::BoxDynError,
    postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef},
    sqlite::{SqliteArgumentValue, SqliteTypeInfo, SqliteValueRef},
};

/// A reading's time, to the microsecond both databases keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadingTime(pub DateTime<Utc>);

/// What `#[sqlx(try_from = "ReadingTime")]` reads a row's `DateTime` field through.
impl From<ReadingTime> for DateTime<Utc> {
    fn from(at: ReadingTime) -> Self {
        at.0
    }
}

impl Type<Sqlite> for ReadingTime {
    fn type_info() -> SqliteTypeInfo {
        <i64 as Type<Sqlite>>::type_info()
    }

    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <i64 as Type<Sqlite>>::compatible(ty)
    }
}

impl Encode<'_, Sqlite> for ReadingTime {
    fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'_>>) -> Result<IsNull, BoxDynError> {
        // Every time chrono holds (some 262,000 years either side) fits in i64 microseconds.
        Encode::<Sqlite>::encode(self.0.timestamp_micros(), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for ReadingTime {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let micros = <i64 as Decode<Sqlite>>::decode(value)?;
        DateTime::from_timestamp_micros(micros)
            .map(Self)
            .ok_or_else(|| format!("{micros} µs since 1970 is no time chrono can hold").into())
    }
}

impl Type<Postgres> for ReadingTime {
    fn type_info() -> PgTypeInfo {
        <DateTime<Utc> as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <DateTime<Utc> as Type<Postgres>>::compatible(ty)
    }
}

impl Encode<'_, Postgres> for ReadingTime {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Postgres>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Postgres> for ReadingTime {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        <DateTime<Utc> as Decode<Postgres>>::decode(value).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::ReadingTime;
    use chrono::{DateTime, Duration, SubsecRound, TimeZone, Utc};
    use sqlx::{
        migrate::Migrator,
        sqlite::{SqliteConnectOptions, SqlitePool},
    };

    /// The first migration that stores a reading's times as integers.
    const INTEGER_TIMES: &str = "20261218000032";
    /// The first that stores a roll-up hour and a meter's last reading time as integers.
    const INTEGER_HOURS: &str = "20261219000033";

    /// A database in `dir` with the migrations before `version` applied, foreign keys off: only
    /// the times in the rows a test writes are in question, not what they refer to.
    async fn migrated_before(dir: &std::path::Path, version: &str) -> SqlitePool {
        let earlier = dir.join("earlier");
        std::fs::create_dir(&earlier).unwrap();
        let all = concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations/sqlite");
        for entry in std::fs::read_dir(all).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            if name.as_str() < version {
                std::fs::copy(&path, earlier.join(name)).unwrap();
            }
        }
        // As every connection of this process, opened after SQLite is set up.
        crate::db::configure_sqlite();
        let options = SqliteConnectOptions::new()
            .filename(dir.join("upgraded.db"))
            .create_if_missing(true)
            .foreign_keys(false);
        let pool = SqlitePool::connect_with(options).await.unwrap();
        let before = Migrator::new(earlier.as_path()).await.unwrap();
        assert!(
            before.iter().count() > 30,
            "the earlier migrations were copied"
        );
        before.run(&pool).await.unwrap();
        pool
    }

    #[tokio::test]
    async fn times_stored_as_text_before_migration_32_come_out_of_it_to_the_microsecond() {
        let dir = tempfile::tempdir().unwrap();
        let pool = migrated_before(dir.path(), INTEGER_TIMES).await;

        // Whole seconds, milliseconds, microseconds, nanoseconds (sqlx wrote 0, 3, 6 or 9
        // digits), and a time before 1970, whose whole seconds are negative.
        let day = Utc.with_ymd_and_hms(2026, 12, 6, 22, 38, 59).unwrap();
        let times: Vec<DateTime<Utc>> = vec![
            day,
            day + Duration::milliseconds(123),
            day + Duration::microseconds(123_456),
            day + Duration::nanoseconds(999_999_999),
            Utc.with_ymd_and_hms(1969, 12, 31, 23, 59, 59).unwrap() + Duration::milliseconds(500),
        ];
        for (meter, at) in times.iter().enumerate() {
            // Bound as a `DateTime`, the text sqlx wrote before.
            sqlx::query(
                "INSERT INTO readings (meter_id, taken_at, register, received_at, status) \
                 VALUES ($1, $2, '1', $3, 'baseline')",
            )
            .bind(meter as i64)
            .bind(at)
            .bind(*at + Duration::microseconds(7))
            .execute(&pool)
            .await
            .unwrap();
        }
        crate::db::SQLITE_MIGRATIONS.run(&pool).await.unwrap();

        let stored: Vec<(ReadingTime, ReadingTime, String)> = sqlx::query_as(
            "SELECT taken_at, received_at, typeof(taken_at) || ' ' || typeof(received_at) \
             FROM readings ORDER BY meter_id",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        let expected: Vec<(ReadingTime, ReadingTime, String)> = times
            .iter()
            .map(|at| {
                let at = at.trunc_subsecs(6);
                (
                    ReadingTime(at),
                    ReadingTime(at + Duration::microseconds(7)),
                    "integer integer".to_owned(),
                )
            })
            .collect();
        assert_eq!(stored, expected);

        // The unique key still turns a repeat away.
        let repeat = sqlx::query(
            "INSERT INTO readings (meter_id, taken_at, register, received_at, status) \
             VALUES (0, $1, '2', $1, 'baseline') ON CONFLICT (meter_id, taken_at) DO NOTHING",
        )
        .bind(ReadingTime(day))
        .execute(&pool)
        .await
        .unwrap();
        assert_eq!(repeat.rows_affected(), 0);
    }

    #[tokio::test]
    async fn hours_and_last_reading_times_stored_as_text_come_out_of_migration_33_as_they_were() {
        let dir = tempfile::tempdir().unwrap();
        let pool = migrated_before(dir.path(), INTEGER_HOURS).await;
        // Bound as `DateTime`s, the text sqlx wrote before: an hour (whole, as roll-ups keep
        // them) and a last reading time with seconds and nanoseconds.
        let hour = Utc.with_ymd_and_hms(2026, 12, 7, 3, 0, 0).unwrap();
        let last = hour + Duration::nanoseconds(59_123_456_789);
        sqlx::query(
            "INSERT INTO usage_hourly (wallet_account_id, meter_id, hour_start, quantity_micro, cost_micro, readings) \
             VALUES (7, 1, $1, 250000, 1500000, 2)",
        )
        .bind(hour)
        .execute(&pool)
        .await
        .unwrap();
        // A meter read, and one never read, whose state keeps everything else it held.
        sqlx::query(
            "INSERT INTO meter_states (meter_id, last_reading_at, last_register, relay, safety_hold, command_seq) \
             VALUES (1, $1, '12.5', 'closed', 'gas_leak', 4), (2, NULL, NULL, 'open', NULL, 0)",
        )
        .bind(last)
        .execute(&pool)
        .await
        .unwrap();
        crate::db::SQLITE_MIGRATIONS.run(&pool).await.unwrap();

        let hours: Vec<(i64, ReadingTime, i64, i64, i64)> = sqlx::query_as(
            "SELECT wallet_account_id, hour_start, quantity_micro, cost_micro, readings FROM usage_hourly",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        assert_eq!(hours, [(7, ReadingTime(hour), 250_000, 1_500_000, 2)]);
        type State = (
            i64,
            Option<ReadingTime>,
            Option<String>,
            String,
            Option<String>,
            i64,
        );
        let states: Vec<State> = sqlx::query_as(
            "SELECT meter_id, last_reading_at, last_register, relay, safety_hold, command_seq \
             FROM meter_states ORDER BY meter_id",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        let state = |meter, at, register: Option<&str>, relay: &str, hold: Option<&str>, seq| {
            let owned = |text: Option<&str>| text.map(str::to_owned);
            (
                meter,
                at,
                owned(register),
                relay.to_owned(),
                owned(hold),
                seq,
            )
        };
        assert_eq!(
            states,
            [
                state(
                    1,
                    Some(ReadingTime(last.trunc_subsecs(6))),
                    Some("12.5"),
                    "closed",
                    Some("gas_leak"),
                    4
                ),
                state(2, None, None, "open", None, 0),
            ]
        );

        // The hour is the roll-up's key: the same hour adds to it.
        sqlx::query(
            "INSERT INTO usage_hourly (wallet_account_id, meter_id, hour_start, quantity_micro, cost_micro, readings) \
             VALUES (7, 1, $1, 1, 1, 1) ON CONFLICT (wallet_account_id, meter_id, hour_start) \
             DO UPDATE SET readings = usage_hourly.readings + excluded.readings",
        )
        .bind(ReadingTime(hour))
        .execute(&pool)
        .await
        .unwrap();
        let readings: i64 = sqlx::query_scalar("SELECT sum(readings) FROM usage_hourly")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(readings, 3);
    }
}
