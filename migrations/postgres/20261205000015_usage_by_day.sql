-- The consumption report asks the roll-ups for a site's meters over a span of days. The primary
-- key leads with the wallet, so the report read every roll-up the site ever had before keeping
-- the days asked (1.9 s for 30 days at 10,000 units on SQLite). Leading with the meter and the
-- day, and carrying the sums, lets it read only the days asked, from the index alone.
CREATE INDEX usage_daily_by_meter_day ON usage_daily (meter_id, day, quantity_micro, cost_micro);
