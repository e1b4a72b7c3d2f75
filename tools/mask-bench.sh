#!/usr/bin/env bash
# mask-bench: what 'clonefs pg mask' costs, and what its --verify costs per GB, on pgbench sources
# (about 1 and 3 GB by default) holding a customers table of personal data; page cache dropped
# before each run; medians; rewrites the bench-mask section of BENCHMARKS.md.
# Needs root (FUSE mount with allow_other, runuser -u postgres, drop_caches) and PostgreSQL 15.
#
# Environment: BUILD_DIR, JAVA, CLONEFS_JAR, BENCH_REPORT as in tools/java-bench.sh;
# BENCH_MASK_OPTS (JVM options), e.g. "-Dbench.mask.scales=10 -Dbench.mask.runs=1".
# Properties (defaults): bench.mask.scales (70,210), bench.mask.customers (200000),
# bench.mask.runs (3), bench.mask.dir (/var/tmp).
set -euo pipefail
# shellcheck disable=SC2086 # BENCH_MASK_OPTS is a list of JVM options on purpose
exec "$(dirname "$0")/java-bench.sh" io.clonefs.bench.MaskBench ${BENCH_MASK_OPTS:-}
