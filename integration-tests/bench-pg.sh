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
    echo "bench-pg must run as root (FUSE allow_other, runuser -u postgres, drop_caches)" >&2
    exit 2
fi
REPORT_OPT=()
if [[ -n $BENCH_REPORT ]]; then
    REPORT_OPT=("-Dbench.report=$BENCH_REPORT")
fi
# shellcheck disable=SC2086
exec "$JAVA" --add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED \
    -Dlogback.configurationFile="$PWD/scripts/logback-quiet.xml" -Dfile.encoding=UTF-8 \
    "${REPORT_OPT[@]}" ${BENCH_PG_OPTS:-} \
    -cp "integration-tests/$BUILD_DIR/classes:$(cat "$CLASSPATH_FILE")" io.clonefs.bench.PgBench
