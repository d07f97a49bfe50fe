-- A site's books closed through a day on its clock, by a manager or an admin once that day has
-- ended: from then on nothing is posted to the site's ledger at a time inside the closed period
-- and no receipt taken in it is voided, so its statements, collections and trial balance stay
-- as they were when it closed. A close is never undone: what is found wrong later is corrected
-- by new entries in the open period. Each close records how many ledger transactions the site
-- had in the closed period.
CREATE TABLE period_closes (
    id            INTEGER PRIMARY KEY,
    site_id       BIGINT NOT NULL REFERENCES sites (id),
    through_day   TEXT NOT NULL,
    -- The instant the next day starts on the site's clock: postings before it are refused.
    closes_at     TEXT NOT NULL,
    transactions  BIGINT NOT NULL,
    closed_by     BIGINT NOT NULL REFERENCES users (id),
    closed_at     TEXT NOT NULL,
    UNIQUE (site_id, through_day)
);
CREATE INDEX period_closes_by_site ON period_closes (site_id, closes_at);
