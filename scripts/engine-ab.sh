#!/usr/bin/env bash
# Side-by-side engine benchmark of two builds: BASE (a git revision, built in a temporary worktree)
# against this checkout, alternating BASE and HEAD, RUNS times each (default 3), at a small scale;
# prints each run's figures and the median of each figure per side. Writes nothing to BENCHMARKS.md.
#   scripts/engine-ab.sh BASE [RUNS]      (make bench-engine-ab BASE=rev; BENCH_SCALE, default 0.3)
set -euo pipefail
base=${1:?usage: scripts/engine-ab.sh BASE_REVISION [RUNS]}
runs=${2:-3}
scale=${BENCH_SCALE:-0.3}
root=$(cd "$(dirname "$0")/.." && pwd)
mvn_cmd=${MVN:-mvn -B}
work=$(mktemp -d /tmp/clonefs-ab.XXXXXX)
trap 'git -C "$root" worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

build() { # dir
    (cd "$1" && $mvn_cmd -q package -DskipTests dependency:build-classpath \
        -Dmdep.outputFile=target/classpath.txt -Dmdep.includeScope=runtime >/dev/null)
}
classpath() { # dir: the module holding io.clonefs.bench (tools/, or integration-tests/ before it existed)
    local m
    for m in tools integration-tests; do
        if [[ -d $1/$m/target/classes/io/clonefs/bench ]]; then
            echo "$1/$m/target/classes:$(cat "$1/$m/target/classpath.txt")"
            return
        fi
    done
    echo "engine-ab: no io.clonefs.bench classes under $1" >&2
    exit 1
}

echo "== building $base and this checkout"
git -C "$root" worktree add --detach "$work/base" "$base" >/dev/null
build "$work/base"
build "$root"
cp_base=$(classpath "$work/base")
cp_head=$(classpath "$root")

rows='^\| (clone, volume of|snapshot \+ clone|destroy of|random 8 KiB read|8 KiB write|sequential)'
for i in $(seq 1 "$runs"); do
    order="base head"; (( i % 2 == 0 )) && order="head base" # neither side always runs second
    for side in $order; do
        cp=$cp_base; dir=$work/base
        if [[ $side == head ]]; then cp=$cp_head; dir=$root; fi
        echo "== $side run $i"
        (cd "$dir" && java --add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED \
            -Dlogback.configurationFile="$root/scripts/logback-quiet.xml" -Dbench.scale="$scale" -Dbench.report= \
            -cp "$cp" io.clonefs.bench.EngineBench 2>&1) | grep -E "$rows" | tee -a "$work/$side.txt"
    done
done

echo
echo "== median of $runs runs per side (first figure of each row: the median, or the average where the row gives avg / p50 / p99)"
printf '%-90s %12s %12s %7s\n' "row" "$base" "HEAD" "ratio"
awk -F'|' '
    FNR == 1 { side++ }
    {
        name = $2; gsub(/^ +| +$/, "", name)
        v = $3; sub(/^ +/, "", v); split(v, parts, " ")
        vals[name, side] = vals[name, side] " " parts[1]
        if (!(name in seen)) { seen[name] = ++n; order[n] = name }
    }
    function median(s,   a, k, i, j, t) {
        k = split(s, a, " ")
        for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
        return a[int((k + 1) / 2)]
    }
    END {
        for (i = 1; i <= n; i++) {
            b = median(vals[order[i], 1]); h = median(vals[order[i], 2])
            printf "%-90s %12s %12s %7.2f\n", substr(order[i], 1, 90), b, h, (b + 0 > 0 ? h / b : 0)
        }
    }' "$work/base.txt" "$work/head.txt"
