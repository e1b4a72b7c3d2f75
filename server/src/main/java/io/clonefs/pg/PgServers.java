package io.clonefs.pg;

import io.clonefs.api.PgApi;
import io.clonefs.base.ClonefsException;
import io.clonefs.engine.SnapshotInfo;
import io.clonefs.pg.process.Postgres;
import io.clonefs.pg.process.Postgres.StopMode;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The managed servers' lifecycle: list them (state probed, never stored), start one (adopting a
 * volume that holds a data directory nobody manages yet), stop one, protect one, destroy one (also
 * on expiry), start again after a daemon restart every server that should run, and stop them all.
 *
 * <p>Thread-safe: each operation on a server holds its name's lock ({@link PgRegistry#withName});
 * {@link #destroyLocked} is for a caller that holds it already.
 */
final class PgServers {
    private static final Logger LOG = LoggerFactory.getLogger(PgServers.class);

    private final PgRegistry registry;
    private final PgVolumes volumes;
    private final PgProcesses processes;
    private final PgEvents events;
    private final PgOptions options;
    private final PgSleeps sleeps;
    /** The history of sources: listed with them, deleted with them. */
    private volatile PgHistory history;

    PgServers(PgRegistry registry, PgVolumes volumes, PgProcesses processes, PgEvents events, PgOptions options,
              PgSleeps sleeps) {
        this.registry = registry;
        this.volumes = volumes;
        this.processes = processes;
        this.events = events;
        this.options = options;
        this.sleeps = sleeps;
    }

    void history(PgHistory h) {
        this.history = h;
    }

    // ---- what there is ---------------------------------------------------------------------------

    /** A server as listed: its state probed now. */
    PgApi.Server view(PgRecord r) {
        boolean exists = volumes.exists(r.name());
        long pid = exists ? processes.pid(r) : -1;
        String state = !exists ? "missing" : pid > 0 ? "running"
                : r.suspended() ? (sleeps.waking(r.name()) ? "waking" : "suspended") : "stopped";
        long unique = 0;
        if (exists) {
            try {
                unique = volumes.uniqueBytes(r.name());
            } catch (ClonefsException.NotFound e) {
                state = "missing";
            }
        }
        long age = Math.max(0, Duration.between(Instant.parse(r.createdAt()), Instant.now()).toSeconds());
        boolean standby = r.standby() && "running".equals(state) ? processes.inRecovery(r) : r.standby();
        Duration idle = sleeps.idleTime(r);
        return new PgApi.Server(r.name(), r.role(), Postgres.uri(r.port()), r.source(), r.snapshot(), r.port(), state, pid,
                r.createdAt(), age, r.expiresAt(), r.protect(), standby, r.primary(), unique,
                processes.dataDir(r).toString(), processes.logFile(r.name()).toString(),
                idle.isZero() ? null : PgDurations.format(idle), PgServerLimits.view(r, processes.limiter()),
                r.masked() == null ? null : new PgApi.Masked(r.masked().snapshot(), r.masked().verified(), r.masked().at()),
                r.history() == null ? null : new PgApi.HistorySummary(
                        PgDurations.format(Duration.ofSeconds(r.history().keepSeconds())),
                        PgDurations.format(Duration.ofSeconds(r.history().everySeconds())), history == null ? 0 : history.walSize(r.name())[0]),
                r.moment() == null ? null : new PgApi.Moment(r.moment().time(), r.moment().lsn()));
    }

    /** Every managed server, sources first, then by name. */
    List<PgApi.Server> list() {
        List<PgRecord> recs = registry.servers();
        recs.sort(Comparator.comparing(PgRecord::isBranch).thenComparing(PgRecord::name));
        List<PgApi.Server> out = new ArrayList<>();
        for (PgRecord r : recs) {
            out.add(view(r));
        }
        return out;
    }

    PgApi.Server get(String name) {
        return view(registry.require(name));
    }

    /** How many branches run now (probed, not stored). */
    long branchesRunning() {
        return registry.servers().stream().filter(PgRecord::isBranch).filter(processes::running).count();
    }

    /** How many managed servers run now (probed, not stored). */
    long running() {
        return registry.servers().stream().filter(processes::running).count();
    }

    // ---- start and stop ----------------------------------------------------------------------

    PgApi.Server start(String name) {
        return registry.withName(name, () -> {
            PgRecord rec = registry.find(name);
            if (rec == null) {
                rec = adopt(name);
            }
            rec = rec.withRunning(true);
            if (rec.suspended()) {
                rec = sleeps.resumeLocked(rec, false);
            }
            if (!processes.running(rec)) {
                volumes.requireVolume(rec);
                sleeps.admit(name, rec.limits());
                processes.start(rec, false);
            }
            processes.awaitQuery(rec);
            registry.put(rec);
            return view(rec);
        });
    }

    private PgRecord adopt(String name) {
        if (!volumes.exists(name)) {
            throw new ClonefsException.NotFound("no volume or PostgreSQL server named '" + name + "'");
        }
        String dir = volumes.detectDataDir(name);
        int p = registry.reserveNew(name, null, false);
        try {
            LOG.info("adopting the PostgreSQL data directory of volume {} as a source (port {})", name, p);
            return new PgRecord(name, PgRecord.SOURCE, dir, null, null, false, false, p, Instant.now().toString(), null,
                    false, true, Files.exists(volumes.root(name).resolve(dir).resolve("standby.signal")), null, null, false, null, null, null, null);
        } finally {
            registry.release(name);
        }
    }

    PgApi.Server stop(String name) {
        return registry.withName(name, () -> {
            PgRecord rec = registry.require(name);
            if (rec.suspended()) {
                sleeps.unlistenLocked(rec, "PostgreSQL server '" + name + "' was stopped by its user");
            }
            processes.stop(rec, StopMode.FAST);
            rec = rec.withRunning(false).withSuspended(false);
            registry.put(rec);
            return view(rec);
        });
    }

    /** Suspends a running server now, as if it had been idle for its idle time. */
    PgApi.Server suspend(String name) {
        return registry.withName(name, () -> {
            PgRecord rec = registry.require(name);
            if (rec.suspended()) {
                return view(rec);
            }
            if (!processes.running(rec)) {
                throw new ClonefsException.Conflict("PostgreSQL server '" + name + "' does not run; only a running "
                        + "server can be suspended (it is woken by a connection to its port)");
            }
            return view(sleeps.suspendLocked(rec, "asked to"));
        });
    }

    /** Sets a server's idle time before a suspend: null the pool's default, zero never. */
    PgApi.Server suspendAfter(String name, Duration idle) {
        PgSleeps.checkIdle(idle);
        return registry.withName(name, () -> {
            PgRecord rec = registry.require(name).withSuspendAfter(idle == null ? null : idle.toSeconds());
            registry.put(rec);
            return view(rec);
        });
    }

    PgApi.Server protect(String name, boolean on) {
        return registry.withName(name, () -> {
            PgRecord rec = registry.require(name).withProtect(on);
            registry.put(rec);
            return view(rec);
        });
    }

    /** Expires {@code ttl} from now, or never (null); a protected server is not expired either way. */
    PgApi.Server ttl(String name, Duration ttl) {
        return registry.withName(name, () -> {
            PgRecord rec = registry.require(name)
                    .withExpiresAt(ttl == null ? null : Instant.now().plus(ttl).truncatedTo(ChronoUnit.SECONDS).toString());
            registry.put(rec);
            return view(rec);
        });
    }

    // ---- destroy -------------------------------------------------------------------------------

    PgApi.Destroyed destroy(String name) {
        return registry.withName(name, () -> destroyLocked(registry.require(name), false));
    }

    /** Destroys a server whose name lock the caller holds; {@code expiry}: its time to live ran out. */
    PgApi.Destroyed destroyLocked(PgRecord rec, boolean expiry) {
        String name = rec.name();
        if (rec.protect()) {
            throw new PgException.Protected("'" + name + "' is protected; run 'clonefs pg unprotect " + name + "' first");
        }
        List<SnapshotInfo> snaps = volumes.snapshotsOf(name);
        List<String> clones = new ArrayList<>();
        snaps.forEach(s -> clones.addAll(s.clones()));
        if (!clones.isEmpty()) {
            throw new ClonefsException.Conflict("'" + name + "' has branches or clones (" + String.join(", ", clones)
                    + "); destroy them first");
        }
        if (rec.suspended()) {
            sleeps.unlistenLocked(rec, "PostgreSQL server '" + name + "' was destroyed"
                    + (expiry ? " (its time to live ran out)" : ""));
        }
        processes.stop(rec, StopMode.IMMEDIATE);
        for (SnapshotInfo s : snaps) {
            volumes.destroy(s.name());
        }
        if (volumes.exists(name)) {
            volumes.destroy(name);
        }
        registry.remove(name);
        String snapDestroyed = rec.snapshotOwned() ? volumes.releaseSnapshot(rec.snapshot()) : null;
        processes.removeFiles(name);
        if (history != null) {
            PgVolumes.deleteTreeQuietly(history.dir(name)); // its archive, if it kept history
        }
        LOG.info("{} {} destroyed{}", rec.role(), name, expiry ? " (its time to live ran out)" : "");
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("source", rec.source());
        d.put("snapshotDestroyed", snapDestroyed);
        events.emit(expiry ? "expired" : "destroyed", rec, d);
        return new PgApi.Destroyed(name, snapDestroyed);
    }

    // ---- all of them -----------------------------------------------------------------------------

    /** Starts every server that should run and does not; failures are reported, never thrown. */
    List<PgApi.Restored> restoreAll() {
        List<PgApi.Restored> out = new ArrayList<>();
        for (PgRecord r : registry.servers()) {
            if (!r.running()) {
                continue;
            }
            try {
                registry.withName(r.name(), () -> {
                    PgRecord cur = registry.require(r.name());
                    if (processes.running(cur)) {
                        if (cur.suspended()) { // the daemon stopped while it woke: it runs
                            registry.put(cur.withSuspended(false));
                        }
                        out.add(new PgApi.Restored(cur.name(), "running"));
                        return null;
                    }
                    if (cur.suspended()) {
                        sleeps.listen(cur);
                        out.add(new PgApi.Restored(cur.name(), "suspended"));
                        return null;
                    }
                    volumes.requireVolume(cur);
                    sleeps.admit(cur.name(), cur.limits());
                    processes.start(cur, false);
                    processes.awaitQuery(cur);
                    out.add(new PgApi.Restored(cur.name(), "started"));
                    return null;
                });
            } catch (RuntimeException e) {
                LOG.error("cannot restart PostgreSQL server {}: {}", r.name(), e.getMessage());
                out.add(new PgApi.Restored(r.name(), "failed: " + e.getMessage()));
            }
        }
        return out;
    }

    /**
     * Stops every running server ({@code pg_ctl stop -m fast}, in parallel), keeping their
     * {@code running} flags; each waits for an operation in flight on its server. Returns the
     * names of the servers it stopped.
     */
    List<String> stopAll() {
        List<String> stopped = Collections.synchronizedList(new ArrayList<>());
        List<Thread> stoppers = new ArrayList<>();
        for (String name : registry.allNames()) { // names being created too: stop them once created
            Thread t = new Thread(() -> {
                // wait for an operation in flight on this server (a start, a branch) to finish
                ReentrantLock l = registry.nameLock(name);
                boolean locked = false;
                try {
                    locked = l.tryLock(options.startTimeout().toMillis(), TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                try {
                    PgRecord r = registry.find(name);
                    if (r != null && processes.running(r)) {
                        processes.stopQuietly(r, StopMode.FAST);
                        stopped.add(name);
                    }
                } finally {
                    if (locked) {
                        l.unlock();
                    }
                }
            }, "clonefs-pg-stop-" + name);
            t.start();
            stoppers.add(t);
        }
        for (Thread t : stoppers) {
            try {
                t.join(PgProcesses.STOP_TIMEOUT.toMillis() + 30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return List.copyOf(stopped);
    }
}
