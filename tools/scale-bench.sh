#!/usr/bin/env bash
# scale-bench: hundreds of branches of one source on this host, idle ones asleep: creation time,
# memory and pool growth with all idle, wake-to-first-query, the source's speed with some branches
# active; rewrites the bench-scale section of BENCHMARKS.md and docs/bench-scale.png.
# Needs root (FUSE mount with allow_other, runuser -u postgres) and PostgreSQL 15.
#
# Environment: BUILD_DIR, JAVA, CLONEFS_JAR, BENCH_REPORT as in tools/java-bench.sh;
# BENCH_SCALE_OPTS (JVM options), e.g. a quick run: "-Dbench.scale.counts=5,10 -Dbench.scale.pgScale=5".
# Properties (defaults): bench.scale.counts (10,50,200), bench.scale.pgScale (68: about 1 GB),
# bench.scale.wakes (20), bench.scale.active (10), bench.scale.seconds (15), bench.scale.rounds (3),
# bench.scale.idle (5s), bench.scale.ports (48000-48399), bench.scale.dir (/var/tmp),
# bench.scale.chart (docs/bench-scale.png).
set -euo pipefail
# shellcheck disable=SC2086 # BENCH_SCALE_OPTS is a list of JVM options on purpose
exec "$(dirname "$0")/java-bench.sh" io.clonefs.bench.ScaleBench ${BENCH_SCALE_OPTS:-}
