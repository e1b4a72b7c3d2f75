#!/usr/bin/env bash
# remote-bench (issue 9): a real single-node Ceph (scripts/ceph-dev.sh) and two pools on this
# machine; push throughput of a pgbench snapshot, bytes of an incremental push after 1 % of the
# rows changed, time to a branch from the remote with a cold cache, pgbench TPS on it cold, warm
# and on a local branch. Rewrites the remote-bench section of BENCHMARKS.md.
# Needs root, PostgreSQL 15 and Ceph 16 (make deps installs them).
#
# Environment: as tools/java-bench.sh, plus REMOTE_BENCH_OPTS (extra JVM options, e.g.
# "-Dbench.remote.scale=7 -Dbench.remote.seconds=10"). Properties: bench.remote.scale (68: about
# 1 GB), bench.remote.seconds (20: each pgbench run), bench.remote.dir (/var/tmp).
set -euo pipefail
# shellcheck disable=SC2086 # REMOTE_BENCH_OPTS is a list of JVM options on purpose
exec "$(dirname "$0")/java-bench.sh" io.clonefs.bench.RemoteBench ${REMOTE_BENCH_OPTS:-}
