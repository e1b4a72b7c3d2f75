package io.clonefs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What {@code clonefs pg check-migration} costs beyond the migration itself, on a pgbench source
 * of {@code bench.check.scale} (100: about 1.5 GB), through the CLI and daemon as a user runs it.
 *
 * <p>One pool, {@code pg init src}, {@code pgbench -i -s SCALE}. Then {@code bench.check.runs}
 * rounds, alternating the order of the two sides of each comparison:
 * <ul>
 *   <li><b>overhead</b>: {@code check-migration} of a one-statement migration ({@code SELECT 1}):
 *       the command's wall time (branch, sampling, report, destroy), beside {@code pg branch} +
 *       {@code pg destroy} of a branch by hand;</li>
 *   <li><b>sampling</b>: {@code CREATE INDEX ON pgbench_accounts (abalance)} timed inside
 *       check-migration (its statement time, sampled every 50 ms) and by {@code psql \timing} on a
 *       fresh branch made by hand.</li>
 * </ul>
 * Medians. Rewrites its section of {@code bench.report}.
 */
public final class CheckBench {
    static final String BEGIN = "<!-- bench-check:begin (written by make bench-check) -->";
    static final String END = "<!-- bench-check:end -->";

    private final int scale = Integer.getInteger("bench.check.scale", 100);
    private final int runs = Integer.getInteger("bench.check.runs", 3);
    private final Path dir = Path.of(System.getProperty("bench.check.dir", "/var/tmp"));
    private final Path launcher = Path.of(System.getProperty("bench.branch.launcher", "bin/clonefs")).toAbsolutePath();
    private final String report = System.getProperty("bench.report");

    public static void main(String[] args) throws Exception {
        new CheckBench().run();
    }

    private static void log(String s) {
        System.out.println("[bench-check " + Instant.now().toString().substring(11, 19) + "] " + s);
        System.out.flush();
    }

    void run() throws Exception {
        Class.forName("org.postgresql.Driver");
        List<Double> checkTrivial = new ArrayList<>();
        List<Double> byHand = new ArrayList<>();
        List<Double> indexInCheck = new ArrayList<>();
        List<Double> indexPsql = new ArrayList<>();
        List<Double> samples = new ArrayList<>();
        String size;
        try (BenchPool p = BenchPool.mount(dir, "clonefs-check-bench-", launcher, 47000, 20, 20, CheckBench::log)) {
            Path root = p.root;
            int port = p.initSource("src");
            log("loading pgbench -i -s " + scale);
            PgProc.runAsPostgres(Duration.ofMinutes(60),
                    BranchBench.pgbench(port, "-i", "-s", Integer.toString(scale), "-I", "dtGvp", "-q", "postgres")).check();
            size = BranchBench.query(port, "select pg_size_pretty(pg_database_size('postgres'))");
            Path trivial = Files.writeString(root.resolve("trivial.sql"), "SELECT 1;\n");
            Path index = Files.writeString(root.resolve("index.sql"), "CREATE INDEX ON pgbench_accounts (abalance);\n");
            for (int r = 0; r < runs; r++) {
                for (int half = 0; half < 2; half++) {
                    if ((r + half) % 2 == 0) {
                        long t = System.nanoTime();
                        JsonNode rep = BranchBench.json(p.cli("pg", "check-migration", "src", "--file", trivial.toString(),
                                "--json").check().output());
                        checkTrivial.add((System.nanoTime() - t) / 1e6);
                        samples.add(rep.get("samples").asDouble());
                        JsonNode idx = BranchBench.json(p.cli("pg", "check-migration", "src", "--file", index.toString(),
                                "--json").check().output());
                        indexInCheck.add(idx.get("statements").get(0).get("millis").asDouble());
                    } else {
                        long t = System.nanoTime();
                        JsonNode b = BranchBench.json(p.cli("pg", "branch", "src", "hand", "--json").check().output());
                        p.cli("pg", "destroy", "hand").check();
                        byHand.add((System.nanoTime() - t) / 1e6);
                        b = BranchBench.json(p.cli("pg", "branch", "src", "hand", "--json").check().output());
                        PgProc.Result psql = PgProc.runAsPostgres(Duration.ofMinutes(30), List.of(PgProc.pgTool("psql"), "-h",
                                "127.0.0.1", "-p", b.get("port").asText(), "-U", "postgres", "-X", "-c", "\\timing on", "-c",
                                "CREATE INDEX ON pgbench_accounts (abalance)", "postgres")).check();
                        indexPsql.add(timing(psql.output()));
                        p.cli("pg", "destroy", "hand").check();
                    }
                }
                log(String.format(Locale.ROOT, "round %d: check-migration SELECT 1 %s ms, branch+destroy %s ms; "
                        + "CREATE INDEX in check %s ms, by psql %s ms", r + 1, checkTrivial, byHand, indexInCheck, indexPsql));
            }
        }
        double ct = FastBench.median(checkTrivial);
        double bh = FastBench.median(byHand);
        double ic = FastBench.median(indexInCheck);
        double ip = FastBench.median(indexPsql);
        StringBuilder t = new StringBuilder();
        t.append("| measurement | check-migration | by hand | ratio |\n|---|---|---|---|\n");
        t.append(String.format(Locale.ROOT, "| wall time: `check-migration` of `SELECT 1` (one command: branch, sampling, "
                + "report, destroy) vs `pg branch` + `pg destroy` (two commands) | %.0f ms | %.0f ms | %.2f× |%n", ct, bh, ct / bh));
        t.append(String.format(Locale.ROOT, "| `CREATE INDEX ON pgbench_accounts (abalance)`: statement time inside the check "
                + "(sampled every 50 ms) vs `psql \\timing` on a fresh branch | %.0f ms | %.0f ms | %.2f× |%n", ic, ip, ic / ip));
        String table = t.toString();
        System.out.println(table);
        if (report != null && !report.isEmpty()) {
            StringBuilder s = new StringBuilder();
            s.append(BEGIN).append('\n').append("## What check-migration costs (`make bench-check`)\n\n");
            s.append("Run ").append(Instant.now().toString(), 0, 16).append(" UTC on a pgbench source of ").append(size)
                    .append(" (`-s ").append(scale).append("`), through the CLI and the daemon; ").append(runs)
                    .append(" rounds, the two sides alternating, medians (samples: check ").append(fmt(checkTrivial))
                    .append(" / by hand ").append(fmt(byHand)).append("; CREATE INDEX ").append(fmt(indexInCheck))
                    .append(" / ").append(fmt(indexPsql)).append(").\n\nMachine:\n\n").append(BenchSupport.machine(dir))
                    .append('\n').append(table).append(END).append('\n');
            BenchSupport.replaceSection(Path.of(report), BEGIN, END, s);
            log("wrote its section of " + report);
        }
    }

    private static String fmt(List<Double> v) {
        return v.stream().map(x -> String.format(Locale.ROOT, "%.0f", x)).toList().toString();
    }

    /** The last {@code Time: N ms} psql printed. */
    static double timing(String out) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("Time: ([0-9.]+) ms").matcher(out);
        double last = -1;
        while (m.find()) {
            last = Double.parseDouble(m.group(1));
        }
        if (last < 0) {
            throw new IllegalStateException("no timing in psql output: " + out);
        }
        return last;
    }
}
