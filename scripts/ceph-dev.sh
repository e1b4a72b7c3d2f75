#!/usr/bin/env bash
# A throwaway single-node Ceph cluster with an S3 endpoint (radosgw), for tests and local development.
#
#   ceph-dev.sh start DIR [PORT]   build and start a cluster entirely under DIR; S3 on 127.0.0.1:PORT
#                                  (a free port when PORT is omitted); writes DIR/s3.env and prints it
#   ceph-dev.sh stop DIR           kill the daemons of DIR and remove its cluster data (DIR/log stays)
#   ceph-dev.sh gw-stop DIR        stop radosgw only (an S3 outage; the cluster keeps running)
#   ceph-dev.sh gw-start DIR       start radosgw again on the same port; returns when S3 answers
#
# Everything (ceph.conf, monmap, mon/mgr/osd data, a sparse 10 GiB bluestore file, pid files,
# admin sockets, logs) lives under DIR: nothing reads or writes /etc/ceph or /var/lib/ceph, every
# command gets -c DIR/ceph.conf, and the monitor listens on its own free port, so other clusters on
# the host are not disturbed. One mon, one mgr, one OSD, pools of size 1, auth none, small caches.
# Daemons daemonize with pid files in DIR/run; stop kills exactly those pids (checking that each
# still runs with DIR's ceph.conf), is idempotent and cleans up after a half-finished start.
# Needs root and the Debian 12 packages ceph-mon ceph-mgr ceph-osd radosgw ceph-common
# (scripts/install-deps.sh installs them).
set -euo pipefail

usage() {
    echo "usage: ceph-dev.sh start DIR [PORT] | stop DIR | gw-start DIR | gw-stop DIR" >&2
    exit 2
}
say() { echo "ceph-dev: $*"; }
die() { echo "ceph-dev: $*" >&2; exit 1; }

