package io.clonefs.pg;

import io.clonefs.base.ClonefsException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starting, promoting, probing and stopping the PostgreSQL server of one {@link PgRecord}, with
 * {@code pg_ctl} run as the PostgreSQL OS user. Every server listens on 127.0.0.1 only, on its
 * port, with its socket in the run directory and its log in {@code LOGDIR/<name>.log}; these
 * settings are passed on the command line, so a clone carries nothing of its source's to rewrite.
 * A branch also gets {@code archive_mode=off} and no synchronous standbys, so it can never archive
 * into, or wait for, its source's infrastructure.
 *
 * <p>Stateless apart from its configuration; callers serialise the operations on one server.
 */
final class PgProcesses {
    private static final Logger LOG = LoggerFactory.getLogger(PgProcesses.class);
    static final Duration STOP_TIMEOUT = Duration.ofMinutes(2);
    private static final int LOG_TAIL_LINES = 15;

    private final PgTools tools;
    private final PgOptions options;
    private final Path mountpoint;
    private final Path runDir;
    private final Path logDir;

    PgProcesses(PgTools tools, PgOptions options, Path mountpoint, Path runDir, Path logDir) {
        this.tools = tools;
        this.options = options;
        this.mountpoint = mountpoint;
        this.runDir = runDir;
        this.logDir = logDir;
    }

    Path dataDir(PgRecord rec) {
        Path root = mountpoint.resolve(rec.name());
        return rec.dataDir().isEmpty() ? root : root.resolve(rec.dataDir());
    }

    Path logFile(String name) {
        return logDir.resolve(name + ".log");
    }

    /** True when the server's postmaster runs. */
    boolean running(PgRecord rec) {
        return PgTools.livePostmaster(dataDir(rec)) > 0;
    }

    /**
     * @param freshClone the first start after a clone: its files are all durable in the pool
     *                   (the snapshot committed them), so the fsync of every file PostgreSQL makes
     *                   before crash recovery can be a single syncfs. Not after a crash of a
     *                   running server, whose last writes may not have been synced yet.
     */
    String serverOptions(PgRecord rec, boolean freshClone) {
        boolean branch = rec.isBranch();
        StringBuilder o = new StringBuilder();
        o.append("-p ").append(rec.port());
        o.append(" -k ").append(shellQuote(runDir.toString()));
        o.append(" -c listen_addresses=127.0.0.1");
        o.append(" -c cluster_name=").append(rec.name());
        if (freshClone) {
            o.append(" -c recovery_init_sync_method=syncfs");
        }
        if (branch) {
            o.append(" -c archive_mode=off -c synchronous_standby_names=''");
            if (rec.promote()) {
                // started as a standby without a primary, then promoted
                o.append(" -c hot_standby=on -c primary_conninfo='' -c primary_slot_name='' -c restore_command=''");
            }
        }
        return o.toString();
    }

    /**
     * {@code pg_ctl start -w}; removes a {@code postmaster.pid} that no live postmaster owns
     * (a crash, or a copy), refuses a port another program took.
     */
    void start(PgRecord rec, boolean freshClone) {
        Path data = dataDir(rec);
        if (PgTools.livePostmaster(data) > 0) {
            return;
        }
        if (!PgTools.portFree(rec.port())) {
            throw new PgException.PortInUse("cannot start '" + rec.name() + "': port " + rec.port()
                    + " is in use on 127.0.0.1 by another program");
        }
        try {
            Files.deleteIfExists(data.resolve("postmaster.pid"));
        } catch (IOException e) {
            throw new ClonefsException.IoFailure("cannot remove the stale " + data.resolve("postmaster.pid") + ": "
                    + e.getMessage(), e);
        }
        Path log = logFile(rec.name());
        PgTools.Result r = tools.run(options.startTimeout().plusMinutes(1), "pg_ctl", List.of("start", "-D", data.toString(),
                "-l", log.toString(), "-w", "-t", Long.toString(options.startTimeout().toSeconds()),
                "-o", serverOptions(rec, freshClone)));
        if (!r.ok()) {
            String tail = PgTools.tailOfFile(log, LOG_TAIL_LINES);
            stopQuietly(rec, "immediate");
            throw new PgException.StartFailed("PostgreSQL '" + rec.name() + "' did not start (" + log + ")",
                    tail.isBlank() ? r.tail() : tail);
        }
    }

