#!/usr/bin/env bash
# Start time of short commands through the launcher (bin/clonefs) against a running daemon: mounts a
# throwaway pool, then times `--version`, `list`, `snapshot`, `clone` and `destroy` ROUNDS times
# each (default 10) on two sides, alternating which runs first, and prints the median and p90 wall
# time (ms, date +%s%N around the launcher) and the median CPU time (user+sys, /usr/bin/time) of
# each. The sides are copies of the jar, so a rebuild during the run changes nothing:
#   no-archive   cli/target/clonefs.jar without its class-data archives (or BASE_JAR, another build's)
#   archive      cli/target/clonefs.jar with the archives made for the copy (scripts/cds-archive.sh)
# The daemon runs from a third copy; the pool is unmounted and removed at the end, also on failure.
# With PostgreSQL 15 installed (CLI_PG=0 to skip), also `pg branch SRC NEW --json` of a source
# (pgbench -i -s CLI_PG_SCALE, default 10) serving a light load (pgbench -c 2 -R 50): the command
# alone, the command and a new client's first query (psql -c 'select 1', the binary itself, not
# Debian's wrapper), the daemon's part of it (its --json millis.total) and the command less that
# (the client's: JVM start, CLI, the request); each branch destroyed.
#   tools/cli-bench.sh [ROUNDS]      (make bench-cli; BASE_JAR=old/clonefs.jar to compare a build)
# To compare a build with another build, both with their archives (the sides are then named base
# and new): BASE_ARCHIVE=1 makes the archives of the BASE_JAR copy too (with this tree's
# cds-archive.sh), and BASE_LAUNCHER=old/bin/clonefs runs that side through another launcher.
# Needs what `clonefs mount` needs (FUSE; run as root like the other benchmarks).
set -euo pipefail
rounds=${1:-10}
root=$(cd "$(dirname "$0")/.." && pwd)
launcher=$root/bin/clonefs
jar=${CLONEFS_JAR:-$root/cli/target/clonefs.jar}
base_jar=${BASE_JAR:-$jar}
base_launcher=${BASE_LAUNCHER:-$launcher}
base_archive=${BASE_ARCHIVE:-0}
a_side=no-archive b_side=archive
if [[ $base_archive == 1 ]]; then a_side=base b_side=new; fi
for j in "$jar" "$base_jar"; do
    [[ -f $j ]] || { echo "cli-bench: $j not found; run 'make build' first" >&2; exit 1; }
