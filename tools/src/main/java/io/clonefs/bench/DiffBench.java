package io.clonefs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Random;

/**
 * Time of {@code clonefs pg diff src b1 --data} through the daemon, as a user runs it, for a branch
 * with about 1 % of its pages changed, at several database sizes: is it under a second, and flat
 * in the database's size?
 *
 * <p>Per scale: a fresh pool under {@code bench.diff.dir}, {@code clonefs init}, {@code clonefs
 * mount} (the daemon), {@code clonefs pg init src}, {@code pgbench -i -s SCALE -I dtGvp}, {@code
 * clonefs pg branch src b1}; on b1 one tuple is updated on each of {@code bench.diff.percent} / 2 %
 * of the database's pages, chosen at random among pgbench_accounts' pages (each update also
 * writes the page its new version goes to and an index page: about {@code percent} % in all; the
 * diff's own count is reported); a {@code CHECKPOINT} on both; then {@code bench.diff.runs} times
 * {@code clonefs pg diff src b1 --data --json}: the daemon's {@code millis} (checkpoint, snapshots,
 * catalogs, tree walk, byte compare, cleanup) and the whole command (JVM start included). Prints a
 * table; writes no report.
 *
 * <p>Properties: {@code bench.diff.scales} (700: about 10 GB), {@code bench.diff.percent} (1),
 * {@code bench.diff.pages} (0; more: update tuples on that many pages at every size instead of a
 * percentage, to see whether the cost follows the changes or the size), {@code bench.diff.runs} (5),
 * {@code bench.diff.dir} (/var/tmp), {@code bench.diff.launcher} (bin/clonefs).
 */
