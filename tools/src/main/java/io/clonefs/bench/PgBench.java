package io.clonefs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.clonefs.engine.Engine;
import io.clonefs.fuse.Mount;
import io.clonefs.fuse.MountOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code bench-pg}: PostgreSQL 15 and fio on a clonefs volume, on a clone of it, and on a native
 * ext4 directory of the same disk, in one sitting, alternating the order of the targets from run
 * to run, median of {@code bench.pg.runs} runs. Prints a Markdown table and, with
 * {@code -Dbench.report=FILE}, replaces the bench-pg section of that file (BENCHMARKS.md).
 *
 * <p>The pool is mounted in this JVM ({@link Engine} + {@link Mount}); PostgreSQL runs as the
 * {@code postgres} OS user, each server on its own free port with the same settings
 * ({@link #SETTINGS}). Servers are stopped and the mount closed in every case (finally block and
 * shutdown hook).
 *
 * <p>System properties: {@code bench.pg.scale} (pgbench scale, default 20),
 * {@code bench.pg.seconds} (per pgbench run, default 30), {@code bench.pg.runs} (default 3),
 * {@code bench.pg.clients} (default 4), {@code bench.pg.jobs} (default 2), {@code bench.fio.seconds}
 * (random-write run, default 20), {@code bench.fio.seqMiB} (sequential file, default 1024),
 * {@code bench.fio.randMiB} (random-write file, default 256), {@code bench.pg.fio} (default true),
 * {@code bench.pg.dir} (parent of the work directory, default /var/tmp), {@code bench.pg.keep},
 * {@code bench.report}.
 */
public final class PgBench {
    /** postgresql.conf settings of every server (passed as {@code -c}); everything else is initdb's default. */
    static final List<String> SETTINGS = List.of("shared_buffers=128MB", "max_wal_size=1GB", "autovacuum=off");

    enum Target {
        NATIVE("native ext4"), CLONEFS("clonefs volume"), CLONE("clonefs clone");

        final String label;

        Target(String label) {
            this.label = label;
        }
    }

    /** One row of the table: samples per target, and how the clonefs/native ratio is judged. */
    static final class Metric {
        final String label;
        final String unit;
        final boolean higherIsBetter;
        final double goal; // ratio goal (NaN: none)
        final Map<Target, List<Double>> samples = new EnumMap<>(Target.class);

        Metric(String label, String unit, boolean higherIsBetter, double goal) {
            this.label = label;
            this.unit = unit;
            this.higherIsBetter = higherIsBetter;
            this.goal = goal;
        }

        void add(Target t, double v) {
            samples.computeIfAbsent(t, k -> new ArrayList<>()).add(v);
        }

        double median(Target t) {
            List<Double> s = samples.get(t);
            if (s == null || s.isEmpty()) {
                return Double.NaN;
            }
            double[] a = s.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
        }

        String goalText() {
            if (Double.isNaN(goal)) {
                return "";
            }
            return (higherIsBetter ? "≥ " : "≤ ") + fmt(goal);
        }

        String verdict(double ratio) {
            if (Double.isNaN(goal) || Double.isNaN(ratio)) {
                return "";
            }
            return (higherIsBetter ? ratio >= goal : ratio <= goal) ? "met" : "MISSED";
        }
    }

    private static final Pattern TPS = Pattern.compile("tps = ([0-9.]+) \\(without initial connection time\\)");
    /** The mount's writeback cache (on by default); runs without it (-Dclonefs.fuse.writebackCache=false) get a section of their own. */
    private static final boolean WRITEBACK = MountOptions.defaults().writebackCache();
    private static final String SECTION = WRITEBACK ? "bench-pg" : "bench-pg-writethrough";
    private static final String BEGIN = "<!-- " + SECTION + ":begin (written by tools/bench-pg.sh) -->";
    private static final String END = "<!-- " + SECTION + ":end -->";
    private static final String HEADING = WRITEBACK
            ? "## PostgreSQL on clonefs vs native (bench-pg)"
            : "## PostgreSQL on clonefs without the writeback cache vs native (bench-pg, "
                + "`BENCH_PG_OPTS=-Dclonefs.fuse.writebackCache=false`)";

    private final int scale = Integer.getInteger("bench.pg.scale", 20);
    private final int seconds = Integer.getInteger("bench.pg.seconds", 30);
    private final int runs = Integer.getInteger("bench.pg.runs", 3);
    private final int clients = Integer.getInteger("bench.pg.clients", 4);
    private final int jobs = Integer.getInteger("bench.pg.jobs", 2);
    private final int fioSeconds = Integer.getInteger("bench.fio.seconds", 20);
    private final int seqMiB = Integer.getInteger("bench.fio.seqMiB", 1024);
    private final int randMiB = Integer.getInteger("bench.fio.randMiB", 256);
    private final boolean fio = Boolean.parseBoolean(System.getProperty("bench.pg.fio", "true"));
    private final boolean keep = Boolean.getBoolean("bench.pg.keep");
    private final Path parent = Path.of(System.getProperty("bench.pg.dir", "/var/tmp"));
    private final String report = System.getProperty("bench.report");

    private final Map<String, Metric> metrics = new LinkedHashMap<>();
    private final List<String> notes = new ArrayList<>();
    private final List<PgCluster> clusters = new ArrayList<>();
    private final AtomicBoolean cleaned = new AtomicBoolean();
    private final long started = System.nanoTime();
    private Path work;
    private Engine engine;
    private Mount mount;

    public static void main(String[] args) {
        PgBench b = new PgBench();
        BenchSupport.runCleaningUp("bench-pg", b::run, b::cleanup);
    }

    private void run() throws Exception {
        checkTools();
        work = Files.createTempDirectory(parent, "clonefs-bench-pg-");
        PgProc.run(Duration.ofSeconds(30), "chmod", "0755", work.toString()).check();
        log("work directory " + work + " (native ext4 files, the pool and the mount point are all here)");
        Path nativeDir = Files.createDirectories(work.resolve("native"));
        Path pool = work.resolve("pool");
        Path mnt = Files.createDirectories(work.resolve("mnt"));
        Path runDir = Files.createDirectories(work.resolve("run"));
        Engine.init(pool, Engine.DEFAULT_BLOCK_SIZE);
        engine = Engine.open(pool);
        mount = Mount.mount(engine, mnt, MountOptions.defaults());
        engine.createVolume("pg");
        Path volume = mnt.resolve("pg");
        log("mounted clonefs at " + mnt + ", volume pg");

        Metric initdb = metric("initdb", "s", false, Double.NaN);
        Metric load = metric("bulk load `pgbench -i -s " + scale + "`", "s", false, 2.0);
        Metric rw = metric("pgbench read-write (TPC-B), " + clients + " clients, " + seconds + " s", "tps", true, 0.80);
        Metric ro = metric("pgbench select-only (-S), " + clients + " clients, " + seconds + " s", "tps", true, 0.95);

        // initdb: alternating; the last run's directories are the clusters benchmarked below
        Map<Target, Path> dataDirs = new EnumMap<>(Target.class);
        for (int r = 0; r < runs; r++) {
            for (Target t : order(r, Target.NATIVE, Target.CLONEFS)) {
                Path dir = (t == Target.NATIVE ? nativeDir : volume).resolve("data" + r);
                double s = PgCluster.initdb(dir) / 1e9;
                initdb.add(t, s);
                log(String.format(Locale.ROOT, "initdb %-14s run %d: %.2f s", t.label, r + 1, s));
                dataDirs.put(t, dir);
            }
        }
        for (int r = 0; r < runs - 1; r++) {
            PgProc.run(Duration.ofMinutes(5), "rm", "-rf", nativeDir.resolve("data" + r).toString(),
                    volume.resolve("data" + r).toString()).check();
        }

        Map<Target, PgCluster> servers = new EnumMap<>(Target.class);
        for (Target t : List.of(Target.NATIVE, Target.CLONEFS)) {
            PgCluster c = new PgCluster(t.name().toLowerCase(Locale.ROOT), dataDirs.get(t), runDir);
            clusters.add(c);
            c.start(SETTINGS);
            servers.put(t, c);
        }

        for (int r = 0; r < runs; r++) {
            for (Target t : order(r, Target.NATIVE, Target.CLONEFS)) {
                PgProc.Result res = servers.get(t).tool(Duration.ofHours(2), "pgbench", "-i", "-s",
                        Integer.toString(scale), "-q", "postgres").check();
                load.add(t, res.nanos() / 1e9);
                log(String.format(Locale.ROOT, "bulk load %-14s run %d: %.2f s", t.label, r + 1, res.nanos() / 1e9));
            }
        }

        // the clone: CHECKPOINT, flush the mount, snapshot + clone of the live volume, second server
        PgCluster src = servers.get(Target.CLONEFS);
        src.sql("CHECKPOINT");
        long c0 = System.nanoTime();
        mount.syncfs();
        engine.snapshot("pg", "bench");
        engine.cloneVolume("pg@bench", "pgclone");
        long cloneNanos = System.nanoTime() - c0;
        Path cloneData = mnt.resolve("pgclone").resolve(src.dataDir().getFileName());
        Files.deleteIfExists(cloneData.resolve("postmaster.pid"));
        PgCluster clone = new PgCluster("clone", cloneData, runDir);
        clusters.add(clone);
        long s0 = System.nanoTime();
        clone.start(SETTINGS);
        long startNanos = System.nanoTime() - s0;
        servers.put(Target.CLONE, clone);
        notes.add(String.format(Locale.ROOT, "syncfs + snapshot + clone of the live volume (server running, "
                + "after CHECKPOINT): %.1f ms; the clone's server started (crash recovery) in %.0f ms",
                cloneNanos / 1e6, startNanos / 1e6));
        log(notes.get(notes.size() - 1));

        for (int r = 0; r < runs; r++) {
            for (boolean selectOnly : new boolean[] {false, true}) {
                for (Target t : order(r, Target.NATIVE, Target.CLONEFS, Target.CLONE)) {
                    double tps = pgbench(servers.get(t), selectOnly);
                    (selectOnly ? ro : rw).add(t, tps);
                    log(String.format(Locale.ROOT, "pgbench %-11s %-14s run %d: %.1f tps",
                            selectOnly ? "select-only" : "read-write", t.label, r + 1, tps));
                }
            }
        }
        for (PgCluster c : clusters) {
            c.close();
        }

        if (fio) {
            engine.createVolume("fio");
            runFio(Files.createDirectories(work.resolve("fio")), mnt.resolve("fio"));
        }

        String table = table();
        System.out.println();
        System.out.println(table);
        for (String n : notes) {
            System.out.println("- " + n);
        }
        if (report != null) {
            writeReport(Path.of(report), table);
        }
    }

    // ---- pgbench ----------------------------------------------------------------------------

    private double pgbench(PgCluster c, boolean selectOnly) {
        List<String> args = new ArrayList<>(List.of("-c", Integer.toString(clients), "-j", Integer.toString(jobs),
                "-T", Integer.toString(seconds)));
        if (selectOnly) {
            args.add("-S");
        }
        args.add("postgres");
        // every target alike: no run pays for writing back the dirty pages of the run before it
        c.sql("CHECKPOINT");
        PgProc.Result r = c.tool(Duration.ofSeconds(seconds * 3L + 600), "pgbench", args.toArray(String[]::new)).check();
        Matcher m = TPS.matcher(r.output());
        if (!m.find()) {
            throw new IllegalStateException("no tps in pgbench output:\n" + r.output());
        }
        return Double.parseDouble(m.group(1));
    }

    // ---- fio --------------------------------------------------------------------------------

    private void runFio(Path nativeDir, Path cloneFsDir) throws IOException {
        Metric rand = metric("fio 8 KiB random write + fsync each (`--rw=randwrite --bs=8k --fsync=1`), "
                + randMiB + " MiB file, " + fioSeconds + " s", "IOPS", true, Double.NaN);
        Metric seqW = metric("fio 1 MiB sequential write, " + seqMiB + " MiB new file, final fsync counted", "MB/s",
                true, Double.NaN);
        Metric seqR = metric("fio 1 MiB sequential read, " + seqMiB + " MiB, page cache dropped first", "MB/s",
                true, Double.NaN);
        Map<Target, Path> dirs = Map.of(Target.NATIVE, nativeDir, Target.CLONEFS, cloneFsDir);
        for (int r = 0; r < runs; r++) {
            for (Target t : order(r, Target.NATIVE, Target.CLONEFS)) {
                Path dir = dirs.get(t);
                JsonNode j = fio(dir.resolve("rand"), "--rw=randwrite", "--bs=8k", "--fsync=1", "--size=" + randMiB + "m",
                        "--runtime=" + fioSeconds, "--time_based");
                double iops = j.path("jobs").path(0).path("write").path("iops").asDouble();
                rand.add(t, iops);

                Path seq = dir.resolve("seq");
                Files.deleteIfExists(seq);
                long w0 = System.nanoTime();
                fio(seq, "--rw=write", "--bs=1m", "--size=" + seqMiB + "m", "--end_fsync=1");
                double wMBs = seqMiB * 1048576.0 / 1e6 / ((System.nanoTime() - w0) / 1e9);
                seqW.add(t, wMBs);

                dropCaches();
                j = fio(seq, "--rw=read", "--bs=1m", "--size=" + seqMiB + "m");
                double rMBs = j.path("jobs").path(0).path("read").path("bw_bytes").asDouble() / 1e6;
                seqR.add(t, rMBs);
                log(String.format(Locale.ROOT, "fio %-14s run %d: randwrite+fsync %.0f IOPS, seq write %.0f MB/s, "
                        + "seq read %.0f MB/s", t.label, r + 1, iops, wMBs, rMBs));
            }
        }
    }

    static JsonNode fio(Path file, String... job) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("fio", "--name=bench", "--filename=" + file, "--ioengine=psync",
                "--fallocate=none", "--output-format=json"));
        cmd.addAll(Arrays.asList(job));
        PgProc.Result r = PgProc.run(Duration.ofMinutes(30), cmd).check();
        String out = r.output();
        int brace = out.indexOf('{');
        if (brace < 0) {
            throw new IllegalStateException("no JSON in fio output:\n" + out);
        }
        return new ObjectMapper().readTree(out.substring(brace));
    }

    private void dropCaches() {
        PgProc.run(Duration.ofMinutes(5), "sync");
        try {
            Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "3");
        } catch (IOException e) {
            notes.add("could not drop the page cache (" + e.getMessage() + "): sequential reads may be cached");
        }
    }

    // ---- report -----------------------------------------------------------------------------

    private Metric metric(String label, String unit, boolean higherIsBetter, double goal) {
        Metric m = new Metric(label, unit, higherIsBetter, goal);
        metrics.put(label, m);
        return m;
    }

    private String table() {
        StringBuilder s = new StringBuilder();
        s.append("| measurement (median of ").append(runs).append(") | native ext4 | clonefs volume | clonefs clone "
                + "| clonefs / native | clone / native | goal (ratio) | |\n");
        s.append("|---|---|---|---|---|---|---|---|\n");
        for (Metric m : metrics.values()) {
            double n = m.median(Target.NATIVE);
            double c = m.median(Target.CLONEFS);
            double k = m.median(Target.CLONE);
            double rc = c / n;
            double rk = k / n;
            String verdict = m.verdict(rc);
            if (!Double.isNaN(rk) && !m.verdict(rk).isEmpty()) {
                verdict = verdict + " / " + m.verdict(rk);
            }
            s.append("| ").append(m.label).append(" (").append(m.unit).append(") | ")
                    .append(cell(m, Target.NATIVE)).append(" | ")
                    .append(cell(m, Target.CLONEFS)).append(" | ")
                    .append(cell(m, Target.CLONE)).append(" | ")
                    .append(fmt(rc)).append(" | ")
                    .append(Double.isNaN(rk) ? "" : fmt(rk)).append(" | ")
                    .append(m.goalText()).append(" | ")
                    .append(verdict).append(" |\n");
        }
        return s.toString();
    }

    private static String cell(Metric m, Target t) {
        List<Double> s = m.samples.get(t);
        if (s == null || s.isEmpty()) {
            return "";
        }
        StringBuilder b = new StringBuilder("**").append(fmt(m.median(t))).append("**");
        if (s.size() > 1) {
            b.append(" (");
            for (int i = 0; i < s.size(); i++) {
                b.append(i == 0 ? "" : ", ").append(fmt(s.get(i)));
            }
            b.append(')');
        }
        return b.toString();
    }

    static String fmt(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return "";
        }
        if (Math.abs(v) >= 100) {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        if (Math.abs(v) >= 10) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        return String.format(Locale.ROOT, "%.2f", v);
    }

    private void writeReport(Path file, String table) throws IOException {
        StringBuilder s = new StringBuilder();
        s.append(BEGIN).append('\n').append(HEADING).append("\n\n");
        s.append("Run ").append(ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm")))
                .append(" UTC by `tools/bench-pg.sh` (`PgBench`): pgbench scale ").append(scale).append(", ")
                .append(clients).append(" clients, ").append(jobs).append(" threads, ").append(seconds)
                .append(" s per run, ").append(runs).append(" runs per target, alternating the order of the targets "
                        + "from run to run; the whole run took ")
                .append(String.format(Locale.ROOT, "%.1f", (System.nanoTime() - started) / 60e9))
                .append(" min. Every figure below was printed by that run; each cell is the median, the runs in "
                        + "brackets in the order they were taken.\n\n");
        s.append("Machine:\n\n").append(machine(work)).append('\n');
        s.append(table).append('\n');
        s.append("Method:\n\n");
        s.append("- One JVM mounts a fresh pool (block size 8 KiB, default `EngineOptions`: group commit every 1 s) "
                + "with `Mount.mount(engine, mnt, MountOptions.defaults())`; the native target is a directory on the "
                + "same ext4 disk, next to the pool. Kernel writeback cache (1 MiB write-back requests): "
                + (WRITEBACK ? "on (the default)" : "off (`-Dclonefs.fuse.writebackCache=false`)") + ".\n");
        s.append("- PostgreSQL 15 (Debian), run as `postgres`, same settings on every server: `initdb -E UTF8 "
                + "--locale=C --auth=trust` and `-c ").append(String.join(" -c ", SETTINGS))
                .append("`; fsync, synchronous_commit, full_page_writes and wal_sync_method are the defaults "
                        + "(on, on, on, fdatasync). Clients connect over TCP to 127.0.0.1.\n");
        s.append("- initdb and bulk load: `initdb` into a new directory, and `pgbench -i -s ").append(scale)
                .append("` (drop, create, load, vacuum, primary keys), wall-clock time, alternating native and "
                        + "clonefs.\n");
        s.append("- The clone: on the running clonefs server `CHECKPOINT`, then `Mount.syncfs()`, "
                + "`Engine.snapshot(\"pg\", \"bench\")`, `Engine.cloneVolume(\"pg@bench\", \"pgclone\")`; "
                + "`postmaster.pid` removed on the clone and a second server started on it (own port), which "
                + "recovers from WAL. All three servers stay up during the pgbench runs; the source and the clone "
                + "share every block at first, so their first writes copy.\n");
        s.append("- pgbench: `pgbench -c ").append(clients).append(" -j ").append(jobs).append(" -T ").append(seconds)
                .append("` (TPC-B-like read-write) and the same with `-S` (select-only); tps without the initial "
                        + "connection time. Each run does read-write on all three targets, then select-only; a "
                        + "`CHECKPOINT` on the target's server precedes every pgbench run (on every target alike), so "
                        + "that no run pays for writing back the pages the run before it dirtied (on the mount that "
                        + "write-back also costs a FUSE getattr round trip per `lseek(SEEK_END)` after each write, "
                        + "since the kernel then drops the cached size).\n");
        if (fio) {
            s.append("- fio (`--ioengine=psync --fallocate=none`, one job): random writes `--rw=randwrite --bs=8k "
                    + "--fsync=1` on a ").append(randMiB).append(" MiB file for ").append(fioSeconds)
                    .append(" s (IOPS as fio reports them); sequential write of a new ").append(seqMiB)
                    .append(" MiB file with `--bs=1m --end_fsync=1` (MB/s = size / wall-clock time of the fio "
                            + "command, final fsync included); then `sync`, `echo 3 > /proc/sys/vm/drop_caches` "
                            + "and a sequential read of it (`--bs=1m`, fio's bandwidth). MB = 10^6 bytes.\n");
        }
        s.append("- Ratios are clonefs / native (and clone / native) of the medians; for times, lower is better.\n");
        s.append("- Timings on this 2-core machine drift (other builds may run at the same time): compare only "
                + "columns of one run.\n");
        for (String n : notes) {
            s.append("- ").append(n).append('\n');
        }
        s.append(END).append('\n');

        BenchSupport.replaceSection(file, BEGIN, END, s);
        log("wrote the bench-pg section of " + file);
    }

    private static String machine(Path dir) {
        StringBuilder s = new StringBuilder();
        s.append("- CPUs (`nproc`): ").append(PgProc.quiet("nproc"));
        String model = PgProc.quiet("sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2");
        if (model != null && !model.isBlank()) {
            s.append(" × ").append(model.trim());
        }
        s.append('\n');
        String mem = PgProc.quiet("sh", "-c", "grep MemTotal /proc/meminfo");
        if (mem != null) {
            long kib = Long.parseLong(mem.replaceAll("[^0-9]", ""));
            s.append(String.format(Locale.ROOT, "- memory: %.1f GiB%n", kib / 1048576.0));
        }
        String df = PgProc.quiet("df", "-h", "--output=source,fstype,size,avail", dir.toString());
        if (df != null) {
            String[] lines = df.split("\n");
            s.append("- disk of the native directory and the pool (`df -h`): `")
                    .append(lines[lines.length - 1].trim().replaceAll("\\s+", " ")).append("` (source, type, size, available)\n");
        }
        String lsblk = PgProc.quiet("lsblk", "-d", "-n", "-o", "NAME,SIZE,ROTA,MODEL");
        if (lsblk != null && !lsblk.isBlank()) {
            s.append("- disks (`lsblk -d -o NAME,SIZE,ROTA,MODEL`): ")
                    .append(String.join("; ", lsblk.lines().map(l -> "`" + l.trim().replaceAll("\\s+", " ") + "`").toList()))
                    .append('\n');
        }
        s.append("- kernel: ").append(PgProc.quiet("uname", "-sr")).append('\n');
        s.append("- java: ").append(System.getProperty("java.vm.name")).append(' ')
                .append(System.getProperty("java.runtime.version")).append('\n');
        String pg = PgProc.quiet(PgProc.pgTool("postgres"), "--version");
        s.append("- PostgreSQL: ").append(pg).append("; fio: ").append(PgProc.quiet("fio", "--version")).append('\n');
        return s.toString();
    }

    // ---- plumbing ---------------------------------------------------------------------------

    /** The targets in the given order on even runs, reversed on odd runs. */
    private static List<Target> order(int run, Target... targets) {
        List<Target> l = new ArrayList<>(Arrays.asList(targets));
        if (run % 2 == 1) {
            java.util.Collections.reverse(l);
        }
        return l;
    }

    private void checkTools() {
        if (!Files.isExecutable(Path.of(PgProc.pgTool("pgbench")))) {
            throw new IllegalStateException("PostgreSQL 15 is not installed in " + PgProc.PG_BIN);
        }
        if (fio && PgProc.quiet("fio", "--version") == null) {
            log("fio is missing: apt-get install -y fio");
            PgProc.run(Duration.ofMinutes(10), "apt-get", "install", "-y", "fio").check();
        }
    }

    private void log(String msg) {
        System.out.printf(Locale.ROOT, "[bench-pg %6.1f s] %s%n", (System.nanoTime() - started) / 1e9, msg);
    }

    /** Stops every server, unmounts, closes the engine and removes the work directory. Idempotent. */
    private void cleanup() {
        if (!cleaned.compareAndSet(false, true)) {
            return;
        }
        for (int i = clusters.size() - 1; i >= 0; i--) {
            try {
                clusters.get(i).close();
            } catch (RuntimeException e) {
                System.err.println("cannot stop PostgreSQL " + clusters.get(i).name() + ": " + e);
            }
        }
        if (mount != null) {
            try {
                mount.close();
            } catch (RuntimeException e) {
                System.err.println("cannot unmount: " + e);
            }
        }
        if (engine != null) {
            try {
                engine.close();
            } catch (RuntimeException e) {
                System.err.println("cannot close the engine: " + e);
            }
        }
        if (work != null && !keep) {
            if (stillMounted(work)) {
                System.err.println("not removing " + work + ": something is still mounted below it");
            } else {
                PgProc.run(Duration.ofMinutes(10), "rm", "-rf", work.toString());
            }
        }
    }

    private static boolean stillMounted(Path dir) {
        try {
            return Files.readAllLines(Path.of("/proc/mounts")).stream()
                    .anyMatch(l -> l.split(" ").length > 1 && l.split(" ")[1].startsWith(dir.toString()));
        } catch (IOException e) {
            return true;
        }
    }
}
