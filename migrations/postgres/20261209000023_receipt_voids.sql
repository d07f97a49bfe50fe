-- A cash receipt taken by mistake (the wrong account, the wrong amount) is voided by the one
-- who took it, before their shift closes: its top-up is reversed by a mirror-image transaction
-- and the receipt is kept, marked void with the reason, so the shift's close still lists it
-- and the drawer is expected to hold only what was not voided. Nothing here is removed.
CREATE TABLE receipt_voids (
    transaction_id  BIGINT PRIMARY KEY REFERENCES ledger_transactions (id),
    reversal_id     BIGINT NOT NULL UNIQUE REFERENCES ledger_transactions (id),
    reason          TEXT NOT NULL,
    voided_by       BIGINT NOT NULL REFERENCES users (id),
    voided_at       TIMESTAMPTZ NOT NULL
);
-- How many of a close's receipts were void.
ALTER TABLE cash_shifts ADD COLUMN voided BIGINT NOT NULL DEFAULT 0;
