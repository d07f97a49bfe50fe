-- The band report reads a site's hourly roll-ups over the days asked, in hour order. Without
-- this it read every roll-up ever kept (the key starts with the account) and sorted them. An
-- index by hour grows at its end as hours pass, the cheapest one for rating to keep: one entry
-- per meter and hour, written when the hour's first reading is rated.
CREATE INDEX usage_hourly_by_hour ON usage_hourly (hour_start);
