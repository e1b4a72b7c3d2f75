#!/usr/bin/env bash
# make demo: a PostgreSQL database branched while it serves, end to end, non-interactive.
#
#   installs what is missing (scripts/install-deps.sh demo), builds the clonefs jar, checks the host
#   (clonefs doctor: stops on a blocker), creates a pool in
#   DEMO_DIR, mounts it, starts PostgreSQL 15 on a volume (clonefs pg init), loads it with
#   pgbench -i, runs pgbench against it in the background, branches it while it serves
#   (clonefs pg branch --json), and prints the branch's URI, how long the branch took and the
#   space it added. The mount and both servers stay up so you can connect; `make demo-clean`
#   (scripts/demo-clean.sh) stops them and removes the pool. A previous demo in DEMO_DIR is
#   cleaned first.
#
# Environment:
#   DEMO_DIR            where the pool and mount point go (default /var/lib/clonefs-demo)
#   DEMO_SCALE          pgbench scale of the sample database (default 10: 1 M accounts, ~160 MB)
#   DEMO_BENCH_SECONDS  longest the background pgbench may run (default 300; it is stopped once the branch answered)
#   BUILD_DIR           Maven output directory (default target); CLONEFS_JAR overrides the jar
#   MVN                 Maven command (default mvn -B)
#   PGBIN               PostgreSQL binaries (default /usr/lib/postgresql/15/bin)
#   CLONEFS_PG_PORTS    port range of the demo's PostgreSQL servers (default 54400-55399)
#   DEMO_SKIP_DEPS=1    do not run install-deps.sh;  DEMO_SKIP_BUILD=1  use the jar as it is
# Needs root (a FUSE mount other users can use; PostgreSQL runs as the postgres user).
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        exec sudo -E bash "$0" "$@"
    fi
    echo "demo: must run as root (FUSE mount, PostgreSQL as the postgres user); no sudo found" >&2
    exit 1
fi

demo_dir="${DEMO_DIR:-/var/lib/clonefs-demo}"
demo_dir="$(readlink -m "$demo_dir")"
scale="${DEMO_SCALE:-10}"
bench_seconds="${DEMO_BENCH_SECONDS:-300}"
build_dir="${BUILD_DIR:-target}"
mvn_cmd="${MVN:-mvn -B}"
pgbin="${PGBIN:-/usr/lib/postgresql/15/bin}"
export CLONEFS_JAR="${CLONEFS_JAR:-$root/cli/$build_dir/clonefs.jar}"
pool="$demo_dir/pool"
mnt="$demo_dir/mnt"
export CLONEFS_POOL="$pool"
source_name=demo
branch_name=demo-branch

