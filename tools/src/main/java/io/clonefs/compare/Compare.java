package io.clonefs.compare;

import com.fasterxml.jackson.databind.JsonNode;
import io.clonefs.pg.process.Postgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@code make compare}: builds a pgbench source database on a clonefs volume at each size and
 * copies it with clonefs (branch, and the filesystem clone alone), {@code pg_dump | pg_restore},
 * {@code CREATE DATABASE ... TEMPLATE} and {@code pg_basebackup}, measuring the time to a usable
 * database, the bytes each copy adds, the same for N simultaneous copies, and pgbench TPS on a copy
 * against the source. Writes its section of {@code BENCHMARKS.md} and two PNG charts.
 *
 * <p>Where the copies go: pg_dump's restores go into a plain PostgreSQL server on the local disk
 * (not on clonefs), created by this program; pg_basebackup copies go into directories on the local
 * disk; CREATE DATABASE ... TEMPLATE runs on the server started from the first pg_basebackup copy
 * (a native server holding the same database), so that every full copy is written to the local
 * disk, not through FUSE.
 *
 * <p>System properties (all optional): {@code compare.sizes} (default {@code 100MB,1GB,5GB}),
 * {@code compare.parallel} (simultaneous copies, 10), {@code compare.pgbenchSeconds} (15),
 * {@code compare.clients} (4), {@code compare.restoreJobs} (2), {@code compare.fullParallelMax}
 * (largest source size at which the full-copy methods really make the N simultaneous copies;
 * larger ones are extrapolated and labelled so, default 1TB: in practice the free-disk check decides), {@code compare.report}
 * (the Markdown file whose section is replaced; {@code none} to skip), {@code compare.charts}
 * (directory of the PNGs; {@code none} to skip), {@code compare.workDir} (/var/tmp),
 * {@code compare.launcher}, {@code compare.jar}, {@code compare.pgbin}, {@code compare.branch}
 * ({@code auto}: {@code clonefs pg branch} when the launcher has it; {@code manual}: clone via the
 * CLI + remove postmaster.pid + pg_ctl start).
 */
public final class Compare {
    /** pgbench makes about 15 MiB of database per unit of scale. */
    static final double MIB_PER_SCALE = 15.06;
    static final long MIB = 1024L * 1024;
    static final String DB = "bench";

    /** How a run is configured (see the class comment for the properties). */
    public record Config(List<String> sizes, int parallel, int pgbenchSeconds, int clients, int restoreJobs,
                         long fullParallelMax, Path report, Path charts, Path workDir, Path launcher, Path jar,
                         Path pgBin, String branch) {
        public static Config fromSystemProperties() {
            Path repo = repoRoot();
            String report = System.getProperty("compare.report", repo.resolve("BENCHMARKS.md").toString());
            String charts = System.getProperty("compare.charts", repo.resolve("docs/img").toString());
            return new Config(List.of(System.getProperty("compare.sizes", "100MB,1GB,5GB").split(",")),
                    Integer.getInteger("compare.parallel", 10), Integer.getInteger("compare.pgbenchSeconds", 15),
                    Integer.getInteger("compare.clients", 4), Integer.getInteger("compare.restoreJobs", 2),
                    parseSize(System.getProperty("compare.fullParallelMax", "1TB")),
                    report.equals("none") ? null : Path.of(report).toAbsolutePath(),
                    charts.equals("none") ? null : Path.of(charts).toAbsolutePath(),
                    Path.of(System.getProperty("compare.workDir", "/var/tmp")),
                    Path.of(System.getProperty("compare.launcher", repo.resolve("bin/clonefs").toString())),
                    Path.of(System.getProperty("compare.jar", repo.resolve("cli/target/clonefs.jar").toString()))
                            .toAbsolutePath(),
                    Path.of(System.getProperty("compare.pgbin", "/usr/lib/postgresql/15/bin")),
                    System.getProperty("compare.branch", "auto"));
        }
    }

