#!/usr/bin/env bash
# Installs what clonefs needs on Debian 12 (bookworm), one set at a time. Idempotent; prints
# nothing when everything is already there. Runs as root (re-runs itself with sudo otherwise).
#
#   scripts/install-deps.sh demo      what `make demo` needs: build clonefs, mount, run PostgreSQL
#   scripts/install-deps.sh bench     demo + what the local benchmarks need
#   scripts/install-deps.sh [test]    bench + what `make test` and `make bench-remote` need (the default)
#   scripts/install-deps.sh --measure [SET...]
#                                     prints, for each set (default: demo, bench, test), how many packages
#                                     and how many MB apt would download and install on a fresh Debian 12,
#                                     without installing anything (see measure() below); needs no root
#
# demo:
#   fuse3 libfuse2            FUSE kernel helper (fusermount) and libfuse 2, which jnr-fuse binds
#   postgresql-15             server, initdb, pg_ctl, pgbench, pg_checksums, amcheck extension
#   postgresql-client-15      psql, pg_dump, pg_amcheck (a dependency of postgresql-15, listed for clarity)
#   openjdk-17-jdk-headless   only if no JDK >= 17 is on the PATH
#   maven                     only if mvn is not on the PATH
# bench adds:
#   postgresql-contrib        Debian 12 metapackage; contrib modules live in postgresql-15
#   rsync fio                 used by the integration tests and the benchmarks
# test adds:
#   ceph-mon ceph-mgr ceph-osd radosgw ceph-common curl
#                             a throwaway single-node Ceph cluster with an S3 endpoint for the S3
#                             remote tests and make bench-remote (scripts/ceph-dev.sh); Debian 12
#                             ships Ceph 16.2.15. No daemon starts and no /etc/ceph/ceph.conf is
#                             written by installing.
#   lintian systemd           DebPackageIT checks the package `make deb` builds with lintian and
#                             its unit with systemd-analyze verify (no systemd needs to run as PID 1)
#   chromium chromium-driver  ConsoleIT drives the web console in headless Chromium (Selenium)
#   bindfs gcc libc6-dev make openssl
#                             make conformance: bindfs is its plain FUSE passthrough baseline; the
#                             pjdfstest helper is built from source; its tests name files with openssl
# The sizes of each set: `make deps-size` (docs in README.md, "Try it").
#
# Debian's postgresql-common creates and starts a default cluster ("15 main", port 5432) when it
# is first installed. clonefs' tests and demo run their own servers on their own ports, so when
# this script installs PostgreSQL it stops that cluster and marks it manual: nothing listens on
# 5432 behind the user's back. A cluster that existed before is left alone.
set -euo pipefail

demo_packages=(fuse3 libfuse2 postgresql-15 postgresql-client-15)
bench_packages=(postgresql-contrib rsync fio)
test_packages=(ceph-mon ceph-mgr ceph-osd radosgw ceph-common curl lintian systemd chromium chromium-driver
               bindfs gcc libc6-dev make openssl)
# What a fresh machine lacks on top of a set: the JDK and Maven (installed only when missing).
build_packages=(openjdk-17-jdk-headless maven)

# The packages of set $1.
set_packages() {
    case $1 in
        demo) echo "${demo_packages[*]}" ;;
        bench) echo "${demo_packages[*]} ${bench_packages[*]}" ;;
        test) echo "${demo_packages[*]} ${bench_packages[*]} ${test_packages[*]}" ;;
        *) echo "install-deps: unknown set '$1' (demo, bench or test)" >&2; return 2 ;;
    esac
}

# What apt would install for each set on a fresh Debian 12, without installing anything: apt-get
# install --simulate with an empty dpkg status (nothing installed) and this host's package lists,
# first of the packages of priority required and important this host has (about what a minimal
# Debian 12 holds), then of those and the set; the set's cost is the packages the second has beyond
# the first: their number, their download size (--print-uris) and their Installed-Size
# (apt-cache show). An approximation of a fresh machine: a cloud image holds a few more packages
# (then fewer are needed). Run `apt-get update` first for current lists.
measure() {
    local sets=("$@") work base
    (( ${#sets[@]} > 0 )) || sets=(demo bench test)
    work=$(mktemp -d)
    : > "$work/status"
    mkdir -p "$work/archives/partial"
    local apt_opts=(-o Dir::State::status="$work/status" -o Dir::Cache::archives="$work/archives"
                    -o Debug::NoLocking=1 --no-install-recommends -y)
    base=$(awk -v RS= '/(^|\n)Priority: (required|important)\n/ { match($0, /Package: [^\n]+/);
                                                                print substr($0, RSTART + 9, RLENGTH - 9) }' /var/lib/dpkg/status)
    # shellcheck disable=SC2086 # lists of package names
    apt-get install --simulate "${apt_opts[@]}" $base 2>/dev/null | awk '/^Inst /{print $2}' | sort > "$work/base"
    printf 'fresh Debian 12 approximated by %s packages (priority required and important)\n' "$(wc -l < "$work/base")"
    printf '%-6s %9s %12s %13s  %s\n' set packages "download MB" "installed MB" "asked for"
    local set pkgs n dl inst
    for set in "${sets[@]}"; do
        pkgs="$(set_packages "$set") ${build_packages[*]}" || { rm -rf "$work"; return 2; }
        # shellcheck disable=SC2086
        apt-get install --simulate "${apt_opts[@]}" $base $pkgs 2>/dev/null | awk '/^Inst /{print $2}' | sort \
            | comm -13 "$work/base" - > "$work/$set"
        n=$(wc -l < "$work/$set")
        # shellcheck disable=SC2086
        dl=$(apt-get install --print-uris -qq "${apt_opts[@]}" $base $pkgs 2>/dev/null \
            | awk -v list="$work/$set" 'BEGIN { while ((getline p < list) > 0) want[p] = 1 }
                                         { f = $2; sub(/_.*/, "", f); if (f in want) s += $3 }
                                         END { printf "%.1f", s / 1e6 }')
        # shellcheck disable=SC2046
        inst=$(apt-cache show --no-all-versions $(cat "$work/$set") 2>/dev/null \
            | awk '/^Installed-Size:/ { s += $2 } END { printf "%.1f", s / 1024 }')
        printf '%-6s %9s %12s %13s  %s\n' "$set" "$n" "$dl" "$inst" "$pkgs"
    done
    rm -rf "$work"
}

if [[ ${1:-} == --measure ]]; then
    shift
    measure "$@"
    exit
fi
set_name=${1:-test}
set_packages "$set_name" >/dev/null || exit 2

if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        exec sudo -E bash "$0" "$@"
    fi
    echo "install-deps: must run as root (no sudo found)" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive

say() { echo "install-deps: $*"; }

read -r -a packages <<< "$(set_packages "$set_name")"

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
