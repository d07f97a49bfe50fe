-- Tariff versions proposed in the console wait here for a second person's approval; only an
-- approved proposal becomes a row of `tariffs`. Nothing here is deleted: a withdrawn or refused
-- proposal stays with who decided and when.
CREATE TABLE tariff_proposals (
    id              INTEGER PRIMARY KEY,
    site_id         BIGINT NOT NULL REFERENCES sites (id),
    utility         TEXT NOT NULL CHECK (utility IN ('electricity', 'water', 'gas')),
    effective_from  TEXT NOT NULL,
    definition      TEXT NOT NULL,
    note            TEXT NOT NULL DEFAULT '',
    proposed_by     BIGINT NOT NULL REFERENCES users (id),
    proposed_at     TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'published', 'refused', 'withdrawn')),
    decided_by      BIGINT REFERENCES users (id),
    decided_at      TEXT,
    -- The version the approval published.
    tariff_id       BIGINT UNIQUE REFERENCES tariffs (id)
);
CREATE INDEX tariff_proposals_by_site ON tariff_proposals (site_id, state);