done
work=$(mktemp -d /tmp/clonefs-cli-bench.XXXXXX)
chmod 755 "$work" # PostgreSQL (the postgres user) reaches its run directory inside
pool=$work/pool
mnt=$work/mnt
pg_bin=$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || true)
pg=${CLI_PG:-1}
[[ -x $pg_bin/psql && -x $pg_bin/pgbench ]] || pg=0
load_pid=
cleanup() {
    if [[ -n $load_pid ]]; then kill "$load_pid" 2>/dev/null || true; wait "$load_pid" 2>/dev/null || true; fi
    if grep -qs " $mnt " /proc/mounts; then
        CLONEFS_JAR=$work/daemon/clonefs.jar "$launcher" umount "$mnt" >/dev/null 2>&1 \
            || CLONEFS_JAR=$work/daemon/clonefs.jar "$launcher" umount --force "$mnt" >/dev/null 2>&1 \
            || fusermount -u "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$work/daemon" "$work/$a_side" "$work/$b_side" "$mnt"
cp "$jar" "$work/daemon/clonefs.jar"
cp "$base_jar" "$work/$a_side/clonefs.jar"
cp "$jar" "$work/$b_side/clonefs.jar"
echo "== class-data archives for the copy"
"$root/scripts/cds-archive.sh" "$work/$b_side/clonefs.jar"
if [[ $base_archive == 1 ]]; then
    "$root/scripts/cds-archive.sh" "$work/$a_side/clonefs.jar"
fi

export CLONEFS_POOL=$pool
# the daemon's PostgreSQL ports: its own, away from other pools' servers
export CLONEFS_PG_PORTS=$(( 49000 + $$ % 50 * 40 ))-$(( 49000 + $$ % 50 * 40 + 39 ))
unset JAVA_OPTS
CLONEFS_JAR=$work/daemon/clonefs.jar "$launcher" init "$pool" >/dev/null
CLONEFS_JAR=$work/daemon/clonefs.jar "$launcher" mount "$pool" "$mnt" >/dev/null
CLONEFS_JAR=$work/daemon/clonefs.jar "$launcher" create vol >/dev/null
src_port=
if (( pg )); then
    src_port=$(CLONEFS_JAR=$work/daemon/clonefs.jar "$launcher" pg init src --json | awk -F'[:,]' '/"port"/ { gsub(/ /, "", $2); print $2; exit }')
    "$pg_bin/pgbench" -h 127.0.0.1 -p "$src_port" -U postgres -i -q -s "${CLI_PG_SCALE:-10}" postgres >"$work/pgbench-init.log" 2>&1
    "$pg_bin/pgbench" -h 127.0.0.1 -p "$src_port" -U postgres -c 2 -j 1 -R 50 -T 36000 -n postgres >"$work/load.log" 2>&1 &
    load_pid=$!
    sleep 2
fi
echo "== pool $pool mounted at $mnt; $rounds rounds, sides: $a_side$([[ $base_jar != "$jar" ]] && echo " ($base_jar)")$([[ $base_launcher != "$launcher" ]] && echo " through $base_launcher"), $b_side"

have_time=0
[[ -x /usr/bin/time ]] && have_time=1
# one timed command: appends "wall_ms cpu_ms" to $work/<side>.<name>
timed() { # side name args...
    local side=$1 name=$2; shift 2
    local t0 t1 cpu=0 launcher=$launcher
    [[ $side == "$a_side" ]] && launcher=$base_launcher
    t0=$(date +%s%N)
    if (( have_time )); then
        CLONEFS_JAR=$work/$side/clonefs.jar /usr/bin/time -f "%U %S" -o "$work/time" "$launcher" "$@" >/dev/null 2>"$work/err" \
            || { echo "cli-bench: clonefs $* failed on $side: $(cat "$work/err")" >&2; exit 1; }
    else
        CLONEFS_JAR=$work/$side/clonefs.jar "$launcher" "$@" >/dev/null 2>"$work/err" \
            || { echo "cli-bench: clonefs $* failed on $side: $(cat "$work/err")" >&2; exit 1; }
    fi
    t1=$(date +%s%N)
    if [[ -s $work/err ]]; then
        echo "cli-bench: clonefs $* on $side wrote to stderr: $(cat "$work/err")" >&2
        exit 1
    fi
    (( have_time )) && cpu=$(awk '{ printf "%d", ($1 + $2) * 1000 }' "$work/time")
    echo "$(( (t1 - t0) / 1000000 )) $cpu" >> "$work/$side.$name"
}

# one timed pg branch: appends "command_ms command_and_first_query_ms daemon_ms client_ms" to
# $work/<side>.pg-branch (client: the command less the daemon's part, the JVM's start and the CLI's work)
timed_branch() { # side name
    local side=$1 name=$2 t0 t1 t2 out port total one launcher=$launcher
    [[ $side == "$a_side" ]] && launcher=$base_launcher
    t0=$(date +%s%N)
    out=$(CLONEFS_JAR=$work/$side/clonefs.jar "$launcher" pg branch src "$name" --json 2>"$work/err") \
        || { echo "cli-bench: clonefs pg branch failed on $side: $(cat "$work/err")" >&2; exit 1; }
    t1=$(date +%s%N)
    port=$(awk -F'[:,]' '/"port"/ { gsub(/ /, "", $2); print $2; exit }' <<<"$out")
    one=$("$pg_bin/psql" -h 127.0.0.1 -p "$port" -U postgres -XAtc 'select 1' postgres 2>&1) || true
    t2=$(date +%s%N)
    [[ $one == 1 ]] || { echo "cli-bench: branch $name on $side answered '$one'" >&2; exit 1; }
    total=$(awk -F: '/"total"/ { gsub(/[^0-9]/, "", $2); print $2; exit }' <<<"$out")
    echo "$(( (t1 - t0) / 1000000 )) $(( (t2 - t0) / 1000000 )) $total $(( (t1 - t0) / 1000000 - total ))" >> "$work/$side.pg-branch"
    CLONEFS_JAR=$work/daemon/clonefs.jar "$launcher" pg destroy "$name" >/dev/null
}

for i in $(seq 1 "$rounds"); do
    order="$a_side $b_side"; (( i % 2 == 0 )) && order="$b_side $a_side" # neither side always runs first
    for side in $order; do
        s=$side-$i
        timed "$side" --version --version
        timed "$side" list list
        timed "$side" snapshot snapshot "vol@$s"
        timed "$side" clone clone "vol@$s" "c-$s"
        timed "$side" destroy destroy "c-$s"
        CLONEFS_JAR=$work/daemon/clonefs.jar "$launcher" destroy "vol@$s" >/dev/null
        if (( pg )); then
            timed_branch "$side" "b-$s"
        fi
    done
done

# nearest-rank percentile of column $1 of a file
pct() { # file column p
    sort -n -k"$2" "$1" | awk -v c="$2" -v p="$3" '{ v[NR] = $c } END { i = int((NR * p + 99) / 100); if (i < 1) i = 1; print v[i] }'
}
echo
echo "== clonefs start to exit, $rounds runs per side (ms; cpu = user+sys of all the JVM's threads)"
printf '%-10s | %18s %8s %8s | %18s %8s %8s\n' "" "$a_side median" "p90" "cpu" "$b_side median" "p90" "cpu"
for name in --version list snapshot clone destroy; do
    row=$(printf '%-10s |' "$name")
    for side in $a_side $b_side; do
        f=$work/$side.$name
        cpu="-"
        (( have_time )) && cpu=$(pct "$f" 2 50)
        row+=$(printf ' %18s %8s %8s |' "$(pct "$f" 1 50)" "$(pct "$f" 1 90)" "$cpu")
    done
    echo "${row% |}"
done
if (( pg )); then
    echo
    echo "== pg branch of a source (pgbench -s ${CLI_PG_SCALE:-10}) under pgbench -c 2 -R 50, $rounds runs per side (ms)"
    printf '%-24s | %15s %8s | %15s %8s\n' "" "$a_side median" "p90" "$b_side median" "p90"
    col=1
    for name in "command" "command + first query" "daemon's part" "command less daemon's"; do
        row=$(printf '%-24s |' "$name")
        for side in $a_side $b_side; do
            row+=$(printf ' %15s %8s |' "$(pct "$work/$side.pg-branch" $col 50)" "$(pct "$work/$side.pg-branch" $col 90)")
        done
        echo "${row% |}"
        col=$(( col + 1 ))
    done
fi
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
