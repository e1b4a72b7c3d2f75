#!/usr/bin/env bash
# fast-bench: the goals of a branch that answers at once and runs like a native copy (CLI start,
# branch time, cold reads, fsync-heavy writes, the source's speed after a branch, migrations and
# select-only on a fresh branch), each beside its native figure, alternating, medians; rewrites
# the bench-fast section of BENCHMARKS.md and docs/bench-fast.png.
# Needs root (FUSE mount with allow_other, runuser -u postgres), PostgreSQL 15 and fio.
#
# Environment: BUILD_DIR, JAVA, CLONEFS_JAR, BENCH_REPORT as in tools/java-bench.sh;
# BENCH_FAST_OPTS (JVM options), e.g. "-Dbench.fast.parts=cli,branch" or a quicker, smaller run:
# "-Dbench.fast.scale=30 -Dbench.fast.warmScale=70 -Dbench.fast.seconds=30".
# Properties (defaults): bench.fast.parts (cli,io,branch,source,migration,warm), bench.fast.runs (3),
# bench.fast.scale (100: the source, about 1.5 GB), bench.fast.warmScale (350: about 5 GB),
# bench.fast.seconds (60), bench.fast.branches (10), bench.fast.cliRuns (9), bench.fast.dir
# (/var/tmp), bench.fast.chart (docs/bench-fast.png).
set -euo pipefail
# shellcheck disable=SC2086 # BENCH_FAST_OPTS is a list of JVM options on purpose
exec "$(dirname "$0")/java-bench.sh" io.clonefs.bench.FastBench ${BENCH_FAST_OPTS:-}
