-- The start of a roll-up hour and a meter's last reading time as whole microseconds since
-- 1970-01-01 UTC, as a reading's times have been since migration 32, where RFC 3339 text took
-- 25 bytes. Rating writes both for every meter it charges: the hour is in usage_hourly's key
-- and in its index by hour, and comparing 25 bytes of text at every step down those indexes
-- cost more than the rest of the upsert (the hourly roll-up of 30,000 readings took 0.10 s
-- with text, 0.04 s with integers; the meters' states 0.05 s and 0.03 s).
-- PostgreSQL already keeps both as 8-byte timestamptz.
--
-- The text is converted as migration 32 converted a reading's: whole seconds from
-- strftime('%s') of the text without its fraction, microseconds from the fraction's first six
-- digits. Nothing references either table; each is copied into a new one that takes its name.
CREATE TABLE usage_hourly_by_integer_time (
    wallet_account_id  BIGINT NOT NULL REFERENCES accounts (id),
    meter_id        BIGINT NOT NULL REFERENCES meters (id),
    -- The start of the site's local hour, as a UTC instant.
    hour_start      INTEGER NOT NULL,
    quantity_micro  BIGINT NOT NULL,
    cost_micro      BIGINT NOT NULL,
    readings        BIGINT NOT NULL,
    PRIMARY KEY (wallet_account_id, meter_id, hour_start)
);

INSERT INTO usage_hourly_by_integer_time
    (wallet_account_id, meter_id, hour_start, quantity_micro, cost_micro, readings)
SELECT
    wallet_account_id,
    meter_id,
    CAST(strftime('%s', substr(hour_start, 1, 19) || ltrim(rest, '0123456789')) AS INTEGER) * 1000000
        + CAST(substr(substr(rest, 1, length(rest) - length(ltrim(rest, '0123456789')))
            || '000000', 1, 6) AS INTEGER),
    quantity_micro, cost_micro, readings
FROM (
    SELECT *, substr(hour_start, 20 + (substr(hour_start, 20, 1) = '.')) AS rest
    FROM usage_hourly
);

DROP TABLE usage_hourly;
ALTER TABLE usage_hourly_by_integer_time RENAME TO usage_hourly;
CREATE INDEX usage_hourly_by_hour ON usage_hourly (hour_start);

CREATE TABLE meter_states_by_integer_time (
    meter_id         INTEGER PRIMARY KEY REFERENCES meters (id),
    last_reading_at  INTEGER,
    last_register    TEXT,
    -- The register value at which it wraps to zero, if it does.
    wraps_at         TEXT,
    cycle_start      TEXT,
    cycle_used       TEXT NOT NULL DEFAULT '0',
    max_demand       TEXT NOT NULL DEFAULT '0',
    relay            TEXT NOT NULL DEFAULT 'open' CHECK (relay IN ('open', 'closed', 'restricted', 'armed')),
    -- A cut for safety (gas_leak, overload, tamper, manager): only hold_clear_role lifts it.
    safety_hold      TEXT,
    hold_clear_role  TEXT,
    hold_since       TEXT,
    command_seq      BIGINT NOT NULL DEFAULT 0
);

-- A meter never read has no time: NULL stays NULL.
INSERT INTO meter_states_by_integer_time
    (meter_id, last_reading_at, last_register, wraps_at, cycle_start, cycle_used, max_demand,
     relay, safety_hold, hold_clear_role, hold_since, command_seq)
SELECT
    meter_id,
    CAST(strftime('%s', substr(last_reading_at, 1, 19) || ltrim(rest, '0123456789')) AS INTEGER) * 1000000
        + CAST(substr(substr(rest, 1, length(rest) - length(ltrim(rest, '0123456789')))
            || '000000', 1, 6) AS INTEGER),
    last_register, wraps_at, cycle_start, cycle_used, max_demand, relay, safety_hold,
    hold_clear_role, hold_since, command_seq
FROM (
    SELECT *, substr(last_reading_at, 20 + (substr(last_reading_at, 20, 1) = '.')) AS rest
    FROM meter_states
);

DROP TABLE meter_states;
ALTER TABLE meter_states_by_integer_time RENAME TO meter_states;
