-- Adjustments asked for in the console wait here for a second person's approval; only an
-- approved request posts to the ledger. One request holds one amount and reason for one or
-- many accounts (a batch from the accounts table), decided together. Nothing is deleted: a
-- withdrawn or refused request stays with who decided and when.
CREATE TABLE adjustment_requests (
    id              INTEGER PRIMARY KEY,
    site_id         BIGINT NOT NULL REFERENCES sites (id),
    -- The form's nonce: the same form sent twice asks once.
    form_key        TEXT NOT NULL,
    amount_minor    BIGINT NOT NULL CHECK (amount_minor <> 0),
    reason          TEXT NOT NULL,
    requested_by    BIGINT NOT NULL REFERENCES users (id),
    requested_at    TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'posted', 'refused', 'withdrawn')),
    decided_by      BIGINT REFERENCES users (id),
    decided_at      TEXT,
    UNIQUE (site_id, form_key)
);
CREATE INDEX adjustment_requests_by_site ON adjustment_requests (site_id, state);

CREATE TABLE adjustment_request_accounts (
    request_id        BIGINT NOT NULL REFERENCES adjustment_requests (id),
    wallet_account_id BIGINT NOT NULL REFERENCES accounts (id),
    -- What the approval posted; NULL while waiting, or when the account had closed meanwhile.
    transaction_id    BIGINT UNIQUE REFERENCES ledger_transactions (id),
    PRIMARY KEY (request_id, wallet_account_id)
);
