package io.clonefs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.clonefs.base.Command;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Hundreds of branches on one host (issue 16): how many branches of one source the host holds when
 * idle branches sleep, what each costs, and how fast a sleeping one answers.
 *
 * <p>One pool under {@code bench.scale.dir}: {@code clonefs init}, {@code clonefs mount} with
 * {@code CLONEFS_PG_SUSPEND_AFTER} = {@code bench.scale.idle} (branches sleep when idle) and a port
 * range of {@code bench.scale.ports}, {@code clonefs pg init src}, {@code pgbench -i -s SCALE}
 * (about 1 GB at 68), a CHECKPOINT. The baseline is the host's memory in use
 * ({@code MemTotal - MemAvailable}) and the pool's disk usage with the source alone, idle. Then for
 * each N of {@code bench.scale.counts}, branches are added one by one up to N, as a user does
 * ({@code clonefs pg branch src bK --json}, then a JDBC query on its port), and:
 * <ul>
 *   <li>creation: the command plus the first answered query, p50/p99 of the branches added in this
 *       step, and the last one's;</li>
 *   <li>all idle: once every branch is listed {@code suspended}, the host's memory in use above the
 *       baseline, the daemon's RSS, the pool's growth on disk;</li>
 *   <li>wake: {@code bench.scale.wakes} sleeping branches picked at random, one at a time: a JDBC
 *       connection to its port and a query of its data, timed from the connect to the answer;</li>
 *   <li>active: {@code bench.scale.active} branches under a light load ({@code pgbench -c 1 -R 5}
 *       each) while the source runs {@code pgbench -S -c 2} for {@code bench.scale.seconds}; and the
 *       same source run with no branch active, alternating, {@code bench.scale.rounds} rounds,
 *       medians; memory in use sampled during the loaded runs.</li>
 * </ul>
 * Teardown: {@code clonefs umount}, the pool deleted. Prints a table, rewrites its section of
 * {@code bench.report} and draws {@code bench.scale.chart} (memory and wake latency vs N).
 */
public final class ScaleBench {
    static final String BEGIN = "<!-- bench-scale:begin (written by make bench-scale) -->";
    static final String END = "<!-- bench-scale:end -->";

    private final int pgScale = Integer.getInteger("bench.scale.pgScale", 68);
    private final int wakes = Integer.getInteger("bench.scale.wakes", 20);
    private final int active = Integer.getInteger("bench.scale.active", 10);
    private final int seconds = Integer.getInteger("bench.scale.seconds", 15);
    private final int rounds = Integer.getInteger("bench.scale.rounds", 3);
    private final String idle = System.getProperty("bench.scale.idle", "5s");
    private final String ports = System.getProperty("bench.scale.ports", "48000-48399");
    private final Path dir = Path.of(System.getProperty("bench.scale.dir", "/var/tmp"));
    private final Path launcher = Path.of(System.getProperty("bench.branch.launcher", "bin/clonefs")).toAbsolutePath();
    private final String report = System.getProperty("bench.report");
    private final Path chart = Path.of(System.getProperty("bench.scale.chart", "docs/bench-scale.png"));
    private final Random random = new Random(16);
    private final List<Row> rows = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private String source = "";
    /** The host's load average (1 min) sampled at each step's start and end. */
    private final List<String> loads = new ArrayList<>();
    /** The daemon's RSS with the source alone, idle. */
    private long baseRss;

    /** What one N measured. */
    record Row(int n, int added, long createP50, long createP99, long createLast, long idleMemBytes, long branchPssBytes,
               long daemonRssBytes,
               long poolGrowthBytes, int wakesDone, long wakeP50, long wakeP99, long wakeMax, long activeMemBytes,
               double sourceTpsAlone, double sourceTpsActive, long runningIdle, long ownIdleBytes, long ownActiveBytes) {
    }

    public static void main(String[] args) throws Exception {
        new ScaleBench().run(System.getProperty("bench.scale.counts", "10,50,200"));
    }

    private static void log(String s) {
        System.out.println("[bench-scale " + Instant.now().toString().substring(11, 19) + "] " + s);
        System.out.flush();
    }

