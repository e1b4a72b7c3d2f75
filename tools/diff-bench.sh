#!/usr/bin/env bash
# diff-bench: time of `clonefs pg diff src b1 --data` (through the daemon, as a user runs it) on a
# branch with about 1 % of its pages changed, for pgbench sources of several sizes; prints a table,
# writes no report. Needs root (FUSE mount with allow_other, runuser -u postgres) and PostgreSQL 15.
#
# Environment: BUILD_DIR, JAVA, CLONEFS_JAR as for tools/java-bench.sh;
# DIFF_BENCH_OPTS (extra JVM options, e.g. "-Dbench.diff.scales=30,100 -Dbench.diff.runs=3").
# Properties: bench.diff.scales (700: about 10 GB), bench.diff.percent (1), bench.diff.pages (0; N: N
# changed pages at every size instead of a percentage), bench.diff.runs (5),
# bench.diff.dir (/var/tmp).
set -euo pipefail
# shellcheck disable=SC2086 # DIFF_BENCH_OPTS is a list of JVM options on purpose
BENCH_REPORT= exec "$(dirname "$0")/java-bench.sh" io.clonefs.bench.DiffBench ${DIFF_BENCH_OPTS:-}
