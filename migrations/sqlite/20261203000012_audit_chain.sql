-- The audit log becomes tamper-evident: each organisation's entries form a hash chain (the
-- place, the hash of the entry before, the entry's own hash), and the database refuses to
-- change or remove an entry. Entries already written keep NULL in the new columns: they came
-- before the chain and `prepaid audit verify` counts them apart.
ALTER TABLE audit_log ADD COLUMN chain_seq INTEGER;
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX audit_log_by_chain ON audit_log (COALESCE(organisation_id, 0), chain_seq)
    WHERE chain_seq IS NOT NULL;

-- Each chain's last place and hash. Appending an entry updates its chain's row first, which
-- serialises appends to one chain for the length of their transactions.
CREATE TABLE audit_chains (
    chain  INTEGER PRIMARY KEY,
    seq    INTEGER NOT NULL,
    head   TEXT NOT NULL
);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_chains_no_delete BEFORE DELETE ON audit_chains
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
