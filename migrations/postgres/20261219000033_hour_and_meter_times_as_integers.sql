-- SQLite only: a roll-up hour's start and a meter's last reading time become integers of
-- microseconds there (see the SQLite twin). PostgreSQL already keeps them as 8-byte
-- timestamptz, so there is nothing to change here.
SELECT 1;
