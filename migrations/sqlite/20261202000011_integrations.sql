-- The integration API: organisation and gateway keys, idempotent writes, outgoing webhooks.
-- SQLite flavour; migrations/postgres holds the same schema.

-- API keys: an organisation's (scopes among read, write, readings, payments) or a meter
-- gateway's (readings only, for the meters of one site). Only SHA-256 of the secret is kept;
-- the key is shown once, when made. `prefix` is public: it finds the row and names the key.
CREATE TABLE api_keys (
    id               INTEGER PRIMARY KEY,
    organisation_id  BIGINT NOT NULL REFERENCES organisations (id),
    name             TEXT NOT NULL,
    prefix           TEXT NOT NULL UNIQUE,
    secret_hash      TEXT NOT NULL,
    scopes           TEXT NOT NULL,
    -- A gateway's key may post readings only for meters of this site.
    site_id          BIGINT REFERENCES sites (id),
    created_by       BIGINT NOT NULL REFERENCES users (id),
    created_at       TEXT NOT NULL,
    last_used_at     TEXT,
    revoked_at       TEXT,
    revoked_by       BIGINT REFERENCES users (id),
    CHECK (site_id IS NULL OR scopes = 'readings')
);
CREATE INDEX api_keys_by_organisation ON api_keys (organisation_id, id);

-- The first answer to each write, per key and Idempotency-Key: a repeat gets it again. A row
-- without a status is a request still being answered.
CREATE TABLE api_idempotency (
    key_id           BIGINT NOT NULL REFERENCES api_keys (id),
    idempotency_key  TEXT NOT NULL,
    -- SHA-256 of method, path and body: the same key with another request is refused.
    fingerprint      TEXT NOT NULL,
    status           BIGINT,
    body             TEXT,
    created_at       TEXT NOT NULL,
    PRIMARY KEY (key_id, idempotency_key)
);

-- Outgoing webhooks: an organisation's URLs and the events each wants. The signing secret is
-- sealed by the vault (it must be read back to sign), never stored in the clear.
CREATE TABLE webhook_subscriptions (
    id               INTEGER PRIMARY KEY,
    organisation_id  BIGINT NOT NULL REFERENCES organisations (id),
    url              TEXT NOT NULL,
    events           TEXT NOT NULL,
    secret_sealed    TEXT NOT NULL,
    created_by       BIGINT NOT NULL REFERENCES users (id),
    created_at       TEXT NOT NULL,
    disabled_at      TEXT,
    -- Events up to here have been handed out (minus a margin for late commits).
    scanned_until    TEXT NOT NULL
);
CREATE INDEX webhook_subscriptions_by_organisation ON webhook_subscriptions (organisation_id, id);

-- One delivery per subscription and event, however often the events are scanned.
CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY,
    subscription_id  BIGINT NOT NULL REFERENCES webhook_subscriptions (id),
    event_id         TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    payload          TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'delivered', 'failed')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    delivered_at     TEXT,
    UNIQUE (subscription_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_by_subscription ON webhook_deliveries (subscription_id, id);

-- Every try, with what the receiver answered.
CREATE TABLE webhook_attempts (
    id            INTEGER PRIMARY KEY,
    delivery_id   BIGINT NOT NULL REFERENCES webhook_deliveries (id),
    at            TEXT NOT NULL,
    status_code   BIGINT,
    error         TEXT,
    duration_ms   BIGINT NOT NULL
);
CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (delivery_id, id);

-- The event sources are scanned by time.
CREATE INDEX notifications_by_time ON notifications (created_at);
CREATE INDEX alarms_by_opened ON alarms (opened_at);
CREATE INDEX alarms_by_resolved ON alarms (resolved_at);
