package io.clonefs.pg;

import io.clonefs.pg.process.Postgres;
import io.clonefs.pg.process.Postgres.StopMode;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL server of one {@link PgRecord}: a {@link Postgres} runner made from the record
 * (its data directory on the mount, its port, the run directory for its socket, its log in
 * {@code LOGDIR/<name>.log}), with the runner's failures turned into {@link PgException}s that
 * name the server. Every server listens on 127.0.0.1 only; these settings are passed on the
 * command line, so a clone carries nothing of its source's to rewrite. A branch also gets
 * {@code archive_mode=off} and no synchronous standbys, so it can never archive into, or wait for,
 * its source's infrastructure. Then come the server's other settings ({@link PgServerSettings}: a
 * branch's small defaults, the server's own). A server with limits is started in its cgroup and
 * its cgroup removed when it stops ({@link PgLimiter}).
 *
 * <p>Stateless apart from its configuration and the postmasters it found (a hint for {@link #pid},
 * checked at each use); callers serialise the operations on one server.
 */
final class PgProcesses {
    private static final Logger LOG = LoggerFactory.getLogger(PgProcesses.class);
    static final Duration STOP_TIMEOUT = Postgres.STOP_TIMEOUT;
    private static final int LOG_TAIL_LINES = 15;

    /** Milliseconds of the steps of a branch's first start. */
    record Started(long startMs, long promoteMs, long firstQueryMs) {
    }

    private final PgTools tools;
    private final PgOptions options;
    private final Path mountpoint;
    private final Path runDir;
    private final Path logDir;
    private final PgLimiter limiter;
    /** Where a server's temporary files go, linked before each start; null: in the data directory. */
    private final PgTempFiles tempFiles;
    /** A postmaster found on a data directory: its pid and start time ({@link Postgres#startTicks}). */
    private record Postmaster(long pid, long startTicks) {
    }

    /** The postmaster last found per data directory (see {@link #pid}); only a hint, checked at each use. */
    private final ConcurrentHashMap<Path, Postmaster> postmasters = new ConcurrentHashMap<>();
    /** Settings of another part (history's archiving), applied after the record's own. */
    private volatile java.util.function.BiConsumer<PgRecord, Postgres.Builder> more = (r, b) -> { };

    PgProcesses(PgTools tools, PgOptions options, Path mountpoint, Path runDir, Path logDir, PgLimiter limiter,
                PgTempFiles tempFiles) {
        this.tools = tools;
        this.options = options;
        this.mountpoint = mountpoint;
        this.runDir = runDir;
        this.logDir = logDir;
        this.limiter = limiter;
        this.tempFiles = tempFiles;
    }

    /** Adds settings a server starts with (after its own). */
    void moreSettings(java.util.function.BiConsumer<PgRecord, Postgres.Builder> m) {
        this.more = m;
    }

    java.time.Duration startTimeout() {
        return options.startTimeout();
    }

    /** Where the servers' memory limits and CPU weights are put into effect. */
    PgLimiter limiter() {
        return limiter;
    }

    Path dataDir(PgRecord rec) {
        Path root = mountpoint.resolve(rec.name());
        return rec.dataDir().isEmpty() ? root : root.resolve(rec.dataDir());
    }

    Path logFile(String name) {
        return logDir.resolve(name + ".log");
    }

    /** Removes what a server kept beside its volume: its log and its temporary files' directory. */
    void removeFiles(String name) {
        PgVolumes.deleteQuietly(logFile(name));
        if (tempFiles != null) {
            tempFiles.remove(name);
        }
    }

    /** True when the server's postmaster runs. */
    boolean running(PgRecord rec) {
        return pid(rec) > 0;
    }

    /**
     * The postmaster's pid, or -1. Probed at every call, never assumed: the postmaster found last
     * time on this data directory is asked first ({@link Postgres#stillRunsIn}: the same pid and
     * start time, its working directory still the data directory, from {@code /proc} alone); only
     * when it is not there any more is {@code postmaster.pid} read through the mount
     * ({@link Postgres#livePostmaster}: a lookup, open, read and release on the pool's own FUSE
     * mount, which was most of the time of {@code GET /v1/pg/servers} over 200 servers). A server
     * that stopped, crashed or was killed is seen at once: its postmaster has exited.
     */
    long pid(PgRecord rec) {
        Path dir = dataDir(rec);
        Postmaster known = postmasters.get(dir);
        if (known != null && Postgres.stillRunsIn(known.pid(), known.startTicks(), dir)) {
            return known.pid();
        }
        long pid = Postgres.livePostmaster(dir);
        long started = pid > 0 ? Postgres.startTicks(pid) : -1;
        if (started >= 0 && Postgres.stillRunsIn(pid, started, dir)) {
            postmasters.put(dir, new Postmaster(pid, started));
        } else {
            postmasters.remove(dir);
        }
        return pid;
    }

    /**
     * The runner of a record's server.
     *
     * @param freshClone the first start after a clone: its files are all durable in the pool
     *                   (the snapshot committed them), so the fsync of every file PostgreSQL makes
     *                   before crash recovery can be a single syncfs. Not after a crash of a
     *                   running server, whose last writes may not have been synced yet.
     */
    Postgres server(PgRecord rec, boolean freshClone) {
        return server(rec, freshClone, tools);
    }

    /** The same, running the PostgreSQL programs with {@code programs}. */
    Postgres server(PgRecord rec, boolean freshClone, Postgres.Programs programs) {
        Postgres.Builder b = Postgres.on(dataDir(rec)).name(rec.name()).programs(programs).port(rec.port())
                .socketDir(runDir).log(logFile(rec.name()))
                .setting("cluster_name", rec.name());
        if (freshClone) {
            b.setting("recovery_init_sync_method", "syncfs");
        }
        if (rec.isBranch()) {
            b.setting("archive_mode", "off").setting("synchronous_standby_names", "");
            if (rec.promote()) {
                // started as a standby without a primary, then promoted
                b.setting("hot_standby", "on").setting("primary_conninfo", "").setting("primary_slot_name", "")
                        .setting("restore_command", "");
            }
        }
        more.accept(rec, b);
        PgServerSettings.apply(rec, b);
        return b.build();
    }

    /**
     * {@code pg_ctl start -w}; removes a {@code postmaster.pid} that no live postmaster owns
     * (a crash, or a copy), refuses a port another program took.
     */
    void start(PgRecord rec, boolean freshClone) {
        if (running(rec)) {
            return;
        }
        if (!Postgres.portFree(rec.port())) {
            throw new PgException.PortInUse("cannot start '" + rec.name() + "': port " + rec.port()
                    + " is in use on 127.0.0.1 by another program");
        }
        start(rec, freshClone, null);
    }

    /**
     * Starts a suspended server while the daemon still listens on its port: {@code release}
     * (which closes that listener) runs once the postmaster has made its lock file, just before
     * it binds the port. A postmaster that still found the port taken is started once more.
     */
    void startReleasing(PgRecord rec, Runnable release) {
        try {
            start(rec, false, release);
        } catch (PgException.StartFailed e) {
            if (!String.valueOf(e.getMessage()).contains("could not create any TCP/IP sockets")) {
                throw e;
            }
            LOG.info("PostgreSQL {} found its port still taken by the wake listener; starting it again", rec.name());
            start(rec, false, null);
        }
    }

    private void start(PgRecord rec, boolean freshClone, Runnable onLockFile) {
        Path log = logFile(rec.name());
        if (tempFiles != null) {
            tempFiles.place(rec.name(), dataDir(rec));
        }
        try {
            server(rec, freshClone, limiter.starting(rec, tools)).start(options.startTimeout(), onLockFile);
        } catch (Postgres.Failed e) {
            if (e.result() == null) {
                limiter.release(rec);
                throw new PgException.ToolFailed(e.getMessage());
            }
            String tail = Postgres.tailOfFile(log, LOG_TAIL_LINES);
            stopQuietly(rec, StopMode.IMMEDIATE);
            throw new PgException.StartFailed("PostgreSQL '" + rec.name() + "' did not start (" + log + ")",
                    tail.isBlank() ? PgTools.tail(e.result()) : tail);
        }
    }

    /** Starts a freshly cloned branch; returns the milliseconds of start, promote and first query. */
    Started startBranch(PgRecord rec) {
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
        return new Started(startMs, promoteMs, millisSince(t));
    }

    void promote(PgRecord rec) {
        Postgres server = server(rec, false);
        boolean inRecovery;
        try {
            inRecovery = server.inRecovery();
        } catch (SQLException e) {
            throw startFailed(rec, "did not answer before its promotion: " + e.getMessage());
        }
        if (!inRecovery) {
            return; // archive recovery already ended by itself
        }
        try {
            server.promote(options.startTimeout());
        } catch (Postgres.Failed e) {
            throw startFailed(rec, "could not be promoted: " + PgTools.tail(e.result()));
        }
    }

    void awaitQuery(PgRecord rec) {
        try {
            Postgres.awaitReady(rec.port(), dataDir(rec), options.startTimeout());
        } catch (SQLException e) {
            throw startFailed(rec, "does not answer queries on port " + rec.port() + " (" + e.getMessage() + ")");
        } catch (Postgres.Failed e) {
            throw new PgException.ToolFailed(e.getMessage());
        }
    }

    /** Whether a running server is in recovery; the record's {@code standby} flag when it does not answer. */
    boolean inRecovery(PgRecord rec) {
        try {
            return server(rec, false).inRecovery();
        } catch (SQLException e) {
            return rec.standby();
        }
    }

    private PgException.StartFailed startFailed(PgRecord rec, String what) {
        return new PgException.StartFailed("PostgreSQL '" + rec.name() + "' " + what + " (" + logFile(rec.name()) + ")",
                Postgres.tailOfFile(logFile(rec.name()), LOG_TAIL_LINES));
    }

    /** {@code pg_ctl stop -m fast|immediate}, then waits for the postmaster to exit (killing it after 30 s). */
    void stop(PgRecord rec, StopMode mode) {
        try {
            server(rec, false).stop(mode);
        } catch (Postgres.Failed e) {
            throw new PgException.ToolFailed(e.getMessage());
        }
        if (!running(rec)) {
            limiter.release(rec);
        }
    }

    void stopQuietly(PgRecord rec, StopMode mode) {
        try {
            stop(rec, mode);
        } catch (RuntimeException e) {
            LOG.warn("cannot stop PostgreSQL {}: {}", rec.name(), e.getMessage());
        }
    }

    void checkpoint(PgRecord src) {
        try {
            Postgres.query(src.port(), "CHECKPOINT");
        } catch (SQLException e) {
            LOG.warn("CHECKPOINT on {} failed ({}); branching without it", src.name(), e.getMessage());
        }
    }

    static long millisSince(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }
}
