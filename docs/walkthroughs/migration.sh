#!/usr/bin/env bash
# Test a schema migration on a branch of a live database, compare a query plan before and after,
# then throw the branch away. The source never sees any of it. See migration.md.
#   CLONEFS_POOL  the pool whose daemon runs the source (clonefs mount)
#   SOURCE        the source server (default: prod), a pgbench database
#   BRANCH        the branch to create (default: $SOURCE-migration)
#   CLONEFS       the clonefs command (default: clonefs)
set -euo pipefail
: "${CLONEFS_POOL:?set CLONEFS_POOL to the pool whose daemon runs the source}"
SOURCE=${SOURCE:-prod}
BRANCH=${BRANCH:-$SOURCE-migration}
clonefs() { "${CLONEFS:-clonefs}" "$@"; }
export PSQLRC=/dev/null

SRC_URI=$(clonefs pg list --json | jq -r --arg n "$SOURCE" '.[] | select(.name == $n) | .uri')
[[ -n $SRC_URI ]] || { echo "no PostgreSQL server '$SOURCE' in pool $CLONEFS_POOL" >&2; exit 1; }
QUERY="SELECT aid, abalance FROM pgbench_accounts WHERE abalance > 2000 ORDER BY abalance DESC LIMIT 5"

echo "== 1. branch $SOURCE (a writable copy of the running database)"
URI=$(clonefs pg branch "$SOURCE" "$BRANCH" --ttl 2h)
echo "branch $BRANCH: $URI"

echo "== 2. the plan before the migration"
psql "$URI" -c "EXPLAIN (ANALYZE, COSTS OFF) $QUERY"

echo "== 3. the migration: a NOT NULL column with a default, a CHECK constraint, an index"
psql "$URI" -c "BEGIN;
ALTER TABLE pgbench_accounts ADD COLUMN status text NOT NULL DEFAULT 'active';
ALTER TABLE pgbench_accounts ADD CONSTRAINT abalance_in_range CHECK (abalance BETWEEN -100000000 AND 100000000);
CREATE INDEX pgbench_accounts_abalance_idx ON pgbench_accounts (abalance);
COMMIT;
ANALYZE pgbench_accounts;"

echo "== 4. verify the constraints"
psql "$URI" -c "SELECT conname, pg_get_constraintdef(oid) AS definition, convalidated
  FROM pg_constraint WHERE conrelid = 'pgbench_accounts'::regclass ORDER BY conname"
psql "$URI" -c "SELECT status, count(*) FROM pgbench_accounts GROUP BY status"
if psql "$URI" -c "UPDATE pgbench_accounts SET abalance = 200000000 WHERE aid = 1" 2>/dev/null; then
    echo "the CHECK constraint let a bad row in" >&2; exit 1
fi
echo "CHECK abalance_in_range: a balance of 200000000 is rejected"
if psql "$URI" -c "UPDATE pgbench_accounts SET status = NULL WHERE aid = 1" 2>/dev/null; then
    echo "the NOT NULL constraint let a NULL in" >&2; exit 1
fi
echo "NOT NULL status: a NULL status is rejected"

echo "== 5. the plan after the migration"
psql "$URI" -c "EXPLAIN (ANALYZE, COSTS OFF) $QUERY"

echo "== 6. the source never saw it; what the branch changed, by clonefs pg diff"
psql "$SRC_URI" -c "SELECT count(*) AS status_columns_on_source FROM information_schema.columns
  WHERE table_name = 'pgbench_accounts' AND column_name = 'status'"
clonefs pg diff "$SOURCE" "$BRANCH" --schema --data

echo "== 7. discard the branch"
clonefs pg destroy "$BRANCH"

echo "== 8. the same migration as a check: under a read workload, with its locks and waits"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/migration.sql" <<'SQL'
ALTER TABLE pgbench_accounts ADD COLUMN status text NOT NULL DEFAULT 'active';
ALTER TABLE pgbench_accounts ADD CONSTRAINT abalance_in_range CHECK (abalance BETWEEN -100000000 AND 100000000);
CREATE INDEX pgbench_accounts_abalance_idx ON pgbench_accounts (abalance);
SQL
cat > "$work/reads.pgbench" <<'PGBENCH'
\set aid random(1, 100000)
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
PGBENCH
set +e
clonefs pg check-migration "$SOURCE" --file "$work/migration.sql" --workload "$work/reads.pgbench" --clients 2 \
    --warmup 2s --max-lock 5s
code=$?
set -e
case $code in
    0) echo "check-migration: passed" ;;
    7) echo "check-migration: failed its thresholds (see the report above)" ;;
    *) echo "check-migration did not run (exit $code)" >&2; exit "$code" ;;
esac
