# clonefs — every command a user or CI runs. `make help` lists the targets.
MVN          ?= mvn -B
# Build output directory of every module (parallel builds in one checkout may use BUILD_DIR=target-x).
BUILD_DIR    ?= target
MAVEN        := $(MVN) -Dclonefs.build.dir=$(BUILD_DIR)
JAVA         ?= java
PREFIX       ?= /usr/local
JVM_OPENS    := --add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED
JAVA_RUN     := $(JAVA) $(JVM_OPENS) -Dlogback.configurationFile=$(CURDIR)/scripts/logback-quiet.xml
# Classpath of the tools module (its classes + every module jar + dependencies),
# written by `make build`.
CLASSPATH_FILE := tools/$(BUILD_DIR)/classpath.txt
RUN_CP        = tools/$(BUILD_DIR)/classes:$$(cat $(CLASSPATH_FILE))
DEMO_MB      ?= 1024
BENCH_SCALE  ?= 1
BENCH_REPORT ?= $(CURDIR)/BENCHMARKS.md
BENCH_OPTS   ?=
# The self-contained jar `make install` copies (built by `make build`; SKIP_BUILD=1 installs it as it is).
JAR          ?= cli/$(BUILD_DIR)/clonefs.jar
ROUNDS       ?= 50
SOAK_MINUTES ?= 60
# Where `make deb` writes clonefs_VERSION_all.deb.
DEB_DIR      ?= .
CLI_ROUNDS   ?= 10
CP_GOAL      := dependency:build-classpath -Dmdep.outputFile=$(BUILD_DIR)/classpath.txt -Dmdep.includeScope=runtime

.DEFAULT_GOAL := help
.PHONY: help deps deps-demo deps-bench deps-size build test smoke demo demo-clean demo-engine bench-engine bench-engine-ab bench-pg-ab bench-pg bench-fast bench-read bench-fsync branch-bench bench-remote compare \
        crash-test soak bench-cli bench-scale bench-check bench-diff bench-mask bench-history bench-console console-screenshots conformance install uninstall deb clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-13s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

deps: ## install the apt packages of make test and bench-remote: deps-bench and a single-node Ceph (scripts/install-deps.sh test); quiet when present
	@scripts/install-deps.sh test

deps-demo: ## install only what make demo needs: fuse, PostgreSQL 15, JDK 17, Maven (scripts/install-deps.sh demo)
	@scripts/install-deps.sh demo

deps-bench: ## install what the local benchmarks need: deps-demo and fio, rsync, postgresql-contrib (scripts/install-deps.sh bench)
	@scripts/install-deps.sh bench

deps-size: ## how many packages and MB each set (demo, bench, test) installs on a fresh Debian 12, by apt-get --simulate and --print-uris; installs nothing
	@scripts/install-deps.sh --measure

build: ## compile and package every module (mvn package -DskipTests), then the class-data archive of the jar that bin/clonefs starts faster with
	@echo "== building clonefs (mvn package -DskipTests)"
	@$(MAVEN) -q package -DskipTests $(CP_GOAL)
	@JAVA="$(JAVA)" scripts/cds-archive.sh $(JAR)

test: deps ## install deps, then run every unit and integration test from a clean build (mvn clean verify, as CI does on a fresh clone), then smoke-run demo and bench
	$(MAVEN) clean verify $(CP_GOAL)
	@$(MAKE) --no-print-directory smoke

smoke: ## run the engine demo and the engine benchmark at a tiny size (needs a prior build or test)
	@test -f $(CLASSPATH_FILE) || $(MAKE) --no-print-directory build
	@scripts/smoke.sh "$(JAVA_RUN)" "$(RUN_CP)"

demo: ## install the demo's deps (deps-demo), build, run clonefs doctor, mount a pool, load pgbench into PostgreSQL, branch it while it serves; prints URI, time, space (DEMO_SCALE=10 DEMO_DIR=/var/lib/clonefs-demo)
	@BUILD_DIR=$(BUILD_DIR) MVN="$(MVN)" scripts/demo.sh

demo-clean: ## undo `make demo`: stop its pgbench and PostgreSQL servers, unmount, remove the demo pool (DEMO_DIR=...)
	@BUILD_DIR=$(BUILD_DIR) scripts/demo-clean.sh

demo-engine: deps-demo build ## the engine alone through its Java API: pool, 1 GiB volume, snapshot, clone, space, isolation, destroy, fsck (DEMO_MB=...)
	@$(JAVA_RUN) -Ddemo.mb=$(DEMO_MB) -cp "$(RUN_CP)" io.clonefs.bench.EngineDemo

bench-engine: deps-bench build ## measure the engine (clone, read, write, destroy, space, MB/s); rewrites its section of BENCHMARKS.md (BENCH_SCALE=0.1 for a quick run)
	@$(JAVA_RUN) -Dbench.scale=$(BENCH_SCALE) -Dbench.report=$(BENCH_REPORT) $(BENCH_OPTS) \
	    -cp "$(RUN_CP)" io.clonefs.bench.EngineBench

