-- Meters that hold their own credit and take it as a token typed on their keypad (OpenPAYGO
-- Token devices, STS meters whose tokens come from a vending service), and every token issued.
-- SQLite flavour; migrations/postgres holds the same schema for PostgreSQL.

CREATE TABLE token_meters (
    meter_id        INTEGER PRIMARY KEY REFERENCES meters (id),
    vendor          TEXT NOT NULL CHECK (vendor IN ('openpaygo', 'sts')),
    -- OpenPAYGO: the device's 16-byte key sealed with the platform's token vault key
    -- (AES-256-GCM, the meter id as associated data), and its starting code.
    sealed_key      TEXT,
    starting_code   BIGINT,
    -- The count of the last token issued: the next takes the next even (add) or odd count.
    last_count      BIGINT NOT NULL DEFAULT 0,
    extended        BOOLEAN NOT NULL DEFAULT FALSE,
    restricted      BOOLEAN NOT NULL DEFAULT FALSE,
    -- What one step of a token's value is in the meter's unit (0.1: a value of 25 is 2.5 kWh).
    value_step      TEXT NOT NULL,
    provisioned_at  TEXT NOT NULL,
    provisioned_by  BIGINT REFERENCES users (id),
    CHECK (vendor <> 'openpaygo' OR (sealed_key IS NOT NULL AND starting_code IS NOT NULL))
);

-- The token outbox and history. A sale is queued in the transaction that credits the payment
-- (one per top-up: `top_up_transaction_id` is unique), then issued once by the vending worker.
CREATE TABLE meter_tokens (
    id                     INTEGER PRIMARY KEY,
    -- The vend reference: the idempotency key a vending service is given.
    public_id              TEXT NOT NULL UNIQUE,
    site_id                BIGINT NOT NULL REFERENCES sites (id),
    meter_id               BIGINT NOT NULL REFERENCES meters (id),
    wallet_account_id      BIGINT REFERENCES accounts (id),
    kind                   TEXT NOT NULL CHECK (kind IN ('credit', 'set_credit', 'clear_credit', 'disable_payg', 'counter_sync')),
    -- Exact decimal in the meter's unit, and the integer value the token carries.
    units                  TEXT,
    token_value            BIGINT,
    amount_minor           BIGINT,
    top_up_transaction_id  BIGINT UNIQUE REFERENCES ledger_transactions (id),
    sale_transaction_id    BIGINT UNIQUE REFERENCES ledger_transactions (id),
    -- Tokens that change what a meter holds without a sale (set or clear credit) wait for a
    -- second person's approval before they are made.
    status                 TEXT NOT NULL CHECK (status IN ('awaiting_approval', 'pending', 'issued', 'failed')),
    token_count            BIGINT,
    digits                 TEXT,
    attempts               INTEGER NOT NULL DEFAULT 0,
    next_attempt_at        TEXT,
    failure                TEXT,
    requested_by           BIGINT REFERENCES users (id),
    approved_by            BIGINT REFERENCES users (id),
    created_at             TEXT NOT NULL,
    issued_at              TEXT,
    CHECK ((status = 'issued') = (digits IS NOT NULL)),
    CHECK (approved_by IS NULL OR approved_by <> requested_by)
);
CREATE INDEX meter_tokens_by_meter ON meter_tokens (meter_id, id);
CREATE INDEX meter_tokens_by_wallet ON meter_tokens (wallet_account_id, id);
CREATE INDEX meter_tokens_pending ON meter_tokens (status, next_attempt_at);
