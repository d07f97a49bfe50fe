-- Migration 15 let the consumption report read a site's days from usage_daily's index by
-- meter and day alone, with the sums carried in the index. But rating adds to those sums with
-- every reading, and an update that changes an indexed column cannot be heap-only (see
-- migration 28, which left usage_daily full for that reason): every reading wrote a new entry
-- into both of the table's indexes. With the sums out of the index, and half of each new page
-- left free as for the other tables rating rewrites, adding to a day touches no index. See the
-- SQLite migration of the same number for what was measured.
DROP INDEX usage_daily_by_meter_day;
CREATE INDEX usage_daily_by_meter_day ON usage_daily (meter_id, day);
ALTER TABLE usage_daily SET (fillfactor = 50);
