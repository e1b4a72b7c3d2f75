#!/usr/bin/env bash
# Branch-per-pull-request with clonefs: a writable PostgreSQL branch of a source for each PR.
#
#   branch-per-pr.sh check   PR   run the migrations with clonefs pg check-migration on a fresh branch
#                                 of SOURCE (its own, destroyed after): exit 7 when a lock blocks a
#                                 table or a query waits longer than allowed; Markdown report written
#   branch-per-pr.sh create  PR   branch SOURCE as pr-PR (reset it if it exists); print its URI
#   branch-per-pr.sh test    PR   apply the migrations, then run the tests, against pr-PR
#   branch-per-pr.sh diff    PR   what pr-PR changed since it was branched: clonefs pg diff --schema
#                                 --data of its snapshot and pr-PR; Markdown report written
#   branch-per-pr.sh destroy PR   destroy pr-PR (no error if it is already gone)
#
# Environment:
#   SOURCE       the clonefs pg server to branch (required for check and create)
#   CLONEFS      the clonefs command (default: clonefs); CLONEFS_POOL selects the pool
#   BRANCH_TTL   destroy the branch after this long even if nobody does (default: 24h)
#   MIGRATIONS   directory of *.sql files applied in name order (default: db/migrations): the PR's
#                migrations, not yet on SOURCE
#   TESTS        directory of *.sql files run in name order; any error fails (default: db/tests)
#   WORKLOAD     check: a pgbench script of the application's queries, run on the branch while the
#                migrations run (default: none); CLIENTS its clients (default: 4)
#   MAX_LOCK     check: longest lock that blocks reads or writes of a table (default: 10s)
#   MAX_BLOCKED  check: longest wait of a WORKLOAD query behind the migrations (default: 1s)
#   REPORT_DIR   where check and diff write check-migration.md and diff.md (default: clonefs-reports)
#   PSQL         the psql command (default: psql)
# Needs jq. Exit status: 0 ok; 7 check found a dangerous migration (or one that fails); otherwise
# that of the failing clonefs or psql (see docs/cli.md).
set -euo pipefail

CLONEFS=${CLONEFS:-clonefs}
PSQL=${PSQL:-psql}
BRANCH_TTL=${BRANCH_TTL:-24h}
MIGRATIONS=${MIGRATIONS:-db/migrations}
TESTS=${TESTS:-db/tests}
CLIENTS=${CLIENTS:-4}
MAX_LOCK=${MAX_LOCK:-10s}
MAX_BLOCKED=${MAX_BLOCKED:-1s}
REPORT_DIR=${REPORT_DIR:-clonefs-reports}

usage() {
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

[[ $# -eq 2 ]] || usage
cmd=$1
pr=$2
[[ $pr =~ ^[0-9]+$ ]] || { echo "branch-per-pr: PR must be a number, not '$pr'" >&2; exit 2; }
name="pr-$pr"

# The URI of the branch, or nothing if it does not exist.
branch_uri() {
    $CLONEFS pg list --json | jq -r --arg n "$name" '.[] | select(.name == $n) | .uri'
}

# The branch's snapshot (VOLUME@SNAP: what it was branched from), or nothing if it does not exist.
branch_snapshot() {
    $CLONEFS pg list --json | jq -r --arg n "$name" '.[] | select(.name == $n) | .snapshot'
}

run_sql_dir() {
    local uri=$1 dir=$2 what=$3 f
    shopt -s nullglob
    local files=("$dir"/*.sql)
    shopt -u nullglob
    if [[ ${#files[@]} -eq 0 ]]; then
        echo "branch-per-pr: no $what in $dir" >&2
        return 0
    fi
    for f in "${files[@]}"; do
        echo "branch-per-pr: $what $f" >&2
        $PSQL "$uri" -X -q -v ON_ERROR_STOP=1 -f "$f"
    done
}

case $cmd in
    check)
        : "${SOURCE:?set SOURCE to the clonefs pg server to branch}"
        shopt -s nullglob
        files=("$MIGRATIONS"/*.sql)
        shopt -u nullglob
        if [[ ${#files[@]} -eq 0 ]]; then
            echo "branch-per-pr: no migration in $MIGRATIONS, nothing to check" >&2
            exit 0
        fi
        work=$(mktemp -d)
        trap 'rm -rf "$work"' EXIT
        # all of the PR's migrations as one file, in the order test applies them
        for f in "${files[@]}"; do
            printf -- '-- %s\n' "${f##*/}"
            cat "$f"
            echo
        done >"$work/pr-$pr-migrations.sql"
        opts=(--max-lock "$MAX_LOCK" --max-blocked "$MAX_BLOCKED")
        if [[ -n ${WORKLOAD:-} ]]; then
            opts+=(--workload "$WORKLOAD" --clients "$CLIENTS")
        fi
        mkdir -p "$REPORT_DIR"
        set +e
        $CLONEFS pg check-migration "$SOURCE" --file "$work/pr-$pr-migrations.sql" "${opts[@]}" --markdown \
            >"$REPORT_DIR/check-migration.md"
        code=$?
        set -e
        cat "$REPORT_DIR/check-migration.md"
        case $code in
            0) echo "branch-per-pr: check-migration passed (${#files[@]} files)" >&2 ;;
            7) echo "branch-per-pr: check-migration failed: a dangerous or failing migration (report above)" >&2 ;;
            *) echo "branch-per-pr: check-migration did not run (exit $code)" >&2 ;;
        esac
        exit $code
        ;;
    create)
        : "${SOURCE:?set SOURCE to the clonefs pg server to branch}"
        if [[ -n $(branch_uri) ]]; then
            # a new push to the PR: start again from the source's snapshot
            json=$($CLONEFS pg reset "$name" --json)
        else
            json=$($CLONEFS pg branch "$SOURCE" "$name" --ttl "$BRANCH_TTL" --json)
        fi
        uri=$(jq -r .uri <<<"$json")
        echo "branch-per-pr: $name answers at $uri ($(jq -r .millis.total <<<"$json") ms)" >&2
        if [[ -n ${GITHUB_OUTPUT:-} ]]; then
            echo "uri=$uri" >>"$GITHUB_OUTPUT"
        fi
        echo "$uri"
        ;;
    test)
        uri=$(branch_uri)
        [[ -n $uri ]] || { echo "branch-per-pr: no branch $name (run create first)" >&2; exit 3; }
        run_sql_dir "$uri" "$MIGRATIONS" migration
        run_sql_dir "$uri" "$TESTS" test
        echo "branch-per-pr: migrations and tests passed on $name" >&2
        ;;
    diff)
        snap=$(branch_snapshot)
        [[ -n $snap ]] || { echo "branch-per-pr: no branch $name (run create first)" >&2; exit 3; }
        mkdir -p "$REPORT_DIR"
        out=$($CLONEFS pg diff "$snap" "$name" --schema --data)
        {
            echo "## What $name changed (clonefs pg diff, against $snap)"
            echo
            echo '```diff'
            echo "$out"
            echo '```'
        } >"$REPORT_DIR/diff.md"
        echo "$out"
        echo "branch-per-pr: diff of $name written to $REPORT_DIR/diff.md" >&2
        ;;
    destroy)
        if [[ -z $(branch_uri) ]]; then
            echo "branch-per-pr: $name is already gone" >&2
            exit 0
        fi
        $CLONEFS pg destroy "$name" --json >/dev/null
        echo "branch-per-pr: destroyed $name" >&2
        ;;
    *)
        usage
        ;;
esac
