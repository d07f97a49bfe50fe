-- Which receipts each close counted. A shift is the cash receipts a person issued that no
-- close has counted yet: exact whatever order concurrent transactions commit in (a window of
-- time would miss a top-up stamped before a close but committed after it).
CREATE TABLE cash_shift_receipts (
    transaction_id  BIGINT PRIMARY KEY REFERENCES ledger_transactions (id),
    shift_id        BIGINT NOT NULL REFERENCES cash_shifts (id)
);
CREATE INDEX cash_shift_receipts_by_shift ON cash_shift_receipts (shift_id);
