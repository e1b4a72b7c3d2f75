#!/usr/bin/env bash
# Three developers get their own writable branches of one snapshot of the source; each writes,
# none sees the others' changes, the source sees none. See developers.md.
#   CLONEFS_POOL  the pool whose daemon runs the source (clonefs mount)
#   SOURCE        the source server (default: prod), a pgbench database
#   DEVELOPERS    the branch names (default: "alice bob carol")
#   KEEP          1: leave the branches and the snapshot (default: destroy them at the end)
#   CLONEFS       the clonefs command (default: clonefs)
set -euo pipefail
: "${CLONEFS_POOL:?set CLONEFS_POOL to the pool whose daemon runs the source}"
SOURCE=${SOURCE:-prod}
read -r -a DEVS <<< "${DEVELOPERS:-alice bob carol}"
KEEP=${KEEP:-0}
clonefs() { "${CLONEFS:-clonefs}" "$@"; }
export PSQLRC=/dev/null

SRC_URI=$(clonefs pg list --json | jq -r --arg n "$SOURCE" '.[] | select(.name == $n) | .uri')
[[ -n $SRC_URI ]] || { echo "no PostgreSQL server '$SOURCE' in pool $CLONEFS_POOL" >&2; exit 1; }

echo "== 1. one snapshot of the running source for everybody"
psql "$SRC_URI" -c "CHECKPOINT"
SNAP="devs-$(date -u +%Y%m%dT%H%M%S)"
clonefs snapshot "$SOURCE@$SNAP"
AT=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)

echo "== 2. a branch per developer, all of $SOURCE@$SNAP (--at: the newest snapshot at or before now)"
declare -A URI
for d in "${DEVS[@]}"; do
    URI[$d]=$(clonefs pg branch "$SOURCE" "$d" --at "$AT" --ttl 8h)
    echo "$d: ${URI[$d]}"
done
clonefs pg list --json | jq -r '.[] | select(.role == "branch") | "\(.name)\tport \(.port)\tsnapshot \(.snapshot)"'

echo "== 3. each developer writes on their own branch"
i=0
for d in "${DEVS[@]}"; do
    i=$((i + 1))
    psql "${URI[$d]}" -c "CREATE TABLE notes_$d (id serial PRIMARY KEY, note text);
INSERT INTO notes_$d (note) VALUES ('work of $d');
UPDATE pgbench_branches SET bbalance = $((i * 1000)) WHERE bid = 1;"
done

echo "== 4. what each one sees"
for d in "${DEVS[@]}" "$SOURCE"; do
    uri=${URI[$d]:-$SRC_URI}
    psql "$uri" -At -c "SELECT '$d sees tables: ' || coalesce(string_agg(tablename, ',' ORDER BY tablename), '(none)')
  || '; bbalance of branch 1: ' || (SELECT bbalance FROM pgbench_branches WHERE bid = 1)
  FROM pg_tables WHERE tablename LIKE 'notes\_%'"
done

echo "== 5. what they changed, by clonefs pg diff: ${DEVS[0]} against ${DEVS[1]}, ${DEVS[0]} against the snapshot"
clonefs pg diff "${DEVS[0]}" "${DEVS[1]}" --schema
clonefs pg diff "$SOURCE@$SNAP" "${DEVS[0]}" --data

if [[ $KEEP == 1 ]]; then
    echo "== branches kept (they expire in 8 h)"
    exit 0
fi
echo "== 6. done: destroy the branches, then the snapshot"
for d in "${DEVS[@]}"; do
    clonefs pg destroy "$d"
done
clonefs destroy "$SOURCE@$SNAP"
