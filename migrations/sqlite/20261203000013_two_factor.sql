-- Two-factor sign-in for staff: an authenticator app's secret (TOTP), sealed with the vault
-- key like token meters' keys; one being set up until its first code confirms it; the last
-- 30-second step a code was accepted for, so no code works twice. An organisation may
-- require it of all its staff.
ALTER TABLE users ADD COLUMN totp_secret_sealed TEXT;
ALTER TABLE users ADD COLUMN totp_pending_sealed TEXT;
ALTER TABLE users ADD COLUMN totp_last_step INTEGER;
ALTER TABLE organisations ADD COLUMN staff_two_factor BOOLEAN NOT NULL DEFAULT FALSE;
