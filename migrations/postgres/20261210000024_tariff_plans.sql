-- Tariff plans: a unit is charged by its site's standard tariff unless it is put on a named
-- plan (commercial tenants, staff flats). A plan's versions sit beside the standard ones in
-- `tariffs`, told apart by `plan`; the standard plan is the empty name, so every version and
-- unit that existed before keeps its meaning. A plan prices only the utilities it has versions
-- for; its units pay the standard tariff for the others.
ALTER TABLE tariffs ADD COLUMN plan TEXT NOT NULL DEFAULT '';
ALTER TABLE tariffs DROP CONSTRAINT tariffs_site_id_utility_effective_from_key;
ALTER TABLE tariffs ADD CONSTRAINT tariffs_site_plan_utility_start
    UNIQUE (site_id, plan, utility, effective_from);

ALTER TABLE tariff_proposals ADD COLUMN plan TEXT NOT NULL DEFAULT '';

-- The plan a unit is charged by; changed from the unit's page or for the accounts a search
-- finds, and audited each time.
ALTER TABLE units ADD COLUMN tariff_plan TEXT NOT NULL DEFAULT '';
