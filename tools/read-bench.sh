#!/usr/bin/env bash
# read-bench: fio 1 MiB sequential read with a cold page cache, on native ext4, on a clonefs volume
# and on a fresh clone of it, alternating the order of the targets from run to run; prints every
# run, the median (MB/s, 10^6 bytes) and the ratio to native. Also a fresh clone read while the
# pool's block files sit in the host's page cache ("clone, host-warm": the case of a new branch
# of a database the host has just been reading). Writes nothing to BENCHMARKS.md.
# Needs root (mount, drop_caches) and fio; uses the clonefs launcher of this checkout (bin/clonefs,
# CLONEFS_JAR to run another jar).
#   tools/read-bench.sh            (make bench-read)
# Environment: READ_BENCH_MIB (file size, 1024), READ_BENCH_RUNS (3), READ_BENCH_DIR (parent of the
# work directory, /var/tmp: the native directory and the pool sit side by side on its disk).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mib=${READ_BENCH_MIB:-1024}
runs=${READ_BENCH_RUNS:-3}
clonefs=$root/bin/clonefs
command -v fio >/dev/null || { echo "read-bench: fio is not installed (make deps)" >&2; exit 1; }
[[ $(id -u) == 0 ]] || { echo "read-bench: needs root (mount, drop_caches)" >&2; exit 1; }

work=$(mktemp -d "${READ_BENCH_DIR:-/var/tmp}/clonefs-read-bench.XXXXXX")
pool=$work/pool
mnt=$work/mnt
native=$work/native
export CLONEFS_POOL=$pool

cleanup() {
    if mountpoint -q "$mnt" 2>/dev/null; then
        "$clonefs" -q umount "$mnt" >/dev/null 2>&1 || umount -l "$mnt" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

cold() {
    sync
    echo 3 > /proc/sys/vm/drop_caches
}

# MB/s of one sequential 1 MiB read of $1 (fio --minimal: field 7 is the read bandwidth in KiB/s)
read_mbs() {
    local kib
    kib=$(fio --name=seqread --filename="$1" --rw=read --bs=1m --size="${mib}m" --ioengine=psync \
        --readonly --minimal | awk -F';' '{print $7}')
    awk -v k="$kib" 'BEGIN {printf "%.0f", k * 1024 / 1e6}'
}

median() {
    printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}

mkdir -p "$mnt" "$native"
"$clonefs" -q init "$pool" >/dev/null
"$clonefs" -q mount "$pool" "$mnt" >/dev/null
"$clonefs" -q create vol >/dev/null
echo "== writing a ${mib} MiB file on native ext4 and on the volume ($(df --output=source,fstype "$work" | tail -1))"
for f in "$native/data" "$mnt/vol/data"; do
    fio --name=fill --filename="$f" --rw=write --bs=1m --size="${mib}m" --ioengine=psync --fallocate=none \
        --end_fsync=1 --minimal >/dev/null
done
"$clonefs" -q snapshot vol@s >/dev/null
# one read before the runs, not counted: the daemon's read path is compiled by the JIT, as in a
# daemon that has been up for a while
cold
read_mbs "$mnt/vol/data" >/dev/null

declare -A results
targets=(native volume clone clone-warm)
one() {
    local t=$1 run=$2
    case $t in
        native) cold; read_mbs "$native/data" ;;
        volume) cold; read_mbs "$mnt/vol/data" ;;
        clone)
            "$clonefs" -q clone vol@s "c$run" >/dev/null
            cold
            read_mbs "$mnt/c$run/data" ;;
        clone-warm)
            # the block files in the host's page cache, the clone's own inodes new
            cat "$pool"/blocks/*.blk >/dev/null
            "$clonefs" -q clone vol@s "w$run" >/dev/null
            read_mbs "$mnt/w$run/data" ;;
    esac
}
for ((r = 0; r < runs; r++)); do
    order=("${targets[@]:r % 4}" "${targets[@]:0:r % 4}")
    line="run $((r + 1)):"
    for t in "${order[@]}"; do
        v=$(one "$t" "$r")
        results[$t]="${results[$t]:-} $v"
        line="$line $t $v"
    done
    echo "$line MB/s"
done

# shellcheck disable=SC2086 # the lists of runs are space-separated on purpose
nat=$(median ${results[native]})
echo
echo "fio --rw=read --bs=1m --ioengine=psync, ${mib} MiB, page cache dropped first (clone-warm: not dropped)"
printf '%-11s %8s %7s   %s\n' target "MB/s" "/native" "runs (MB/s, in order)"
for t in "${targets[@]}"; do
    # shellcheck disable=SC2086
    m=$(median ${results[$t]})
    printf '%-11s %8s %7s  %s\n' "$t" "$m" "$(awk -v a="$m" -v b="$nat" 'BEGIN {printf "%.2f", a / b}')" "${results[$t]}"
done
# what reached the daemon: read requests by size (KiB, rounded up to a power of two), all targets
port=$(sed -n 's/.*"port" *: *\([0-9]*\).*/\1/p' "$pool/daemon.json")
if command -v curl >/dev/null && [[ -n $port ]]; then
    echo "read requests the daemon served, by size in KiB (clonefs_fuse_read_requests_total):" \
        "$(curl -fsS "http://127.0.0.1:$port/metrics" | sed -n 's/^clonefs_fuse_read_requests_total{kib="\([0-9]*\)"} \(.*\)/\1 KiB: \2/p' | paste -sd, -)"
fi
