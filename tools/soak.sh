#!/usr/bin/env bash
# soak: one pool under churn for SOAK_MINUTES (default 60): a ledger writer and pgbench on a source,
# branch/reset/destroy/snapshot every few seconds, a push to a single-node Ceph every 5 min, kill -9 of
# the daemon and its PostgreSQL servers every 10 min; samples the daemon's RSS, threads, fds, direct
# buffers, the LMDB file, the pool's blocks and the PostgreSQL processes every minute; at the end
# pg_checksums, pg_amcheck, fsck and the ledger. Rewrites the soak section of RELIABILITY.md and
# docs/img/soak.png. Exit 1 when anything was lost or a check failed.
# Needs root (FUSE mount with allow_other, runuser -u postgres), PostgreSQL 15 and Ceph (make deps).
#
# Environment: SOAK_MINUTES (60), SOAK_REPORT (RELIABILITY.md; empty: print only), SOAK_OPTS (JVM
# options), e.g. "-Dsoak.killMinutes=5 -Dsoak.push=false"; BUILD_DIR, JAVA, CLONEFS_JAR as in
# tools/java-bench.sh. Properties (defaults): soak.sampleSeconds (60), soak.churnSeconds (5),
# soak.pushMinutes (5), soak.killMinutes (10), soak.pgScale (10), soak.branches (5), soak.push (true),
# soak.ports (49000-49099), soak.dir (/var/tmp), soak.chart (docs/img/soak.png), soak.seed (19).
set -euo pipefail
cd "$(dirname "$0")/.."
export BENCH_REPORT=${SOAK_REPORT-$PWD/RELIABILITY.md}
# shellcheck disable=SC2086 # SOAK_OPTS is a list of JVM options on purpose
exec tools/java-bench.sh io.clonefs.bench.Soak -Dsoak.minutes="${SOAK_MINUTES:-60}" \
    -Dsoak.chart="$PWD/docs/img/soak.png" ${SOAK_OPTS:-}
