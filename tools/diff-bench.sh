#!/usr/bin/env bash
# diff-bench: time of `clonefs pg diff src BRANCH --data` (through the daemon, as a user runs it) on
# a branch with about 1 % of its pages changed and on one with a fixed number of changed pages, for
# pgbench sources of several sizes (default 0.45, 4.5 and 10 GB); prints a table and rewrites the
# bench-diff section of BENCHMARKS.md. Needs root (FUSE mount with allow_other, runuser -u
# postgres), PostgreSQL 15 and about 25 GB free under the directory (the 10 GB load and its WAL).
#
# Environment: BUILD_DIR, JAVA, CLONEFS_JAR, BENCH_REPORT (empty: print only) as in
# tools/java-bench.sh; DIFF_BENCH_OPTS (extra JVM options, e.g. "-Dbench.diff.scales=30,100
# -Dbench.diff.runs=3").
# Properties: bench.diff.scales (30,300,680), bench.diff.percent (1), bench.diff.pages (300; 0: no
# fixed-count branch), bench.diff.runs (7), bench.diff.dir (/var/tmp).
set -euo pipefail
# shellcheck disable=SC2086 # DIFF_BENCH_OPTS is a list of JVM options on purpose
exec "$(dirname "$0")/java-bench.sh" io.clonefs.bench.DiffBench ${DIFF_BENCH_OPTS:-}
