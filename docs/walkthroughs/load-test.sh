#!/usr/bin/env bash
# Load-test a branch with pgbench while the source keeps serving its own traffic; print both
# throughputs, then discard the branch. See load-test.md.
#   CLONEFS_POOL  the pool whose daemon runs the source (clonefs mount)
#   SOURCE        the source server (default: prod), a pgbench database
#   BRANCH        the branch to create (default: $SOURCE-load)
#   SECONDS_RUN   length of both pgbench runs (default: 20)
#   CLONEFS       the clonefs command (default: clonefs)
set -euo pipefail
: "${CLONEFS_POOL:?set CLONEFS_POOL to the pool whose daemon runs the source}"
SOURCE=${SOURCE:-prod}
BRANCH=${BRANCH:-$SOURCE-load}
SECONDS_RUN=${SECONDS_RUN:-20}
clonefs() { "${CLONEFS:-clonefs}" "$@"; }
export PSQLRC=/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

SRC_URI=$(clonefs pg list --json | jq -r --arg n "$SOURCE" '.[] | select(.name == $n) | .uri')
[[ -n $SRC_URI ]] || { echo "no PostgreSQL server '$SOURCE' in pool $CLONEFS_POOL" >&2; exit 1; }

echo "== 1. branch $SOURCE"
URI=$(clonefs pg branch "$SOURCE" "$BRANCH" --ttl 2h)
echo "branch $BRANCH: $URI"

echo "== 2. ${SECONDS_RUN} s of read-write pgbench on the branch, while the source serves read-only traffic"
pgbench -n -c 4 -j 2 -T "$SECONDS_RUN" "$URI" > "$out/branch.txt" 2>&1 &
branch_pid=$!
pgbench -n -S -c 1 -j 1 -T "$SECONDS_RUN" "$SRC_URI" > "$out/source.txt" 2>&1 &
source_pid=$!
wait "$branch_pid" || { cat "$out/branch.txt" >&2; exit 1; }
wait "$source_pid" || { cat "$out/source.txt" >&2; exit 1; }

echo "== 3. results"
echo "branch (load test, read-write, 4 clients):"
grep -E '^(number of transactions actually processed|latency average|tps)' "$out/branch.txt" | sed 's/^/  /'
echo "source (kept serving, select-only, 1 client):"
grep -E '^(number of transactions actually processed|latency average|tps)' "$out/source.txt" | sed 's/^/  /'
echo "branch tps: $(sed -n 's/^tps = \([0-9.]*\) (without.*/\1/p' "$out/branch.txt")"
echo "source tps: $(sed -n 's/^tps = \([0-9.]*\) (without.*/\1/p' "$out/source.txt")"

echo "== 4. the load test's writes stayed on the branch"
psql "$URI" -At -c "SELECT 'pgbench_history rows on the branch: ' || count(*) FROM pgbench_history"
psql "$SRC_URI" -At -c "SELECT 'pgbench_history rows on the source: ' || count(*) FROM pgbench_history"

echo "== 5. discard the branch"
clonefs pg destroy "$BRANCH"
