#!/usr/bin/env bash
# fsync-bench: fio 8 KiB random write + fsync after every write, 20 s each, on native ext4 and on a
# clonefs mount with and without the metadata intent log (the daemon is started with
# -Dclonefs.metadata.noIntentLog=true for "no log"), alternating the order from run to run; prints
# every run, the medians (IOPS) and the ratios to native. Three files per target:
#   new       a new sparse file: every write fills a hole, so every fsync commits metadata
#   clone     a file laid out in a volume, written in a fresh clone: every first write of a block
#             is a copy-on-write, so its fsync commits metadata (a branch right after it was made)
#   overwrite the same file written again: blocks owned, fsync is a data sync (no metadata)
# Needs root (mount) and fio; uses the clonefs launcher of this checkout (bin/clonefs, CLONEFS_JAR
# to run another jar). Writes nothing to BENCHMARKS.md.
#   tools/fsync-bench.sh            (make bench-fsync)
# Environment: FSYNC_BENCH_SECONDS (20), FSYNC_BENCH_RUNS (3), FSYNC_BENCH_DIR (/var/tmp).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${FSYNC_BENCH_SECONDS:-20}
runs=${FSYNC_BENCH_RUNS:-3}
clonefs=$root/bin/clonefs
command -v fio >/dev/null || { echo "fsync-bench: fio is not installed (make deps)" >&2; exit 1; }
[[ $(id -u) == 0 ]] || { echo "fsync-bench: needs root (mount)" >&2; exit 1; }

work=$(mktemp -d "${FSYNC_BENCH_DIR:-/var/tmp}/clonefs-fsync-bench.XXXXXX")
pool=$work/pool
mnt=$work/mnt
native=$work/native
export CLONEFS_POOL=$pool

unmount() {
    if mountpoint -q "$mnt" 2>/dev/null; then
        "$clonefs" -q umount "$mnt" >/dev/null 2>&1 || umount -l "$mnt" 2>/dev/null || true
    fi
}
cleanup() {
    unmount
    rm -rf "$work"
}
trap cleanup EXIT

# IOPS of fio 8 KiB random writes with an fsync after each into $1 (size $2), for $seconds
iops() {
    fio --name=randwrite --filename="$1" --rw=randwrite --bs=8k --size="$2" --fsync=1 --ioengine=psync \
        --runtime="$seconds" --time_based --fallocate=none --minimal | awk -F';' '{printf "%.0f", $49}'
}

# lays out a 256 MiB file (fio writes it in full before a write job; no fsync per write)
layout() {
    fio --name=fill --filename="$1" --rw=write --bs=1m --size=256m --ioengine=psync --fallocate=none \
        --end_fsync=1 --minimal >/dev/null
}

median() {
    printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}

mount_pool() { # $1: log | nolog
    unmount
    if [[ $1 == nolog ]]; then
        JAVA_OPTS="-Dclonefs.metadata.noIntentLog=true" "$clonefs" -q mount "$pool" "$mnt" >/dev/null
    else
        JAVA_OPTS="" "$clonefs" -q mount "$pool" "$mnt" >/dev/null
    fi
}

mkdir -p "$mnt" "$native"
"$clonefs" -q init "$pool" >/dev/null
mount_pool log
"$clonefs" -q create vol >/dev/null
layout "$mnt/vol/base"
"$clonefs" -q snapshot vol@s >/dev/null
layout "$native/base"
echo "== fio 8 KiB randwrite + fsync, ${seconds} s each, ${runs} runs ($(df --output=source,fstype "$work" | tail -1))"

declare -A results
targets=(native log nolog)
n=0
for ((run = 1; run <= runs; run++)); do
    order=("${targets[@]}")
    if ((run % 2 == 0)); then
        order=(nolog log native)
    fi
    for t in "${order[@]}"; do
        n=$((n + 1))
        if [[ $t == native ]]; then
            dir=$native
            rm -f "$dir/new" "$dir/clone"
            cp --sparse=never "$dir/base" "$dir/clone"
        else
            mount_pool "$t"
            "$clonefs" -q clone vol@s "c$n" >/dev/null
            dir=$mnt/vol
            rm -f "$dir/new"
        fi
        new=$(iops "$dir/new" 256m)
        if [[ $t == native ]]; then
            clone=$(iops "$dir/clone" 256m)
            overwrite=$(iops "$dir/clone" 256m)
        else
            clone=$(iops "$mnt/c$n/base" 256m)
            overwrite=$(iops "$mnt/c$n/base" 256m)
            "$clonefs" -q destroy "c$n" >/dev/null
        fi
        rm -f "$dir/new"
        results[$t.new]+="$new "
        results[$t.clone]+="$clone "
        results[$t.overwrite]+="$overwrite "
        printf '%-7s run %d: new %6s  clone %6s  overwrite %6s IOPS\n' "$t" "$run" "$new" "$clone" "$overwrite"
    done
done
echo "== medians (IOPS) and ratio to native"
for f in new clone overwrite; do
    # shellcheck disable=SC2086
    nat=$(median ${results[native.$f]})
    # shellcheck disable=SC2086
    l=$(median ${results[log.$f]})
    # shellcheck disable=SC2086
    nl=$(median ${results[nolog.$f]})
    awk -v f="$f" -v n="$nat" -v l="$l" -v x="$nl" 'BEGIN {
        printf "%-9s native %6d   clonefs %6d (%.2fx)   without intent log %6d (%.2fx)\n", f, n, l, l / n, x, x / n }'
done
