package io.clonefs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.clonefs.base.Command;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Time from {@code clonefs pg branch} to the first answered query, through the daemon as a user
 * runs it, for pgbench sources of several sizes, while the source serves a light pgbench load.
 *
 * <p>Per scale: a fresh pool under {@code bench.branch.dir}, {@code clonefs init}, {@code clonefs
 * mount} (the daemon), {@code clonefs pg init src}, {@code pgbench -i -s SCALE -I dtGvp} (server-side
 * generation; skipped with a note if it outlives {@code bench.branch.loadMinutes}), 10 s of
 * read-write pgbench (WAL for the branches to replay), then a background {@code pgbench -R RATE}
 * on the source and {@code bench.branch.count} times: {@code clonefs pg branch src bN --json}
 * (default: CHECKPOINT first), a JDBC {@code SELECT 1} on the printed port, {@code clonefs pg destroy bN}.
 * Three times per branch: the daemon's {@code millis.total} (request to its own first answered
 * query), the whole CLI command (JVM start included), and the command plus a new client's first
 * answered query. Teardown: {@code clonefs umount} (stops the servers), pool deleted.
 *
 * <p>Properties: {@code bench.branch.scales} (7,70,700), {@code bench.branch.count} (20),
 * {@code bench.branch.rate} (50 tps), {@code bench.branch.loadMinutes} (15),
 * {@code bench.branch.dir} (/var/tmp), {@code bench.branch.launcher} (bin/clonefs),
 * {@code bench.report} (a file whose branch-bench section is replaced), {@code bench.pg.bin},
 * {@code bench.branch.merge} (false; true: keep the rows and notes of the sizes this run does not
 * measure from the section already in the report).
 */
public final class BranchBench {
    static final String BEGIN = "<!-- branch-bench:begin (written by tools/branch-bench.sh) -->";
    static final String END = "<!-- branch-bench:end -->";
    static final ObjectMapper JSON = new ObjectMapper();

    private final int count = Integer.getInteger("bench.branch.count", 20);
    private final int rate = Integer.getInteger("bench.branch.rate", 50);
    private final int loadMinutes = Integer.getInteger("bench.branch.loadMinutes", 15);
    private final Path dir = Path.of(System.getProperty("bench.branch.dir", "/var/tmp"));
    private final Path launcher = Path.of(System.getProperty("bench.branch.launcher", "bin/clonefs")).toAbsolutePath();
    private final String report = System.getProperty("bench.report");
    private final boolean merge = Boolean.getBoolean("bench.branch.merge");
    private final List<String> rows = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();

    /** One size's outcome. */
    record Sample(long daemonMs, long cliMs, long firstQueryMs, JsonNode millis) {
    }

    public static void main(String[] args) throws Exception {
        new BranchBench().run(System.getProperty("bench.branch.scales", "7,70,700"));
    }

    private static void log(String s) {
        System.out.println("[branch-bench " + Instant.now().toString().substring(11, 19) + "] " + s);
        System.out.flush();
    }

    void run(String scales) throws Exception {
        Class.forName("org.postgresql.Driver");
        for (String s : scales.split(",")) {
            int scale = Integer.parseInt(s.trim());
            try {
                runScale(scale);
            } catch (Exception | AssertionError e) {
                log("scale " + scale + " failed: " + e);
                notes.add("scale " + scale + ": not measured, " + e.getMessage().lines().findFirst().orElse(""));
            }
        }
        String table = table();
        System.out.println(table);
        notes.forEach(n -> System.out.println("note: " + n));
        if (report != null && !report.isEmpty()) {
            writeReport(Path.of(report), table);
        }
    }

