-- Bulk (master) meters: a meter may be fed through another of its site's meters of the same
-- utility, such as a building's water main. The loss report sets what a master measured
-- against the sum of what its sub-meters measured. Removing the link is setting it to NULL.
ALTER TABLE meters ADD COLUMN master_meter_id BIGINT REFERENCES meters (id);
-- A master's sub-meters are looked up by it; most meters have none.
CREATE INDEX meters_by_master ON meters (master_meter_id) WHERE master_meter_id IS NOT NULL;
