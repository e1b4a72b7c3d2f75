#!/usr/bin/env bash
# make demo-clean: undoes `make demo`. Stops the background pgbench if it still runs, stops the
# PostgreSQL servers and the daemon and unmounts (clonefs umount), then removes the demo pool and
# mount point. Safe to run twice; touches nothing outside DEMO_DIR/{pool,mnt} and the demo's logs.
#   DEMO_DIR          the demo's directory (default /var/lib/clonefs-demo)
#   DEMO_KEEP_FILES=1 stop and unmount only; keep the pool (used by demo.sh when it fails)
#   CLONEFS_JAR, BUILD_DIR as for demo.sh
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        exec sudo -E bash "$0" "$@"
    fi
    echo "demo-clean: must run as root; no sudo found" >&2
    exit 1
fi
demo_dir="$(readlink -m "${DEMO_DIR:-/var/lib/clonefs-demo}")"
export CLONEFS_JAR="${CLONEFS_JAR:-$root/cli/${BUILD_DIR:-target}/clonefs.jar}"
pool="$demo_dir/pool"
mnt="$demo_dir/mnt"
export CLONEFS_POOL="$pool"
say() { echo "demo-clean: $*"; }

is_mounted() { awk -v m="$mnt" '$5 == m { found = 1 } END { exit !found }' /proc/self/mountinfo; }
daemon_pid() { tr -d '\n ' 2>/dev/null < "$pool/daemon.json" | grep -o '"pid":[0-9]*' | head -1 | cut -d: -f2; }

# 1. the background pgbench of the demo (only the pid the demo recorded, and only if it is pgbench)
if [[ -f $demo_dir/pgbench.pid ]]; then
    pid=$(cat "$demo_dir/pgbench.pid")
    if [[ $pid =~ ^[0-9]+$ ]] && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == pgbench ]]; then
        say "stopping the demo's pgbench (pid $pid)"
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$demo_dir/pgbench.pid"
fi

# 2. the servers, the daemon and the mount
pid=$(daemon_pid || true)
if is_mounted || { [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; }; then
    if [[ -f $CLONEFS_JAR ]]; then
        say "stopping the PostgreSQL servers and the daemon, unmounting $mnt (clonefs umount)"
        if ! "$root/bin/clonefs" umount "$mnt" >/dev/null; then
            say "clonefs umount failed; trying again with --force"
            "$root/bin/clonefs" umount "$mnt" --force >/dev/null || true
        fi
    else
        say "$CLONEFS_JAR not found: stopping the servers with pg_ctl and the daemon with SIGTERM"
        for pidfile in "$mnt"/*/data/postmaster.pid; do
            [[ -f $pidfile ]] || continue
            runuser -u postgres -- "${PGBIN:-/usr/lib/postgresql/15/bin}/pg_ctl" -D "$(dirname "$pidfile")" \
                -m fast -w stop >/dev/null 2>&1 || true
        done
        fusermount -u "$mnt" 2>/dev/null || true
        if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        fi
    fi
    if is_mounted; then
        fusermount -u -z "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
    fi
fi
if is_mounted; then
    say "$mnt is still mounted; not removing anything (see $pool/daemon.log)" >&2
    exit 1
fi

# 3. the files
if [[ ${DEMO_KEEP_FILES:-0} == 1 ]]; then
    say "stopped; files kept in $demo_dir"
    exit 0
fi
if [[ -e $pool || -e $mnt ]]; then
    say "removing $pool and $mnt"
fi
rm -rf "$pool"
if [[ -d $mnt ]]; then rmdir "$mnt" || say "$mnt is not empty; left in place"; fi
rm -f "$demo_dir"/{source,branch,list,space-before,space-after}.json "$demo_dir"/pgbench{,-init}.log
rmdir "$demo_dir" 2>/dev/null || true
say "done"