bench-engine-ab: deps-bench ## the engine benchmark of revision BASE and of this checkout side by side, alternating, median of 3 (BASE=rev; BENCH_SCALE=0.3); writes nothing
	@test -n "$(BASE)" || { echo "bench-engine-ab: give BASE=<git revision>" >&2; exit 2; }
	@BENCH_SCALE=$(if $(filter command line,$(origin BENCH_SCALE)),$(BENCH_SCALE),0.3) MVN="$(MVN)" scripts/engine-ab.sh $(BASE)

bench-pg-ab: deps-bench ## pgbench read-write and select-only on a pool of revision BASE and one of this checkout, side by side, alternating, median of 3 (BASE=rev; PG_AB_SCALE=20 PG_AB_SECONDS=30); writes nothing
	@test -n "$(BASE)" || { echo "bench-pg-ab: give BASE=<git revision>" >&2; exit 2; }
	@MVN="$(MVN)" scripts/pg-ab.sh $(BASE)

bench-pg: deps-bench build ## PostgreSQL (pgbench rw/select-only, initdb, bulk load) and fio on clonefs, a clone and native ext4, median of 3; rewrites its section of BENCHMARKS.md (BENCH_PG_OPTS=...)
	@BUILD_DIR=$(BUILD_DIR) BENCH_REPORT=$(BENCH_REPORT) tools/bench-pg.sh

bench-fast: deps-bench build ## a branch vs a native copy, goal by goal: CLI start, branch time, cold reads, fsync, source speed, migrations, a fresh branch's select-only; median of 3, alternating; rewrites its section of BENCHMARKS.md and docs/bench-fast.png (BENCH_FAST_OPTS=...)
	@BUILD_DIR=$(BUILD_DIR) BENCH_REPORT=$(BENCH_REPORT) tools/fast-bench.sh

bench-read: deps-bench build ## fio 1 MiB sequential read with a cold page cache: native ext4, a volume, a fresh clone, median of 3 (tools/read-bench.sh; READ_BENCH_RUNS=3 READ_BENCH_MIB=1024); writes nothing
	@CLONEFS_JAR=$(CURDIR)/$(JAR) tools/read-bench.sh

bench-fsync: deps-bench build ## fio 8 KiB randwrite + fsync: native ext4, clonefs with and without the metadata intent log, on a new file, a fresh clone and an overwrite, median of 3 (tools/fsync-bench.sh; FSYNC_BENCH_RUNS=3 FSYNC_BENCH_SECONDS=20); writes nothing
	@CLONEFS_JAR=$(CURDIR)/$(JAR) tools/fsync-bench.sh

branch-bench: ## PostgreSQL branch timings under load (tools/branch-bench.sh)
	@test -x tools/branch-bench.sh || { echo "branch-bench: tools/branch-bench.sh is not there yet" >&2; exit 1; }
	@BUILD_DIR=$(BUILD_DIR) BENCH_REPORT=$(BENCH_REPORT) tools/branch-bench.sh

compare: ## clonefs vs pg_dump/pg_restore, CREATE DATABASE TEMPLATE, pg_basebackup (scripts/compare.sh; COMPARE_OPTS=-Dcompare.sizes=...)
	@test -x scripts/compare.sh || { echo "compare: scripts/compare.sh is not there yet" >&2; exit 1; }
	@BUILD_DIR=$(BUILD_DIR) MVN="$(MVN)" scripts/compare.sh $(COMPARE_OPTS)

bench-remote: deps build ## push/branch through a real single-node Ceph (S3): push MB/s, incremental bytes, cold branch time, TPS cold/warm/local (tools/remote-bench.sh; REMOTE_BENCH_OPTS=...)
	@BUILD_DIR=$(BUILD_DIR) BENCH_REPORT=$(BENCH_REPORT) tools/remote-bench.sh

bench-scale: deps-bench build ## hundreds of branches of a 1 GB source, idle ones asleep: N = 10, 50, 200: creation p50/p99, memory and pool growth with all idle, wake p50/p99, source tps with 10 active; rewrites its section of BENCHMARKS.md and docs/bench-scale.png (BENCH_SCALE_OPTS=...)
	@BUILD_DIR=$(BUILD_DIR) BENCH_REPORT=$(BENCH_REPORT) tools/scale-bench.sh

bench-check: deps-bench build ## what pg check-migration costs beyond the migration on a 1.5 GB pgbench source: the whole command vs a branch by hand, a CREATE INDEX inside the check vs psql; alternating, medians; rewrites its section of BENCHMARKS.md (BENCH_CHECK_OPTS=...)
	@BUILD_DIR=$(BUILD_DIR) BENCH_REPORT=$(BENCH_REPORT) tools/check-bench.sh

bench-mask: deps-bench build ## what pg mask costs and what its --verify costs per GB, on 1 and 3 GB pgbench sources with a customers table of personal data, page cache dropped before each run; medians; rewrites its section of BENCHMARKS.md (BENCH_MASK_OPTS=...)
	@BUILD_DIR=$(BUILD_DIR) BENCH_REPORT=$(BENCH_REPORT) tools/mask-bench.sh

