-- Room on each page for the rows rating rewrites in every batch.
--
-- PostgreSQL writes an updated row as a new version. When that version fits on the row's own
-- page and no indexed column changed, it is a heap-only update: none of the table's indexes
-- is touched. Full pages forbid it, so every wallet update also wrote an entry into each of
-- the seven indexes of wallets (2 % of the benchmark's wallet updates were heap-only). Half of
-- each new page is left free for these tables: wallets (the carried remainder and spending),
-- accounts (balances), meter_states (the last reading) and usage_hourly (the hour's sums).
-- usage_daily is left as it is: its index for reports covers the sums it updates, so its
-- updates can never be heap-only. Pages written before this keep their fill until rewritten.
ALTER TABLE wallets SET (fillfactor = 50);
ALTER TABLE accounts SET (fillfactor = 50);
ALTER TABLE meter_states SET (fillfactor = 50);
ALTER TABLE usage_hourly SET (fillfactor = 50);