    /** Starts a freshly cloned branch; returns the milliseconds of start, promote and first query. */
    long[] startBranch(PgRecord rec) {
        long t = System.nanoTime();
        start(rec, true);
        long startMs = millisSince(t);
        t = System.nanoTime();
        if (rec.promote()) {
            promote(rec);
        }
        long promoteMs = millisSince(t);
        t = System.nanoTime();
        awaitQuery(rec);
        return new long[] {startMs, promoteMs, millisSince(t)};
    }

    void promote(PgRecord rec) {
        String inRecovery;
        try {
            inRecovery = PgTools.query(rec.port(), "SELECT pg_is_in_recovery()");
        } catch (SQLException e) {
            throw startFailed(rec, "did not answer before its promotion: " + e.getMessage());
        }
        if (!"t".equals(inRecovery)) {
            return; // archive recovery already ended by itself
        }
        PgTools.Result r = tools.run(options.startTimeout(), "pg_ctl", List.of("promote", "-D", dataDir(rec).toString(),
                "-w", "-t", Long.toString(options.startTimeout().toSeconds())));
        if (!r.ok()) {
            throw startFailed(rec, "could not be promoted: " + r.tail());
        }
    }

    void awaitQuery(PgRecord rec) {
        try {
            PgTools.awaitQuery(rec.port(), dataDir(rec), options.startTimeout());
        } catch (SQLException e) {
            throw startFailed(rec, "does not answer queries on port " + rec.port() + " (" + e.getMessage() + ")");
        }
    }

    private PgException.StartFailed startFailed(PgRecord rec, String what) {
        return new PgException.StartFailed("PostgreSQL '" + rec.name() + "' " + what + " (" + logFile(rec.name()) + ")",
                PgTools.tailOfFile(logFile(rec.name()), LOG_TAIL_LINES));
    }

    void stop(PgRecord rec, String mode) {
        Path data = dataDir(rec);
        long pid = PgTools.livePostmaster(data);
        if (pid < 0) {
            return;
        }
        PgTools.Result r = tools.run(STOP_TIMEOUT.plusSeconds(30), "pg_ctl", List.of("stop", "-D", data.toString(), "-m", mode,
                "-w", "-t", Long.toString(STOP_TIMEOUT.toSeconds())));
        if (!r.ok() && PgTools.livePostmaster(data) > 0) {
            LOG.warn("pg_ctl stop -m {} of {} failed ({}); stopping it immediately", mode, rec.name(), r.tail());
            tools.run(STOP_TIMEOUT, "pg_ctl", List.of("stop", "-D", data.toString(), "-m", "immediate", "-w"));
        }
        // pg_ctl returns once the pid file is gone; wait for the process (and its open files) too
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!PgTools.exited(pid) && System.nanoTime() < deadline) {
            PgTools.sleep(10);
        }
        if (!PgTools.exited(pid)) {
            LOG.warn("postmaster {} of {} does not exit; killing it", pid, rec.name());
            ProcessHandle.of(pid).ifPresent(ph -> {
                ph.descendants().forEach(ProcessHandle::destroyForcibly);
                ph.destroyForcibly();
            });
        }
    }

    void stopQuietly(PgRecord rec, String mode) {
        try {
            stop(rec, mode);
        } catch (RuntimeException e) {
            LOG.warn("cannot stop PostgreSQL {}: {}", rec.name(), e.getMessage());
        }
    }

    void checkpoint(PgRecord src) {
        try {
            PgTools.query(src.port(), "CHECKPOINT");
        } catch (SQLException e) {
            LOG.warn("CHECKPOINT on {} failed ({}); branching without it", src.name(), e.getMessage());
        }
    }

    private static String shellQuote(String s) {
        return "'" + s.replace("'", "'\"'\"'") + "'";
    }

    private static long millisSince(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }
}