bench-history: deps-bench build ## what pg history costs (archive per hour under pgbench -c 4) and how long pg branch --at takes against its distance from the previous history snapshot, on a 750 MB source; rewrites its section of BENCHMARKS.md (BENCH_HISTORY_OPTS=...)
	@BUILD_DIR=$(BUILD_DIR) BENCH_REPORT=$(BENCH_REPORT) tools/history-bench.sh

bench-console: deps ## the web console's servers page with 200 real branches in headless Chromium: 5 loads, from navigation to the full table, and the share of GET /v1/pg/servers (ConsoleLoadIT; about 4 min); rewrites its section of BENCHMARKS.md (CLONEFS_CONSOLE_BRANCHES=200; BENCH_REPORT= prints only)
	mvn -B -pl integration-tests -am verify -Dit.test=ConsoleLoadIT -Dtest=Nothing -Dsurefire.failIfNoSpecifiedTests=false -DfailIfNoTests=false -Dclonefs.it.benchReport=$(BENCH_REPORT)

console-screenshots: deps ## refresh docs/img/console-*.png: ConsoleIT's screenshots of the console's pages
	mvn -B -pl integration-tests -am verify -Dit.test=ConsoleIT -Dtest=Nothing -Dsurefire.failIfNoSpecifiedTests=false -DfailIfNoTests=false -Dclonefs.it.screenshots=$(CURDIR)/docs/img

bench-diff: deps-bench build ## time of `clonefs pg diff --data` on a branch with 1 % of its pages changed (and one with a fixed 300), per database size (0.45, 4.5, 10 GB): goal under 1 s and flat in size; rewrites its section of BENCHMARKS.md (DIFF_BENCH_OPTS=-Dbench.diff.scales=30,100; BENCH_REPORT= prints only)
	@BUILD_DIR=$(BUILD_DIR) BENCH_REPORT=$(BENCH_REPORT) tools/diff-bench.sh

bench-cli: deps-bench build ## start time of list, snapshot, clone, destroy, --version through bin/clonefs against a daemon, without and with the class-data archive, median and p90; and pg branch + a new client's first query of a source under light load (CLI_ROUNDS=10; BASE_JAR=old/clonefs.jar; CLI_PG=0 to skip pg branch)
	@CLONEFS_JAR=$(CURDIR)/$(JAR) tools/cli-bench.sh $(CLI_ROUNDS)

conformance: deps ## POSIX conformance: the pjdfstest suite (tools/conformance) side by side on ext4 (loop image), bindfs over it and a clonefs mount; prints passed/failed per filesystem and rewrites its section of RELIABILITY.md (about 16 min on a busy 2-core machine; CONFORMANCE_REPORT= prints only; CONFORMANCE_TIMEOUT, CONFORMANCE_JOBS)
	@test -f $(JAR) || $(MAKE) --no-print-directory build
	@CLONEFS_JAR=$(CURDIR)/$(JAR) tools/conformance/run.sh

crash-test: ## kill -9 the daemon and PostgreSQL at random moments, remount, check, ROUNDS times (scripts/crash-test.sh; ROUNDS=50)
	@test -x scripts/crash-test.sh || { echo "crash-test: scripts/crash-test.sh is not there yet" >&2; exit 1; }
	@BUILD_DIR=$(BUILD_DIR) scripts/crash-test.sh $(ROUNDS)

soak: deps build ## an hour under churn (SOAK_MINUTES=60): ledger + pgbench, branch/reset/destroy/snapshot every 5 s, a push every 5 min, kill -9 of the daemon every 10 min; samples RSS, threads, fds, LMDB, blocks; ends with pg_checksums, pg_amcheck, fsck; rewrites its section of RELIABILITY.md and docs/img/soak.png (SOAK_OPTS=...)
	@BUILD_DIR=$(BUILD_DIR) SOAK_MINUTES=$(SOAK_MINUTES) tools/soak.sh

install: ## build, then install the jar and a `clonefs` launcher in PREFIX/lib/clonefs and PREFIX/bin (PREFIX=/usr/local; SKIP_BUILD=1 JAR=...)
	@test "$(SKIP_BUILD)" = 1 || $(MAKE) --no-print-directory build
	@scripts/install.sh "$(PREFIX)" "$(JAR)"

uninstall: ## remove what `make install` put in PREFIX (PREFIX=/usr/local)
	@scripts/install.sh --uninstall "$(PREFIX)"

deb: ## build, then the Debian package DEB_DIR/clonefs_VERSION_all.deb (scripts/build-deb.sh; DEB_DIR=.; SKIP_BUILD=1 JAR=...; DEB_VERSION=...)
	@test "$(SKIP_BUILD)" = 1 || $(MAKE) --no-print-directory build
	@scripts/build-deb.sh $(JAR) $(DEB_DIR)

clean: ## remove build output (mvn clean)
	$(MAVEN) -q clean
	rm -f $(CLASSPATH_FILE)
