-- On SQLite, the notices of the commands run beside the service (see the
-- SQLite migration of the same number). PostgreSQL tells every process of
-- every change by NOTIFY, in the transaction: it needs no table.
SELECT 1;
