#!/usr/bin/env bash
# bench-pg: PostgreSQL 15 (pgbench, initdb, bulk load) and fio on a clonefs volume, on a clone of
# it and on native ext4, alternating, median of 3; rewrites the bench-pg section of BENCHMARKS.md.
# Needs root (FUSE mount with allow_other, runuser, drop_caches), PostgreSQL 15 and fio.
#
# Environment: BUILD_DIR (Maven output directory, default target, as in the Makefile),
# JAVA (default java), BENCH_REPORT (default BENCHMARKS.md in the repository; empty: print only),
# BENCH_PG_OPTS (extra JVM options, e.g. "-Dbench.pg.scale=1 -Dbench.pg.seconds=5 -Dbench.pg.runs=1").
# Properties: bench.pg.scale (20), bench.pg.seconds (30), bench.pg.runs (3), bench.pg.clients (4),
# bench.pg.jobs (2), bench.fio.seconds (20), bench.fio.seqMiB (1024), bench.fio.randMiB (256),
# bench.pg.fio (true), bench.pg.dir (/var/tmp), bench.pg.keep (false).
set -euo pipefail
# shellcheck disable=SC2086 # BENCH_PG_OPTS is a list of JVM options on purpose
exec "$(dirname "$0")/java-bench.sh" io.clonefs.bench.PgBench ${BENCH_PG_OPTS:-}
