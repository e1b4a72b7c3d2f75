package io.clonefs.pg.check;

import io.clonefs.api.MigrationApi;
import io.clonefs.api.PgApi;
import io.clonefs.base.ClonefsException;
import io.clonefs.base.Command;
import io.clonefs.engine.Names;
import io.clonefs.pg.PgDurations;
import io.clonefs.pg.PgManager;
import io.clonefs.pg.PgOptions;
import io.clonefs.pg.process.Postgres;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code pg check-migration}: runs a migration on a fresh branch of a source, optionally under a
 * pgbench workload, watches what it locks and whom it blocks, and reports.
 *
 * <ol>
 *   <li>The migration is split into statements ({@link SqlScript}) before anything is made; a
 *       malformed file is refused with one line.</li>
 *   <li>A branch of the source is made (with a CHECKPOINT on the source, as {@code pg branch};
 *       nothing else touches the source) with a time to live of the longest duration plus an hour,
 *       so that a daemon that dies mid-check leaves nothing behind for long.</li>
 *   <li>Before: every table, index and materialized view outside the system schemas with its
 *       {@code relfilenode} and size, the WAL position, the length of the branch's log.</li>
 *   <li>The workload ({@code pgbench -n -f SCRIPT -c N -P 1}) starts and runs {@code warmup} alone.</li>
 *   <li>The migration runs statement by statement in one session (autocommit: a {@code BEGIN} in
 *       the file opens a transaction as in psql), while a second session samples every
 *       {@value #SAMPLE_MILLIS} ms the relation locks the migration's backend holds
 *       ({@code pg_locks}) and the sessions waiting on a lock behind it, directly or through
 *       others ({@code pg_stat_activity}, {@code pg_blocking_pids}). A statement that fails ends
 *       the run; one still running at {@code maxDuration} is cancelled.</li>
 *   <li>After: the same relations again (rewritten: a new {@code relfilenode}; sizes), the WAL
 *       generated, the lines of the branch's log with an ERROR, WARNING, FATAL or PANIC and the
 *       statements they name; the workload's latency and tps from its per-second progress before
 *       and during the migration.</li>
 *   <li>The branch is destroyed unless {@code keep}; always, even when the check fails.</li>
 * </ol>
 * Locks that block reads or writes of a table: {@code AccessExclusiveLock} (reads and writes),
 * {@code ExclusiveLock}, {@code ShareRowExclusiveLock} and {@code ShareLock} (writes), on a
 * relation that existed before the migration (one it creates blocks no one). The verdict fails
 * when a statement failed or when the longest such lock, the longest wait of a workload query, or
 * the whole migration is above its threshold.
 */
public final class MigrationCheck {
    private static final Logger LOG = LoggerFactory.getLogger(MigrationCheck.class);
    static final long SAMPLE_MILLIS = 50;
    private static final int SQL_SHOWN = 300;
    private static final Pattern PROGRESS = Pattern.compile(
            "progress: ([0-9.]+) s, ([0-9.]+) tps, lat ([0-9.]+) ms");
    private static final Pattern LOG_LINE = Pattern.compile("\\b(ERROR|WARNING|FATAL|PANIC|STATEMENT|DETAIL|HINT):");

    private final PgManager pg;
    private final PgOptions options;

    public MigrationCheck(PgManager pg) {
        this.pg = pg;
        this.options = pg.options();
    }

    /** A relation as seen before or after. */
    private record Rel(long oid, String name, String kind, long filenode, long bytes) implements LockSampler.Described {
    }

    /**
     * Runs the check.
     *
     * @throws ClonefsException.InvalidArgument for a malformed request, migration or workload, and
     *         for a statement the server found malformed (SQLSTATE class 42: a syntax error, an
     *         unknown table or column), named with its line; nothing is left behind
     */
    public MigrationApi.Report run(MigrationApi.CheckRequest r) {
        if (r == null || r.source() == null || r.source().isBlank()) {
            throw new ClonefsException.InvalidArgument("check-migration needs a source");
        }
        Names.checkDataset("volume", r.source());
        String migrationName = blankOr(r.migrationName(), "migration");
        if (r.migration() == null) {
            throw new ClonefsException.InvalidArgument("check-migration needs the SQL of the migration");
        }
        List<SqlScript.Statement> statements = SqlScript.split(migrationName, r.migration());
        if (statements.isEmpty()) {
            throw new ClonefsException.InvalidArgument(migrationName + " holds no SQL statement");
        }
        Duration maxLock = duration("max lock", r.maxLock(), Duration.ofSeconds(10));
        Duration maxBlocked = duration("max blocked", r.maxBlocked(), Duration.ofSeconds(1));
        Duration maxDuration = duration("max duration", r.maxDuration(), Duration.ofHours(1));
        if (maxDuration.isZero()) {
            throw new ClonefsException.InvalidArgument("max duration must be positive");
        }
        Duration warmup = duration("warmup", r.warmup(), Duration.ofSeconds(5));
        int clients = r.clients() == null ? 4 : r.clients();
        String workload = r.workload();
        if (workload != null && workload.isBlank()) {
            throw new ClonefsException.InvalidArgument(blankOr(r.workloadName(), "the workload") + " is empty");
        }
        if (workload != null && (clients < 1 || clients > 40)) {
            throw new ClonefsException.InvalidArgument("clients must be 1 to 40, not " + clients);
        }
        String database = blankOr(r.database(), "postgres");
        boolean keep = Boolean.TRUE.equals(r.keep());
        String name = r.name() != null && !r.name().isBlank() ? r.name()
                : r.source() + "-check-" + LocalDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        Names.checkDataset("volume", name);
        pg.get(r.source()); // an unknown source: NotFound before anything is made

        long t0 = System.nanoTime();
        PgApi.Branched b = pg.branch(new PgManager.BranchSpec(r.source(), name, null,
                keep ? null : maxDuration.plus(warmup).plusHours(1), true, false, null, Duration.ZERO, null));
        LOG.info("check-migration of {} on branch {} (port {}) made in {} ms", migrationName, name, b.port(),
                (System.nanoTime() - t0) / 1_000_000);
        boolean destroyed = false;
        try {
            MigrationApi.Report report = check(r, statements, migrationName, b, database, workload, clients, warmup,
                    maxLock, maxBlocked, maxDuration, keep);
            if (!keep) {
                pg.destroy(name);
                destroyed = true;
            }
            return report;
        } finally {
            if (!keep && !destroyed) {
                try {
                    pg.destroy(name);
                } catch (RuntimeException e) {
                    LOG.warn("cannot destroy the check's branch {}: {}", name, e.getMessage());
                }
            }
        }
    }

    private MigrationApi.Report check(MigrationApi.CheckRequest r, List<SqlScript.Statement> statements,
                                      String migrationName, PgApi.Branched b, String database, String workload,
                                      int clients, Duration warmup, Duration maxLock, Duration maxBlocked,
                                      Duration maxDuration, boolean keep) {
        int port = b.port();
        Path log = Path.of(pg.get(b.name()).log());
        Path work = null;
        Process bench = null;
        Path benchOut = null;
        try (Connection mig = connect(port, database); Connection watch = connect(port, database)) {
            Map<Long, Rel> before = relations(mig);
            String lsn = Postgres.query(mig, "select pg_current_wal_lsn()");
            long logOffset = Files.exists(log) ? Files.size(log) : 0;
            long migPid = Long.parseLong(Postgres.query(mig, "select pg_backend_pid()"));
            long benchStart = 0;
            if (workload != null) {
                work = Files.createTempDirectory("clonefs-check-");
                Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
                Path script = work.resolve("workload.sql");
                Files.writeString(script, workload);
                Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rw-r--r--"));
                benchOut = work.resolve("pgbench.out");
                long seconds = warmup.plus(maxDuration).toSeconds() + 60;
                bench = Command.of(options.binDir().resolve("pgbench").toString(), "-n", "-f", script.toString(),
                        "-c", Integer.toString(clients), "-j", Integer.toString(Math.min(clients, 4)), "-T",
                        Long.toString(seconds), "-P", "1", "-h", "127.0.0.1", "-p", Integer.toString(port), "-U",
                        "postgres", database).asUser(options.osUser()).directory(work).unsetEnv("PGPASSWORD")
                        .start(benchOut);
                benchStart = System.nanoTime();
                sleep(warmup.toMillis());
                if (!bench.isAlive()) {
                    String out = Files.readString(benchOut);
                    throw new ClonefsException.InvalidArgument(blankOr(r.workloadName(), "the workload")
                            + ": pgbench stopped: " + Postgres.tail(out, 3).replace('\n', ' ').strip());
                }
            }
            LockSampler sampler = new LockSampler(watch, migPid, before, SAMPLE_MILLIS);
            long start = System.nanoTime();
            sampler.start(start);
            List<MigrationApi.Statement> ran = new ArrayList<>();
            MigrationApi.Statement failed = null;
            boolean cancelled = false;
            try (Statement st = mig.createStatement()) {
                for (int i = 0; i < statements.size(); i++) {
                    SqlScript.Statement s = statements.get(i);
                    sampler.statement(i + 1);
                    long remaining = maxDuration.toMillis() - (System.nanoTime() - start) / 1_000_000;
                    Canceller canceller = new Canceller(st, Math.max(1, remaining));
                    long s0 = System.nanoTime();
                    MigrationApi.Error error = null;
                    try {
                        st.execute(s.sql());
                    } catch (SQLException e) {
                        error = new MigrationApi.Error(e.getSQLState(), oneLine(e.getMessage()));
                    } finally {
                        canceller.close();
                    }
                    long ms = (System.nanoTime() - s0) / 1_000_000;
                    List<String> warnings = warnings(st.getWarnings());
                    st.clearWarnings();
                    MigrationApi.Statement done = new MigrationApi.Statement(i + 1, s.line(), shorten(s.sql()),
                            (s0 - start) / 1_000_000, ms, error, warnings.isEmpty() ? null : warnings);
                    ran.add(done);
                    if (error != null) {
                        failed = done;
                        cancelled = canceller.fired();
                        break;
                    }
                }
            } finally {
                sampler.stop();
            }
            long totalMs = (System.nanoTime() - start) / 1_000_000;
            if (failed != null && "42601".equals(failed.error().sqlState()) && !cancelled) { // syntax_error
                throw new ClonefsException.InvalidArgument(migrationName + ":" + failed.line() + ": statement "
                        + failed.index() + ": " + failed.error().message());
            }
            if (inTransaction(mig)) {
                Postgres.query(mig, "rollback"); // a BEGIN without COMMIT, or a failed one: nothing of it stays
            }
            long migrationEnd = System.nanoTime();
            MigrationApi.Workload wl = null;
            if (bench != null) {
                sleep(1500); // a second of progress after the migration
                stop(bench);
                wl = workload(r, Files.readString(benchOut), clients, warmup, sampler,
                        (start - benchStart) / 1e9, (migrationEnd - benchStart) / 1e9);
            }
            Map<Long, Rel> after = relations(mig);
            long wal = Long.parseLong(Postgres.query(mig, "select pg_wal_lsn_diff(pg_current_wal_lsn(), '" + lsn + "')"));
            List<String> logLines = logLines(log, logOffset);
            List<MigrationApi.Lock> locks = sampler.locks();
            List<String> violations = new ArrayList<>();
            if (failed != null) {
                violations.add(cancelled ? "statement " + failed.index() + " (line " + failed.line()
                        + ") was cancelled at the maximum duration " + PgDurations.format(maxDuration)
                        : "statement " + failed.index() + " (line " + failed.line() + ") failed: " + failed.error().message());
            }
            long longestLock = locks.stream().mapToLong(MigrationApi.Lock::millis).max().orElse(0);
            if (!locks.isEmpty() && longestLock > maxLock.toMillis()) {
                MigrationApi.Lock l = locks.stream().filter(x -> x.millis() == longestLock).findFirst().orElseThrow();
                violations.add(String.format(Locale.ROOT, "%s held on %s for %.1f s (blocks %s; max %s), statement %d",
                        l.mode(), l.relation(), l.millis() / 1000.0, l.blocks(), PgDurations.format(maxLock), l.statement()));
            }
            if (wl != null && wl.blockedMaxMillis() != null && wl.blockedMaxMillis() > maxBlocked.toMillis()) {
                violations.add(String.format(Locale.ROOT, "%d workload queries waited behind the migration, the longest "
                        + "%.1f s (max %s)", wl.queriesBlocked(), wl.blockedMaxMillis() / 1000.0, PgDurations.format(maxBlocked)));
            }
            if (totalMs > maxDuration.toMillis() && !cancelled) {
                violations.add(String.format(Locale.ROOT, "the migration took %.1f s (max %s)", totalMs / 1000.0,
                        PgDurations.format(maxDuration)));
            }
            return new MigrationApi.Report(r.source(), b.name(), keep, database, migrationName,
                    violations.isEmpty() ? "pass" : "fail", violations, totalMs, ran.size(), statements.size(), ran,
                    failed, locks, wl, relationChanges(before, after), wal, logLines, maxLock.toMillis(),
                    maxBlocked.toMillis(), maxDuration.toMillis(), SAMPLE_MILLIS, sampler.samples());
        } catch (SQLException e) {
            throw new ClonefsException.IoFailure("check-migration: the branch " + b.name() + " did not answer: "
                    + oneLine(e.getMessage()), e);
        } catch (IOException e) {
            throw new ClonefsException.IoFailure("check-migration: " + e.getMessage(), e);
        } finally {
            if (bench != null && bench.isAlive()) {
                stop(bench);
            }
            if (work != null) {
                deleteTree(work);
            }
        }
    }

    // ---- the workload ------------------------------------------------------------------------------

    private static MigrationApi.Workload workload(MigrationApi.CheckRequest r, String out, int clients, Duration warmup,
                                                  LockSampler sampler, double migStartS, double migEndS) {
        List<double[]> before = new ArrayList<>();
        List<double[]> during = new ArrayList<>();
        Matcher m = PROGRESS.matcher(out);
        while (m.find()) {
            double at = Double.parseDouble(m.group(1)); // the end of a one-second interval
            double[] v = {Double.parseDouble(m.group(2)), Double.parseDouble(m.group(3))};
            if (at <= migStartS) {
                before.add(v);
            } else if (at - 1 < migEndS + 1) {
                during.add(v); // and the second after: the queries that waited complete then
            }
        }
        List<String> errors = new ArrayList<>();
        for (String line : out.split("\n")) {
            if (line.contains("ERROR") || line.startsWith("pgbench: error") || line.contains("client ") && line.contains("aborted")) {
                errors.add(line.strip());
                if (errors.size() >= 5) {
                    break;
                }
            }
        }
        List<Long> waits = sampler.waits();
        return new MigrationApi.Workload(blankOr(r.workloadName(), "workload"), clients, warmup.toMillis(), waits.size(),
                waits.isEmpty() ? null : pct(waits, 50), waits.isEmpty() ? null : pct(waits, 99),
                waits.isEmpty() ? null : waits.get(waits.size() - 1), latency(before), latency(during), mean(before, 0),
                mean(during, 0), errors.isEmpty() ? null : errors);
    }

    /** The mean latency of the transactions completed in these one-second intervals (weighted by their tps). */
    private static Double latency(List<double[]> v) {
        double n = 0;
        double sum = 0;
        for (double[] x : v) {
            n += x[0];
            sum += x[0] * x[1];
        }
        return n == 0 ? null : Math.round(sum / n * 100) / 100.0;
    }

    private static Double mean(List<double[]> v, int i) {
        if (v.isEmpty()) {
            return null;
        }
        double s = 0;
        for (double[] x : v) {
            s += x[i];
        }
        return Math.round(s / v.size() * 100) / 100.0;
    }

    static long pct(List<Long> sorted, int p) {
        int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
    }

    private static void stop(Process p) {
        Command.killTree(p.toHandle());
        try {
            p.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- relations, log ----------------------------------------------------------------------------

    private static Map<Long, Rel> relations(Connection c) throws SQLException {
        Map<Long, Rel> out = new HashMap<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "select c.oid, format('%I.%I', n.nspname, c.relname), c.relkind, c.relfilenode, pg_relation_size(c.oid) "
                        + "from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                        + "where c.relkind in ('r', 'i', 'm') and n.nspname not in ('pg_catalog', 'information_schema') "
                        + "and n.nspname not like 'pg_toast%' and n.nspname not like 'pg_temp%'")) {
            while (rs.next()) {
                String kind = switch (rs.getString(3)) {
                    case "i" -> "index";
                    case "m" -> "materialized view";
                    default -> "table";
                };
                out.put(rs.getLong(1), new Rel(rs.getLong(1), rs.getString(2), kind, rs.getLong(4), rs.getLong(5)));
            }
        }
        return out;
    }

    static List<MigrationApi.Relation> relationChanges(Map<Long, Rel> before, Map<Long, Rel> after) {
        List<MigrationApi.Relation> out = new ArrayList<>();
        for (Rel a : after.values()) {
            Rel b = before.get(a.oid());
            if (b == null) {
                out.add(new MigrationApi.Relation(a.name(), a.kind(), null, a.bytes(), false));
            } else if (b.filenode() != a.filenode() || b.bytes() != a.bytes() || !b.name().equals(a.name())) {
                out.add(new MigrationApi.Relation(a.name(), a.kind(), b.bytes(), a.bytes(), b.filenode() != a.filenode()));
            }
        }
        for (Rel b : before.values()) {
            if (!after.containsKey(b.oid())) {
                out.add(new MigrationApi.Relation(b.name(), b.kind(), b.bytes(), null, false));
            }
        }
        out.sort((x, y) -> x.name().compareTo(y.name()));
        return out;
    }

    private static List<String> logLines(Path log, long offset) throws IOException {
        List<String> out = new ArrayList<>();
        if (!Files.exists(log)) {
            return out;
        }
        try (InputStream in = Files.newInputStream(log)) {
            in.skipNBytes(Math.min(offset, Files.size(log)));
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (LOG_LINE.matcher(line).find()) {
                    out.add(line.strip());
                    if (out.size() >= 200) {
                        out.add("... (more in " + log + ")");
                        break;
                    }
                }
            }
        }
        return out;
    }

    // ---- helpers -----------------------------------------------------------------------------------

    /** Cancels a statement still running after {@code millis}. */
    private static final class Canceller implements AutoCloseable {
        private final Thread thread;
        private volatile boolean fired;

        Canceller(Statement st, long millis) {
            thread = new Thread(() -> {
                try {
                    Thread.sleep(millis);
                    fired = true;
                    st.cancel();
                } catch (InterruptedException e) {
                    // finished in time
                } catch (SQLException e) {
                    LOG.warn("cannot cancel a statement of the migration: {}", e.getMessage());
                }
            }, "clonefs-check-cancel");
            thread.setDaemon(true);
            thread.start();
        }

        boolean fired() {
            return fired;
        }

        @Override
        public void close() {
            thread.interrupt();
        }
    }

    /** Whether the session is inside a transaction (open, or failed and waiting for its ROLLBACK). */
    private static boolean inTransaction(Connection c) throws SQLException {
        return c.unwrap(org.postgresql.core.BaseConnection.class).getTransactionState()
                != org.postgresql.core.TransactionState.IDLE;
    }

    private static Connection connect(int port, String database) throws SQLException {
        Connection c = Postgres.connect(port, database, Duration.ofSeconds(30), Duration.ZERO);
        c.setAutoCommit(true);
        return c;
    }

    private static List<String> warnings(SQLWarning w) {
        List<String> out = new ArrayList<>();
        for (SQLWarning x = w; x != null && out.size() < 20; x = x.getNextWarning()) {
            out.add(oneLine(x.getMessage()));
        }
        return out;
    }

    private static Duration duration(String what, String text, Duration dflt) {
        if (text == null || text.isBlank()) {
            return dflt;
        }
        try {
            Duration d = PgDurations.parse(text);
            if (d.isNegative()) {
                throw new ClonefsException.InvalidArgument("negative");
            }
            return d;
        } catch (ClonefsException.InvalidArgument e) {
            throw new ClonefsException.InvalidArgument(what + ": '" + text + "' is not a duration (e.g. 500ms, 10s, 1h)");
        }
    }

    static String shorten(String sql) {
        String s = sql.strip().replaceAll("\\s+", " ");
        return s.length() <= SQL_SHOWN ? s : s.substring(0, SQL_SHOWN - 3) + "...";
    }

    static String oneLine(String s) {
        return s == null ? "" : s.strip().replaceAll("\\s*\\n\\s*", " ");
    }

    private static String blankOr(String s, String dflt) {
        return s == null || s.isBlank() ? dflt : s;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ClonefsException.IoFailure("interrupted", null);
        }
    }

    private static void deleteTree(Path dir) {
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            LOG.debug("cannot delete {}: {}", dir, e.getMessage());
        }
    }
}