    private final Config cfg;
    private final Results results = new Results();
    private final long t0 = System.nanoTime();
    private Cleanup cleanup;
    private Pool pool;
    private Pg source;
    private Pg nativeServer;
    private Path work;
    private Path runDir;
    private boolean branchCommand;
    private String sizeLabel = "";

    private Compare(Config cfg) {
        this.cfg = cfg;
    }

    public static void main(String[] args) throws IOException {
        Config cfg = Config.fromSystemProperties();
        Results r;
        try {
            r = run(cfg);
        } catch (RuntimeException e) {
            System.err.println("compare failed: " + e.getMessage());
            e.printStackTrace();
            System.exit(1);
            return;
        }
        System.out.println();
        System.out.println(Report.table(r));
        System.exit(0);
    }

    /** Runs the whole comparison, writes the report section and the charts if configured, and returns what it measured. */
    public static Results run(Config cfg) throws IOException {
        Compare c = new Compare(cfg);
        c.execute();
        String machine = Report.machine(c.cfg.workDir());
        if (cfg.charts() != null) {
            Files.createDirectories(cfg.charts());
            Charts.write(c.results, cfg.charts().resolve("compare-time.png"), cfg.charts().resolve("compare-storage.png"));
            c.progress("charts written to " + cfg.charts());
        }
        if (cfg.report() != null) {
            Path chartsRel = cfg.charts() == null ? null
                    : cfg.report().toAbsolutePath().getParent().relativize(cfg.charts());
            Report.writeSection(cfg.report(), Report.section(c.results, machine, chartsRel));
            c.progress("wrote the compare section of " + cfg.report());
        }
        return c.results;
    }

    private void execute() throws IOException {
        results.parallel = cfg.parallel();
        results.pgbenchSeconds = cfg.pgbenchSeconds();
        results.clients = cfg.clients();
        if (!Files.isRegularFile(cfg.jar())) {
            throw new CompareException("clonefs jar " + cfg.jar() + " missing: build first (make build)");
        }
        try (Cleanup cl = new Cleanup()) {
            cleanup = cl;
            setUp();
            for (String s : cfg.sizes()) {
                long bytes = parseSize(s.trim());
                int scale = Math.max(1, (int) Math.round(bytes / (double) MIB / MIB_PER_SCALE));
                Results.Size size = new Results.Size(label(s.trim()), bytes, scale);
                results.sizes.add(size);
                long sizeStart = System.nanoTime();
                measureSize(size);
                size.sizeSeconds = seconds(System.nanoTime() - sizeStart);
                progress(String.format(Locale.ROOT, "%s measured in %.1f min", size.label, size.sizeSeconds / 60));
            }
        }
        results.totalSeconds = seconds(System.nanoTime() - t0);
        progress(String.format(Locale.ROOT, "done in %.1f min", results.totalSeconds / 60));
    }

    private void setUp() throws IOException {
        Files.createDirectories(cfg.workDir());
        work = Files.createTempDirectory(cfg.workDir(), "clonefs-compare-");
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
        cleanup.add("remove " + work, () -> Sh.removeTree(work));
        runDir = dir("run");
        Sh.chownPostgres(runDir);
        Path mnt = dir("mnt");
        pool = new Pool(cfg.launcher(), cfg.jar(), work.resolve("pool"), mnt, dir("clonefs-run"));
        progress("clonefs: init and mount the pool in " + work);
        cleanup.add("unmount " + mnt, pool::close);
        pool.initAndMount();
        branchCommand = switch (cfg.branch()) {
            case "manual" -> false;
            case "cli" -> true;
            default -> pool.hasPgBranch();
        };
        results.branchCommand = branchCommand;
        progress(branchCommand ? "clonefs branch: measured with `clonefs pg branch`"
                : "clonefs branch: `clonefs pg branch` not available; measured as clone via the CLI + remove "
                + "postmaster.pid + pg_ctl start + first query");
        Path nat = dir("native");
        Sh.chownPostgres(nat);
        nativeServer = new Pg(cfg.pgBin(), nat.resolve("data"), runDir, Postgres.freePort());
        progress("native PostgreSQL (target of pg_restore): initdb in " + nat);
        nativeServer.initdb();
        cleanup.add("stop the native server", nativeServer::close);
        nativeServer.start();
    }

