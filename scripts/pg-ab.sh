#!/usr/bin/env bash
# Side-by-side PostgreSQL benchmark of two builds: BASE (a git revision, built in a temporary
# worktree) against this checkout. Each build mounts a pool of its own with its own daemon and runs
# PostgreSQL 15 on a volume (`clonefs pg init`), loaded with `pgbench -i -s SCALE`; then pgbench
# read-write and select-only run against BASE and HEAD alternately (which side goes first swaps from
# run to run), RUNS times each, a CHECKPOINT before every run. Prints every run and the median TPS per side. Writes nothing to BENCHMARKS.md.
#   scripts/pg-ab.sh BASE [RUNS]   (make bench-pg-ab BASE=rev; PG_AB_SCALE=20, PG_AB_SECONDS=30)
set -euo pipefail
base=${1:?usage: scripts/pg-ab.sh BASE_REVISION [RUNS]}
runs=${2:-3}
scale=${PG_AB_SCALE:-20}
secs=${PG_AB_SECONDS:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
mvn_cmd=${MVN:-mvn -B}
work=$(mktemp -d /var/tmp/clonefs-pg-ab.XXXXXX)
chmod 755 "$work"

cleanup() {
    local side
    for side in base head; do
        if [[ -f $work/$side.jar ]] && mountpoint -q "$work/$side-mnt" 2>/dev/null; then
            CLONEFS_JAR=$work/$side.jar "$root/bin/clonefs" umount "$work/$side-mnt" >/dev/null 2>&1 \
                || umount -l "$work/$side-mnt" 2>/dev/null || true
        fi
    done
    git -C "$root" worktree remove --force "$work/src-base" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

echo "== building $base and this checkout"
git -C "$root" worktree add --detach "$work/src-base" "$base" >/dev/null
(cd "$work/src-base" && $mvn_cmd -q -pl cli -am package -DskipTests >/dev/null)
(cd "$root" && $mvn_cmd -q -pl cli -am package -DskipTests >/dev/null)
cp "$work/src-base/cli/target/clonefs.jar" "$work/base.jar"
cp "$root/cli/target/clonefs.jar" "$work/head.jar"

declare -A port
first=55100
for side in base head; do
    pool=$work/$side-pool mnt=$work/$side-mnt
    mkdir -p "$mnt"
    export CLONEFS_JAR=$work/$side.jar CLONEFS_PG_PORTS="$first-$((first + 9))"
    "$root/bin/clonefs" init "$pool" >/dev/null
    "$root/bin/clonefs" mount "$pool" "$mnt" >/dev/null
    "$root/bin/clonefs" --pool "$pool" pg init db --port "$first" >/dev/null
    port[$side]=$first
    echo "== $side: pool $pool, PostgreSQL on port $first; loading pgbench -i -s $scale"
    pgbench -h 127.0.0.1 -p "$first" -U postgres -i -q -s "$scale" postgres >/dev/null 2>&1
    first=$((first + 100))
done
unset CLONEFS_JAR CLONEFS_PG_PORTS

tps() { # port, extra pgbench args...
    local p=$1; shift
    psql -h 127.0.0.1 -p "$p" -U postgres -qAt -c CHECKPOINT postgres >/dev/null
    pgbench -h 127.0.0.1 -p "$p" -U postgres -c 4 -j 2 -T "$secs" -n "$@" postgres 2>/dev/null \
        | awk '/^tps = / { printf "%.0f\n", $3; exit }'
}

declare -A results
for mode in rw so; do
    args=(); [[ $mode == so ]] && args=(-S)
    for i in $(seq 1 "$runs"); do
        order="base head"; (( i % 2 == 0 )) && order="head base" # neither side always runs second
        for side in $order; do
            t=$(tps "${port[$side]}" "${args[@]}")
            results[$mode-$side]+=" $t"
            echo "$( [[ $mode == rw ]] && echo "read-write " || echo "select-only") $side run $i: $t tps"
        done
    done
done

median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
echo
echo "== median of $runs runs, pgbench -c 4 -j 2 -T $secs, scale $scale (tps)"
printf '%-12s %10s %10s %7s\n' "" "$base" "HEAD" "ratio"
for mode in rw so; do
    b=$(median "${results[$mode-base]}"); h=$(median "${results[$mode-head]}")
    printf '%-12s %10s %10s %7.2f\n' "$( [[ $mode == rw ]] && echo read-write || echo select-only)" "$b" "$h" \
        "$(awk -v b="$b" -v h="$h" 'BEGIN { print (b > 0 ? h / b : 0) }')"
done