    private void runScale(int scale) throws Exception {
        Path root = Files.createTempDirectory(dir, "clonefs-branch-bench-");
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path pool = root.resolve("pool");
        Path mnt = Files.createDirectories(root.resolve("mnt"));
        Files.setPosixFilePermissions(mnt, PosixFilePermissions.fromString("rwxr-xr-x"));
        int first = 46000 + (int) (ProcessHandle.current().pid() % 50) * 40;
        Map<String, String> env = new HashMap<>();
        env.put("CLONEFS_POOL", pool.toString());
        env.put("CLONEFS_RUN_DIR", root.resolve("run").toString());
        env.put("CLONEFS_PG_PORTS", first + "-" + (first + 39));
        boolean mounted = false;
        Process load = null;
        try {
            cli(env, "init", pool.toString()).check();
            cli(env, "mount", pool.toString(), mnt.toString()).check();
            mounted = true;
            int port = json(cli(env, "pg", "init", "src", "--json").check().output()).get("port").asInt();
            log("scale " + scale + ": source on port " + port + ", loading (pgbench -i -s " + scale + " -I dtGvp)");
            PgProc.Result init = PgProc.runAsPostgres(Duration.ofMinutes(loadMinutes),
                    pgbench(port, "-i", "-s", Integer.toString(scale), "-I", "dtGvp", "-q", "postgres"));
            if (!init.ok()) {
                throw new IllegalStateException(init.exit() == -1
                        ? "pgbench -i -s " + scale + " did not finish within " + loadMinutes + " min on this machine"
                        : "pgbench -i failed: " + init.output());
            }
            double loadS = init.nanos() / 1e9;
            String size = query(port, "select pg_size_pretty(pg_database_size('postgres'))");
            long bytes = Long.parseLong(query(port, "select pg_database_size('postgres')"));
            log("scale " + scale + ": loaded " + size + " in " + loadS + " s; 10 s of read-write pgbench");
            PgProc.runAsPostgres(Duration.ofMinutes(5), pgbench(port, "-c", "2", "-j", "1", "-T", "10", "-n", "postgres")).check();
            Path loadLog = root.resolve("load.log");
            load = Command.of(pgbench(port, "-c", "2", "-j", "1", "-R", Integer.toString(rate),
                    "-T", "36000", "-n", "-P", "5", "postgres")).asUser("postgres")
                    .directory(Path.of("/tmp")).start(loadLog);
            Thread.sleep(3000);
            String loadBefore = BenchSupport.loadavg();
            List<Sample> samples = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                String name = "b" + i;
                long t0 = System.nanoTime();
                PgProc.Result r = cli(env, "pg", "branch", "src", name, "--json").check();
                long t1 = System.nanoTime();
                JsonNode b = json(r.output());
                String one = query(b.get("port").asInt(), "select 1");
                long t2 = System.nanoTime();
                if (!"1".equals(one)) {
                    throw new IllegalStateException("branch " + name + " answered " + one);
                }
                Sample smp = new Sample(b.get("millis").get("total").asLong(), (t1 - t0) / 1_000_000, (t2 - t0) / 1_000_000,
                        b.get("millis"));
                samples.add(smp);
                log(String.format(Locale.ROOT, "scale %d branch %d: daemon %d ms, command %d ms, first query %d ms; %s",
                        scale, i, smp.daemonMs(), smp.cliMs(), smp.firstQueryMs(), b.get("millis")));
                cli(env, "pg", "destroy", name).check();
                if (!load.isAlive()) {
                    throw new IllegalStateException("the pgbench load on the source stopped: " + Files.readString(loadLog));
                }
            }
            String loadAfter = BenchSupport.loadavg();
            load.destroy();
            load.waitFor(30, TimeUnit.SECONDS);
            String tps = loadTps(Files.readString(loadLog));
            rows.add(row(scale, size, bytes, loadS, samples, tps, loadBefore, loadAfter));
            log("scale " + scale + " done: " + rows.get(rows.size() - 1));
        } finally {
            if (load != null && load.isAlive()) {
                load.destroyForcibly();
                load.waitFor(10, TimeUnit.SECONDS);
            }
            if (mounted) {
                PgProc.Result u = cli(env, "umount", mnt.toString());
                if (!u.ok()) {
                    log("umount failed, forcing: " + u.output());
                    cli(env, "umount", "--force", mnt.toString());
                }
            }
            BenchSupport.deleteTree(root);
        }
    }

    // ---- measuring -----------------------------------------------------------------------------

    private PgProc.Result cli(Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>(List.of(launcher.toString()));
        cmd.addAll(List.of(args));
        return PgProc.run(Duration.ofMinutes(30), cmd, env);
    }

    /** The JSON object in a command's output (stderr is merged into it: skip any line before). */
    static JsonNode json(String out) throws IOException {
        int i = out.indexOf('{');
        if (i < 0) {
            throw new IllegalStateException("no JSON in: " + out);
        }
        return JSON.readTree(out.substring(i));
    }

    static List<String> pgbench(int port, String... args) {
        List<String> c = new ArrayList<>(List.of(PgProc.pgTool("pgbench"), "-h", "127.0.0.1", "-p", Integer.toString(port),
                "-U", "postgres"));
        c.addAll(List.of(args));
        return c;
    }

    /** Runs {@code sql} (several statements, none returning rows needed) on the postgres database. */
    static void execute(int port, String sql) throws Exception {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", p);
             Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    static String query(int port, String sql) throws Exception {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("connectTimeout", "30");
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", p);
             Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    /** Median of pgbench's per-5-s progress tps of the load on the source, with min and max. */
    static String loadTps(String log) {
        Matcher m = Pattern.compile("progress: [0-9.]+ s, ([0-9.]+) tps").matcher(log);
        List<Double> v = new ArrayList<>();
        while (m.find()) {
            v.add(Double.parseDouble(m.group(1)));
        }
        if (v.isEmpty()) {
            return "n/a";
        }
        List<Double> sorted = new ArrayList<>(v);
        sorted.sort(Double::compare);
        return String.format(Locale.ROOT, "%.0f (min %.0f, max %.0f)", sorted.get(sorted.size() / 2), sorted.get(0),
                sorted.get(sorted.size() - 1));
    }

    static long pct(List<Long> values, int p) {
        List<Long> s = new ArrayList<>(values);
        s.sort(Long::compare);
        int i = (int) Math.ceil(p / 100.0 * s.size()) - 1;
        return s.get(Math.max(0, Math.min(s.size() - 1, i)));
    }

    private static String ppp(List<Long> v) {
        return String.format(Locale.ROOT, "%d / %d / %d", pct(v, 50), pct(v, 95), pct(v, 99));
    }

    private String row(int scale, String size, long bytes, double loadS, List<Sample> samples, String tps,
                       String loadBefore, String loadAfter) {
        List<Long> daemon = samples.stream().map(Sample::daemonMs).toList();
        List<Long> cliMs = samples.stream().map(Sample::cliMs).toList();
        List<Long> fq = samples.stream().map(Sample::firstQueryMs).toList();
        Sample med = samples.stream().sorted((a, b) -> Long.compare(a.daemonMs(), b.daemonMs())).toList()
                .get(samples.size() / 2);
        JsonNode m = med.millis();
        String breakdown = String.format(Locale.ROOT, "ckpt %d, snap %d, clone %d, prep %d, start %d, query %d",
                m.path("checkpoint").asLong(), m.path("snapshot").asLong(), m.path("cloneVolume").asLong(),
                m.path("prepare").asLong(), m.path("start").asLong(), m.path("firstQuery").asLong());
        return String.format(Locale.ROOT, "| %d | %s (%d B) | %.1f s | %d | %s | %s | %s | %s | %s | %s → %s |", scale, size,
                bytes, loadS, samples.size(), ppp(daemon), ppp(cliMs), ppp(fq), breakdown, tps, loadBefore, loadAfter);
    }

    private String table() {
        StringBuilder s = new StringBuilder();
        s.append("| pgbench scale | database size | load time | branches | daemon total ms p50 / p95 / p99 "
                + "| `clonefs pg branch` command ms p50 / p95 / p99 | command + first client query ms p50 / p95 / p99 "
                + "| median branch (daemon ms) | source load tps, median (min, max) | load average before → after |\n");
        s.append("|---|---|---|---|---|---|---|---|---|---|\n");
        rows.forEach(r -> s.append(r).append('\n'));
        return s.toString();
    }

    // ---- report --------------------------------------------------------------------------------

    private void writeReport(Path file, String table) throws IOException {
        String before = Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        int ob = before.indexOf(BEGIN);
        int oe = before.indexOf(END);
        String earlier = null;
        if (merge && ob >= 0 && oe > ob) {
            String old = before.substring(ob, oe);
            java.util.Set<String> now = new java.util.HashSet<>();
            rows.forEach(r -> now.add(r.split("\\|")[1].trim()));
            notes.forEach(n -> now.add(n.replaceFirst("^scale (\\d+):.*", "$1")));
            Matcher wm = Pattern.compile(" on (\\S+) UTC").matcher(old);
            earlier = wm.find() ? wm.group(1) : "an earlier run";
            List<String> kept = new ArrayList<>();
            // scales the old section itself took from still earlier runs: keep that provenance
            java.util.Set<String> fromEarlier = new java.util.HashSet<>();
            Pattern prov = Pattern.compile("- rows of scale\\(s\\) ([0-9, ]+) were measured by the run of (\\S+) UTC.*");
            for (String line : old.split("\n")) {
                Matcher pm = prov.matcher(line);
                if (pm.matches()) {
                    List<String> still = new ArrayList<>();
                    for (String sc : pm.group(1).split(",\\s*")) {
                        fromEarlier.add(sc.trim());
                        if (!now.contains(sc.trim())) {
                            still.add(sc.trim());
                        }
                    }
                    if (!still.isEmpty()) {
                        notes.add("rows of scale(s) " + String.join(", ", still) + " were measured by the run of "
                                + pm.group(2) + " UTC (same method; its load averages in the row).");
                    }
                }
            }
            for (String line : old.split("\n")) {
                if (line.matches("\\| \\d+ \\|.*") && !now.contains(line.split("\\|")[1].trim())) {
                    kept.add(line);
                } else if (line.matches("- scale \\d+: not measured.*") && !now.contains(line.replaceFirst("^- scale (\\d+):.*", "$1"))) {
                    notes.add(line.substring(2));
                }
            }
            if (!kept.isEmpty() || !notes.isEmpty()) {
                rows.addAll(kept);
                rows.sort(java.util.Comparator.comparingInt(r -> Integer.parseInt(r.split("\\|")[1].trim())));
                table = table();
            }
            List<String> ofOld = kept.stream().map(r -> r.split("\\|")[1].trim()).filter(sc -> !fromEarlier.contains(sc)).toList();
            if (!ofOld.isEmpty()) {
                notes.add("rows of scale(s) " + String.join(", ", ofOld)
                        + " were measured by the run of " + earlier + " UTC (same method; its load averages in the row).");
            }
        }
        StringBuilder s = new StringBuilder();
        s.append(BEGIN).append('\n');
        s.append("## PostgreSQL branch time (branch-bench)\n\n");
        s.append("Written by `tools/branch-bench.sh` on ").append(Instant.now().toString(), 0, 16)
                .append(" UTC. Time from `clonefs pg branch src bN --json` to the first answered query, through the "
                        + "daemon, as a user runs it; ").append(count).append(" branches per size, each destroyed "
                        + "before the next, while the source serves `pgbench -c 2 -j 1 -R ").append(rate)
                .append("`.\n\nMachine:\n\n").append(BenchSupport.machine(dir)).append('\n');
        s.append(table).append('\n');
        s.append("Method:\n\n");
        s.append("- Per size: a fresh pool in `").append(dir).append("`, `clonefs init`, `clonefs mount` (the daemon), "
                + "`clonefs pg init src`, `pgbench -i -s SCALE -I dtGvp` (server-side generation; load time above), "
                + "10 s of read-write `pgbench -c 2` so that branches have WAL to replay, then the light load in the "
                + "background.\n");
        s.append("- *daemon total*: the `millis.total` the daemon reports in `--json` (request received → its own "
                + "`SELECT 1` answered: CHECKPOINT on the source (the default), syncfs + snapshot, clone, "
                + "postmaster.pid removal and settings, `pg_ctl start -w` with crash recovery, first query). "
                + "*command*: wall-clock time of the whole `bin/clonefs pg branch` process (JVM start included). "
                + "*command + first client query*: until a new JDBC connection to the printed port answered "
                + "`SELECT 1`.\n");
        s.append("- pN: nearest-rank percentile over the branches (with 20 samples, p99 is the maximum). "
                + "*median branch*: the breakdown of the branch with the median daemon total.\n");
        s.append("- Load average (`/proc/loadavg`, 1/5/15 min) read 3 s after the load started and after the last "
                + "branch: this is a shared 2-core machine with other builds and tests running, so the times "
                + "include waiting for the CPU.\n");
        for (String n : notes) {
            s.append("- ").append(n).append('\n');
        }
        s.append(END).append('\n');

        BenchSupport.replaceSection(file, BEGIN, END, s);
        log("wrote the branch-bench section of " + file);
    }
}
