-- Tariff plans: a unit is charged by its site's standard tariff unless it is put on a named
-- plan (commercial tenants, staff flats). A plan's versions sit beside the standard ones in
-- `tariffs`, told apart by `plan`; the standard plan is the empty name, so every version and
-- unit that existed before keeps its meaning. A plan prices only the utilities it has versions
-- for; its units pay the standard tariff for the others.
--
-- SQLite cannot change a table's UNIQUE constraint, so `tariffs` is rebuilt with the plan in it.
-- `tariff_proposals.tariff_id` refers to it: the check of that reference is deferred to the
-- commit, by which time every row is back under the same id.
PRAGMA defer_foreign_keys = ON;
CREATE TABLE tariffs_before_plans AS SELECT * FROM tariffs;
DROP TABLE tariffs;
CREATE TABLE tariffs (
    id              INTEGER PRIMARY KEY,
    site_id         BIGINT NOT NULL REFERENCES sites (id),
    plan            TEXT NOT NULL DEFAULT '',
    utility         TEXT NOT NULL CHECK (utility IN ('electricity', 'water', 'gas')),
    effective_from  TEXT NOT NULL,
    definition      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    created_by      BIGINT REFERENCES users (id),
    UNIQUE (site_id, plan, utility, effective_from)
);
INSERT INTO tariffs (id, site_id, utility, effective_from, definition, created_at, created_by)
    SELECT id, site_id, utility, effective_from, definition, created_at, created_by
    FROM tariffs_before_plans;
DROP TABLE tariffs_before_plans;

ALTER TABLE tariff_proposals ADD COLUMN plan TEXT NOT NULL DEFAULT '';

-- The plan a unit is charged by; changed from the unit's page or for the accounts a search
-- finds, and audited each time.
ALTER TABLE units ADD COLUMN tariff_plan TEXT NOT NULL DEFAULT '';
