-- When an admin last switched the person's sign-in off: sessions signed in before then are
-- over, so switching it on again lets the person sign in afresh without reviving a session
-- a shared computer may still hold.
ALTER TABLE users ADD COLUMN signed_out_at TEXT;
