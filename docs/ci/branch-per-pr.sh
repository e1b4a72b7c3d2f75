#!/usr/bin/env bash
# Branch-per-pull-request with clonefs: a writable PostgreSQL branch of a source for each PR.
#
#   branch-per-pr.sh create  PR   branch SOURCE as pr-PR (reset it if it exists); print its URI
#   branch-per-pr.sh test    PR   apply the migrations, then run the tests, against pr-PR
#   branch-per-pr.sh destroy PR   destroy pr-PR (no error if it is already gone)
#
# Environment:
#   SOURCE       the clonefs pg server to branch (required for create)
#   CLONEFS      the clonefs command (default: clonefs); CLONEFS_POOL selects the pool
#   BRANCH_TTL   destroy the branch after this long even if nobody does (default: 24h)
#   MIGRATIONS   directory of *.sql files applied in name order (default: db/migrations)
#   TESTS        directory of *.sql files run in name order; any error fails (default: db/tests)
#   PSQL         the psql command (default: psql)
# Needs jq. Exit status: 0 ok; otherwise that of the failing clonefs or psql (see docs/cli.md).
set -euo pipefail

CLONEFS=${CLONEFS:-clonefs}
PSQL=${PSQL:-psql}
BRANCH_TTL=${BRANCH_TTL:-24h}
MIGRATIONS=${MIGRATIONS:-db/migrations}
TESTS=${TESTS:-db/tests}

usage() {
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2
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
