#!/usr/bin/env bash
# check-bench: what 'clonefs pg check-migration' costs beyond the migration itself on a pgbench
# source (about 1.5 GB by default): the whole command for a one-statement migration beside a
# branch made and destroyed by hand, and a CREATE INDEX timed inside the check beside psql on a
# fresh branch; alternating, medians; rewrites the bench-check section of BENCHMARKS.md.
# Needs root (FUSE mount with allow_other, runuser -u postgres) and PostgreSQL 15.
#
# Environment: BUILD_DIR, JAVA, CLONEFS_JAR, BENCH_REPORT as in tools/java-bench.sh;
# BENCH_CHECK_OPTS (JVM options), e.g. "-Dbench.check.scale=10 -Dbench.check.runs=1".
# Properties (defaults): bench.check.scale (100), bench.check.runs (3), bench.check.dir (/var/tmp).
set -euo pipefail
# shellcheck disable=SC2086 # BENCH_CHECK_OPTS is a list of JVM options on purpose
exec "$(dirname "$0")/java-bench.sh" io.clonefs.bench.CheckBench ${BENCH_CHECK_OPTS:-}
