package io.clonefs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.clonefs.base.Command;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code make bench-fast}: the goals of "a branch answers in a blink and runs like a native copy",
 * each with the native figure beside it, measured in one run, sides alternating from run to run,
 * medians; writes its section of BENCHMARKS.md and a chart (PNG) of TPS per 5 s around a branch.
 *
 * <p>Everything goes through what a user runs: {@code bin/clonefs} against a daemon
 * ({@code clonefs mount}), {@code clonefs pg init/branch/destroy}, pgbench, psql, pg_dump, fio. The
 * native side is a directory on the same disk as the pool; a native copy of a source is made by
 * {@code pg_basebackup -c fast -X stream} from the source while it runs and started on that
 * directory, as a team would make a copy without clonefs.
 *
 * <p>Parts ({@code bench.fast.parts}, default all, in this order):
 * <ul>
 *   <li>{@code cli}: wall time of {@code clonefs --version}, {@code list}, {@code snapshot},
 *       {@code clone}, {@code destroy} against the daemon ({@code bench.fast.cliRuns} each).
 *   <li>{@code io}: fio 1 MiB sequential read of a 1 GiB file with the page cache dropped, on a
 *       fresh clone of the volume that wrote it; fio 8 KiB random write + fsync; initdb; bulk
 *       load ({@code pgbench -i -s 20}).
 *   <li>{@code branch}: {@code clonefs pg branch} of a source serving {@code pgbench -R 50}, from
 *       the command's start to a new client's first answered query ({@code bench.fast.branches}).
 *   <li>{@code source}: read-write pgbench on the source ({@code -c 2}); after 20 s a branch of it
 *       (clonefs) or a {@code CHECKPOINT} (a native copy of the same source): TPS in the
 *       {@code bench.fast.seconds} after.
 *   <li>{@code migration}: on a fresh branch and on a fresh native copy of the source:
 *       {@code pg_dump -Fc}, {@code CREATE INDEX}, {@code ADD COLUMN ... DEFAULT}, a rewrite
 *       ({@code ALTER COLUMN ... TYPE bigint}) and {@code VACUUM FULL}, each timed.
 *   <li>{@code warm}: a second source of {@code bench.fast.warmScale} whose files were just read
 *       (so they sit in the host's page cache); select-only pgbench on a fresh branch and on a
 *       fresh native copy, for {@code bench.fast.seconds} from the moment it answers.
 * </ul>
 * Sizes: {@code bench.fast.scale} (source, default 100: about 1.5 GB), {@code bench.fast.warmScale}
 * (default 350: about 5 GB), {@code bench.fast.runs} (3). The pool, mount, servers and files are
 * removed at the end whatever happens.
 */
public final class FastBench {
    private static final Pattern PROGRESS = Pattern.compile("progress: ([0-9.]+) s, ([0-9.]+) tps");
    private static final Pattern TPS = Pattern.compile("tps = ([0-9.]+) \\(without initial connection time\\)");
    static final String BEGIN = "<!-- bench-fast:begin (written by make bench-fast) -->";
    static final String END = "<!-- bench-fast:end -->";
    private static final int BEFORE_S = 20;

    private final Path dir = Path.of(System.getProperty("bench.fast.dir", "/var/tmp"));
    private final Path launcher = Path.of(System.getProperty("bench.branch.launcher", "bin/clonefs")).toAbsolutePath();
    private final String report = System.getProperty("bench.report");
    private final Path chart = Path.of(System.getProperty("bench.fast.chart", "docs/bench-fast.png")).toAbsolutePath();
    private final Set<String> parts = Set.of(System.getProperty("bench.fast.parts",
            "cli,io,branch,source,migration,warm").split(","));
    private final int runs = Integer.getInteger("bench.fast.runs", 3);
    private final int cliRuns = Integer.getInteger("bench.fast.cliRuns", 9);
    private final int branches = Integer.getInteger("bench.fast.branches", 10);
    private final int scale = Integer.getInteger("bench.fast.scale", 100);
    private final int warmScale = Integer.getInteger("bench.fast.warmScale", 350);
    private final int seconds = Integer.getInteger("bench.fast.seconds", 60);
    private final long started = System.nanoTime();

    /** Rows of the goals table, in order: goal, clonefs, native, ratio, target, met. */
    private final List<String[]> rows = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private final List<Chart.Panel> panels = new ArrayList<>();
    private final List<PgCluster> natives = new ArrayList<>();
    private final Map<String, String> env = new HashMap<>();
    private Path root;
    private Path mnt;
    private Path nativeDir;
    private Path runDir;
    private boolean mounted;
    private boolean cleaned;
    private int srcPort;
    private String freshPages;

    public static void main(String[] args) {
        FastBench b = new FastBench();
        BenchSupport.runCleaningUp("bench-fast", b::run, b::cleanup);
    }

    private static void log(String s) {
        System.out.println("[bench-fast " + Instant.now().toString().substring(11, 19) + "] " + s);
        System.out.flush();
    }

    private void run() throws Exception {
        Class.forName("org.postgresql.Driver");
        root = Files.createTempDirectory(dir, "clonefs-bench-fast-");
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path pool = root.resolve("pool");
        mnt = Files.createDirectories(root.resolve("mnt"));
        nativeDir = Files.createDirectories(root.resolve("native"));
        runDir = Files.createDirectories(root.resolve("run"));
        PgProc.run(Duration.ofSeconds(30), "chown", "postgres:postgres", nativeDir.toString()).check();
        int first = 47000 + (int) (ProcessHandle.current().pid() % 50) * 40;
        env.put("CLONEFS_POOL", pool.toString());
        env.put("CLONEFS_RUN_DIR", runDir.resolve("clonefs").toString());
        env.put("CLONEFS_PG_PORTS", first + "-" + (first + 39));
        cli("init", pool.toString()).check();
        cli("mount", pool.toString(), mnt.toString()).check();
        mounted = true;
        log("pool " + pool + " mounted at " + mnt + "; native files in " + nativeDir);
        freshPages = freshPages();
        log("new page-cache pages: " + freshPages);

        if (parts.contains("cli")) {
            cliPart();
        }
        if (parts.contains("io")) {
            ioPart();
        }
        if (parts.contains("branch") || parts.contains("source") || parts.contains("migration")) {
            srcPort = source("src", scale);
        }
        if (parts.contains("branch")) {
            branchPart();
        }
        if (parts.contains("source")) {
            sourcePart();
        }
        if (parts.contains("migration")) {
            migrationPart();
        }
        if (parts.contains("warm")) {
            warmPart();
        }
        String table = table();
        System.out.println();
        System.out.println(table);
        notes.forEach(n -> System.out.println("- " + n));
        if (!panels.isEmpty()) {
            Chart.write(chart, "clonefs bench-fast, " + Instant.now().toString().substring(0, 16) + " UTC", panels);
            log("chart written to " + chart);
        }
        if (report != null && !report.isEmpty()) {
            writeReport(Path.of(report), table);
        }
    }

    // ---- parts ----------------------------------------------------------------------------------

    private void cliPart() {
        cli("create", "clivol").check();
        Map<String, List<Long>> ms = new LinkedHashMap<>();
        for (int i = 0; i < cliRuns; i++) {
            time(ms, "clonefs --version", "--version");
            time(ms, "clonefs list", "list");
            time(ms, "clonefs snapshot", "snapshot", "clivol@s" + i);
            time(ms, "clonefs clone", "clone", "clivol@s" + i, "c" + i);
            time(ms, "clonefs destroy", "destroy", "c" + i);
            cli("destroy", "clivol@s" + i).check();
        }
        cli("destroy", "clivol").check();
        for (Map.Entry<String, List<Long>> e : ms.entrySet()) {
            long target = e.getKey().equals("clonefs clone") ? 300 : 250;
            long med = BranchBench.pct(e.getValue(), 50);
            add(e.getKey() + " (ms, median; p90 " + BranchBench.pct(e.getValue(), 90) + ")", Long.toString(med), "", "",
                    "≤ " + target + " ms", med <= target);
        }
    }

    private void time(Map<String, List<Long>> ms, String label, String... args) {
        PgProc.Result r = cli(args).check();
        ms.computeIfAbsent(label, k -> new ArrayList<>()).add(r.nanos() / 1_000_000);
    }

    private void ioPart() throws IOException {
        cli("create", "io").check();
        Path vol = mnt.resolve("io");
        Path nat = Files.createDirectories(nativeDir.resolve("io"));
        Map<String, List<Double>> v = new LinkedHashMap<>();
        for (int r = 0; r < runs; r++) {
            for (String side : order(r, "native", "clonefs")) {
                boolean n = side.equals("native");
                Path d = n ? nat : vol;
                // cold sequential read: on clonefs a fresh clone of the volume that wrote the file
                Path seq = d.resolve("seq");
                Files.deleteIfExists(seq);
                PgBench.fio(seq, "--rw=write", "--bs=1m", "--size=1024m", "--end_fsync=1");
                Path readFile = seq;
                if (!n) {
                    cli("snapshot", "io@r" + r).check();
                    cli("clone", "io@r" + r, "ior" + r).check();
                    readFile = mnt.resolve("ior" + r).resolve("seq");
                }
                if (!BenchSupport.dropCaches()) {
                    notes.add("could not drop the page cache: cold reads may be cached");
                }
                JsonNode j = PgBench.fio(readFile, "--rw=read", "--bs=1m", "--size=1024m");
                v.computeIfAbsent("seqread " + side, k -> new ArrayList<>())
                        .add(j.path("jobs").path(0).path("read").path("bw_bytes").asDouble() / 1e6);
                if (!n) {
                    cli("destroy", "ior" + r).check();
                    cli("destroy", "io@r" + r).check();
                }
                Files.deleteIfExists(seq);
                j = PgBench.fio(d.resolve("rand"), "--rw=randwrite", "--bs=8k", "--fsync=1", "--size=256m",
                        "--runtime=20", "--time_based");
                v.computeIfAbsent("randwrite " + side, k -> new ArrayList<>())
                        .add(j.path("jobs").path(0).path("write").path("iops").asDouble());
                Files.deleteIfExists(d.resolve("rand"));
                Path data = d.resolve("data" + r);
                v.computeIfAbsent("initdb " + side, k -> new ArrayList<>()).add(PgCluster.initdb(data) / 1e9);
                try (PgCluster c = new PgCluster("io-" + side + r, data, runDir)) {
                    c.start(PgBench.SETTINGS);
                    PgProc.Result load = c.tool(Duration.ofHours(1), "pgbench", "-i", "-s", "20", "-q", "postgres").check();
                    v.computeIfAbsent("load " + side, k -> new ArrayList<>()).add(load.nanos() / 1e9);
                }
                PgProc.run(Duration.ofMinutes(5), "rm", "-rf", data.toString()).check();
                log(String.format(Locale.ROOT, "io %s run %d: %s", side, r + 1, lastOf(v, side)));
            }
        }
        ratioRow(v, "seqread", "fio 1 MiB sequential read, cold (MB/s; clonefs: a fresh clone)", true, 0.8);
        ratioRow(v, "randwrite", "fio 8 KiB random write + fsync (IOPS)", true, 0.7);
        ratioRow(v, "initdb", "initdb (s)", false, 1.5);
        ratioRow(v, "load", "bulk load `pgbench -i -s 20` (s)", false, 1.2);
        cli("destroy", "io").check();
    }

    private void branchPart() throws Exception {
        Path loadLog = root.resolve("branch-load.log");
        Process load = Command.of(BranchBench.pgbench(srcPort, "-c", "2", "-j", "1", "-R", "50", "-T", "36000", "-n",
                "postgres")).asUser("postgres").directory(Path.of("/tmp")).start(loadLog);
        List<Long> total = new ArrayList<>();
        List<Long> daemon = new ArrayList<>();
        try {
            Thread.sleep(3000);
            for (int i = 0; i < branches; i++) {
                long t0 = System.nanoTime();
                JsonNode b = BranchBench.json(cli("pg", "branch", "src", "lat" + i, "--json").check().output());
                String one = BranchBench.query(b.get("port").asInt(), "select 1");
                long ms = (System.nanoTime() - t0) / 1_000_000;
                if (!"1".equals(one)) {
                    throw new IllegalStateException("branch lat" + i + " answered " + one);
                }
                total.add(ms);
                daemon.add(b.get("millis").get("total").asLong());
                log("branch " + i + ": " + ms + " ms to the first client query; daemon " + b.get("millis"));
                cli("pg", "destroy", "lat" + i).check();
            }
        } finally {
            load.destroy();
            load.waitFor(30, TimeUnit.SECONDS);
        }
        long p50 = BranchBench.pct(total, 50);
        long p99 = BranchBench.pct(total, 99);
        add("`pg branch` + first client query, source under `pgbench -R 50` (ms, p50 of " + branches + ")",
                Long.toString(p50), "", "", "≤ 800 ms", p50 <= 800);
        add("the same, p99 (ms; daemon's part p50 " + BranchBench.pct(daemon, 50) + ")", Long.toString(p99), "", "",
                "≤ 1500 ms", p99 <= 1500);
    }

    private void sourcePart() throws Exception {
        PgCluster copy = nativeCopy(srcPort, "source-native");
        List<Double> after = new ArrayList<>();
        List<Double> afterNative = new ArrayList<>();
        List<Double> before = new ArrayList<>();
        List<Double> beforeNative = new ArrayList<>();
        Map<Double, List<Double>> curve = new TreeMap<>();
        Map<Double, List<Double>> curveNative = new TreeMap<>();
        try {
            for (int r = 0; r < runs; r++) {
                for (String side : order(r, "native", "clonefs")) {
                    boolean n = side.equals("native");
                    int port = n ? copy.port() : srcPort;
                    psql(port, "CHECKPOINT");
                    Path log = root.resolve("source-" + side + r + ".log");
                    Process p = Command.of(BranchBench.pgbench(port, "-c", "2", "-j", "2", "-T",
                            Integer.toString(BEFORE_S + seconds), "-n", "-P", "5", "postgres")).asUser("postgres")
                            .directory(Path.of("/tmp")).start(log);
                    Thread.sleep(BEFORE_S * 1000L);
                    if (n) {
                        psql(port, "CHECKPOINT");
                    } else {
                        cli("pg", "branch", "src", "srcb" + r).check();
                    }
                    if (!p.waitFor(seconds + 120L, TimeUnit.SECONDS)) {
                        p.destroyForcibly();
                        throw new IllegalStateException("pgbench on the source did not end");
                    }
                    List<double[]> prog = progress(Files.readString(log));
                    double tps = mean(prog, BEFORE_S, BEFORE_S + seconds);
                    (n ? afterNative : after).add(tps);
                    (n ? beforeNative : before).add(mean(prog, 0, BEFORE_S));
                    for (double[] pt : prog) {
                        (n ? curveNative : curve).computeIfAbsent(pt[0] - BEFORE_S, k -> new ArrayList<>()).add(pt[1]);
                    }
                    log(String.format(Locale.ROOT, "source %s run %d: %.0f tps before, %.0f tps in the %d s after the %s",
                            side, r + 1, mean(prog, 0, BEFORE_S), tps, seconds, n ? "CHECKPOINT" : "branch"));
                    if (!n) {
                        cli("pg", "destroy", "srcb" + r).check();
                    }
                }
            }
        } finally {
            copy.close();
            natives.remove(copy);
        }
        ratioRow("source read-write TPS in the " + seconds + " s after a branch (clonefs) / a CHECKPOINT (native copy)",
                after, afterNative, true, 0.9);
        // not a goal: how much of the above the branch costs, and how much is the source's own speed on clonefs
        double b = median(before) / median(beforeNative);
        rows.add(new String[] {"the same sources in the " + BEFORE_S + " s before (no branch yet; context for the row above)",
                samples(before), samples(beforeNative), PgBench.fmt(b) + "×", "", ""});
        log(String.format(Locale.ROOT, "source before the branch / CHECKPOINT: %s vs native %s = %s×", samples(before),
                samples(beforeNative), PgBench.fmt(b)));
        panels.add(new Chart.Panel("The source (read-write); branch or CHECKPOINT at 0",
                "seconds after the branch / CHECKPOINT", "TPS per 5 s (median of " + runs + " runs)",
                List.of(new Chart.Series("source on clonefs", medianCurve(curve)),
                        new Chart.Series("source on native ext4", medianCurve(curveNative))), 0));
    }

    private static final List<String[]> MIGRATION = List.of(
            new String[] {"pg_dump", null},
            new String[] {"CREATE INDEX", "CREATE INDEX ON pgbench_accounts (abalance)"},
            new String[] {"ADD COLUMN DEFAULT", "ALTER TABLE pgbench_accounts ADD COLUMN c int DEFAULT 1"},
            new String[] {"rewrite (ALTER COLUMN TYPE bigint)", "ALTER TABLE pgbench_accounts ALTER COLUMN abalance TYPE bigint"},
            new String[] {"VACUUM FULL", "VACUUM FULL pgbench_accounts"});

    private void migrationPart() throws Exception {
        String size = BranchBench.query(srcPort, "select pg_size_pretty(pg_database_size('postgres'))");
        Map<String, List<Double>> v = new LinkedHashMap<>();
        for (int r = 0; r < runs; r++) {
            for (String side : order(r, "native", "clonefs")) {
                boolean n = side.equals("native");
                // both sides start from the same state: the source's data in the host's page cache (a
                // native copy is read right after pg_basebackup wrote it; without this a branch could
                // find the source's blocks evicted by the previous run's rewrites)
                readSource("src");
                try (FreshCopy copy = freshCopy(n, "src", srcPort, "mig" + r)) {
                    int port = copy.port();
                    log("migration " + side + " run " + (r + 1) + ": in the page cache before the first step: pool's "
                            + "block files " + resident(root.resolve("pool").resolve("blocks")) + ", native copy "
                            + (n ? resident(nativeDir.resolve("mig" + r + "-native")) : "-"));
                    StringBuilder line = new StringBuilder();
                    for (String[] op : MIGRATION) {
                        long t0 = System.nanoTime();
                        if (op[1] == null) {
                            Path dump = nativeDir.resolve("dump-" + side + r);
                            PgProc.runAsPostgres(Duration.ofHours(1), List.of(PgProc.pgTool("pg_dump"), "-h", "127.0.0.1",
                                    "-p", Integer.toString(port), "-U", "postgres", "-Fc", "-f", dump.toString(), "postgres"))
                                    .check();
                            Files.deleteIfExists(dump);
                        } else {
                            psql(port, op[1]);
                        }
                        double s = (System.nanoTime() - t0) / 1e9;
                        v.computeIfAbsent(op[0] + " " + side, k -> new ArrayList<>()).add(s);
                        line.append(String.format(Locale.ROOT, "%s %.1f s; ", op[0], s));
                    }
                    log("migration " + side + " run " + (r + 1) + ": " + line);
                }
            }
        }
        for (String[] op : MIGRATION) {
            ratioRow(v, op[0], "migration on a fresh copy of " + size + ": " + op[0] + " (s)", false, 1.2);
        }
    }

    private void warmPart() throws Exception {
        int port = source("big", warmScale);
        String size = BranchBench.query(port, "select pg_size_pretty(pg_database_size('postgres'))");
        List<Double> tps = new ArrayList<>();
        List<Double> tpsNative = new ArrayList<>();
        Map<Double, List<Double>> curve = new TreeMap<>();
        Map<Double, List<Double>> curveNative = new TreeMap<>();
        for (int r = 0; r < runs; r++) {
            for (String side : order(r, "native", "clonefs")) {
                boolean n = side.equals("native");
                // the source's data in the host's page cache, as on a busy production host
                readSource("big");
                try (FreshCopy copy = freshCopy(n, "big", port, "warm" + r)) {
                    int p = copy.port();
                    PgProc.Result res = PgProc.runAsPostgres(Duration.ofSeconds(seconds + 600L), BranchBench.pgbench(p, "-S",
                            "-c", "4", "-j", "2", "-T", Integer.toString(seconds), "-P", "5", "-n", "postgres")).check();
                    List<double[]> prog = progress(res.output());
                    Matcher m = TPS.matcher(res.output());
                    double t = m.find() ? Double.parseDouble(m.group(1)) : mean(prog, 0, seconds);
                    (n ? tpsNative : tps).add(t);
                    for (double[] pt : prog) {
                        (n ? curveNative : curve).computeIfAbsent(pt[0], k -> new ArrayList<>()).add(pt[1]);
                    }
                    log(String.format(Locale.ROOT, "warm %s run %d: %.0f tps select-only in its first %d s", side, r + 1, t,
                            seconds));
                }
            }
        }
        ratioRow("select-only TPS in the first " + seconds + " s of a fresh branch / a fresh `pg_basebackup` copy of a "
                + size + " source in the host's page cache", tps, tpsNative, true, 0.8);
        panels.add(new Chart.Panel("A fresh copy of " + size + " (select-only)",
                "seconds after it answers", "TPS per 5 s (median of " + runs + " runs)",
                List.of(new Chart.Series("branch (clonefs)", medianCurve(curve)),
                        new Chart.Series("pg_basebackup copy (native ext4)", medianCurve(curveNative))), Double.NaN));
    }

    // ---- helpers --------------------------------------------------------------------------------

    /** {@code clonefs pg init NAME} and {@code pgbench -i -s SCALE}; returns its port. */
    private int source(String name, int s) throws Exception {
        int port = BranchBench.json(cli("pg", "init", name, "--json").check().output()).get("port").asInt();
        log("source " + name + " on port " + port + ": pgbench -i -s " + s);
        PgProc.runAsPostgres(Duration.ofHours(2), BranchBench.pgbench(port, "-i", "-s", Integer.toString(s), "-I", "dtGvp",
                "-q", "postgres")).check();
        PgProc.runAsPostgres(Duration.ofMinutes(5), BranchBench.pgbench(port, "-c", "2", "-j", "1", "-T", "10", "-n",
                "postgres")).check();
        log("source " + name + ": " + BranchBench.query(port, "select pg_size_pretty(pg_database_size('postgres'))"));
        return port;
    }

    /** A fresh copy of a source being measured: a branch, or a started native copy; closing removes it. */
    private interface FreshCopy extends AutoCloseable {
        int port();

        @Override
        void close() throws IOException;
    }

    /** A branch {@code name} of {@code source}, or (native) a {@code pg_basebackup} copy of the server on {@code port}. */
    private FreshCopy freshCopy(boolean nativeSide, String source, int port, String name) throws IOException {
        if (nativeSide) {
            PgCluster c = nativeCopy(port, name + "-native");
            return new FreshCopy() {
                @Override
                public int port() {
                    return c.port();
                }

                @Override
                public void close() {
                    c.close();
                    natives.remove(c);
                    PgProc.run(Duration.ofMinutes(10), "rm", "-rf", c.dataDir().toString()).check();
                }
            };
        }
        int p = BranchBench.json(cli("pg", "branch", source, name, "--json").check().output()).get("port").asInt();
        return new FreshCopy() {
            @Override
            public int port() {
                return p;
            }

            @Override
            public void close() {
                cli("pg", "destroy", name).check();
            }
        };
    }

    /** A native copy of the server on {@code port}: {@code pg_basebackup} into the native directory, started. */
    private PgCluster nativeCopy(int port, String name) throws IOException {
        Path data = nativeDir.resolve(name);
        PgProc.runAsPostgres(Duration.ofHours(1), List.of(PgProc.pgTool("pg_basebackup"), "-h", "127.0.0.1", "-p",
                Integer.toString(port), "-U", "postgres", "-D", data.toString(), "-c", "fast", "-X", "stream")).check();
        PgCluster c = new PgCluster(name, data, runDir);
        natives.add(c);
        c.start(List.of());
        return c;
    }

    /**
     * What filling new page-cache pages costs here: a 512 MiB file written (no sync) into the native
     * directory, deleted, and written again at once into the pages just freed. A fresh branch's first
     * reads fill new pages of its own; a native copy filled its pages while it was written, before any
     * timing. On a virtual machine that hands free memory back to its host, the first is far slower.
     */
    private String freshPages() throws IOException {
        double[] s = new double[2];
        ByteBuffer mib = ByteBuffer.allocateDirect(1 << 20);
        for (int i = 0; i < 2; i++) {
            Path f = nativeDir.resolve("pages" + i);
            long t0 = System.nanoTime();
            try (FileChannel c = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                for (int m = 0; m < 512; m++) {
                    mib.clear();
                    while (mib.hasRemaining()) {
                        c.write(mib);
                    }
                }
            }
            s[i] = (System.nanoTime() - t0) / 1e9;
            Files.delete(f);
        }
        return String.format(Locale.ROOT, "512 MiB written into a new file without sync: %.2f s into the memory the "
                + "kernel had free, then %.2f s into the pages that file had just freed", s[0], s[1]);
    }

    /** Reads every file of the source {@code name} once through the mount, so that its blocks sit in the page cache. */
    private void readSource(String name) {
        PgProc.run(Duration.ofHours(1), "sh", "-c", "find '" + mnt.resolve(name) + "' -type f -exec cat {} + > /dev/null");
    }

    /** How much of the files under {@code dir} sits in the page cache, from util-linux's {@code fincore}: "R of S MiB". */
    private static String resident(Path dir) {
        String out = BenchSupport.run("sh", "-c", "find '" + dir + "' -type f -exec fincore -b -n -o RES,SIZE {} +");
        if (out == null) {
            return "unknown (fincore failed)";
        }
        long res = 0;
        long size = 0;
        for (String l : out.strip().split("\n")) {
            String[] f = l.trim().split("\\s+");
            if (f.length == 2) {
                res += Long.parseLong(f[0]);
                size += Long.parseLong(f[1]);
            }
        }
        return String.format(Locale.ROOT, "%d of %d MiB", res >> 20, size >> 20);
    }

    private void psql(int port, String sql) {
        PgProc.runAsPostgres(Duration.ofHours(1), List.of(PgProc.pgTool("psql"), "-h", "127.0.0.1", "-p",
                Integer.toString(port), "-U", "postgres", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql, "postgres")).check();
    }

    private PgProc.Result cli(String... args) {
        List<String> cmd = new ArrayList<>(List.of(launcher.toString()));
        cmd.addAll(List.of(args));
        return PgProc.run(Duration.ofMinutes(30), cmd, env);
    }

    /** pgbench's {@code -P} lines as (seconds, tps). */
    static List<double[]> progress(String out) {
        List<double[]> l = new ArrayList<>();
        Matcher m = PROGRESS.matcher(out);
        while (m.find()) {
            l.add(new double[] {Double.parseDouble(m.group(1)), Double.parseDouble(m.group(2))});
        }
        return l;
    }

    /** Mean TPS of the progress intervals that end in {@code (from, to]}. */
    static double mean(List<double[]> prog, double from, double to) {
        return prog.stream().filter(p -> p[0] > from && p[0] <= to).mapToDouble(p -> p[1]).average().orElse(Double.NaN);
    }

    private static List<double[]> medianCurve(Map<Double, List<Double>> byX) {
        List<double[]> l = new ArrayList<>();
        byX.forEach((x, ys) -> l.add(new double[] {x, median(ys)}));
        return l;
    }

    static double median(List<Double> v) {
        if (v.isEmpty()) {
            return Double.NaN;
        }
        List<Double> s = new ArrayList<>(v);
        Collections.sort(s);
        return s.size() % 2 == 1 ? s.get(s.size() / 2) : (s.get(s.size() / 2 - 1) + s.get(s.size() / 2)) / 2;
    }

    private static List<String> order(int run, String... sides) {
        List<String> l = new ArrayList<>(Arrays.asList(sides));
        if (run % 2 == 1) {
            Collections.reverse(l);
        }
        return l;
    }

    private static String lastOf(Map<String, List<Double>> v, String side) {
        StringBuilder s = new StringBuilder();
        v.forEach((k, l) -> {
            if (k.endsWith(" " + side)) {
                s.append(k, 0, k.length() - side.length() - 1).append(' ').append(PgBench.fmt(l.get(l.size() - 1))).append("; ");
            }
        });
        return s.toString();
    }

    private void ratioRow(Map<String, List<Double>> v, String key, String label, boolean higherIsBetter, double goal) {
        ratioRow(label, v.getOrDefault(key + " clonefs", List.of()), v.getOrDefault(key + " native", List.of()),
                higherIsBetter, goal);
    }

    private void ratioRow(String label, List<Double> clonefs, List<Double> nat, boolean higherIsBetter, double goal) {
        double c = median(clonefs);
        double n = median(nat);
        double ratio = c / n;
        boolean met = higherIsBetter ? ratio >= goal : ratio <= goal;
        add(label, samples(clonefs), samples(nat), PgBench.fmt(ratio) + "×", (higherIsBetter ? "≥ " : "≤ ") + goal + "×", met);
    }

    private static String samples(List<Double> v) {
        if (v.isEmpty()) {
            return "";
        }
        StringBuilder b = new StringBuilder("**").append(PgBench.fmt(median(v))).append("**");
        if (v.size() > 1) {
            b.append(" (");
            for (int i = 0; i < v.size(); i++) {
                b.append(i == 0 ? "" : ", ").append(PgBench.fmt(v.get(i)));
            }
            b.append(')');
        }
        return b.toString();
    }

    private void add(String goal, String clonefs, String nat, String ratio, String target, boolean met) {
        rows.add(new String[] {goal, clonefs, nat, ratio, target, met ? "met" : "**missed**"});
        log(goal + ": " + clonefs + (nat.isEmpty() ? "" : " vs native " + nat + " = " + ratio) + " (goal " + target + ", "
                + (met ? "met" : "missed") + ")");
    }

    private String table() {
        StringBuilder s = new StringBuilder("| goal | clonefs | native | ratio | target | |\n|---|---|---|---|---|---|\n");
        for (String[] r : rows) {
            s.append("| ").append(String.join(" | ", r)).append(" |\n");
        }
        return s.toString();
    }

    private void writeReport(Path file, String table) throws IOException {
        StringBuilder s = new StringBuilder();
        s.append(BEGIN).append('\n').append("## A branch as fast as a native copy (make bench-fast)\n\n");
        s.append("Run ").append(Instant.now().toString(), 0, 16).append(" UTC by `make bench-fast` (`FastBench`, options `")
                .append(String.join(" ", options())).append("`); it took ")
                .append(String.format(Locale.ROOT, "%.1f", (System.nanoTime() - started) / 60e9))
                .append(" min. Every figure below was printed by that run; clonefs and native alternate from run to run; "
                        + "bold is the median, the runs in brackets in the order they were taken.\n\n");
        s.append("Machine:\n\n").append(BenchSupport.machine(root));
        if (freshPages != null) {
            s.append("- new page-cache pages (").append(freshPages).append(")\n");
        }
        s.append('\n');
        s.append(table).append('\n');
        if (!panels.isEmpty()) {
            s.append("![TPS per 5 s around a branch](").append(relative(file, chart)).append(")\n\n");
        }
        s.append("Method (`FastBench`, tools/src/main/java/io/clonefs/bench/FastBench.java): every command as a "
                + "user runs it (`bin/clonefs` against its daemon, pgbench, psql, pg_dump, fio); a native copy is "
                + "`pg_basebackup -c fast -X stream` of the running source into a directory on the same disk as the "
                + "pool, started right after; PostgreSQL 15 with default settings on both sides.\n\n");
        s.append("- CLI: wall time of each command run by the benchmark as a process (`bin/clonefs`, with the "
                + "class-data archive `make build` made), ").append(cliRuns).append(" times each.\n");
        s.append("- fio: a 1 GiB file written with 1 MiB writes and fsync'd, then (clonefs: snapshot and clone of "
                + "the volume) the page cache dropped and the file read with 1 MiB reads; 8 KiB random writes with "
                + "an fsync each into a new 256 MiB file for 20 s. initdb and `pgbench -i -s 20` into a new data "
                + "directory on each side.\n");
        s.append("- pg branch: the source (`pgbench -i -s ").append(scale).append("`) serves `pgbench -c 2 -R 50`; "
                + "from the start of `clonefs pg branch` to a new JDBC connection's answered `SELECT 1`.\n");
        s.append("- Source: read-write `pgbench -c 2 -j 2` for ").append(BEFORE_S).append(" s, then a branch of it "
                + "(clonefs) or a `CHECKPOINT` (native copy), TPS over the next ").append(seconds).append(" s.\n");
        s.append("- Migration: each step in this order on a fresh branch and on a fresh native copy of the source, "
                + "timed by psql's wall time (`pg_dump -Fc` to a file on the native disk); the source's files are read "
                + "once before each copy, so both sides start with the source in the host's page cache (the log shows "
                + "`fincore`'s count before the first step); the branch's first reads (`pg_dump`) fill new page-cache "
                + "pages of its own, which the native copy filled while `pg_basebackup` wrote it (the machine's line on "
                + "new page-cache pages says what that costs here).\n");
        s.append("- Fresh copy: a second source (`pgbench -i -s ").append(warmScale).append("`) whose files are read "
                + "once before each copy (so they sit in the host's page cache); `pgbench -S -c 4 -j 2` for ")
                .append(seconds).append(" s from the moment the copy answers.\n");
        if (scale < 100 || warmScale < 350) {
            s.append("- This run is smaller than the goals' sizes (migrations on ≥ 1.5 GB: `-Dbench.fast.scale=100`; "
                    + "the fresh copy of 5 GB: `-Dbench.fast.warmScale=350`, the defaults).\n");
        }
        for (String n : notes) {
            s.append("- ").append(n).append('\n');
        }
        s.append(END).append('\n');
        BenchSupport.replaceSection(file, BEGIN, END, s);
        log("wrote the bench-fast section of " + file);
    }

    private static String relative(Path report, Path target) {
        Path base = report.toAbsolutePath().getParent();
        return base == null ? target.toString() : base.relativize(target).toString();
    }

    private List<String> options() {
        List<String> o = new ArrayList<>();
        System.getProperties().forEach((k, val) -> {
            if (k.toString().startsWith("bench.fast.") && !k.toString().equals("bench.fast.chart")) {
                o.add("-D" + k + "=" + val);
            }
        });
        Collections.sort(o);
        return o.isEmpty() ? List.of("defaults") : o;
    }

    private synchronized void cleanup() {
        if (cleaned) {
            return;
        }
        cleaned = true;
        for (PgCluster c : new ArrayList<>(natives)) {
            try {
                c.close();
            } catch (RuntimeException e) {
                log("cannot stop " + c.name() + ": " + e.getMessage());
            }
        }
        if (mounted) {
            PgProc.Result u = cli("umount", mnt.toString());
            if (!u.ok()) {
                log("umount failed, forcing: " + u.output());
                cli("umount", "--force", mnt.toString());
            }
        }
        if (root != null) {
            BenchSupport.deleteTree(root);
        }
    }
}
