-- PostgreSQL only: room on each page for the rows rating rewrites (see the PostgreSQL twin).
-- SQLite rewrites a row in place on its page, so there is nothing to change here.
SELECT 1;