start=$SECONDS
step() { printf '[%3d s] %s\n' $((SECONDS - start)) "$*"; }
fail() { echo "demo: $*" >&2; exit 1; }
clonefs() { "$root/bin/clonefs" "$@"; }
# One field of the (pretty-printed) JSON a clonefs command printed: json_field NAME < file.
json_field() { tr -d '\n' | grep -o "\"$1\" *: *\(\"[^\"]*\"\|-\?[0-9]*\)" | head -1 | sed 's/^[^:]*: *//; s/"//g'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
now_ms() { date +%s%3N; }

[[ $scale =~ ^[0-9]+$ && $scale -ge 1 ]] || fail "DEMO_SCALE must be a whole number >= 1 (got '$scale')"

echo "clonefs demo: a PostgreSQL database branched while pgbench writes to it"
echo "  pool $pool, mounted at $mnt; pgbench scale $scale"

# ---- a previous demo ---------------------------------------------------------------------------
if [[ -e $pool || -e $mnt ]]; then
    step "a previous demo is in $demo_dir: cleaning it first (make demo-clean)"
    DEMO_DIR="$demo_dir" "$root/scripts/demo-clean.sh"
fi

# ---- dependencies and build --------------------------------------------------------------------
if [[ ${DEMO_SKIP_DEPS:-0} != 1 ]]; then
    step "checking dependencies (scripts/install-deps.sh demo: fuse, PostgreSQL 15, JDK 17, Maven)"
    "$root/scripts/install-deps.sh" demo
fi
if [[ ${DEMO_SKIP_BUILD:-0} != 1 ]]; then
    step "building clonefs (mvn package; the first build downloads dependencies and takes a few minutes)"
    # shellcheck disable=SC2086 # MVN is a command line on purpose
    build_log=$(mktemp)
    if ! (cd "$root" && $mvn_cmd -q -Dstyle.color=never -Dclonefs.build.dir="$build_dir" -pl cli -am package -DskipTests) \
            >"$build_log" 2>&1; then
        cat "$build_log" >&2
        rm -f "$build_log"
        fail "the build failed (output above)"
    fi
    rm -f "$build_log"
fi
[[ -f $CLONEFS_JAR ]] || fail "$CLONEFS_JAR not found (build it with 'make build')"
for t in pgbench psql; do
    [[ -x $pgbin/$t ]] || fail "$pgbin/$t not found (PostgreSQL 15: scripts/install-deps.sh installs it)"
done
step "checking this host: clonefs doctor --pool $pool"
if doctor=$(clonefs doctor --pool "$pool" 2>&1); then
    # the summary, and what is not OK
    grep -v '^OK ' <<< "$doctor" | sed 's/^/         /'
else
    sed 's/^/         /' <<< "$doctor" >&2
    fail "clonefs doctor found a blocker (the FAIL lines above say what to fix)"
fi

# ---- on failure: stop what was started, unmount, keep the files for a look ---------------------
mounted=no
on_exit() {
    local rc=$?
    if [[ $rc -ne 0 && $mounted == yes ]]; then
        echo "demo: FAILED (exit $rc); the daemon's log follows (last 30 lines of $pool/daemon.log)" >&2
        tail -n 30 "$pool/daemon.log" >&2 2>/dev/null || true
        [[ -f $demo_dir/pgbench.log ]] && { echo "-- pgbench output:" >&2; tail -n 10 "$demo_dir/pgbench.log" >&2; }
        echo "demo: stopping the servers and unmounting (files kept in $demo_dir; make demo-clean removes them)" >&2
        DEMO_DIR="$demo_dir" DEMO_KEEP_FILES=1 "$root/scripts/demo-clean.sh" >&2 || true
    fi
    exit $rc
}
trap on_exit EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
trap '' PIPE

# ---- pool, mount, source server ----------------------------------------------------------------
install -d -m 0755 "$demo_dir" "$mnt"
if ! runuser -u postgres -- test -x "$mnt"; then
    fail "the postgres user cannot reach $mnt: every directory above it must be searchable (chmod o+x)"
fi
step "creating the pool: clonefs init $pool"
clonefs init "$pool" >/dev/null
step "mounting it: clonefs mount $pool $mnt"
mounted=yes
clonefs mount "$pool" "$mnt" >/dev/null
step "starting PostgreSQL 15 on volume '$source_name': clonefs pg init $source_name"
clonefs pg init "$source_name" --json > "$demo_dir/source.json"
src_uri=$(json_field uri < "$demo_dir/source.json")
src_port=$(json_field port < "$demo_dir/source.json")
[[ -n $src_uri && -n $src_port ]] || fail "no URI in the answer of clonefs pg init: $(cat "$demo_dir/source.json")"
step "source answers at $src_uri (data directory $mnt/$source_name/data)"

pg_args=(-h 127.0.0.1 -p "$src_port" -U postgres)
step "loading the sample database: pgbench -i -s $scale ($((scale * 100000)) accounts)"
t0=$(now_ms)
"$pgbin/pgbench" "${pg_args[@]}" -i -s "$scale" -q postgres > "$demo_dir/pgbench-init.log" 2>&1 \
    || { cat "$demo_dir/pgbench-init.log" >&2; fail "pgbench -i failed"; }
load_ms=$(( $(now_ms) - t0 ))
db_size=$("$pgbin/psql" "$src_uri" -Atc "select pg_size_pretty(pg_database_size('postgres'))")
step "loaded $db_size in $((load_ms / 1000)).$(( (load_ms % 1000) / 100 )) s; CHECKPOINT, as a server in steady state would have done"
"$pgbin/psql" "$src_uri" -qAtc "checkpoint"

# ---- branch while pgbench writes ---------------------------------------------------------------
step "starting pgbench on the source in the background (TPC-B-like read-write, 4 clients)"
"$pgbin/pgbench" "${pg_args[@]}" -c 4 -j 2 -T "$bench_seconds" -P 2 postgres > "$demo_dir/pgbench.log" 2>&1 &
bench_pid=$!
echo "$bench_pid" > "$demo_dir/pgbench.pid"
sleep 4
kill -0 "$bench_pid" 2>/dev/null || { cat "$demo_dir/pgbench.log" >&2; fail "pgbench stopped early"; }
history_before=$("$pgbin/psql" "$src_uri" -Atc "select count(*) from pgbench_history")
step "pgbench is writing ($history_before transactions so far)"

clonefs space --json > "$demo_dir/space-before.json"
used_before=$(json_field usedBytes < "$demo_dir/space-before.json")
step "branching it while it serves: clonefs pg branch $source_name $branch_name --json"
t0=$(now_ms)
clonefs pg branch "$source_name" "$branch_name" --json > "$demo_dir/branch.json"
branch_wall_ms=$(( $(now_ms) - t0 ))
clonefs space --json > "$demo_dir/space-after.json"
used_after=$(json_field usedBytes < "$demo_dir/space-after.json")
br_uri=$(json_field uri < "$demo_dir/branch.json")
millis=$(tr -d '\n' < "$demo_dir/branch.json" | sed 's/.*"millis" *: *{//')
br_total=$(json_field total <<< "$millis")
br_snapshot=$(json_field snapshot <<< "$millis")
br_clone=$(json_field cloneVolume <<< "$millis")
br_start=$(json_field start <<< "$millis")
br_checkpoint=$(json_field checkpoint <<< "$millis")
[[ -n $br_uri && -n $br_total ]] || fail "no URI in the answer of clonefs pg branch: $(cat "$demo_dir/branch.json")"
bench_alive=no
kill -0 "$bench_pid" 2>/dev/null && bench_alive=yes
step "branch answers at $br_uri after $br_total ms (pgbench still running: $bench_alive)"

step "querying the branch: psql \"$br_uri\""
br_accounts=$("$pgbin/psql" "$br_uri" -Atc "select count(*) from pgbench_accounts")
br_history=$("$pgbin/psql" "$br_uri" -Atc "select count(*) from pgbench_history")
echo "         select count(*) from pgbench_accounts  ->  $br_accounts"
echo "         select count(*) from pgbench_history   ->  $br_history (transactions the source had made when it was branched)"
[[ $br_accounts == $((scale * 100000)) ]] || fail "the branch holds $br_accounts accounts, expected $((scale * 100000))"

kill -0 "$bench_pid" 2>/dev/null || bench_alive=no
src_history=$("$pgbin/psql" "$src_uri" -Atc "select count(*) from pgbench_history")
step "stopping pgbench on the source ($src_history transactions by now; the branch keeps its $br_history)"
kill "$bench_pid" 2>/dev/null || true
wait "$bench_pid" 2>/dev/null || true
rm -f "$demo_dir/pgbench.pid"
[[ $bench_alive == yes ]] || { cat "$demo_dir/pgbench.log" >&2; fail "pgbench ended before the branch answered (DEMO_BENCH_SECONDS=$bench_seconds)"; }
tps=$(grep -o 'progress: [0-9.]* s, [0-9.]* tps' "$demo_dir/pgbench.log" | awk '{ printf "%s%d", sep, $4; sep = " " }')
echo "         source tps every 2 s, before, during and after the branch: $tps"
if grep -q 'progress: [0-9.]* s, 0.0 tps' "$demo_dir/pgbench.log"; then
    echo "         (a 0 above is a 2 s interval in which the source committed nothing)"
fi

clonefs pg list --json > "$demo_dir/list.json"
br_unique=$(tr -d '\n' < "$demo_dir/list.json" | sed 's/}/}\n/g' | grep "\"name\" *: *\"$branch_name\"" | json_field uniqueBytes)
br_unique=${br_unique:-0}
added=$((used_after - used_before))

trap - EXIT
cat <<EOF

== the branch
  connection URI   $br_uri
  branch took      $br_total ms until it answered a query (checkpoint $br_checkpoint ms, snapshot $br_snapshot ms, clone $br_clone ms, start $br_start ms; $branch_wall_ms ms for the whole command)
  extra space      pool used $(mib "$used_before") before, $(mib "$used_after") after: $(mib "$added") added, while pgbench kept writing to the source
  branch unique    $(mib "$br_unique") (blocks only the branch holds, what destroying it frees: what it wrote while
                   recovering and starting, WAL and its first checkpoint); the source's $db_size are shared, not copied
  source           $src_uri  ($db_size, pgbench -s $scale)

== try it
  psql "$br_uri"
  CLONEFS_POOL=$pool bin/clonefs pg list
  CLONEFS_POOL=$pool bin/clonefs pg branch $source_name another-branch

== clean up (stops both servers, unmounts, removes the pool)
  make demo-clean$( [[ $demo_dir != /var/lib/clonefs-demo ]] && echo " DEMO_DIR=$demo_dir" )
EOF
step "demo done"
