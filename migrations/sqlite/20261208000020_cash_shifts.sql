-- The cash desk's shifts: whoever took cash at a site closes their shift by counting the
-- drawer. The cash they took since their last close (their cash top-ups' entries on the site's
-- cash account) is what the drawer should hold; both figures are kept with the close.
-- Nothing here is changed or removed.
CREATE TABLE cash_shifts (
    id               INTEGER PRIMARY KEY,
    site_id          BIGINT NOT NULL REFERENCES sites (id),
    cashier_user_id  BIGINT NOT NULL REFERENCES users (id),
    -- The close this one follows (NULL for a first shift): two closes of the same shift
    -- cannot both land.
    after_id         BIGINT REFERENCES cash_shifts (id),
    opened_at        TEXT,
    closed_at        TEXT NOT NULL,
    receipts         BIGINT NOT NULL,
    expected_minor   BIGINT NOT NULL,
    counted_minor    BIGINT NOT NULL,
    note             TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX cash_shifts_one_after ON cash_shifts (site_id, cashier_user_id, COALESCE(after_id, 0));
CREATE INDEX cash_shifts_by_site ON cash_shifts (site_id, closed_at);
