package io.clonefs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What history costs and what a branch at a moment takes ({@code pg history}, {@code pg branch
 * --at}), through the CLI and the daemon as a user runs them.
 *
 * <p>One pool, {@code pg init src}, {@code pgbench -i -s bench.history.scale} (default 50, about
 * 750 MB); then for each {@code --every-wal} of {@code bench.history.everyWal} (default {@code 0,64MiB,128MiB}:
 * by time only, then the default) {@code pg history src --keep 1h --every bench.history.every
 * --every-wal W --restart} (default 60s), a run as follows, and history off.
 * {@code pgbench -c 4 -j 2} runs for {@code bench.history.seconds} (default 150) while the
 * archive's size is read every 5 s: its growth over the run, per hour, is what history costs. After
 * it, a branch at moments {@code 0.1, 0.25, 0.5, 0.75, 0.95} of the way between two history
 * snapshots taken during the load (so the WAL to replay grows with the distance): the command's
 * wall time to the first answered query, and the daemon's time waiting for the recovery to reach
 * the moment. Rewrites its section of {@code bench.report}.
 */
public final class HistoryBench {
    static final String BEGIN = "<!-- bench-history:begin (written by make bench-history) -->";
    static final String END = "<!-- bench-history:end -->";

    private final int scale = Integer.getInteger("bench.history.scale", 50);
    private final String every = System.getProperty("bench.history.every", "60s");
    private final int seconds = Integer.getInteger("bench.history.seconds", 150);
    /** The {@code --every-wal} values measured in turn: by time only, then the default. */
    private final String[] everyWals = System.getProperty("bench.history.everyWal", "0,64MiB,128MiB").split(",");
    private final Path dir = Path.of(System.getProperty("bench.history.dir", "/var/tmp"));
    private final Path launcher = Path.of(System.getProperty("bench.branch.launcher", "bin/clonefs")).toAbsolutePath();
    private final String report = System.getProperty("bench.report");

    public static void main(String[] args) throws Exception {
        new HistoryBench().run();
    }

    private static void log(String s) {
        System.out.println("[bench-history " + Instant.now().toString().substring(11, 19) + "] " + s);
        System.out.flush();
    }

    private record Moment(double fraction, Instant at, double secondsAfterSnapshot, long walBytesToReplay, double wallMs,
                          long startMs, long totalMs, String rows) {
    }

    /** One policy's run: its moments, the load's rate and the archive's growth. */
    private record Run(String everyWal, List<Moment> moments, double tps, double loadSeconds, long walBytes, int snapshots) {
    }

    void run() throws Exception {
        Class.forName("org.postgresql.Driver");
        String loadBefore = BenchSupport.loadavg();
        List<Run> runs = new ArrayList<>();
        String size;
        try (BenchPool p = BenchPool.mount(dir, "clonefs-history-bench-", launcher, 47800, 20, 20, HistoryBench::log)) {
            int port = p.initSource("src");
            log("loading pgbench -i -s " + scale);
            PgProc.runAsPostgres(Duration.ofMinutes(60),
                    BranchBench.pgbench(port, "-i", "-s", Integer.toString(scale), "-I", "dtGvp", "-q", "postgres")).check();
            size = BranchBench.query(port, "select pg_size_pretty(pg_database_size('postgres'))");
            for (String everyWal : everyWals) {
                runs.add(measure(p, port, everyWal.strip()));
                p.cli("pg", "history", "src", "--off").check();
            }
        }
        StringBuilder t = new StringBuilder();
        for (Run r : runs) {
            t.append(String.format(Locale.ROOT, "With `--every %s --every-wal %s` (%d history snapshots during the load):%n%n",
                    every, r.everyWal(), r.snapshots()));
            t.append("| moment (of the interval between two history snapshots) | seconds after the snapshot | WAL written "
                    + "since it (estimated) | `pg branch --at` wall, to the first query | of it: the server's start, "
                    + "its replay of the archive to the moment and first query | daemon total |\n|---|---|---|---|---|---|\n");
            for (Moment m : r.moments()) {
                t.append(String.format(Locale.ROOT, "| %.2f | %.1f s | %s | %.0f ms | %d ms | %d ms |%n", m.fraction(),
                        m.secondsAfterSnapshot(), BenchSupport.bytes(m.walBytesToReplay()), m.wallMs(), m.startMs(),
                        m.totalMs()));
            }
            double perHour = r.walBytes() / r.loadSeconds() * 3600;
            t.append(String.format(Locale.ROOT, "%nHistory's archive under `pgbench -c 4` (%.0f tps, %.0f s): %s, that is "
                    + "%s per hour at this rate (each archived segment is 16 MiB; `archive_timeout` 60 s adds at most one "
                    + "segment a minute on an idle source).%n%n", r.tps(), r.loadSeconds(), BenchSupport.bytes(r.walBytes()),
                    BenchSupport.bytes((long) perHour)));
        }
        String table = t.toString();
        System.out.println(table);
        if (report != null && !report.isEmpty()) {
            StringBuilder s = new StringBuilder();
            s.append(BEGIN).append('\n').append("## Branches at a moment and what history costs (`make bench-history`)\n\n");
            s.append("Run ").append(Instant.now().toString(), 0, 16).append(" UTC on a pgbench source of ").append(size)
                    .append(" (`-s ").append(scale).append("`) with `pg history src --keep 1h --every ").append(every)
                    .append(" --every-wal W --restart` for each W in turn (history off in between), under `pgbench -c 4 -j 2` for ")
                    .append(seconds).append(" s; then one branch at "
                    + "each moment, destroyed before the next. *WAL written since it* is the archive's growth rate over "
                    + "the load times the distance from the snapshot. Load average before: ").append(loadBefore)
                    .append(".\n\nMachine:\n\n").append(BenchSupport.machine(dir)).append('\n').append(table).append(END)
                    .append('\n');
            BenchSupport.replaceSection(Path.of(report), BEGIN, END, s);
            log("wrote its section of " + report);
        }
    }

