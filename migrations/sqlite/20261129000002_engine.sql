-- The prepaid engine: site policies, tariffs, the double-entry ledger, prepaid wallets, meter
-- state, readings, and the outboxes for meter commands and notifications.
-- SQLite flavour; migrations/postgres holds the same schema for PostgreSQL.
-- Money is integer minor units (BIGINT); exact decimals (registers, quantities, remainders)
-- are text; times are UTC.

-- A site's supply rules (warning levels, reconnect level, emergency credit, friendly hours...)
-- as JSON, and whether it bills per meter or one wallet per unit.
CREATE TABLE site_policies (
    site_id       INTEGER PRIMARY KEY REFERENCES sites (id),
    billing_mode  TEXT NOT NULL DEFAULT 'per_meter' CHECK (billing_mode IN ('per_meter', 'unit_wallet')),
    policy        TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

-- Tariff versions per site and utility; the definition is JSON, checked by the application.
CREATE TABLE tariffs (
    id              INTEGER PRIMARY KEY,
    site_id         BIGINT NOT NULL REFERENCES sites (id),
    utility         TEXT NOT NULL CHECK (utility IN ('electricity', 'water', 'gas')),
    effective_from  TEXT NOT NULL,
    definition      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    created_by      BIGINT REFERENCES users (id),
    UNIQUE (site_id, utility, effective_from)
);

-- The chart of accounts. Resident-side accounts (prepaid, allowance, emergency, debt) belong
-- to a wallet or a person; the others are the site's own, one of each kind (per utility for
-- revenue). Sign convention: an entry's amount is positive when it adds to what the account
-- holds (a resident's credit, revenue earned, tax owed) and every transaction sums to zero.
CREATE TABLE accounts (
    id             INTEGER PRIMARY KEY,
    site_id        BIGINT NOT NULL REFERENCES sites (id),
    kind           TEXT NOT NULL CHECK (kind IN (
                       'prepaid', 'allowance', 'emergency', 'debt', 'landlord',
                       'revenue', 'standing_charges', 'tax_payable', 'provider_clearing', 'cash',
                       'refunds_payable', 'emergency_credit', 'allowances_granted', 'adjustments')),
    utility        TEXT CHECK (utility IN ('electricity', 'water', 'gas')),
    -- The debtor of a debt account; no other personal data reaches the ledger.
    user_id        BIGINT REFERENCES users (id),
    balance_minor  BIGINT NOT NULL DEFAULT 0,
    opened_at      TEXT NOT NULL,
    closed_at      TEXT
);
CREATE UNIQUE INDEX accounts_site_own ON accounts (site_id, kind, COALESCE(utility, ''))
    WHERE kind NOT IN ('prepaid', 'allowance', 'emergency', 'debt');
CREATE UNIQUE INDEX accounts_debt_per_person ON accounts (site_id, user_id) WHERE kind = 'debt';
-- The partial indexes above enforce uniqueness; lookups by a bound kind need a plain one.
CREATE INDEX accounts_by_site_kind ON accounts (site_id, kind);

CREATE TABLE ledger_transactions (
    id               INTEGER PRIMARY KEY,
    site_id          BIGINT NOT NULL REFERENCES sites (id),
    -- Chosen by the caller (a reading batch, a provider's reference, a receipt): a repeat is
    -- a success that changes nothing.
    idempotency_key  TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL,
    memo             TEXT NOT NULL DEFAULT '',
    posted_at        TEXT NOT NULL,
    reverses_id      BIGINT UNIQUE REFERENCES ledger_transactions (id),
    actor_user_id    BIGINT REFERENCES users (id)
);
CREATE INDEX ledger_transactions_by_site ON ledger_transactions (site_id, posted_at);

CREATE TABLE ledger_entries (
    id              INTEGER PRIMARY KEY,
    transaction_id  BIGINT NOT NULL REFERENCES ledger_transactions (id),
    account_id      BIGINT NOT NULL REFERENCES accounts (id),
    amount_minor    BIGINT NOT NULL CHECK (amount_minor <> 0)
);
CREATE INDEX ledger_entries_by_account ON ledger_entries (account_id, transaction_id);
CREATE INDEX ledger_entries_by_transaction ON ledger_entries (transaction_id);

-- Entries and transactions are never changed or removed: corrections are new, linked
-- transactions.
CREATE TRIGGER ledger_entries_immutable_update BEFORE UPDATE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'ledger entries are immutable'); END;
CREATE TRIGGER ledger_entries_immutable_delete BEFORE DELETE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'ledger entries are immutable'); END;
CREATE TRIGGER ledger_transactions_immutable_update BEFORE UPDATE ON ledger_transactions
BEGIN SELECT RAISE(ABORT, 'ledger transactions are immutable'); END;
CREATE TRIGGER ledger_transactions_immutable_delete BEFORE DELETE ON ledger_transactions
BEGIN SELECT RAISE(ABORT, 'ledger transactions are immutable'); END;

