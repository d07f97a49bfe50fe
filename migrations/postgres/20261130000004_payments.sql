-- Payments: the providers each site offers, payments from checkout to credit, receipts
-- numbered without gaps per site, every callback's outcome, conflicts for a manager, and
-- refunds and chargebacks.

-- A site's payment providers. `settings` is JSON the pages may show (API base URL, short
-- code, currency); `secrets` is JSON that never leaves the server (API keys, webhook
-- secrets, the paybill callback token).
CREATE TABLE payment_providers (
    site_id     BIGINT NOT NULL REFERENCES sites (id),
    provider    TEXT NOT NULL CHECK (provider IN ('sandbox', 'stripe', 'mpesa', 'paystack', 'bank')),
    enabled     BOOLEAN NOT NULL DEFAULT TRUE,
    settings    TEXT NOT NULL DEFAULT '{}',
    secrets     TEXT NOT NULL DEFAULT '{}',
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (site_id, provider)
);

-- One attempt to pay money into a wallet. `public_id` is unguessable: it names the payment in
-- URLs (status page, sandbox checkout, M-Pesa's unsigned callback). The provider's reference
-- is unique per provider, so one payment at the provider credits at most once.
CREATE TABLE payments (
    id                  BIGSERIAL PRIMARY KEY,
    public_id           TEXT NOT NULL UNIQUE,
    site_id             BIGINT NOT NULL REFERENCES sites (id),
    wallet_account_id   BIGINT REFERENCES accounts (id),
    provider            TEXT NOT NULL,
    -- resident: signed in; public: the pay-by-number page; paybill: pushed by the provider;
    -- bank: a transfer matched from an imported statement.
    channel             TEXT NOT NULL CHECK (channel IN ('resident', 'public', 'paybill', 'bank')),
    amount_minor        BIGINT NOT NULL CHECK (amount_minor > 0),
    currency            TEXT NOT NULL,
    status              TEXT NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'paid', 'failed', 'conflict', 'refunded', 'charged_back')),
    provider_reference  TEXT,
    -- A second reference some providers give once paid (Stripe's payment intent, M-Pesa's
    -- receipt number), used by refunds and disputes.
    provider_payment    TEXT,
    checkout_url        TEXT,
    payer_user_id       BIGINT REFERENCES users (id),
    -- The payer's phone for M-Pesa's STK push.
    payer_phone         TEXT,
    failure             TEXT,
    transaction_id      BIGINT REFERENCES ledger_transactions (id),
    receipt_number      BIGINT,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    paid_at             TIMESTAMPTZ,
    UNIQUE (provider, provider_reference)
);
CREATE INDEX payments_by_wallet ON payments (wallet_account_id, created_at);
CREATE INDEX payments_by_site ON payments (site_id, created_at);
CREATE INDEX payments_by_provider_payment ON payments (provider, provider_payment);

-- Receipts, numbered 1, 2, 3... per site. The counter moves in the transaction that posts the
-- money, so a rolled-back top-up leaves no hole.
CREATE TABLE receipt_counters (
    site_id      BIGINT PRIMARY KEY REFERENCES sites (id),
    last_number  BIGINT NOT NULL
);
CREATE TABLE receipts (
    site_id         BIGINT NOT NULL REFERENCES sites (id),
    number          BIGINT NOT NULL,
    transaction_id  BIGINT NOT NULL UNIQUE REFERENCES ledger_transactions (id),
    wallet_account_id BIGINT NOT NULL REFERENCES accounts (id),
    amount_minor    BIGINT NOT NULL,
    issued_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (site_id, number)
);

-- Callbacks that were verified and acted on (or found to be repeats). Bad ones change
-- nothing and are only logged.
CREATE TABLE payment_events (
    id           BIGSERIAL PRIMARY KEY,
    payment_id   BIGINT REFERENCES payments (id),
    provider     TEXT NOT NULL,
    event_key    TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (provider, event_key)
);
CREATE INDEX payment_events_by_payment ON payment_events (payment_id);

-- What a provider said that does not match what we expected: no money moved; a manager
-- decides (credit anyway, or dismiss).
CREATE TABLE payment_conflicts (
    id           BIGSERIAL PRIMARY KEY,
    site_id      BIGINT NOT NULL REFERENCES sites (id),
    payment_id   BIGINT REFERENCES payments (id),
    provider     TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('amount', 'currency', 'reference', 'unknown_account', 'after_refund')),
    detail       TEXT NOT NULL,
    -- A received amount in minor units, when the provider said one.
    amount_minor BIGINT,
    dedupe_key   TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    resolved_at  TIMESTAMPTZ,
    resolved_by  BIGINT REFERENCES users (id),
    resolution   TEXT CHECK (resolution IN ('credited', 'dismissed')),
    transaction_id BIGINT REFERENCES ledger_transactions (id)
);
CREATE INDEX payment_conflicts_open ON payment_conflicts (site_id, resolved_at);

-- Money going back: a refund asked of the provider, or a chargeback the provider reported.
CREATE TABLE payment_refunds (
    id                  BIGSERIAL PRIMARY KEY,
    payment_id          BIGINT NOT NULL REFERENCES payments (id),
    kind                TEXT NOT NULL CHECK (kind IN ('refund', 'chargeback')),
    amount_minor        BIGINT NOT NULL CHECK (amount_minor > 0),
    -- Ours for a refund we asked for; the provider's for a chargeback.
    reference           TEXT NOT NULL UNIQUE,
    provider_reference  TEXT,
    transaction_id      BIGINT REFERENCES ledger_transactions (id),
    reason              TEXT NOT NULL,
    actor_user_id       BIGINT REFERENCES users (id),
    created_at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX payment_refunds_by_payment ON payment_refunds (payment_id);

-- What a site owes people who moved out (the refunds-payable account's credit), paid back
-- through a provider or recorded as paid by hand.
CREATE TABLE payouts (
    id             BIGSERIAL PRIMARY KEY,
    site_id        BIGINT NOT NULL REFERENCES sites (id),
    user_id        BIGINT NOT NULL REFERENCES users (id),
    amount_minor   BIGINT NOT NULL CHECK (amount_minor > 0),
    method         TEXT NOT NULL CHECK (method IN ('provider', 'manual')),
    provider       TEXT,
    reference      TEXT NOT NULL UNIQUE,
    status         TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'paid', 'failed')),
    note           TEXT NOT NULL DEFAULT '',
    transaction_id BIGINT REFERENCES ledger_transactions (id),
    actor_user_id  BIGINT REFERENCES users (id),
    created_at     TIMESTAMPTZ NOT NULL,
    paid_at        TIMESTAMPTZ
);
CREATE INDEX payouts_by_site ON payouts (site_id, status);

-- Look-ups on the public pay-by-number page, counted per client address: account numbers
-- run in sequence, so trying them one after another must be slow.
CREATE TABLE payment_lookups (
    id       BIGSERIAL PRIMARY KEY,
    address  TEXT NOT NULL,
    at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX payment_lookups_by_address ON payment_lookups (address, at);
