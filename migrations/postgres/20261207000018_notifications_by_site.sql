-- The warnings and cut-offs report reads a site's notices over some days: an index by site and
-- time, so that read costs the days asked rather than every notice ever queued.
CREATE INDEX notifications_by_site_time ON notifications (site_id, created_at);
