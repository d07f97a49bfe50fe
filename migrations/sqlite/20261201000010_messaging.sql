-- SMS and e-mail beside Web Push, and the one-time codes and links of account recovery, phone
-- sign-in and invitations. SQLite flavour; migrations/postgres holds the same schema.

-- A person's mobile number in E.164 form (+254712345678), once confirmed; it signs in alone,
-- so it is unique like the e-mail address.
ALTER TABLE users ADD COLUMN phone TEXT;
CREATE UNIQUE INDEX users_by_phone ON users (phone) WHERE phone IS NOT NULL;

-- The channels a site lets its notices take (SMS costs the operator money), and the address
-- its e-mails come from (NULL: the platform's).
ALTER TABLE sites ADD COLUMN sms_enabled BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE sites ADD COLUMN email_enabled BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE sites ADD COLUMN email_from TEXT;

-- What a person asked for besides push. Someone with no push subscription gets SMS (else
-- e-mail) whatever they chose, so that no notice reaches nobody.
ALTER TABLE notification_preferences ADD COLUMN by_sms BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE notification_preferences ADD COLUMN by_email BOOLEAN NOT NULL DEFAULT FALSE;

-- Deliveries gain the SMS and e-mail channels, the address a message went to, the provider's
-- id for it (delivery reports name it) and the `delivered` state. SQLite cannot change a CHECK
-- constraint, so the table is rebuilt (nothing refers to it).
CREATE TABLE notification_deliveries_v2 (
    id               INTEGER PRIMARY KEY,
    notification_id  BIGINT NOT NULL REFERENCES notifications (id),
    channel          TEXT NOT NULL CHECK (channel IN ('push', 'sms', 'email')),
    subscription_id  BIGINT REFERENCES push_subscriptions (id) ON DELETE SET NULL,
    user_id          BIGINT NOT NULL REFERENCES users (id),
    topic            TEXT,
    -- The phone number or e-mail address, as it was when the notice was handed out.
    address          TEXT,
    -- sent: the push service, SMS provider or mail server took it; delivered: the SMS
    -- provider reported it on the phone.
    status           TEXT NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'replaced', 'gone', 'failed')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    error            TEXT,
    provider_ref     TEXT,
    created_at       TEXT NOT NULL,
    sent_at          TEXT,
    delivered_at     TEXT,
    UNIQUE (notification_id, channel, subscription_id),
    CHECK ((channel = 'push') = (address IS NULL))
);
INSERT INTO notification_deliveries_v2
    (id, notification_id, channel, subscription_id, user_id, topic, status, attempts,
     next_attempt_at, error, created_at, sent_at)
SELECT id, notification_id, channel, subscription_id, user_id, topic, status, attempts,
       next_attempt_at, error, created_at, sent_at
FROM notification_deliveries;
DROP TABLE notification_deliveries;
ALTER TABLE notification_deliveries_v2 RENAME TO notification_deliveries;
CREATE INDEX notification_deliveries_due ON notification_deliveries (status, next_attempt_at);
CREATE INDEX notification_deliveries_by_topic ON notification_deliveries (subscription_id, topic, status);
-- One SMS and one e-mail per notice and person, however often the notice is handed out.
CREATE UNIQUE INDEX notification_deliveries_once
    ON notification_deliveries (notification_id, channel, user_id) WHERE channel <> 'push';
CREATE UNIQUE INDEX notification_deliveries_by_provider_ref
    ON notification_deliveries (channel, provider_ref) WHERE provider_ref IS NOT NULL;
CREATE INDEX notification_deliveries_by_user ON notification_deliveries (user_id, id);

-- One-time secrets sent to a person: a link (e-mail) or a six-digit code (SMS). Only a hash
-- is kept. reset: a forgotten password; invite: a new account's first password; sign_in: a
-- phone sign-in; verify_phone: confirming a number (`target`) before it is saved.
CREATE TABLE one_time_codes (
    id           INTEGER PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id),
    purpose      TEXT NOT NULL CHECK (purpose IN ('reset', 'invite', 'sign_in', 'verify_phone')),
    channel      TEXT NOT NULL CHECK (channel IN ('sms', 'email')),
    -- SHA-256 of the secret, hex.
    secret_hash  TEXT NOT NULL,
    target       TEXT NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    used_at      TEXT
);
CREATE INDEX one_time_codes_by_hash ON one_time_codes (secret_hash);
CREATE INDEX one_time_codes_by_user ON one_time_codes (user_id, purpose, created_at);
-- Requests for codes, per address asked about and per client, for rate limits (a request
-- for an unknown address counts too, and leaves no other trace).
CREATE TABLE code_requests (
    id           INTEGER PRIMARY KEY,
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    at           TEXT NOT NULL
);
CREATE INDEX code_requests_by_key ON code_requests (scope, key, at);
