-- Four eyes on large cash and on move-out refunds.
--
-- A site may name an amount above which cash taken at the desk is not credited at once: the
-- cashier asks, and the credit posts (as their receipt, in their shift) only once another of
-- the site's managers or an admin approves. Zero: no such limit. Nothing here is deleted: a
-- refused or withdrawn request stays with who decided and when.
ALTER TABLE sites ADD COLUMN cash_approval_over_minor BIGINT NOT NULL DEFAULT 0
    CHECK (cash_approval_over_minor >= 0);

CREATE TABLE cash_requests (
    id                 INTEGER PRIMARY KEY,
    site_id            BIGINT NOT NULL REFERENCES sites (id),
    wallet_account_id  BIGINT NOT NULL REFERENCES accounts (id),
    amount_minor       BIGINT NOT NULL CHECK (amount_minor > 0),
    -- The cash form's nonce: the same form sent twice asks once, and the approval posts
    -- under the key the form would have posted under.
    nonce              TEXT NOT NULL,
    asked_by           BIGINT NOT NULL REFERENCES users (id),
    asked_at           TEXT NOT NULL,
    state              TEXT NOT NULL DEFAULT 'pending'
                       CHECK (state IN ('pending', 'posted', 'refused', 'withdrawn')),
    decided_by         BIGINT REFERENCES users (id),
    decided_at         TEXT,
    UNIQUE (wallet_account_id, nonce)
);
CREATE INDEX cash_requests_by_site ON cash_requests (site_id, state);

-- Who settled the move-out that owes a refund: somebody else pays it. NULL for refunds owed
-- before this column, and for move-outs the platform made itself.
ALTER TABLE payouts ADD COLUMN settled_by BIGINT REFERENCES users (id);
