#!/usr/bin/env bash
# The long crash loop of issue 7 (RELIABILITY.md): PostgreSQL 15 on a clonefs volume, writes with a
# client ledger, snapshots/clones/destroys at the same time, kill -9 of the daemon and PostgreSQL at
# a random moment, remount, recovery and checks -- ROUNDS times. Needs root, /dev/fuse, postgresql-15.
#   scripts/crash-test.sh [ROUNDS]       (or: make crash-test ROUNDS=N)
#   ROUNDS=50 BUILD_DIR=target SEED=123 JAVA_OPTS=-Dclonefs.crash.trace=true scripts/crash-test.sh
# Exit 0 when every round passed; the seed printed first repeats the same random choices.
set -euo pipefail

here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
rounds="${1:-${ROUNDS:-50}}"
build_dir="${BUILD_DIR:-target}"
java="${JAVA:-java}"
cp_file="$here/integration-tests/$build_dir/classpath.txt"
test_classes="$here/integration-tests/$build_dir/test-classes"

if [[ ! -f "$cp_file" || ! -f "$test_classes/io/clonefs/it/reliability/CrashLoop.class" \
      || ! -f "$here/cli/$build_dir/clonefs.jar" ]]; then
    echo "== building clonefs into $build_dir (mvn package -DskipTests)"
    (cd "$here" && make --no-print-directory build BUILD_DIR="$build_dir")
fi

props=(-Dclonefs.it.launcher="$here/bin/clonefs" -Dclonefs.it.jar="$here/cli/$build_dir/clonefs.jar"
       -Dclonefs.it.pgbin="${PGBIN:-/usr/lib/postgresql/15/bin}")
if [[ -n "${SEED:-}" ]]; then props+=(-Dclonefs.crash.seed="$SEED"); fi

exec "$java" --add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED \
    -Dlogback.configurationFile="$here/scripts/logback-quiet.xml" "${props[@]}" ${JAVA_OPTS:-} \
    -cp "$test_classes:$here/integration-tests/$build_dir/classes:$(cat "$cp_file")" \
    io.clonefs.it.reliability.CrashLoop "$rounds"
