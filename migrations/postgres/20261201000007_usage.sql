-- What each account used through each of its meters, and what that cost, per local hour and
-- per local day of its site. Kept in the transaction that rates the readings, so a graph over
-- a month or a year reads a few hundred rows rather than every reading. Keyed by account as
-- well as meter: a resident's graphs show their own use and nothing of whoever lived there
-- before, even on the day they moved in. Derived figures for graphs; the ledger remains what
-- was charged. Quantities are millionths of the meter's unit, costs (net + tax, before the
-- ledger's rounding) millionths of the currency's minor unit: exact integers, never floats.
-- PostgreSQL flavour; migrations/sqlite holds the same schema for SQLite.

CREATE TABLE usage_hourly (
    wallet_account_id  BIGINT NOT NULL REFERENCES accounts (id),
    meter_id        BIGINT NOT NULL REFERENCES meters (id),
    -- The start of the site's local hour, as a UTC instant.
    hour_start      TIMESTAMPTZ NOT NULL,
    quantity_micro  BIGINT NOT NULL,
    cost_micro      BIGINT NOT NULL,
    readings        BIGINT NOT NULL,
    PRIMARY KEY (wallet_account_id, meter_id, hour_start)
);

CREATE TABLE usage_daily (
    wallet_account_id  BIGINT NOT NULL REFERENCES accounts (id),
    meter_id        BIGINT NOT NULL REFERENCES meters (id),
    -- The site's local date.
    day             DATE NOT NULL,
    quantity_micro  BIGINT NOT NULL,
    cost_micro      BIGINT NOT NULL,
    readings        BIGINT NOT NULL,
    PRIMARY KEY (wallet_account_id, meter_id, day)
);
