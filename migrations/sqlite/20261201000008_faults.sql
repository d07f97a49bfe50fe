-- Faults residents report from their account page (no supply, a meter that looks wrong, a
-- leak, a charge they question), for the managers and operators of their site, who close them
-- with a note. The form's nonce is unique: a report sent twice is one report.
-- SQLite flavour; migrations/postgres holds the same schema for PostgreSQL.

CREATE TABLE fault_reports (
    id                 INTEGER PRIMARY KEY,
    site_id            BIGINT NOT NULL REFERENCES sites (id),
    wallet_account_id  BIGINT NOT NULL REFERENCES accounts (id),
    reporter_user_id   BIGINT NOT NULL REFERENCES users (id),
    kind               TEXT NOT NULL CHECK (kind IN ('no_supply', 'meter', 'leak', 'billing', 'other')),
    details            TEXT NOT NULL,
    nonce              TEXT NOT NULL UNIQUE,
    created_at         TEXT NOT NULL,
    closed_at          TEXT,
    closed_by_user_id  BIGINT REFERENCES users (id),
    closing_note       TEXT,
    CHECK ((closed_at IS NULL) = (closed_by_user_id IS NULL))
);
CREATE INDEX fault_reports_by_site ON fault_reports (site_id, closed_at);
CREATE INDEX fault_reports_by_account ON fault_reports (wallet_account_id);
