-- The meter fleet: how each meter is reached, what it last reported, the command outbox's
-- delivery bookkeeping, alarms, and each site's anomaly rules.

-- How the platform reaches the meter, and whether it sleeps between uplinks (battery meters
-- on NB-IoT power saving take commands only right after they send something).
ALTER TABLE meters ADD COLUMN transport TEXT NOT NULL DEFAULT 'simulator'
    CHECK (transport IN ('simulator', 'mqtt'));
ALTER TABLE meters ADD COLUMN sleeps BOOLEAN NOT NULL DEFAULT FALSE;
-- The meter switches tariff rates itself and wants the time-of-use schedule.
ALTER TABLE meters ADD COLUMN switches_rates BOOLEAN NOT NULL DEFAULT FALSE;
-- The broker password's hash in mosquitto's PBKDF2-SHA512 format; the password is shown once.
ALTER TABLE meters ADD COLUMN broker_secret_hash TEXT;
ALTER TABLE meters ADD COLUMN replaced_by BIGINT REFERENCES meters (id);

-- SQLite cannot change a CHECK constraint: the outbox is rebuilt with its new commands,
-- statuses and delivery columns, keeping every row.
ALTER TABLE meter_commands RENAME TO meter_commands_engine;
CREATE TABLE meter_commands (
    id               INTEGER PRIMARY KEY,
    meter_id         BIGINT NOT NULL REFERENCES meters (id),
    seq              BIGINT NOT NULL,
    command          TEXT NOT NULL CHECK (command IN ('open', 'close', 'restrict', 'arm', 'read',
                         'load_limit', 'sync_clock', 'tou_schedule')),
    reason           TEXT NOT NULL,
    -- JSON arguments (a load limit, a schedule).
    params           TEXT,
    -- held: over the site's cut-off cap, waiting for a manager; superseded: a newer relay
    -- command for the meter made it moot before it was acknowledged.
    status           TEXT NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('held', 'pending', 'sent', 'acknowledged', 'failed',
                         'expired', 'superseded')),
    created_at       TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    -- When the outbox next looks at it: a retry, or the time-out of the attempt in flight.
    next_attempt_at  TEXT,
    sent_at          TEXT,
    finished_at      TEXT,
    error            TEXT,
    actor_user_id    BIGINT REFERENCES users (id),
    UNIQUE (meter_id, seq)
);
INSERT INTO meter_commands (id, meter_id, seq, command, reason, status, created_at)
    SELECT id, meter_id, seq, command, reason, status, created_at FROM meter_commands_engine;
DROP TABLE meter_commands_engine;
CREATE INDEX meter_commands_due ON meter_commands (status, next_attempt_at);
CREATE INDEX meter_commands_by_meter ON meter_commands (meter_id, seq);

-- What each meter last said about itself, and the fleet's own memory for anomaly rules.
CREATE TABLE meter_status (
    meter_id          INTEGER PRIMARY KEY REFERENCES meters (id),
    last_seen_at      TEXT,
    online            BOOLEAN NOT NULL DEFAULT TRUE,
    signal_dbm        INTEGER,
    battery_pct       INTEGER,
    -- The relay or valve as the meter reports it: open, closed, restricted, armed.
    relay_reported    TEXT,
    -- Meter clock minus server clock, in seconds, at the last status.
    clock_offset_s    BIGINT,
    power_kw          TEXT,
    load_limit_kw     TEXT,
    over_limit_since  TEXT,
    flow_since        TEXT,
    last_at           TEXT,
    last_register     TEXT
);

CREATE TABLE alarms (
    id               INTEGER PRIMARY KEY,
    site_id          BIGINT NOT NULL REFERENCES sites (id),
    unit_id          BIGINT REFERENCES units (id),
    meter_id         BIGINT REFERENCES meters (id),
    kind             TEXT NOT NULL CHECK (kind IN ('gas_leak', 'overload', 'water_flow', 'water_spike',
                         'tamper', 'offline', 'command_expired', 'clock_drift', 'cut_cap')),
    severity         TEXT NOT NULL CHECK (severity IN ('critical', 'warning')),
    status           TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'resolved')),
    detail           TEXT NOT NULL,
    -- "meter:kind" while not resolved: one live alarm per meter and kind.
    open_key         TEXT UNIQUE,
    opened_at        TEXT NOT NULL,
    acknowledged_at  TEXT,
    acknowledged_by  BIGINT REFERENCES users (id),
    resolved_at      TEXT,
    resolved_by      BIGINT REFERENCES users (id)
);
CREATE INDEX alarms_by_site ON alarms (site_id, status, opened_at);
CREATE INDEX alarms_by_unit ON alarms (unit_id, status);

-- Anomaly and fleet rules per site, as JSON (`app::domain::fleet::FleetRules`).
CREATE TABLE fleet_rules (
    site_id     INTEGER PRIMARY KEY REFERENCES sites (id),
    rules       TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