public final class DiffBench {
    private final double percent = Double.parseDouble(System.getProperty("bench.diff.percent", "1"));
    private final long fixedPages = Long.getLong("bench.diff.pages", 0);
    private final int runs = Integer.getInteger("bench.diff.runs", 5);
    private final Path dir = Path.of(System.getProperty("bench.diff.dir", "/var/tmp"));
    private final Path launcher = Path.of(System.getProperty("bench.diff.launcher", "bin/clonefs")).toAbsolutePath();
    private final List<String> rows = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        new DiffBench().run(System.getProperty("bench.diff.scales", "700"));
    }

    private static void log(String s) {
        System.out.println("[diff-bench " + Instant.now().toString().substring(11, 19) + "] " + s);
        System.out.flush();
    }

    void run(String scales) throws Exception {
        Class.forName("org.postgresql.Driver");
        for (String s : scales.split(",")) {
            runScale(Integer.parseInt(s.trim()));
        }
        System.out.println("| pgbench scale | database size | pages | pages differ (%) | blocks read | tree nodes read "
                + "| daemon ms median (min-max) | command ms median (min-max) |");
        System.out.println("|---|---|---|---|---|---|---|---|");
        rows.forEach(System.out::println);
        System.out.println(BenchSupport.machine(dir));
    }

    private void runScale(int scale) throws Exception {
        Path root = Files.createTempDirectory(dir, "clonefs-diff-bench-");
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path pool = root.resolve("pool");
        Path mnt = Files.createDirectories(root.resolve("mnt"));
        Files.setPosixFilePermissions(mnt, PosixFilePermissions.fromString("rwxr-xr-x"));
        int first = 47000 + (int) (ProcessHandle.current().pid() % 50) * 40;
        Map<String, String> env = new HashMap<>();
        env.put("CLONEFS_POOL", pool.toString());
        env.put("CLONEFS_RUN_DIR", root.resolve("run").toString());
        env.put("CLONEFS_PG_PORTS", first + "-" + (first + 39));
        boolean mounted = false;
        try {
            cli(env, "init", pool.toString()).check();
            cli(env, "mount", pool.toString(), mnt.toString()).check();
            mounted = true;
            int port = BranchBench.json(cli(env, "pg", "init", "src", "--json").check().output()).get("port").asInt();
            log("scale " + scale + ": loading (pgbench -i -s " + scale + " -I dtGvp)");
            PgProc.runAsPostgres(Duration.ofHours(3),
                    BranchBench.pgbench(port, "-i", "-s", Integer.toString(scale), "-I", "dtGvp", "-q", "postgres")).check();
            String size = BranchBench.query(port, "select pg_size_pretty(pg_database_size('postgres'))");
            long dbPages = Long.parseLong(BranchBench.query(port, "select pg_database_size('postgres') / 8192"));
            long accPages = Long.parseLong(BranchBench.query(port, "select pg_relation_size('pgbench_accounts') / 8192"));
            int bp = BranchBench.json(cli(env, "pg", "branch", "src", "b1", "--json").check().output()).get("port").asInt();
            long k = fixedPages > 0 ? fixedPages : Math.max(1, Math.round(dbPages * percent / 200.0));
            log("scale " + scale + ": " + size + ", " + dbPages + " pages; updating one tuple on " + k + " random pages of "
                    + accPages);
            change(bp, accPages, k);
            execute(port, "checkpoint");
            execute(bp, "checkpoint");
            List<Long> daemon = new ArrayList<>();
            List<Long> command = new ArrayList<>();
            JsonNode last = null;
            for (int i = 0; i < runs; i++) {
                long t0 = System.nanoTime();
                PgProc.Result r = cli(env, "pg", "diff", "src", "b1", "--data", "--json").check();
                long ms = (System.nanoTime() - t0) / 1_000_000;
                last = BranchBench.json(r.output());
                daemon.add(last.get("millis").asLong());
                command.add(ms);
                log(String.format(Locale.ROOT, "scale %d run %d: daemon %d ms, command %d ms, %d pages differ, %d blocks read, "
                        + "%d tree nodes read; steps %s", scale, i, last.get("millis").asLong(), ms,
                        last.get("total").get("pagesDiffer").asLong(), last.get("blocksRead").asLong(),
                        last.get("treeNodesRead").asLong(), last.get("steps")));
            }
            long differ = last.get("total").get("pagesDiffer").asLong();
            long pages = last.get("total").get("pagesB").asLong();
            rows.add(String.format(Locale.ROOT, "| %d | %s | %d | %d (%.2f %%) | %d | %d | %s | %s |", scale, size, pages, differ,
                    100.0 * differ / pages, last.get("blocksRead").asLong(), last.get("treeNodesRead").asLong(), mmm(daemon),
                    mmm(command)));
            log("scale " + scale + " done: " + rows.get(rows.size() - 1));
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
    }

    /** Updates one tuple (its first) on each of {@code k} distinct random pages of pgbench_accounts. */
    private static void change(int port, long accPages, long k) throws Exception {
        Random rnd = new Random(23);
        java.util.Set<Long> chosen = new java.util.HashSet<>();
        while (chosen.size() < Math.min(k, accPages)) {
            chosen.add((long) (rnd.nextDouble() * accPages));
        }
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", p);
             PreparedStatement st = c.prepareStatement(
                     "update pgbench_accounts set abalance = abalance + 1 where ctid = any(?::tid[])")) {
            List<String> batch = new ArrayList<>();
            for (long page : chosen) {
                batch.add("\"(" + page + ",1)\"");
                if (batch.size() == 1000) {
                    st.setString(1, "{" + String.join(",", batch) + "}");
                    st.executeUpdate();
                    batch.clear();
                }
            }
            if (!batch.isEmpty()) {
                st.setString(1, "{" + String.join(",", batch) + "}");
                st.executeUpdate();
            }
        }
    }

    private static void execute(int port, String sql) throws Exception {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", p);
             java.sql.Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    private static String mmm(List<Long> v) {
        List<Long> s = new ArrayList<>(v);
        s.sort(Long::compare);
        return s.get(s.size() / 2) + " (" + s.get(0) + "-" + s.get(s.size() - 1) + ")";
    }

    private PgProc.Result cli(Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>(List.of(launcher.toString()));
        cmd.addAll(List.of(args));
        return PgProc.run(Duration.ofMinutes(30), cmd, env);
    }
}
