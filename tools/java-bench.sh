#!/usr/bin/env bash
# Runs one benchmark program of the tools module (io.clonefs.bench.*) the way the bench scripts do:
# builds when needed, checks for root, passes the repository, the launcher and the report file.
#
# Usage: tools/java-bench.sh MAIN_CLASS [JVM options...]
# Environment: BUILD_DIR (Maven output directory, default target, as in the Makefile),
# JAVA (default java), CLONEFS_JAR (default cli/$BUILD_DIR/clonefs.jar),
# BENCH_REPORT (default BENCHMARKS.md in the repository; empty: print only).
set -euo pipefail
cd "$(dirname "$0")/.."
main=${1:?usage: java-bench.sh MAIN_CLASS [JVM options...]}
shift
BUILD_DIR=${BUILD_DIR:-target}
JAVA=${JAVA:-java}
BENCH_REPORT=${BENCH_REPORT-$PWD/BENCHMARKS.md}
CLASSPATH_FILE=tools/$BUILD_DIR/classpath.txt
if [[ ! -f $CLASSPATH_FILE || ! -d tools/$BUILD_DIR/classes ]]; then
    echo "== building clonefs (mvn package -DskipTests) into $BUILD_DIR"
    mvn -B -q -Dclonefs.build.dir="$BUILD_DIR" package -DskipTests dependency:build-classpath \
        -Dmdep.outputFile="$BUILD_DIR/classpath.txt" -Dmdep.includeScope=runtime
fi
if [[ $(id -u) -ne 0 ]]; then
    echo "${main##*.} must run as root (FUSE allow_other, runuser -u postgres)" >&2
    exit 2
fi
export CLONEFS_JAR=${CLONEFS_JAR:-$PWD/cli/$BUILD_DIR/clonefs.jar}
REPORT_OPT=()
if [[ -n $BENCH_REPORT ]]; then
    REPORT_OPT=("-Dbench.report=$BENCH_REPORT")
fi
exec "$JAVA" --add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED \
    -Dlogback.configurationFile="$PWD/scripts/logback-quiet.xml" -Dfile.encoding=UTF-8 \
    -Dbench.branch.launcher="$PWD/bin/clonefs" -Dbench.remote.repo="$PWD" "${REPORT_OPT[@]}" "$@" \
    -cp "tools/$BUILD_DIR/classes:$(cat "$CLASSPATH_FILE")" "$main"
