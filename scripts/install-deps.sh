#!/usr/bin/env bash
# Installs what clonefs needs to build and test on Debian 12 (bookworm). Idempotent; prints
# nothing when everything is already there. Runs as root (re-runs itself with sudo otherwise).
#
#   fuse3 libfuse2            FUSE kernel helper (fusermount) and libfuse 2, which jnr-fuse binds
#   postgresql-15             server, initdb, pg_ctl, pgbench, pg_checksums, amcheck extension
#   postgresql-client-15      psql, pg_amcheck (a dependency of postgresql-15, listed for clarity)
#   postgresql-contrib        Debian 12 metapackage; contrib modules live in postgresql-15
#   rsync fio                 used by the integration tests and the benchmarks
#   ceph-mon ceph-mgr ceph-osd radosgw ceph-common curl
#                             a throwaway single-node Ceph cluster with an S3 endpoint for the S3
#                             remote tests (scripts/ceph-dev.sh); Debian 12 ships Ceph 16.2.15.
#                             About 85 packages, 62 MB download, 250 MB installed, ~45 s. No
#                             daemon starts and no /etc/ceph/ceph.conf is written by installing.
#   lintian systemd           DebPackageIT checks the package `make deb` builds with lintian and
#                             its unit with systemd-analyze verify (no systemd needs to run as PID 1)
#   chromium chromium-driver  ConsoleIT drives the web console in headless Chromium (Selenium)
#   openjdk-17-jdk-headless   only if no JDK >= 17 is on the PATH
#   maven                     only if mvn is not on the PATH
#
# Debian's postgresql-common creates and starts a default cluster ("15 main", port 5432) when it
# is first installed. clonefs' tests and demo run their own servers on their own ports, so when
# this script installs PostgreSQL it stops that cluster and marks it manual: nothing listens on
# 5432 behind the user's back. A cluster that existed before is left alone.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        exec sudo -E bash "$0" "$@"
    fi
    echo "install-deps: must run as root (no sudo found)" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive

say() { echo "install-deps: $*"; }

packages=(fuse3 libfuse2 postgresql-15 postgresql-client-15 postgresql-contrib rsync fio
          ceph-mon ceph-mgr ceph-osd radosgw ceph-common curl lintian systemd
          chromium chromium-driver)

java_ok() {
    command -v javac >/dev/null 2>&1 || return 1
    local v
    v=$(javac -version 2>&1 | awk '{print $2}' | cut -d. -f1)
    [[ $v =~ ^[0-9]+$ ]] && (( v >= 17 ))
}
java_ok || packages+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || packages+=(maven)

installed() {
    [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]
}

missing=()
for p in "${packages[@]}"; do
    installed "$p" || missing+=("$p")
done

if (( ${#missing[@]} > 0 )); then
    had_pg=no
    installed postgresql-15 && had_pg=yes
    say "installing ${missing[*]}"
    log=$(mktemp)
    if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        echo "install-deps: apt-get failed" >&2
        exit 1
    fi
    rm -f "$log"
    if [[ $had_pg == no ]] && command -v pg_lsclusters >/dev/null 2>&1; then
        # The package just created "15 main": stop it and keep it from starting at boot.
        while read -r ver name _port status _; do
            [[ $status == online* ]] && pg_ctlcluster "$ver" "$name" stop || true
            conf="/etc/postgresql/$ver/$name/start.conf"
            [[ -f $conf ]] && echo manual > "$conf"
            say "default PostgreSQL cluster $ver/$name is stopped and set to manual start"
        done < <(pg_lsclusters --no-header 2>/dev/null || true)
    fi
fi

# /dev/fuse must exist and open read-write (it can be missing in containers without the module).
if [[ ! -c /dev/fuse ]]; then
    modprobe fuse 2>/dev/null || true
fi
if [[ ! -c /dev/fuse ]]; then
    mknod -m 0666 /dev/fuse c 10 229 || { echo "install-deps: cannot create /dev/fuse" >&2; exit 1; }
    say "created /dev/fuse"
fi
if ! ( : <>/dev/fuse ) 2>/dev/null; then
    echo "install-deps: /dev/fuse exists but cannot be opened (container without FUSE access?)" >&2
    exit 1
fi

# allow_other (so the postgres user can use a mount made by root) needs user_allow_other when the
# mounting user is not root; harmless otherwise.
if ! grep -qx 'user_allow_other' /etc/fuse.conf 2>/dev/null; then
    if grep -qx '#user_allow_other' /etc/fuse.conf 2>/dev/null; then
        sed -i 's/^#user_allow_other$/user_allow_other/' /etc/fuse.conf
    else
        echo 'user_allow_other' >> /etc/fuse.conf
    fi
    say "enabled user_allow_other in /etc/fuse.conf"
fi