    private void measureSize(Results.Size size) {
        sizeLabel = size.label;
        pool.run("create", "src").check();
        Path vol = pool.mountpoint().resolve("src");
        Sh.chownPostgres(vol);
        source = new Pg(cfg.pgBin(), vol.resolve("data"), runDir, Postgres.freePort());
        Cleanup.Step stopSource = cleanup.add("stop the source", source::close);
        progress("source: initdb on clonefs volume src");
        source.initdb();
        // autovacuum off: the source's own writes must not count as a clone's storage
        // wal_keep_size: simultaneous pg_basebackups each force a checkpoint, which would otherwise recycle WAL
        // another backup has not streamed yet ("requested WAL segment has already been removed")
        source.start("autovacuum=off", "max_wal_senders=40", "max_replication_slots=40", "max_connections=200",
                "wal_keep_size=4096");
        source.execute("postgres", "create database " + DB);
        progress("source: pgbench -i -s " + size.scale + " (≈ " + size.label + ")");
        Sh.Result init = source.client(Duration.ofMinutes(120), "pgbench", "-i", "-q", "-s",
                Integer.toString(size.scale), DB).check();
        size.initSeconds = seconds(init.nanos());
        source.execute(DB, "checkpoint");
        size.databaseBytes = source.databaseSize(DB);
        settle();
        size.sourcePoolBytes = pool.usedBytes();
        progress(String.format(Locale.ROOT, "source: %s database built in %.1f s", Report.bytes(size.databaseBytes),
                size.initSeconds));

        fsClone(size);
        branch(size);
        basebackupAndTemplate(size);
        dumpRestore(size);

        progress("source: pgbench select-only and read-write, " + cfg.pgbenchSeconds() + " s each");
        size.sourceTpsSelect = source.tps(DB, true, cfg.clients(), cfg.pgbenchSeconds());
        size.sourceTpsReadWrite = source.tps(DB, false, cfg.clients(), cfg.pgbenchSeconds());
        progress(String.format(Locale.ROOT, "source: %.0f tps select-only, %.0f tps read-write", size.sourceTpsSelect,
                size.sourceTpsReadWrite));
        stopSource.run();
        pool.destroyQuietly("src");
        settle();
    }

    // ---- clonefs ---------------------------------------------------------------------------------

    private void fsClone(Results.Size size) {
        Method m = Method.CLONEFS_CLONE;
        settle();
        long before = pool.usedBytes();
        progress(m.title() + ": clonefs clone src fs1");
        long t = System.nanoTime();
        JsonNode one = pool.json("clone", "src", "fs1");
        long nanos = System.nanoTime() - t;
        long perCopy = pool.usedBytes() - before;
        progress(m.title() + ": N=" + cfg.parallel() + " at once");
        before = pool.usedBytes();
        long p0 = System.nanoTime();
        parallel(cfg.parallel(), i -> pool.json("clone", "src", "fs" + (i + 2)));
        long pNanos = System.nanoTime() - p0;
        long pBytes = pool.usedBytes() - before;
        parallel(cfg.parallel() + 1, i -> {
            pool.destroyQuietly("fs" + (i + 1));
            return null;
        });
        String detail = String.format(Locale.ROOT, "`clonefs clone` command %.0f ms (snapshot + clone in the daemon %.1f ms)",
                nanos / 1e6, one.get("elapsedMicros").asLong() / 1e3);
        add(size, new Results.Row(m, seconds(nanos), perCopy, seconds(pNanos), pBytes, null, 0, 0, detail));
    }

