#!/usr/bin/env bash
# branch-bench: time from `clonefs pg branch` (through the daemon, as a user runs it) to the first
# answered query, for pgbench sources of several sizes under a light pgbench load; p50/p95/p99 over
# N branches per size; rewrites the branch-bench section of BENCHMARKS.md.
# Needs root (FUSE mount with allow_other, runuser -u postgres) and PostgreSQL 15.
#
# Environment: BUILD_DIR (Maven output directory, default target, as in the Makefile),
# JAVA (default java), CLONEFS_JAR (default cli/$BUILD_DIR/clonefs.jar),
# BENCH_REPORT (default BENCHMARKS.md in the repository; empty: print only),
# BRANCH_BENCH_OPTS (extra JVM options, e.g. "-Dbench.branch.scales=7 -Dbench.branch.count=5").
# Properties: bench.branch.scales (7,70,700: about 100 MB, 1 GB, 10 GB), bench.branch.count (20),
# bench.branch.rate (50: tps of the load on the source), bench.branch.loadMinutes (15: a size whose
# pgbench -i takes longer is skipped with a note), bench.branch.dir (/var/tmp).
set -euo pipefail
# shellcheck disable=SC2086 # BRANCH_BENCH_OPTS is a list of JVM options on purpose
exec "$(dirname "$0")/java-bench.sh" io.clonefs.bench.BranchBench ${BRANCH_BENCH_OPTS:-}
