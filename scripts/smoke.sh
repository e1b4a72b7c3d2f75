#!/usr/bin/env bash
# Runs the engine demo and the engine benchmark at a tiny size, so that `make test` catches them
# breaking. Prints each one's output only when it fails. Usage: smoke.sh "JAVA AND FLAGS" CLASSPATH
set -euo pipefail
java_run=$1
cp=$2
log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT
passed=0
failed=0
check() {
    local name=$1; shift
    local start=$SECONDS
    # shellcheck disable=SC2086 # java_run is a command line on purpose
    if $java_run -cp "$cp" "$@" >"$log_dir/$name.log" 2>&1; then
        echo "smoke: $name ok ($((SECONDS - start)) s)"
        passed=$((passed + 1))
    else
        echo "smoke: $name FAILED; its output:"
        cat "$log_dir/$name.log"
        failed=$((failed + 1))
    fi
}
check demo -Ddemo.mb=32 -Ddemo.files=20 io.clonefs.bench.EngineDemo
check bench-engine -Dbench.scale=0.005 -Dbench.clones=3 -Dbench.depth=10 io.clonefs.bench.EngineBench
if [[ $failed -eq 0 ]]; then
    echo "smoke: all $passed runs ok"
else
    echo "smoke: $failed of $((passed + failed)) runs FAILED"
    exit 1
fi