    void run(String counts) throws Exception {
        Class.forName("org.postgresql.Driver");
        List<Integer> ns = new ArrayList<>();
        for (String s : counts.split(",")) {
            ns.add(Integer.parseInt(s.trim()));
        }
        Collections.sort(ns);
        long t0 = System.nanoTime();
        Path root = Files.createTempDirectory(dir, "clonefs-scale-bench-");
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path pool = root.resolve("pool");
        poolDir = pool;
        Path mnt = Files.createDirectories(root.resolve("mnt"));
        mountDir = mnt;
        Files.setPosixFilePermissions(mnt, PosixFilePermissions.fromString("rwxr-xr-x"));
        Map<String, String> env = new HashMap<>();
        env.put("CLONEFS_POOL", pool.toString());
        env.put("CLONEFS_RUN_DIR", root.resolve("run").toString());
        env.put("CLONEFS_PG_PORTS", ports);
        env.put("CLONEFS_PG_SUSPEND_AFTER", idle);
        boolean mounted = false;
        try {
            cli(env, "init", pool.toString()).check();
            cli(env, "mount", pool.toString(), mnt.toString()).check();
            mounted = true;
            int port = BranchBench.json(cli(env, "pg", "init", "src", "--json").check().output()).get("port").asInt();
            log("source on port " + port + ", loading (pgbench -i -s " + pgScale + " -I dtGvp)");
            PgProc.runAsPostgres(Duration.ofMinutes(30),
                    BranchBench.pgbench(port, "-i", "-s", Integer.toString(pgScale), "-I", "dtGvp", "-q", "postgres")).check();
            PgProc.runAsPostgres(Duration.ofMinutes(5), List.of(PgProc.pgTool("psql"), "-h", "127.0.0.1", "-p",
                    Integer.toString(port), "-U", "postgres", "-X", "-q", "-c", "checkpoint", "postgres")).check();
            source = BranchBench.query(port, "select pg_size_pretty(pg_database_size('postgres'))");
            Thread.sleep(5000);
            settleDaemon();
            long baseMem = memInUse();
            baseRss = daemonRss();
            long baseDisk = BenchSupport.diskUsage(pool);
            log("source " + source + "; baseline: memory in use " + BenchSupport.bytes(baseMem) + ", pool on disk "
                    + BenchSupport.bytes(baseDisk));
            List<Integer> branchPorts = new ArrayList<>();
            for (int n : ns) {
                rows.add(step(env, port, n, branchPorts, baseMem, baseDisk, pool));
                log("N=" + n + " done: " + rows.get(rows.size() - 1));
            }
        } finally {
            if (mounted) {
                PgProc.Result u = cli(env, "umount", mnt.toString());
                if (!u.ok()) {
                    log("umount failed, forcing: " + u.output());
                    cli(env, "umount", "--force", mnt.toString());
                }
            }
            BenchSupport.deleteTree(root);
        }
        double minutes = (System.nanoTime() - t0) / 60e9;
        String table = table();
        System.out.println(table);
        notes.forEach(n -> System.out.println("note: " + n));
        if (!rows.isEmpty()) {
            drawChart();
        }
        if (report != null && !report.isEmpty()) {
            writeReport(Path.of(report), table, minutes);
        }
    }

