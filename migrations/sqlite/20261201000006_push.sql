-- Web Push: the browsers people subscribed, what each person wants to hear of and when, and
-- one delivery per notice and subscription (the channel's outbox, retried with backoff).
-- SQLite flavour; migrations/postgres holds the same schema for PostgreSQL.

-- A browser's push subscription (RFC 8030 endpoint, RFC 8291 keys). The endpoint is the
-- browser's: signing in as someone else on the same browser moves it to them.
CREATE TABLE push_subscriptions (
    id            INTEGER PRIMARY KEY,
    user_id       BIGINT NOT NULL REFERENCES users (id),
    endpoint      TEXT NOT NULL UNIQUE,
    p256dh        TEXT NOT NULL,
    auth          TEXT NOT NULL,
    -- What the person sees in their settings ("Chrome on Android").
    label         TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,
    last_sent_at  TEXT
);
CREATE INDEX push_subscriptions_by_user ON push_subscriptions (user_id);

-- Per person: the kinds of notice they turned off (JSON list), quiet hours in the site's
-- local time ("HH:MM", both or neither), and the language they read (NULL: the site's).
CREATE TABLE notification_preferences (
    user_id      INTEGER PRIMARY KEY REFERENCES users (id),
    muted        TEXT NOT NULL DEFAULT '[]',
    quiet_from   TEXT,
    quiet_to     TEXT,
    locale       TEXT,
    updated_at   TEXT NOT NULL,
    CHECK ((quiet_from IS NULL) = (quiet_to IS NULL))
);

-- One notice to one subscription. queued: waiting (for its time, or a retry); sending: a
-- worker holds it; sent: the push service took it; replaced: a newer notice of the same topic
-- went instead; gone: the push service said the subscription no longer exists; failed: given up.
CREATE TABLE notification_deliveries (
    id               INTEGER PRIMARY KEY,
    notification_id  BIGINT NOT NULL REFERENCES notifications (id),
    channel          TEXT NOT NULL CHECK (channel IN ('push')),
    subscription_id  BIGINT REFERENCES push_subscriptions (id) ON DELETE SET NULL,
    user_id          BIGINT NOT NULL REFERENCES users (id),
    topic            TEXT,
    status           TEXT NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'sending', 'sent', 'replaced', 'gone', 'failed')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    error            TEXT,
    created_at       TEXT NOT NULL,
    sent_at          TEXT,
    UNIQUE (notification_id, channel, subscription_id)
);
CREATE INDEX notification_deliveries_due ON notification_deliveries (status, next_attempt_at);
CREATE INDEX notification_deliveries_by_topic ON notification_deliveries (subscription_id, topic, status);

-- Notices not yet handed to their channels, oldest first.
CREATE INDEX notifications_queued ON notifications (status, id);