    /** History on with {@code everyWal}, the load, then a branch at each moment of one interval. */
    private Run measure(BenchPool p, int port, String everyWal) throws Exception {
        p.cli("pg", "history", "src", "--keep", "1h", "--every", every, "--every-wal", everyWal, "--restart").check();
        awaitSnapshots(p, 1);
        int snapsBefore = history(p).get("snapshots").size();
        long walStart = history(p).get("walBytes").asLong();
        log("history on (--every-wal " + everyWal + "); pgbench -c 4 for " + seconds + " s");
        long t0 = System.nanoTime();
        PgProc.Result load = PgProc.runAsPostgres(Duration.ofSeconds(seconds + 120), BranchBench.pgbench(port,
                "-c", "4", "-j", "2", "-T", Integer.toString(seconds), "-n", "postgres")).check();
        double loadSeconds = (System.nanoTime() - t0) / 1e9;
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("tps = ([0-9.]+)").matcher(load.output());
        double tps = m.find() ? Double.parseDouble(m.group(1)) : -1;
        BranchBench.query(port, "select pg_switch_wal()::text");
        Thread.sleep(2000);
        JsonNode h = history(p);
        long walEnd = h.get("walBytes").asLong();
        // two history snapshots taken during the load, the later one first in the list
        List<Instant> snaps = new ArrayList<>();
        for (JsonNode s : h.get("snapshots")) {
            snaps.add(snapshotTime(p, s.asText()));
        }
        if (snaps.size() < 3) {
            throw new IllegalStateException("fewer than 3 history snapshots: " + h);
        }
        // the newest interval inside the load (the newest snapshot may come after it)
        Instant loadEnd = Instant.now().minusSeconds(2);
        int newest = snaps.get(0).isBefore(loadEnd) ? 0 : 1;
        Instant a = snaps.get(newest + 1);
        Instant b = snaps.get(newest);
        List<Moment> moments = new ArrayList<>();
        for (double f : new double[] {0.1, 0.25, 0.5, 0.75, 0.95}) {
            Instant at = a.plusNanos((long) (Duration.between(a, b).toNanos() * f));
            long t = System.nanoTime();
            JsonNode r = BranchBench.json(p.cli("pg", "branch", "src", "at", "--at", at.toString(), "--json").check().output());
            String rows = BranchBench.query(r.get("port").asInt(), "select count(*) from pgbench_history");
            double wall = (System.nanoTime() - t) / 1e6;
            long replay = (long) ((walEnd - walStart) / loadSeconds * Duration.between(a, at).toMillis() / 1000.0);
            moments.add(new Moment(f, at, Duration.between(a, at).toMillis() / 1000.0, replay, wall,
                    r.get("millis").get("start").asLong() + r.get("millis").get("promote").asLong()
                            + r.get("millis").get("firstQuery").asLong(),
                    r.get("millis").get("total").asLong(), rows));
            log(String.format(Locale.ROOT, "at %.2f of the interval (%.1f s after a snapshot): %.0f ms, rows %s", f,
                    Duration.between(a, at).toMillis() / 1000.0, wall, rows));
            p.cli("pg", "destroy", "at").check();
        }
        return new Run(everyWal, moments, tps, loadSeconds, walEnd - walStart, h.get("snapshots").size() - snapsBefore);
    }

    private JsonNode history(BenchPool p) throws Exception {
        return BranchBench.json(p.cli("pg", "history", "src", "--json").check().output());
    }

    private void awaitSnapshots(BenchPool p, int n) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (history(p).get("snapshots").size() < n) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no history snapshot within 3 minutes: " + history(p));
            }
            Thread.sleep(500);
        }
    }

    /** A snapshot's creation time, from {@code clonefs list --json}. */
    private static Instant snapshotTime(BenchPool p, String snapshot) throws Exception {
        JsonNode d = BranchBench.json(p.cli("list", "--json").check().output());
        for (JsonNode s : d.get("snapshots")) {
            if (s.get("name").asText().equals(snapshot)) {
                return Instant.parse(s.get("createdAt").asText());
            }
        }
        throw new IllegalStateException("no snapshot " + snapshot + " in " + d);
    }

}
