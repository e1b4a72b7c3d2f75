#!/usr/bin/env bash
# make compare: clonefs against pg_dump | pg_restore, CREATE DATABASE ... TEMPLATE and pg_basebackup,
# at several source sizes; replaces its section of BENCHMARKS.md and draws docs/img/compare-*.png.
#
# Usage: scripts/compare.sh [-Dcompare.sizes=50MB,1GB,...] [-Dcompare.parallel=10] [other -Dcompare.* options,
#        listed in tools/src/main/java/io/clonefs/compare/Compare.java]
# Environment: BUILD_DIR (Maven output directory of every module, default target), MVN (default mvn -B),
#              SKIP_BUILD=1 to reuse the last build of BUILD_DIR, JAVA (default java).
# Needs root (FUSE mount, PostgreSQL run as the postgres user), PostgreSQL 15 and the build tools
# (make deps installs them).
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
build_dir="${BUILD_DIR:-target}"
mvn_cmd="${MVN:-mvn -B}"
java_cmd="${JAVA:-java}"

if [[ $(id -u) -ne 0 ]]; then
    echo "compare: run as root (it mounts FUSE and runs PostgreSQL as the postgres user)" >&2
    exit 1
fi

cp_file="$root/tools/$build_dir/classpath.txt"
if [[ "${SKIP_BUILD:-0}" != 1 || ! -f "$cp_file" ]]; then
    echo "== building clonefs (mvn package -DskipTests) into $build_dir"
    # shellcheck disable=SC2086 # MVN is a command line on purpose
    (cd "$root" && $mvn_cmd -q -Dclonefs.build.dir="$build_dir" package -DskipTests \
        dependency:build-classpath -Dmdep.outputFile="$build_dir/classpath.txt" -Dmdep.includeScope=runtime)
fi

cp="$root/tools/$build_dir/classes:$(cat "$cp_file")"
exec "$java_cmd" --add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED \
    -Djava.awt.headless=true -Dlogback.configurationFile="$root/scripts/logback-quiet.xml" \
    -Dcompare.repo="$root" -Dcompare.launcher="$root/bin/clonefs" -Dcompare.jar="$root/cli/$build_dir/clonefs.jar" \
    "$@" -cp "$cp" io.clonefs.compare.Compare
