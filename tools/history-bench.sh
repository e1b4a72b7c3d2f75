#!/usr/bin/env bash
# history-bench: what pg history costs (archive growth per hour under pgbench -c 4) and how long a
# branch at a moment takes against its distance from the previous history snapshot; rewrites the
# bench-history section of BENCHMARKS.md.
# Needs root (FUSE mount with allow_other, runuser -u postgres) and PostgreSQL 15.
#
# Environment: BUILD_DIR, JAVA, CLONEFS_JAR, BENCH_REPORT as in tools/java-bench.sh;
# BENCH_HISTORY_OPTS (JVM options), e.g. "-Dbench.history.scale=10 -Dbench.history.seconds=70".
# Properties (defaults): bench.history.scale (50), bench.history.every (60s),
# bench.history.seconds (150), bench.history.everyWal (0,64MiB,128MiB: each in turn), bench.history.dir (/var/tmp).
set -euo pipefail
# shellcheck disable=SC2086 # BENCH_HISTORY_OPTS is a list of JVM options on purpose
exec "$(dirname "$0")/java-bench.sh" io.clonefs.bench.HistoryBench ${BENCH_HISTORY_OPTS:-}
