-- The time-of-use schedule last queued for a meter that switches rates itself, exactly as it
-- was sent (JSON): the fleet sends the schedule in force whenever it differs from this, so a
-- tariff version taking effect, a unit moved to another plan or a new meter each get theirs
-- once, and two instances never send the same change twice.
ALTER TABLE meters ADD COLUMN tou_schedule_sent TEXT;