(( $# >= 2 )) || usage
cmd=$1
DIR=$(realpath -m -- "$2")
CONF=$DIR/ceph.conf
RUN=$DIR/run
LOG=$DIR/log
export CEPH_CONF=$CONF

PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3

free_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Tail of a daemon's logs, for error messages.
tail_logs() {
    local name=$1 f
    for f in "$LOG/$name.out" "$LOG/$name.log"; do
        if [[ -s $f ]]; then
            echo "----- last lines of $f" >&2
            tail -n 25 "$f" >&2
        fi
    done
}

# fail DAEMON MESSAGE: report which daemon failed with the tail of its log.
fail() {
    local name=$1; shift
    echo "ceph-dev: $name failed: $*" >&2
    tail_logs "$name"
    exit 1
}

# A pid file's process, if it is alive and one of DIR's daemons.
ours() {
    local pidfile=$1 pid
    [[ -f $pidfile ]] || return 1
    pid=$(tr -dc 0-9 < "$pidfile")
    [[ -n $pid && -r /proc/$pid/cmdline ]] || return 1
    tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "$CONF" || return 1
    echo "$pid"
}

# kill_daemon NAME [SIGNAL]: SIGNAL (default TERM), wait up to 10 s, then KILL.
kill_daemon() {
    local name=$1 sig=${2:-TERM} pidfile=$RUN/$1.pid pid i
    if pid=$(ours "$pidfile"); then
        kill -"$sig" "$pid" 2>/dev/null || true
        for (( i = 0; i < 100; i++ )); do
            [[ -d /proc/$pid ]] || break
            sleep 0.1
        done
        if [[ -d /proc/$pid ]]; then
            kill -KILL "$pid" 2>/dev/null || true
            for (( i = 0; i < 50; i++ )); do
                [[ -d /proc/$pid ]] || break
                sleep 0.1
            done
        fi
    fi
    rm -f "$pidfile"
}

s3_answers() {
    local code
    code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1/" 2>/dev/null) || true
    [[ -n $code && $code != 000 ]]
}

start_gw() {
    local port i
    port=$(cat "$DIR/port")
    : > "$LOG/client.rgw.gw.out"
    timeout 90 radosgw -c "$CONF" -n client.rgw.gw >>"$LOG/client.rgw.gw.out" 2>&1 \
        || fail client.rgw.gw "radosgw did not start"
    for (( i = 0; i < 600; i++ )); do
        s3_answers "$port" && return 0
        ours "$RUN/client.rgw.gw.pid" >/dev/null || { sleep 0.2; ours "$RUN/client.rgw.gw.pid" >/dev/null \
            || fail client.rgw.gw "radosgw exited before it answered on 127.0.0.1:$port"; }
        sleep 0.1
    done
    fail client.rgw.gw "no S3 answer on 127.0.0.1:$port after 60 s"
}

do_stop() {
    local n
    # the data is thrown away, so no clean shutdown: KILL, the gateway first, the monitor last
    for n in client.rgw.gw mgr.x osd.0 mon.a; do
        kill_daemon "$n" KILL
    done
    # anything else with a pid file here (should not happen)
    if [[ -d $RUN ]]; then
        for f in "$RUN"/*.pid; do
            [[ -e $f ]] && kill_daemon "$(basename "$f" .pid)" KILL
        done
    fi
    [[ -d $DIR ]] || return 0
    rm -rf "$RUN" "$DIR/mon" "$DIR/mgr" "$DIR/osd" "$DIR/rgw" "$DIR/crash" \
        "$DIR/monmap" "$DIR/keyring" "$DIR/s3.env" "$DIR/port"
}

ceph_cli() {
    timeout 30 ceph -c "$CONF" --connect-timeout 10 "$@"
}

do_start() {
    local port=${1:-} t0 monport fsid osd_uuid osd_id i access secret
    t0=$(date +%s%N)
    [[ $(id -u) -eq 0 ]] || die "must run as root"
    for b in ceph-mon ceph-mgr ceph-osd radosgw radosgw-admin ceph monmaptool ceph-authtool curl; do
        command -v "$b" >/dev/null 2>&1 \
            || die "$b not found: install ceph-mon ceph-mgr ceph-osd radosgw ceph-common curl (scripts/install-deps.sh)"
    done
    if [[ -e $RUN ]] && ls "$RUN"/*.pid >/dev/null 2>&1; then
        die "$DIR already holds a cluster (run: ceph-dev.sh stop $DIR)"
    fi
    mkdir -p "$DIR"
    do_stop   # leftovers of an earlier failed start
    mkdir -p "$RUN" "$LOG" "$DIR/mon" "$DIR/mgr/ceph-x" "$DIR/osd" "$DIR/rgw" "$DIR/crash"
    # from here on, a failure tears down what was started (logs stay)
    trap 'rc=$?; if (( rc != 0 )); then do_stop; echo "ceph-dev: start failed; logs in $LOG" >&2; fi' EXIT

    [[ -n $port ]] || port=$(free_port)
    [[ $port =~ ^[0-9]+$ ]] || die "bad port: $port"
    s3_answers "$port" && die "port $port is already in use"
    echo "$port" > "$DIR/port"
    monport=$(free_port)
    fsid=$(uuidgen)

    cat > "$CONF" <<EOF
# generated by scripts/ceph-dev.sh: a throwaway single-node cluster, everything under $DIR
[global]
fsid = $fsid
mon_host = v2:127.0.0.1:$monport
public_addr = 127.0.0.1
ms_bind_ipv6 = false
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
# radosgw defaults to ms_mon_client_mode=secure, which needs cephx
ms_mon_client_mode = crc
ms_client_mode = crc
client_mount_timeout = 30
keyring = $DIR/keyring
run_dir = $RUN
admin_socket = $RUN/\$cluster-\$name.asok
pid_file = $RUN/\$name.pid
log_file = $LOG/\$name.log
log_to_stderr = false
err_to_stderr = true
log_to_syslog = false
err_to_syslog = false
crash_dir = $DIR/crash
mon_cluster_log_file = $LOG/cluster.log
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_allow_pool_delete = true
mon_warn_on_pool_no_redundancy = false
mon_max_pg_per_osd = 1000
mon_data_avail_warn = 2
mon_data_avail_crit = 1

[mon]
mon_data = $DIR/mon/\$cluster-\$id
mon_initial_members = a

[mgr]
mgr_data = $DIR/mgr/\$cluster-\$id
mgr_initial_modules =

[osd]
osd_data = $DIR/osd/\$cluster-\$id
osd_objectstore = bluestore
bluestore_block_create = true
bluestore_block_size = 10737418240
bluestore_fsck_on_mkfs = false
bluestore_fsck_on_mount = false
bluestore_cache_autotune = false
bluestore_cache_size = 67108864
osd_memory_target_autotune = false
osd_memory_target = 939524096
osd_memory_cache_min = 67108864
osd_op_num_shards = 2
osd_op_num_threads_per_shard = 1

[client.rgw.gw]
rgw_frontends = beast endpoint=127.0.0.1:$port
rgw_data = $DIR/rgw
rgw_thread_pool_size = 32
rgw_enable_usage_log = false
rgw_crypt_require_ssl = false
rgw_init_timeout = 60
EOF

    # monitor
    monmaptool --create --clobber --fsid "$fsid" --addv a "[v2:127.0.0.1:$monport]" "$DIR/monmap" \
        >"$LOG/mon.a.out" 2>&1 || fail mon.a "monmaptool failed"
    ceph-authtool --create-keyring "$DIR/keyring" --gen-key -n mon. --cap mon 'allow *' >>"$LOG/mon.a.out" 2>&1 \
        || fail mon.a "ceph-authtool failed"
    ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap" --keyring "$DIR/keyring" >>"$LOG/mon.a.out" 2>&1 \
        || fail mon.a "ceph-mon --mkfs failed"
    ceph-mon -c "$CONF" -i a >>"$LOG/mon.a.out" 2>&1 || fail mon.a "ceph-mon did not start"
    for (( i = 0; ; i++ )); do
        ceph_cli mon stat >/dev/null 2>&1 && break
        (( i < 60 )) || fail mon.a "monitor not answering on v2:127.0.0.1:$monport after 30 s"
        ours "$RUN/mon.a.pid" >/dev/null || { sleep 0.3; ours "$RUN/mon.a.pid" >/dev/null || fail mon.a "ceph-mon exited"; }
        sleep 0.5
    done

    # manager (not needed for I/O; started now so it comes up while the OSD is made)
    ceph-mgr -c "$CONF" -i x >"$LOG/mgr.x.out" 2>&1 || fail mgr.x "ceph-mgr did not start"

    # OSD: bluestore on a sparse file in DIR/osd/ceph-0/block
    osd_uuid=$(uuidgen)
    osd_id=$(ceph_cli osd new "$osd_uuid" 2>"$LOG/osd.0.out") || fail osd.0 "ceph osd new failed"
    [[ $osd_id == 0 ]] || fail osd.0 "expected osd id 0, got '$osd_id'"
    mkdir -p "$DIR/osd/ceph-0"
    ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$osd_uuid" >>"$LOG/osd.0.out" 2>&1 || fail osd.0 "ceph-osd --mkfs failed"
    ceph-osd -c "$CONF" -i 0 >>"$LOG/osd.0.out" 2>&1 || fail osd.0 "ceph-osd did not start"
    for (( i = 0; ; i++ )); do
        [[ $(ceph_cli osd dump -f json 2>/dev/null | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(sum(o["up"] for o in d["osds"]))' 2>/dev/null) == 1 ]] && break
        (( i < 120 )) || fail osd.0 "OSD not up after 60 s"
        ours "$RUN/osd.0.pid" >/dev/null || { sleep 0.3; ours "$RUN/osd.0.pid" >/dev/null || fail osd.0 "ceph-osd exited"; }
        sleep 0.5
    done
    ours "$RUN/mgr.x.pid" >/dev/null || fail mgr.x "ceph-mgr exited"

    # gateway and an S3 user
    start_gw
    access=$("$PY" -c 'import secrets,string; print("".join(secrets.choice(string.ascii_uppercase+string.digits) for _ in range(20)))')
    secret=$("$PY" -c 'import secrets,string; print("".join(secrets.choice(string.ascii_letters+string.digits) for _ in range(40)))')
    timeout 60 radosgw-admin -c "$CONF" user create --uid=clonefs --display-name="clonefs tests" \
        --access-key="$access" --secret-key="$secret" >"$LOG/radosgw-admin.out" 2>&1 \
        || fail radosgw-admin "cannot create the S3 user"
    # the user must be usable: an authenticated request must not be refused
    for (( i = 0; ; i++ )); do
        code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' --user "$access:$secret" \
            -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" --aws-sigv4 "aws:amz:us-east-1:s3" "http://127.0.0.1:$port/" 2>/dev/null) || true
        [[ $code == 200 ]] && break
        (( i < 50 )) || fail client.rgw.gw "authenticated ListBuckets gives HTTP $code"
        sleep 0.2
    done

    cat > "$DIR/s3.env" <<EOF
CEPH_S3_ENDPOINT=http://127.0.0.1:$port
CEPH_S3_ACCESS_KEY=$access
CEPH_S3_SECRET_KEY=$secret
EOF
    trap - EXIT
    cat "$DIR/s3.env"
    local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    say "started in $(( ms / 1000 )).$(( ms % 1000 / 100 )) s (fsid $fsid, mon v2:127.0.0.1:$monport, data in $DIR)"
}

case $cmd in
    start)
        (( $# <= 3 )) || usage
        do_start "${3:-}"
        ;;
    stop)
        (( $# == 2 )) || usage
        do_stop
        ;;
    gw-stop)
        (( $# == 2 )) || usage
        kill_daemon client.rgw.gw
        ;;
    gw-start)
        (( $# == 2 )) || usage
        [[ -f $CONF && -f $DIR/port ]] || die "no cluster in $DIR (run: ceph-dev.sh start $DIR)"
        ours "$RUN/mon.a.pid" >/dev/null || die "the cluster in $DIR is not running"
        if ours "$RUN/client.rgw.gw.pid" >/dev/null; then
            say "radosgw already running"
        else
            start_gw
        fi
        ;;
    *)
        usage
        ;;
esac
