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
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-target}
JAVA=${JAVA:-java}
BENCH_REPORT=${BENCH_REPORT-$PWD/BENCHMARKS.md}
CLASSPATH_FILE=integration-tests/$BUILD_DIR/classpath.txt
if [[ ! -f $CLASSPATH_FILE || ! -d integration-tests/$BUILD_DIR/classes ]]; then
    echo "== building clonefs (mvn package -DskipTests) into $BUILD_DIR"
    mvn -B -q -Dclonefs.build.dir="$BUILD_DIR" package -DskipTests dependency:build-classpath \
        -Dmdep.outputFile="$BUILD_DIR/classpath.txt" -Dmdep.includeScope=runtime
fi
if [[ $(id -u) -ne 0 ]]; then
    echo "branch-bench must run as root (FUSE allow_other, runuser -u postgres)" >&2
    exit 2
fi
export CLONEFS_JAR=${CLONEFS_JAR:-$PWD/cli/$BUILD_DIR/clonefs.jar}
REPORT_OPT=()
if [[ -n $BENCH_REPORT ]]; then
    REPORT_OPT=("-Dbench.report=$BENCH_REPORT")
fi
# shellcheck disable=SC2086
exec "$JAVA" --add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED \
    -Dlogback.configurationFile="$PWD/scripts/logback-quiet.xml" -Dfile.encoding=UTF-8 \
    -Dbench.branch.launcher="$PWD/bin/clonefs" "${REPORT_OPT[@]}" ${BRANCH_BENCH_OPTS:-} \
    -cp "integration-tests/$BUILD_DIR/classes:$(cat "$CLASSPATH_FILE")" io.clonefs.bench.BranchBench