    private void branch(Results.Size size) {
        Method m = Method.CLONEFS_BRANCH;
        settle();
        long before = pool.usedBytes();
        progress(m.title() + ": br1");
        Branch b1 = makeBranch("br1");
        long perCopy = pool.usedBytes() - before;
        progress(m.title() + ": pgbench on the branch");
        double sel = b1.server.tps(DB, true, cfg.clients(), cfg.pgbenchSeconds());
        double rw = b1.server.tps(DB, false, cfg.clients(), cfg.pgbenchSeconds());
        b1.drop();
        settle();
        progress(m.title() + ": N=" + cfg.parallel() + " at once");
        before = pool.usedBytes();
        List<Branch> many = new ArrayList<>();
        long p0 = System.nanoTime();
        List<Branch> made = parallel(cfg.parallel(), i -> makeBranch("br" + (i + 2)));
        long pNanos = System.nanoTime() - p0;
        many.addAll(made);
        long pBytes = pool.usedBytes() - before;
        parallel(many.size(), i -> {
            many.get(i).drop();
            return null;
        });
        add(size, new Results.Row(m, seconds(b1.nanos), perCopy, seconds(pNanos), pBytes, null, sel, rw, b1.detail));
    }

    /** A branch of the source with a server answering on it. */
    private final class Branch {
        final String name;
        final Pg server;
        final long nanos;
        final String detail;
        final Cleanup.Step stop;

        Branch(String name, Pg server, long nanos, String detail, Cleanup.Step stop) {
            this.name = name;
            this.server = server;
            this.nanos = nanos;
            this.detail = detail;
            this.stop = stop;
        }

        /** Stops the server ({@code clonefs pg destroy} for a managed branch) and destroys the volume. */
        void drop() {
            stop.run();
            pool.destroyQuietly(name);
        }
    }

