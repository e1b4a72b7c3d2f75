-- Masking script for the customers table: run on a branch, never on the source.
-- Every personal value is replaced; the table and its statistics are rewritten so that the
-- original values are left neither in live rows, nor in dead row versions, nor in pg_statistic.
\set ON_ERROR_STOP on
UPDATE customers SET
    full_name  = 'Customer ' || id,
    email      = 'customer' || id || '@example.invalid',
    phone      = '+00 000 ' || lpad((id % 1000000)::text, 6, '0'),
    birth_date = make_date(extract(year FROM birth_date)::int, 1, 1),
    iban       = 'XX00MASK' || lpad(id::text, 14, '0');
-- new statistics from the masked values, then rewrite the table and the statistics catalog
ANALYZE customers;
VACUUM FULL customers;
VACUUM FULL pg_statistic;
-- WAL written before now holds the original values: switch to a new segment and let two
-- checkpoints remove the old ones (wal_recycle off: removed, not renamed for reuse)
ALTER SYSTEM SET wal_recycle = off;
SELECT pg_reload_conf();
SELECT pg_switch_wal();
CHECKPOINT;
SELECT pg_switch_wal();
CHECKPOINT;
