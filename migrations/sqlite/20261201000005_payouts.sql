-- Move-out refunds owed to people, and how each was paid. The table of the payments
-- migration had no room for a payout in flight at a provider; it was never written to, so it
-- is replaced rather than altered.
DROP TABLE payouts;

CREATE TABLE payouts (
    id                 INTEGER PRIMARY KEY,
    site_id            BIGINT NOT NULL REFERENCES sites (id),
    user_id            BIGINT NOT NULL REFERENCES users (id),
    occupancy_id       BIGINT REFERENCES occupancies (id),
    amount_minor       BIGINT NOT NULL CHECK (amount_minor > 0),
    -- Ours, unique: what the move-out owes (`moveout-<occupancy>`).
    reference          TEXT NOT NULL UNIQUE,
    -- owed: nobody has paid it yet; sent: a provider is paying it; paid: done.
    status             TEXT NOT NULL DEFAULT 'owed' CHECK (status IN ('owed', 'sent', 'paid')),
    method             TEXT CHECK (method IN ('provider', 'manual')),
    provider           TEXT,
    -- The provider's id of the transfer, or what the manager wrote (cheque or receipt no.).
    provider_reference TEXT,
    destination        TEXT,
    -- Each try at a provider gets its own idempotency key.
    attempts           BIGINT NOT NULL DEFAULT 0,
    failure            TEXT,
    note               TEXT NOT NULL DEFAULT '',
    transaction_id     BIGINT REFERENCES ledger_transactions (id),
    actor_user_id      BIGINT REFERENCES users (id),
    created_at         TEXT NOT NULL,
    sent_at            TEXT,
    paid_at            TEXT,
    CHECK ((status = 'paid') = (transaction_id IS NOT NULL))
);
CREATE INDEX payouts_by_site ON payouts (site_id, status);