    private Branch makeBranch(String name) {
        Path data = pool.mountpoint().resolve(name).resolve("data");
        if (branchCommand) {
            long t = System.nanoTime();
            JsonNode j = pool.json("pg", "branch", "src", name);
            long nanos = System.nanoTime() - t;
            Pg server = new Pg(cfg.pgBin(), data, runDir, j.get("port").asInt());
            Cleanup.Step stop = cleanup.add("clonefs pg destroy " + name, () -> {
                Sh.Result r = pool.run("pg", "destroy", name);
                if (!r.ok()) {
                    System.err.println("warning: clonefs pg destroy " + name + ": " + r.err().strip());
                }
            });
            server.firstQuery(DB);
            String detail = String.format(Locale.ROOT, "`clonefs pg branch` command %.0f ms (in the daemon: %s)",
                    nanos / 1e6, j.path("millis"));
            return new Branch(name, server, nanos, detail, stop);
        }
        long t = System.nanoTime();
        pool.json("clone", "src", name);
        long cloned = System.nanoTime() - t;
        try {
            Files.deleteIfExists(data.resolve("postmaster.pid"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Pg server = new Pg(cfg.pgBin(), data, runDir, Postgres.freePort());
        Cleanup.Step stop = cleanup.add("stop branch " + name, server::close);
        long s = System.nanoTime();
        server.start();
        long started = System.nanoTime() - s;
        server.firstQuery(DB);
        long nanos = System.nanoTime() - t;
        String detail = String.format(Locale.ROOT, "`clonefs clone` %.0f ms + remove postmaster.pid + `pg_ctl start -w` "
                + "(WAL recovery) %.0f ms + first query", cloned / 1e6, started / 1e6);
        return new Branch(name, server, nanos, detail, stop);
    }

    // ---- pg_basebackup, then CREATE DATABASE ... TEMPLATE on the server of its first copy --------

    private void basebackupAndTemplate(Results.Size size) {
        Method m = Method.BASEBACKUP;
        Path bbRoot = dir("bb-" + size.scale);
        Sh.chownPostgres(bbRoot);
        Cleanup.Step rmBb = cleanup.add("remove " + bbRoot, () -> Sh.removeTree(bbRoot));
        progress(m.title() + ": bb1");
        Physical bb1 = basebackup(bbRoot, "bb1");
        long perCopy = Sh.du(bb1.server.dataDir());
        progress(m.title() + ": pgbench on the copy");
        double sel = bb1.server.tps(DB, true, cfg.clients(), cfg.pgbenchSeconds());
        double rw = bb1.server.tps(DB, false, cfg.clients(), cfg.pgbenchSeconds());
        Results.Row row;
        if (runFullParallel(size, perCopy)) {
            progress(m.title() + ": N=" + cfg.parallel() + " at once");
            long p0 = System.nanoTime();
            List<Physical> many = parallel(cfg.parallel(), i -> basebackup(bbRoot, "bb" + (i + 2)));
            long pNanos = System.nanoTime() - p0;
            long pBytes = 0;
            for (Physical p : many) {
                pBytes += Sh.du(p.server.dataDir());
            }
            parallel(many.size(), i -> {
                many.get(i).stop.run();
                Sh.removeTree(many.get(i).server.dataDir());
                return null;
            });
            row = new Results.Row(m, seconds(bb1.nanos), perCopy, seconds(pNanos), pBytes, null, sel, rw, bb1.detail);
        } else {
            row = extrapolated(m, size, seconds(bb1.nanos), perCopy, sel, rw, bb1.detail);
        }
        add(size, row);
        template(size, bb1.server);
        bb1.stop.run();
        rmBb.run();
    }

    private record Physical(Pg server, long nanos, String detail, Cleanup.Step stop) {
    }

    private Physical basebackup(Path root, String name) {
        Path dir = root.resolve(name);
        long t = System.nanoTime();
        Sh.Result bb = source.client(Duration.ofMinutes(120), "pg_basebackup", "-D", dir.toString(), "-X", "stream",
                "-c", "fast").check();
        Pg server = new Pg(cfg.pgBin(), dir, runDir, Postgres.freePort());
        Cleanup.Step stop = cleanup.add("stop " + name, server::close);
        long s = System.nanoTime();
        server.start();
        long started = System.nanoTime() - s;
        server.firstQuery(DB);
        long nanos = System.nanoTime() - t;
        return new Physical(server, nanos, String.format(Locale.ROOT,
                "`pg_basebackup -X stream -c fast` %.1f s + `pg_ctl start -w` %.1f s + first query",
                bb.nanos() / 1e9, started / 1e9), stop);
    }

    private void template(Results.Size size, Pg server) {
        Method m = Method.TEMPLATE;
        progress(m.title() + ": t1 (on the native server of the first pg_basebackup copy)");
        long t = System.nanoTime();
        createFromTemplate(server, "t1");
        long nanos = System.nanoTime() - t;
        long perCopy = server.databaseDirBytes("t1");
        progress(m.title() + ": pgbench on the copy");
        double sel = server.tps("t1", true, cfg.clients(), cfg.pgbenchSeconds());
        double rw = server.tps("t1", false, cfg.clients(), cfg.pgbenchSeconds());
        String detail = "`CREATE DATABASE … TEMPLATE bench STRATEGY FILE_COPY` + first query";
        Results.Row row;
        if (runFullParallel(size, perCopy)) {
            progress(m.title() + ": N=" + cfg.parallel() + " at once");
            long p0 = System.nanoTime();
            parallel(cfg.parallel(), i -> {
                createFromTemplate(server, "t" + (i + 2));
                return null;
            });
            long pNanos = System.nanoTime() - p0;
            long pBytes = 0;
            for (int i = 2; i <= cfg.parallel() + 1; i++) {
                pBytes += server.databaseDirBytes("t" + i);
            }
            row = new Results.Row(m, seconds(nanos), perCopy, seconds(pNanos), pBytes, null, sel, rw, detail);
        } else {
            row = extrapolated(m, size, seconds(nanos), perCopy, sel, rw, detail);
        }
        add(size, row);
    }

    private static void createFromTemplate(Pg server, String name) {
        server.execute("postgres", "create database " + name + " template " + DB + " strategy file_copy");
        server.firstQuery(name);
    }

    // ---- pg_dump | pg_restore into the native server ----------------------------------------------

    private void dumpRestore(Results.Size size) {
        Method m = Method.DUMP_RESTORE;
        Path dumpDir = dir("dump-" + size.scale);
        Sh.chownPostgres(dumpDir);
        Cleanup.Step rmDump = cleanup.add("remove " + dumpDir, () -> Sh.removeTree(dumpDir));
        Path dump = dumpDir.resolve("bench.dump");
        progress(m.title() + ": pg_dump -Fc");
        Sh.Result d = source.client(Duration.ofMinutes(180), "pg_dump", "-Fc", "-f", dump.toString(), DB).check();
        long dumpNanos = d.nanos();
        long dumpBytes = Sh.du(dump);
        progress(String.format(Locale.ROOT, "%s: dump of %s in %.1f s; restore r1", m.title(), Report.bytes(dumpBytes),
                dumpNanos / 1e9));
        long restoreNanos = restore(dump, "r1");
        long perCopy = nativeServer.databaseDirBytes("r1");
        progress(m.title() + ": pgbench on the copy");
        double sel = nativeServer.tps("r1", true, cfg.clients(), cfg.pgbenchSeconds());
        double rw = nativeServer.tps("r1", false, cfg.clients(), cfg.pgbenchSeconds());
        String detail = String.format(Locale.ROOT, "`pg_dump -Fc` %.1f s (dump file %s, not counted as copy storage) + "
                + "`createdb` + `pg_restore -j %d` %.1f s + first query; into a native server on the local disk",
                dumpNanos / 1e9, Report.bytes(dumpBytes), cfg.restoreJobs(), restoreNanos / 1e9);
        double one = seconds(dumpNanos + restoreNanos);
        Results.Row row;
        if (runFullParallel(size, perCopy)) {
            progress(m.title() + ": N=" + cfg.parallel() + " restores of the dump at once");
            long p0 = System.nanoTime();
            parallel(cfg.parallel(), i -> restore(dump, "r" + (i + 2)));
            long pNanos = System.nanoTime() - p0;
            long pBytes = 0;
            for (int i = 2; i <= cfg.parallel() + 1; i++) {
                pBytes += nativeServer.databaseDirBytes("r" + i);
            }
            // one dump serves all N restores: the N copies take the dump plus the simultaneous restores
            row = new Results.Row(m, one, perCopy, seconds(dumpNanos + pNanos), pBytes, null, sel, rw, detail);
        } else {
            row = extrapolated(m, size, one, perCopy, sel, rw, detail);
        }
        add(size, row);
        for (int i = 1; i <= cfg.parallel() + 1; i++) {
            nativeServer.execute("postgres", "drop database if exists r" + i);
        }
        rmDump.run();
    }

    private long restore(Path dump, String name) {
        long t = System.nanoTime();
        nativeServer.client(Duration.ofMinutes(10), "createdb", name).check();
        nativeServer.client(Duration.ofMinutes(240), "pg_restore", "-j", Integer.toString(cfg.restoreJobs()),
                "-d", name, dump.toString()).check();
        nativeServer.firstQuery(name);
        return System.nanoTime() - t;
    }

    // ---- helpers ----------------------------------------------------------------------------------

    /** Whether the N simultaneous full copies are really made at this size (else they are extrapolated). */
    private boolean runFullParallel(Results.Size size, long perCopy) {
        if (size.targetBytes > cfg.fullParallelMax()) {
            return false;
        }
        long need = perCopy * cfg.parallel() * 12 / 10 + (4L << 30);
        long free = work.toFile().getUsableSpace();
        if (free < need) {
            note(size.label + ": not enough free disk for " + cfg.parallel() + " full copies (" + Report.bytes(free)
                    + " free, " + Report.bytes(need) + " needed): extrapolated");
            return false;
        }
        return true;
    }

    /**
     * N simultaneous copies not made: time from the ratio (N copies / one copy) measured for this
     * method at the largest size where they were made (N × one copy when none), storage N × one copy.
     */
    private Results.Row extrapolated(Method m, Results.Size size, double one, long perCopy, double sel, double rw,
                                     String detail) {
        double factor = cfg.parallel();
        String from = cfg.parallel() + " × one copy";
        for (Results.Size s : results.sizes) {
            Results.Row r = s.rows.get(m);
            if (s != size && r != null && r.extrapolated() == null) {
                factor = r.parallelSeconds() / r.createSeconds();
                from = String.format(Locale.ROOT, "one copy × %.2f, the ratio measured at %s", factor, s.label);
            }
        }
        String how = "extrapolated, not run: time = " + from + "; storage = " + cfg.parallel() + " × one copy";
        progress(m.title() + ": " + cfg.parallel() + " simultaneous copies " + how);
        return new Results.Row(m, one, perCopy, one * factor, perCopy * cfg.parallel(), how, sel, rw, detail);
    }

    private void add(Results.Size size, Results.Row r) {
        size.rows.put(r.method(), r);
        progress(String.format(Locale.ROOT, "%s: one copy %.2f s, +%s; %d copies %.2f s, +%s%s%s", r.method().title(),
                r.createSeconds(), Report.bytes(r.perCopyBytes()), cfg.parallel(), r.parallelSeconds(),
                Report.bytes(r.parallelBytes()), r.extrapolated() == null ? "" : " (extrapolated)",
                r.method().hasServer() ? String.format(Locale.ROOT, "; %.0f / %.0f tps", r.tpsSelect(), r.tpsReadWrite())
                        : ""));
    }

    private void note(String s) {
        results.notes.add(s);
        progress("note: " + s);
    }

    /** Waits until the pool's reclaim backlog is empty and its used bytes stop changing (at most a minute). */
    private void settle() {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        long last = -1;
        while (System.nanoTime() < deadline) {
            JsonNode s = pool.json("space");
            long used = s.get("usedBytes").asLong();
            if (s.path("reclaimBacklog").asLong() == 0 && used == last) {
                return;
            }
            last = used;
            Sh.sleep(500);
        }
    }

    /** Runs {@code n} tasks at once and waits for all; the first failure is rethrown. */
    private <T> List<T> parallel(int n, java.util.function.IntFunction<T> task) {
        ExecutorService ex = Executors.newFixedThreadPool(n);
        try {
            List<Future<T>> fs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int k = i;
                fs.add(ex.submit(() -> task.apply(k)));
            }
            List<T> out = new ArrayList<>();
            RuntimeException failure = null;
            for (Future<T> f : fs) {
                try {
                    out.add(f.get());
                } catch (java.util.concurrent.ExecutionException e) {
                    if (failure == null) {
                        failure = new CompareException("a simultaneous copy failed: " + e.getCause().getMessage(),
                                e.getCause());
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new CompareException("interrupted", e);
                }
            }
            if (failure != null) {
                throw failure;
            }
            return out;
        } finally {
            ex.shutdownNow();
        }
    }

    private Path dir(String name) {
        try {
            Path d = Files.createDirectories(work.resolve(name));
            Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
            return d;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    void progress(String msg) {
        long s = (System.nanoTime() - t0) / 1_000_000_000L;
        System.out.printf(Locale.ROOT, "[%02d:%02d] %-7s %s%n", s / 60, s % 60, sizeLabel, msg);
        System.out.flush();
    }

    static double seconds(long nanos) {
        return nanos / 1e9;
    }

    /** {@code 50MB}, {@code 1GB}, {@code 100GiB}, ... in bytes (binary multiples). */
    static long parseSize(String s) {
        String t = s.trim().toUpperCase(Locale.ROOT).replace("IB", "B");
        long mult = 1;
        if (t.endsWith("TB")) {
            mult = 1L << 40;
        } else if (t.endsWith("GB")) {
            mult = 1L << 30;
        } else if (t.endsWith("MB")) {
            mult = 1L << 20;
        } else if (t.endsWith("KB")) {
            mult = 1L << 10;
        }
        String num = t.replaceAll("[A-Z]+$", "");
        return (long) (Double.parseDouble(num) * mult);
    }

    private static String label(String s) {
        return s.trim().toUpperCase(Locale.ROOT).replaceAll("([0-9.])([A-Z])", "$1 $2");
    }

    private static Path repoRoot() {
        String p = System.getProperty("compare.repo");
        if (p != null) {
            return Path.of(p).toAbsolutePath();
        }
        Path d = Path.of("").toAbsolutePath();
        while (d != null && !Files.exists(d.resolve("bin/clonefs"))) {
            d = d.getParent();
        }
        return d == null ? Path.of("").toAbsolutePath() : d;
    }
}
