-- The site model, people and roles, the audit log, shared secrets and sign-in throttling.
-- SQLite flavour; migrations/postgres holds the same schema for PostgreSQL.
-- Times are UTC, stored as RFC 3339 text; exact decimals are stored as text.

CREATE TABLE organisations (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);

CREATE TABLE sites (
    id               INTEGER PRIMARY KEY,
    organisation_id  INTEGER NOT NULL REFERENCES organisations (id),
    name             TEXT NOT NULL,
    time_zone        TEXT NOT NULL,
    currency         TEXT NOT NULL CHECK (length(currency) = 3),
    locale           TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    UNIQUE (organisation_id, name)
);

CREATE TABLE buildings (
    id       INTEGER PRIMARY KEY,
    site_id  INTEGER NOT NULL REFERENCES sites (id),
    name     TEXT NOT NULL,
    UNIQUE (site_id, name)
);

CREATE TABLE units (
    id           INTEGER PRIMARY KEY,
    building_id  INTEGER NOT NULL REFERENCES buildings (id),
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL DEFAULT 'flat'
                 CHECK (kind IN ('flat', 'dorm_room', 'shop', 'office', 'factory', 'common_area')),
    UNIQUE (building_id, name)
);

CREATE TABLE meters (
    id               INTEGER PRIMARY KEY,
    unit_id          INTEGER NOT NULL REFERENCES units (id),
    utility          TEXT NOT NULL CHECK (utility IN ('electricity', 'water', 'gas')),
    serial           TEXT NOT NULL UNIQUE,
    unit_of_measure  TEXT NOT NULL,
    -- Current-transformer ratio and the like: consumption = register delta x multiplier.
    multiplier       TEXT NOT NULL DEFAULT '1',
    installed_at     TEXT NOT NULL,
    removed_at       TEXT
);
CREATE INDEX meters_by_unit ON meters (unit_id);

CREATE TABLE users (
    id                    INTEGER PRIMARY KEY,
    organisation_id       INTEGER NOT NULL REFERENCES organisations (id),
    -- Lower-cased by the application; unique across organisations because it signs in alone.
    email                 TEXT NOT NULL UNIQUE,
    display_name          TEXT NOT NULL,
    password_hash         TEXT NOT NULL,
    must_change_password  BOOLEAN NOT NULL DEFAULT FALSE,
    active                BOOLEAN NOT NULL DEFAULT TRUE,
    created_at            TEXT NOT NULL,
    password_changed_at   TEXT
);

-- Staff roles. Admins cover their whole organisation (no site); the others hold a site each.
CREATE TABLE role_grants (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    role        TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'operator', 'cashier')),
    site_id     INTEGER REFERENCES sites (id),
    granted_at  TEXT NOT NULL,
    CHECK ((role = 'admin') = (site_id IS NULL))
);
CREATE UNIQUE INDEX role_grants_unique ON role_grants (user_id, role, COALESCE(site_id, 0));
CREATE INDEX role_grants_by_site ON role_grants (site_id);

-- Who lives where, and when. An open occupancy has no end.
CREATE TABLE occupancies (
    id         INTEGER PRIMARY KEY,
    unit_id    INTEGER NOT NULL REFERENCES units (id),
    user_id    INTEGER NOT NULL REFERENCES users (id),
    starts_at  TEXT NOT NULL,
    ends_at    TEXT,
    CHECK (ends_at IS NULL OR ends_at > starts_at)
);
CREATE INDEX occupancies_by_user ON occupancies (user_id);
CREATE INDEX occupancies_by_unit ON occupancies (unit_id);

-- Every state change: who, what, when, before and after. Append-only.
CREATE TABLE audit_log (
    id               INTEGER PRIMARY KEY,
    at               TEXT NOT NULL,
    organisation_id  INTEGER REFERENCES organisations (id),
    actor_user_id    INTEGER REFERENCES users (id),
    client_addr      TEXT,
    action           TEXT NOT NULL,
    subject_type     TEXT NOT NULL,
    subject_id       TEXT NOT NULL,
    before_json      TEXT,
    after_json       TEXT
);
CREATE INDEX audit_log_by_org_time ON audit_log (organisation_id, at);

-- Secrets every server instance on this database must share (session key, VAPID key pair,
-- webhook secrets); generated once, at first start.
CREATE TABLE secrets (
    name        TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

-- Failed sign-ins, counted per client address and per account to throttle guessing.
CREATE TABLE sign_in_failures (
    id     INTEGER PRIMARY KEY,
    scope  TEXT NOT NULL CHECK (scope IN ('address', 'account')),
    key    TEXT NOT NULL,
    at     TEXT NOT NULL
);
CREATE INDEX sign_in_failures_lookup ON sign_in_failures (scope, key, at);