    private Row step(Map<String, String> env, int srcPort, int n, List<Integer> branchPorts, long baseMem, long baseDisk,
                     Path pool) throws Exception {
        loads.add(BenchSupport.loadavg().split(" ")[0]);
        // creation
        List<Long> create = new ArrayList<>();
        int from = branchPorts.size();
        for (int k = from; k < n; k++) {
            String name = "b" + k;
            long t = System.nanoTime();
            JsonNode b = BranchBench.json(cli(env, "pg", "branch", "src", name, "--json").check().output());
            int p = b.get("port").asInt();
            String one = BranchBench.query(p, "select 1");
            long ms = (System.nanoTime() - t) / 1_000_000;
            if (!"1".equals(one)) {
                throw new IllegalStateException("branch " + name + " answered " + one);
            }
            create.add(ms);
            branchPorts.add(p);
            if ((k + 1) % 10 == 0 || k == n - 1) {
                log(String.format(Locale.ROOT, "%d branches; the last: %d ms (command + first query)", k + 1, ms));
            }
        }
        // all idle
        long runningIdle = awaitAllSuspended(env, n);
        Thread.sleep(15_000);
        settleDaemon();
        long idleMem = memInUse() - baseMem;
        long branchPss = branchServersPss();
        long rss = daemonRss();
        long growth = BenchSupport.diskUsage(pool) - baseDisk;
        log("all " + n + " idle: memory above the source alone " + BenchSupport.bytes(idleMem) + ", branch servers' Pss "
                + BenchSupport.bytes(branchPss) + ", daemon RSS "
                + BenchSupport.bytes(rss) + ", pool growth " + BenchSupport.bytes(growth));
        // wakes
        List<Long> wake = new ArrayList<>();
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < branchPorts.size(); i++) {
            order.add(i);
        }
        Collections.shuffle(order, random);
        for (int i = 0; i < Math.min(wakes, order.size()); i++) {
            int p = branchPorts.get(order.get(i));
            long t = System.nanoTime();
            String count = BranchBench.query(p, "select count(*) from pgbench_branches");
            long ms = (System.nanoTime() - t) / 1_000_000;
            if (!Integer.toString(pgScale).equals(count)) {
                throw new IllegalStateException("woken branch b" + order.get(i) + " answered " + count);
            }
            wake.add(ms);
            Thread.sleep(300);
        }
        log("wake to first query, ms: " + wake);
        // active: light load on some branches while the source runs; alternating with the source alone
        List<Integer> busy = new ArrayList<>();
        for (int i = 0; i < Math.min(active, order.size()); i++) {
            busy.add(branchPorts.get(order.get(order.size() - 1 - i)));
        }
        List<Double> alone = new ArrayList<>();
        List<Double> withActive = new ArrayList<>();
        List<Long> activeMem = new ArrayList<>();
        List<Long> activeOwn = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            for (int half = 0; half < 2; half++) {
                boolean loaded = (r + half) % 2 == 1;
                if (loaded) {
                    long[] mem = {0, 0};
                    withActive.add(sourceTpsWithBranches(srcPort, busy, mem, baseMem));
                    activeMem.add(mem[0]);
                    activeOwn.add(mem[1]);
                } else {
                    alone.add(sourceTps(srcPort));
                }
            }
        }
        loads.add(BenchSupport.loadavg().split(" ")[0]);
        log("source select-only tps alone " + alone + ", with " + busy.size() + " branches active " + withActive
                + "; memory above the source alone while active " + activeMem.stream().map(BenchSupport::bytes).toList());
        return new Row(n, n - from, BranchBench.pct(create, 50), BranchBench.pct(create, 99), create.get(create.size() - 1),
                idleMem, branchPss, rss, growth, wake.size(), BranchBench.pct(wake, 50), BranchBench.pct(wake, 99),
                Collections.max(wake), BranchBench.pct(activeMem, 50), median(alone), median(withActive), runningIdle,
                branchPss + rss - baseRss, BranchBench.pct(activeOwn, 50));
    }

    /** Waits until every branch is listed suspended; returns how many still ran when it gave up (0: all slept). */
    private long awaitAllSuspended(Map<String, String> env, int n) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        long running = -1;
        while (System.nanoTime() < deadline) {
            JsonNode list = listJson(env);
            running = 0;
            for (JsonNode s : list) {
                if ("branch".equals(s.path("role").asText()) && !"suspended".equals(s.path("state").asText())) {
                    running++;
                }
            }
            if (running == 0) {
                return 0;
            }
            Thread.sleep(1000);
        }
        notes.add("N=" + n + ": " + running + " branches still ran 120 s after the last was created");
        return running;
    }

    private JsonNode listJson(Map<String, String> env) throws IOException {
        String out = cli(env, "pg", "list", "--json").check().output();
        int i = out.indexOf('[');
        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.substring(Math.max(0, i)));
    }

    private double sourceTps(int port) {
        PgProc.Result r = PgProc.runAsPostgres(Duration.ofMinutes(5),
                BranchBench.pgbench(port, "-S", "-c", "2", "-j", "2", "-T", Integer.toString(seconds), "-n", "postgres"));
        return tps(r.check().output());
    }

    private double sourceTpsWithBranches(int srcPort, List<Integer> busy, long[] mem, long baseMem) throws Exception {
        List<Process> loads = new ArrayList<>();
        List<Path> logs = new ArrayList<>();
        try {
            for (int p : busy) {
                Path log = Files.createTempFile("clonefs-scale-load", ".log");
                logs.add(log);
                loads.add(Command.of(BranchBench.pgbench(p, "-c", "1", "-j", "1", "-R", "5", "-T",
                        Integer.toString(seconds + 10), "-n", "postgres")).asUser("postgres").directory(Path.of("/tmp"))
                        .start(log));
            }
            Thread.sleep(4000); // the branches that slept wake first
            Thread sampler = new Thread(() -> {
                try {
                    Thread.sleep(seconds * 500L);
                    mem[0] = memInUse() - baseMem;
                    mem[1] = branchServersPss() + daemonRss() - baseRss;
                } catch (InterruptedException | IOException e) {
                    // no sample
                }
            });
            sampler.start();
            double t = sourceTps(srcPort);
            sampler.join();
            return t;
        } finally {
            for (Process p : loads) {
                p.destroy();
            }
            for (Process p : loads) {
                p.waitFor(10, TimeUnit.SECONDS);
            }
            for (Path l : logs) {
                Files.deleteIfExists(l);
            }
        }
    }

    static double tps(String pgbenchOutput) {
        Matcher m = Pattern.compile("tps = ([0-9.]+)").matcher(pgbenchOutput);
        if (!m.find()) {
            throw new IllegalStateException("no tps in pgbench output: " + pgbenchOutput);
        }
        return Double.parseDouble(m.group(1));
    }

    private static double median(List<Double> v) {
        List<Double> s = new ArrayList<>(v);
        s.sort(Double::compare);
        return s.get(s.size() / 2);
    }

    /** MemTotal - MemAvailable. */
    static long memInUse() throws IOException {
        long total = 0;
        long avail = 0;
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            String[] f = line.split("\\s+");
            if (line.startsWith("MemTotal:")) {
                total = Long.parseLong(f[1]) << 10;
            } else if (line.startsWith("MemAvailable:")) {
                avail = Long.parseLong(f[1]) << 10;
            }
        }
        return total - avail;
    }

    /**
     * The proportional set size of the branches' PostgreSQL processes together: every postmaster
     * whose data directory is on this run's mount (its command line holds {@code -D MNT/NAME/}) but
     * the source's, and its children. What the branches take, whatever else the host runs.
     */
    static long branchServersPss() {
        String prefix = "-D " + mountDir + "/";
        long kib = 0;
        for (ProcessHandle p : ProcessHandle.allProcesses().toList()) {
            String cmd;
            try {
                cmd = Files.readString(Path.of("/proc/" + p.pid() + "/cmdline")).replace('\0', ' ');
            } catch (IOException | RuntimeException e) {
                continue;
            }
            int i = cmd.indexOf(prefix);
            if (i < 0 || !cmd.startsWith("/") || cmd.startsWith("src/", i + prefix.length())) {
                continue;
            }
            kib += pss(p.pid());
            try {
                String children = Files.readString(Path.of("/proc/" + p.pid() + "/task/" + p.pid() + "/children"));
                for (String c : children.trim().split("\\s+")) {
                    if (!c.isEmpty()) {
                        kib += pss(Long.parseLong(c));
                    }
                }
            } catch (IOException | RuntimeException e) {
                // gone meanwhile
            }
        }
        return kib << 10;
    }

    private static long pss(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/smaps_rollup"))) {
                if (line.startsWith("Pss:")) {
                    return Long.parseLong(line.split("\\s+")[1]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // gone meanwhile
        }
        return 0;
    }

    /**
     * A full collection in the daemon ({@code jcmd PID GC.run}), then 2 s: its heap shrinks to what
     * it holds, as an idle daemon's does by itself (it runs with {@code -XX:G1PeriodicGCInterval}),
     * so that its RSS is compared at rest and not by when its last collection happened to run.
     */
    static void settleDaemon() throws InterruptedException {
        long pid = daemonPid();
        if (pid > 0) {
            Path java = Path.of(ProcessHandle.current().info().command().orElse("java"));
            Path jcmd = java.resolveSibling("jcmd");
            PgProc.run(Duration.ofMinutes(1), Files.isExecutable(jcmd) ? jcmd.toString() : "jcmd", Long.toString(pid),
                    "GC.run");
        }
        Thread.sleep(2000);
    }

    /** RSS of the pool's daemon (a java process running clonefs mount --foreground), or -1. */
    static long daemonRss() {
        long best = daemonPid();
        if (best < 0) {
            return -1;
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + best + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.split("\\s+")[1]) << 10;
                }
            }
        } catch (IOException e) {
            return -1;
        }
        return -1;
    }

    /** The pid of the pool's daemon (its {@code daemon.json}), or -1. */
    static long daemonPid() {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(poolDir.resolve("daemon.json").toFile())
                    .get("pid").asLong();
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** The pool of this run (for its daemon's pid) and its mount point (for its servers). */
    private static Path poolDir = Path.of("/nonexistent");
    private static Path mountDir = Path.of("/nonexistent");

    private PgProc.Result cli(Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>(List.of(launcher.toString()));
        cmd.addAll(List.of(args));
        return PgProc.run(Duration.ofMinutes(30), cmd, env);
    }

    // ---- report --------------------------------------------------------------------------------

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.0f MiB", bytes / 1048576.0);
    }

    private String table() {
        StringBuilder s = new StringBuilder();
        s.append("| branches N | added | creation ms p50 / p99 (last) | host memory above the source alone, all idle "
                + "| clonefs's own: branch servers' Pss + daemon RSS growth, all idle | daemon RSS | pool growth | wake to first query ms p50 / p99 / max (wakes) "
                + "| host memory above the source alone, " + active + " active | clonefs's own, " + active
                + " active | source select-only tps alone / with "
                + active + " active |\n");
        s.append("|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            s.append(String.format(Locale.ROOT, "| %d | %d | %d / %d (%d) | %s%s | %s | %s | %s | %d / %d / %d (%d) | %s | %s | %.0f / %.0f (%.2f×) |%n",
                    r.n(), r.added(), r.createP50(), r.createP99(), r.createLast(), mib(r.idleMemBytes()),
                    r.runningIdle() > 0 ? " (" + r.runningIdle() + " not asleep)" : "", mib(r.ownIdleBytes()),
                    mib(r.daemonRssBytes()),
                    mib(r.poolGrowthBytes()), r.wakeP50(), r.wakeP99(), r.wakeMax(), r.wakesDone(),
                    mib(r.activeMemBytes()), mib(r.ownActiveBytes()), r.sourceTpsAlone(), r.sourceTpsActive(),
                    r.sourceTpsActive() / r.sourceTpsAlone()));
        }
        return s.toString();
    }

    private void drawChart() throws IOException {
        List<double[]> memIdle = new ArrayList<>();
        List<double[]> memActive = new ArrayList<>();
        List<double[]> ownIdle = new ArrayList<>();
        List<double[]> w50 = new ArrayList<>();
        List<double[]> w99 = new ArrayList<>();
        for (Row r : rows) {
            memIdle.add(new double[] {r.n(), r.idleMemBytes() / 1048576.0});
            memActive.add(new double[] {r.n(), r.activeMemBytes() / 1048576.0});
            ownIdle.add(new double[] {r.n(), r.ownIdleBytes() / 1048576.0});
            w50.add(new double[] {r.n(), r.wakeP50()});
            w99.add(new double[] {r.n(), r.wakeP99()});
        }
        List<Chart.Panel> panels = List.of(
                new Chart.Panel("Memory above the source alone", "branches (N)", "MiB",
                        List.of(new Chart.Series("host, all idle (suspended)", memIdle),
                                new Chart.Series("host, " + active + " active, light load", memActive),
                                new Chart.Series("clonefs's own, all idle", ownIdle)), Double.NaN),
                new Chart.Panel("Wake: connect to a sleeping branch until its first answer", "branches (N)", "ms",
                        List.of(new Chart.Series("p50", w50), new Chart.Series("p99", w99)), Double.NaN));
        Chart.write(chart, "clonefs bench-scale, " + Instant.now().toString().substring(0, 16) + " UTC, source "
                + source, panels);
        log("chart: " + chart.toAbsolutePath());
    }

    private void writeReport(Path file, String table, double minutes) throws IOException {
        StringBuilder s = new StringBuilder();
        s.append(BEGIN).append('\n');
        s.append("## Hundreds of branches (`make bench-scale`)\n\n");
        s.append("Run ").append(Instant.now().toString(), 0, 16).append(" UTC (").append(String.format(Locale.ROOT, "%.0f",
                minutes)).append(" min): one source of ").append(source).append(" (`pgbench -i -s ").append(pgScale)
                .append("`), branches added one by one up to each N with the pool's idle time `CLONEFS_PG_SUSPEND_AFTER=")
                .append(idle).append("`. Host memory is `MemTotal - MemAvailable` above the same with the source "
                        + "alone, idle (everything else on the host counts too); clonefs's own is the proportional set size "
                        + "of the branches' PostgreSQL processes plus the daemon's RSS growth over the same baseline; pool growth is `du` of the pool above the same. A wake is a JDBC connection to a "
                        + "sleeping branch's port and a query of its data, ").append(wakes).append(" branches picked at "
                        + "random, one at a time. Active: ").append(active).append(" branches under `pgbench -c 1 -R 5` "
                        + "each while the source runs `pgbench -S -c 2 -j 2 -T ").append(seconds)
                .append("`, alternating with the source alone, ").append(rounds).append(" rounds, medians.\n\n");
        s.append("Machine:\n\n").append(BenchSupport.machine(dir)).append('\n');
        s.append(table).append('\n');
        Row last = rows.get(rows.size() - 1);
        s.append("The host's load average (1 min) at the start and end of each N: ").append(String.join(", ", loads))
                .append(" (2 CPUs).");
        List<String> below = rows.stream().filter(r -> r.idleMemBytes() < 0).map(r -> Integer.toString(r.n())).toList();
        if (!below.isEmpty()) {
            s.append(" Host memory at N = ").append(String.join(", ", below)).append(" was below its baseline: other "
                    + "programs freed more than the branches took, so there only clonefs's own is attributable.");
        }
        s.append("\n\n");
        String hostGoal = last.idleMemBytes() < 0 ? "not measurable in this run"
                : last.idleMemBytes() <= (2L << 30) ? "met" : "missed";
        s.append(String.format(Locale.ROOT, "Goals (issue 16) at N = %d: held %s; wake p50 %d ms (goal ≤ 1000 ms, %s), "
                        + "p99 %d ms (goal ≤ 2000 ms, %s); memory with all idle above the source alone ≤ 2 GiB: host %s (%s), "
                        + "clonefs's own %s (%s).%n",
                last.n(), last.runningIdle() == 0 ? "all, every one asleep" : last.runningIdle() + " not asleep",
                last.wakeP50(), last.wakeP50() <= 1000 ? "met" : "missed", last.wakeP99(),
                last.wakeP99() <= 2000 ? "met" : "missed", mib(last.idleMemBytes()), hostGoal, mib(last.ownIdleBytes()),
                last.ownIdleBytes() <= (2L << 30) ? "met" : "missed"));
        for (String n : notes) {
            s.append("\n- ").append(n);
        }
        s.append("\n![memory and wake latency vs N](").append(Path.of("docs").resolve(chart.getFileName())).append(")\n");
        s.append(END).append('\n');
        BenchSupport.replaceSection(file, BEGIN, END, s);
        log("wrote its section of " + file);
    }
}