-- A prepaid wallet: what a resident (or the landlord, for vacant units and common areas)
-- spends from. Per meter per occupancy, or one per unit when the site bills that way.
CREATE TABLE wallets (
    account_id            INTEGER PRIMARY KEY REFERENCES accounts (id),
    site_id               BIGINT NOT NULL REFERENCES sites (id),
    unit_id               BIGINT REFERENCES units (id),
    meter_id              BIGINT REFERENCES meters (id),
    occupancy_id          BIGINT REFERENCES occupancies (id),
    allowance_account_id  BIGINT REFERENCES accounts (id),
    emergency_account_id  BIGINT REFERENCES accounts (id),
    allowance_expires_at  TEXT,
    supply_state          TEXT NOT NULL DEFAULT 'on' CHECK (supply_state IN
                              ('on', 'low', 'cut', 'restricted', 'armed', 'emergency', 'protected')),
    warned                INTEGER NOT NULL DEFAULT 0,
    vulnerable            BOOLEAN NOT NULL DEFAULT FALSE,
    -- What rounding to minor units left over, carried to the next charge (exact text).
    carry_net             TEXT NOT NULL DEFAULT '0',
    carry_tax             TEXT NOT NULL DEFAULT '0',
    -- Recent spending, minor units per day, for the days-left estimate.
    daily_spend           TEXT NOT NULL DEFAULT '0',
    spent_at              TEXT,
    opened_at             TEXT NOT NULL,
    closed_at             TEXT
);
CREATE UNIQUE INDEX wallets_open_per_meter ON wallets (meter_id)
    WHERE closed_at IS NULL AND meter_id IS NOT NULL;
CREATE UNIQUE INDEX wallets_open_per_unit ON wallets (unit_id)
    WHERE closed_at IS NULL AND meter_id IS NULL AND unit_id IS NOT NULL;
CREATE INDEX wallets_by_occupancy ON wallets (occupancy_id);
CREATE INDEX wallets_by_meter ON wallets (meter_id);
CREATE INDEX wallets_by_unit ON wallets (unit_id);
CREATE INDEX wallets_by_site ON wallets (site_id, closed_at);

-- Where each meter stands: its last rated reading, billing cycle, relay and safety hold.
CREATE TABLE meter_states (
    meter_id         INTEGER PRIMARY KEY REFERENCES meters (id),
    last_reading_at  TEXT,
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

-- Every reading received. One per meter and time: a repeat is ignored.
CREATE TABLE readings (
    id                 INTEGER PRIMARY KEY,
    meter_id           BIGINT NOT NULL REFERENCES meters (id),
    taken_at           TEXT NOT NULL,
    register           TEXT NOT NULL,
    received_at        TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('baseline', 'rated', 'late', 'rejected')),
    quantity           TEXT,
    net                TEXT,
    tax                TEXT,
    wallet_account_id  BIGINT REFERENCES accounts (id),
    transaction_id     BIGINT REFERENCES ledger_transactions (id),
    note               TEXT,
    UNIQUE (meter_id, taken_at)
);

-- Commands for meters, kept until the transport delivers them (the meter fleet issue).
-- The per-meter sequence lets a meter ignore an older command that arrives late.
CREATE TABLE meter_commands (
    id          INTEGER PRIMARY KEY,
    meter_id    BIGINT NOT NULL REFERENCES meters (id),
    seq         BIGINT NOT NULL,
    command     TEXT NOT NULL CHECK (command IN ('open', 'close', 'restrict', 'arm')),
    reason      TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sent', 'acknowledged', 'failed', 'expired')),
    created_at  TEXT NOT NULL,
    UNIQUE (meter_id, seq)
);
CREATE INDEX meter_commands_pending ON meter_commands (status, created_at);

-- Notices for residents and managers, kept until a channel sends them.
CREATE TABLE notifications (
    id                 INTEGER PRIMARY KEY,
    site_id            BIGINT NOT NULL REFERENCES sites (id),
    wallet_account_id  BIGINT REFERENCES accounts (id),
    audience           TEXT NOT NULL CHECK (audience IN ('resident', 'managers')),
    kind               TEXT NOT NULL,
    body               TEXT NOT NULL,
    dedupe_key         TEXT NOT NULL UNIQUE,
    status             TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    created_at         TEXT NOT NULL
);
CREATE INDEX notifications_by_wallet ON notifications (wallet_account_id, created_at);
