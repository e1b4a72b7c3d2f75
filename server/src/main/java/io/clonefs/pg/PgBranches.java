package io.clonefs.pg;

import io.clonefs.api.PgApi;
import io.clonefs.base.ClonefsException;
import io.clonefs.pg.PgManager.BranchSpec;
import io.clonefs.pg.limits.Limits;
import io.clonefs.pg.process.Postgres;
import io.clonefs.pg.process.Postgres.StopMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where branches are made and reset. A branch: optionally {@code CHECKPOINT} on the source, then
 * the mount's {@code syncfs} and an engine snapshot of the source volume while its server runs (a
 * crash-consistent image; the source is never paused or restarted), or with {@code at} the newest
 * snapshot taken at or before that moment; a clone, removal of the copied {@code postmaster.pid},
 * start (crash recovery), promotion if the source was a standby, and a {@code SELECT 1}. A failure
 * at any step removes the clone and the snapshot made for it. A reset destroys the branch's volume
 * and clones the same snapshot again. Once a branch answers, {@link PgWarmup} reads its relation
 * files into the page cache in the background.
 *
 * <p>Thread-safe: a branch holds its new name's lock throughout (and its name reservation) and its
 * source's lock while it snapshots and clones, so that a destroy of the source cannot interleave.
 */
final class PgBranches {
    private static final Logger LOG = LoggerFactory.getLogger(PgBranches.class);

    /** Milliseconds of the steps before the start, of a branch or a reset. */
    private record Steps(long checkpointMs, long snapshotMs, long cloneMs, long prepareMs) {
        PgApi.Timings with(PgProcesses.Started started, long totalMs) {
            return new PgApi.Timings(checkpointMs, snapshotMs, cloneMs, prepareMs, started.startMs(), started.promoteMs(),
                    started.firstQueryMs(), totalMs);
        }
    }

    private final PgRegistry registry;
    private final PgVolumes volumes;
    private final PgDataDirs dataDirs;
    private final PgProcesses processes;
    private final PgEvents events;
    private final PgWarmup warmup = new PgWarmup();
    private final PgSleeps sleeps;
    private final PgHistory history;

    PgBranches(PgRegistry registry, PgVolumes volumes, PgDataDirs dataDirs, PgProcesses processes, PgEvents events,
               PgSleeps sleeps, PgHistory history) {
        this.history = history;
        this.registry = registry;
        this.volumes = volumes;
        this.dataDirs = dataDirs;
        this.processes = processes;
        this.events = events;
        this.sleeps = sleeps;
    }

    PgApi.Branched branch(BranchSpec spec) {
        if (spec.source().equals(spec.name())) {
            throw new ClonefsException.InvalidArgument("a branch needs a name other than its source's");
        }
        if (spec.at() != null && spec.atLsn() != null) {
            throw new ClonefsException.InvalidArgument("a branch is at a time or at an LSN, not both");
        }
        Limits limits = spec.limits() == null ? null : processes.limiter().check(spec.limits());
        return registry.withName(spec.name(), () -> {
            long t0 = System.nanoTime();
            PgRecord src = registry.find(spec.source());
            if (src == null && !volumes.exists(spec.source())) {
                throw new ClonefsException.NotFound("unknown source '" + spec.source()
                        + "': no PostgreSQL server or volume of that name");
            }
            if (spec.atLsn() != null && (src == null || src.history() == null)) {
                throw new ClonefsException.InvalidArgument("a branch at an LSN needs the history of '" + spec.source()
                        + "' (clonefs pg history " + spec.source() + " --keep 7d)");
            }
            sleeps.admit(spec.name(), limits); // before anything is made
            int port = registry.reserveNew(spec.name(), spec.port(), false);
            String snapshot = null;
            PgRecord.Moment moment = null;
            boolean snapshotCreated = false;
            boolean cloned = false;
            PgRecord rec = null;
            try {
                String dir = src != null ? src.dataDir() : volumes.detectDataDir(spec.source());
                Path srcData = volumes.root(spec.source()).resolve(dir);
                if (!Files.exists(srcData.resolve("PG_VERSION"))) {
                    throw new PgException.NotPostgres("source '" + spec.source() + "' holds no PostgreSQL data directory");
                }
                long checkpointMs = 0;
                long snapshotMs;
                long cloneMs;
                // snapshot and clone under the source's lock: a destroy of the source must not interleave
                ReentrantLock sourceLock = registry.nameLock(spec.source());
                sourceLock.lock();
                try {
                    dataDirs.awaitGoneFromMount(spec.name());
                    long t = System.nanoTime();
                    if (spec.moment() != null && src != null && src.history() != null) {
                        moment = spec.moment();
                        snapshot = history.baseFor(src, moment); // refuses a moment outside the window first
                        history.beginReplay(src.name(), spec.name()); // until it answers: the archive stays
                        history.flushArchive(src);
                    } else if (spec.at() != null) {
                        snapshot = volumes.snapshotAt(spec.source(), spec.at());
                    } else {
                        if (spec.checkpoint() && src != null && processes.running(src)) {
                            processes.checkpoint(src);
                            checkpointMs = PgProcesses.millisSince(t);
                            t = System.nanoTime();
                        }
                        snapshot = volumes.takeSnapshot(spec.source(), PgVolumes.BRANCH_SNAPSHOT_PREFIX);
                        snapshotCreated = true;
                    }
                    snapshotMs = PgProcesses.millisSince(t);
                    t = System.nanoTime();
                    volumes.cloneVolume(snapshot, spec.name());
                    cloned = true;
                    cloneMs = PgProcesses.millisSince(t);
                } finally {
                    sourceLock.unlock();
                }
                long t = System.nanoTime();
                Instant created = Instant.now();
                boolean promote = dataDirs.prepareClone(spec.name(), dir);
                if (moment != null) {
                    history.prepareRecovery(volumes.root(spec.name()).resolve(dir), src, moment);
                    promote = false; // recovery promotes it at the target by itself
                }
                rec = new PgRecord(spec.name(), PgRecord.BRANCH, dir, spec.source(), snapshot, snapshotCreated, promote,
                        port, created.toString(), spec.ttl() == null ? null : created.plus(spec.ttl()).toString(),
                        spec.protect(), true, false, null,
                        spec.suspendAfter() == null ? null : spec.suspendAfter().toSeconds(), false, null,
                        src == null ? null : src.masked(), null, moment) // a branch of masked data holds masked data
                        .withLimits(limits);
                Steps steps = new Steps(checkpointMs, snapshotMs, cloneMs, PgProcesses.millisSince(t));
                PgProcesses.Started started = startAt(rec);
                registry.put(rec);
                warmup.start(spec.name(), volumes.root(spec.name()).resolve(dir));
                PgApi.Timings timings = steps.with(started, PgProcesses.millisSince(t0));
                LOG.info("branch {} of {} ({}) answers on port {} after {} ms", spec.name(), spec.source(), snapshot, port,
                        timings.total());
                events.emit("created", rec, PgEvents.branchDetails(rec, timings.total()));
                return new PgApi.Branched(rec.name(), Postgres.uri(port), port, rec.source(), snapshot, snapshotCreated,
                        rec.expiresAt(), timings);
            } catch (RuntimeException e) {
                if (rec != null) {
                    processes.stopQuietly(rec, StopMode.IMMEDIATE);
                }
                if (cloned) {
                    volumes.destroyQuietly(spec.name(), e);
                }
                if (snapshotCreated) {
                    volumes.destroyQuietly(snapshot, e);
                }
                if (cloned) {
                    processes.removeFiles(spec.name());
                }
                throw e;
            } finally {
                if (moment != null) {
                    history.endReplay(src.name(), spec.name());
                }
                registry.release(spec.name());
            }
        });
    }

    /** Starts a branch; one at a moment of its source's history replays the archive until it is promoted there. */
    private PgProcesses.Started startAt(PgRecord rec) {
        if (rec.moment() == null) {
            return processes.startBranch(rec);
        }
        try {
            return startAndPromote(rec);
        } catch (PgException.StartFailed e) {
            if (rec.moment().time() == null || !history.endedBeforeTarget(rec)) {
                throw e;
            }
            // a stopped or standby source with no commit after the moment: all its WAL is at or before it
            LOG.info("branch {}: no commit after {} in the WAL; replaying all of it", rec.name(), rec.moment());
            processes.stopQuietly(rec, StopMode.IMMEDIATE);
            history.dropTarget(volumes.root(rec.name()).resolve(rec.dataDir()));
            return startAndPromote(rec);
        }
    }

    private PgProcesses.Started startAndPromote(PgRecord rec) {
        PgProcesses.Started started = processes.startBranch(rec);
        long w = System.nanoTime();
        history.awaitPromoted(rec, processes.startTimeout());
        return new PgProcesses.Started(started.startMs(), PgProcesses.millisSince(w), started.firstQueryMs());
    }

    /** Stops the branches' warm-ups and waits until none holds a file open (before an unmount). */
    void stopWarmups() {
        warmup.stopAll();
    }

    /**
     * A reset: to what the branch was made from (its snapshot as it is, or the moment of its
     * source's history it was recovered to), or with {@code at}/{@code atLsn} to another moment of
     * that history. Everything that can be refused is checked before the branch is stopped.
     */
    PgApi.Branched reset(String name, Instant at, Long atLsn) {
        if (at != null && atLsn != null) {
            throw new ClonefsException.InvalidArgument("a reset is to a time or to an LSN, not both");
        }
        return registry.withName(name, () -> {
            long t0 = System.nanoTime();
            PgRecord rec = registry.require(name);
            if (!rec.isBranch()) {
                throw new ClonefsException.InvalidArgument("'" + name + "' is a source, not a branch; only branches can be reset");
            }
            PgRecord.Moment moment = at == null && atLsn == null ? rec.moment()
                    : new PgRecord.Moment(at == null ? null : at.toString(), atLsn == null ? null : PgLsn.format(atLsn));
            PgRecord src = moment == null ? null : registry.find(rec.source());
            if (moment != null && (src == null || src.history() == null)) {
                throw new ClonefsException.InvalidArgument("a reset to a moment needs the history of '" + rec.source()
                        + "'" + (src == null ? ", which is gone" : " (clonefs pg history " + rec.source() + " --keep 7d)"));
            }
            boolean newMoment = moment != null && moment != rec.moment();
            String snapshot = rec.snapshot();
            if (!newMoment) {
                volumes.requireSnapshot(snapshot, name);
            }
            List<String> deps = volumes.dependants(name);
            if (!deps.isEmpty()) {
                throw new ClonefsException.Conflict("branch '" + name + "' has snapshots (" + String.join(", ", deps)
                        + "); destroy them and their branches before a reset");
            }
            PgRecord source = src;
            try {
                long snapshotMs = 0;
                long cloneMs;
                ReentrantLock sourceLock = moment == null ? null : registry.nameLock(src.name());
                if (sourceLock != null) {
                    sourceLock.lock(); // the history snapshot must not go between the check and the clone
                }
                try {
                    if (moment != null) {
                        long t = System.nanoTime();
                        if (newMoment) {
                            snapshot = history.baseFor(src, moment); // refuses a moment outside the window
                        }
                        history.requireWal(src, snapshot);
                        history.beginReplay(src.name(), name); // until it answers: the archive stays
                        history.flushArchive(src);
                        snapshotMs = PgProcesses.millisSince(t);
                    }
                    if (rec.suspended()) {
                        sleeps.unlistenLocked(rec, "PostgreSQL server '" + name + "' is being reset; connect again");
                        rec = rec.withSuspended(false);
                    }
                    if (!Postgres.portFree(rec.port()) && !processes.running(rec)) {
                        throw new PgException.PortInUse("port " + rec.port() + " of branch '" + name
                                + "' is taken by another program on 127.0.0.1");
                    }
                    if (!processes.running(rec)) {
                        sleeps.admit(name, rec.limits()); // it did not run: the reset starts one more server
                    }
                    warmup.stop(name);
                    processes.stop(rec, StopMode.IMMEDIATE);
                    long t = System.nanoTime();
                    if (volumes.exists(name)) {
                        volumes.destroy(name);
                    }
                    dataDirs.awaitGoneFromMount(name);
                    long destroyMs = PgProcesses.millisSince(t);
                    t = System.nanoTime();
                    volumes.cloneVolume(snapshot, name);
                    cloneMs = PgProcesses.millisSince(t) + destroyMs;
                } finally {
                    if (sourceLock != null) {
                        sourceLock.unlock();
                    }
                }
                if (newMoment) {
                    String old = rec.snapshotOwned() ? rec.snapshot() : null;
                    rec = rec.withSnapshotAt(snapshot, false, moment);
                    registry.put(rec.withRunning(false)); // the volume is now the new moment's clone
                    volumes.releaseSnapshot(old); // the snapshot taken for the branch, once no clone uses it
                }
                long t = System.nanoTime();
                dataDirs.prepareClone(name, rec.dataDir());
                if (moment != null) {
                    history.prepareRecovery(volumes.root(name).resolve(rec.dataDir()), src, moment);
                }
                Steps steps = new Steps(0, snapshotMs, cloneMs, PgProcesses.millisSince(t));
                try {
                    PgProcesses.Started started = startAt(rec);
                    PgRecord r = rec.withRunning(true);
                    registry.put(r);
                    warmup.start(name, volumes.root(name).resolve(rec.dataDir()));
                    PgApi.Timings timings = steps.with(started, PgProcesses.millisSince(t0));
                    LOG.info("branch {} reset to {}{} in {} ms", name, snapshot, moment == null ? "" : " at " + moment,
                            timings.total());
                    events.emit("reset", r, PgEvents.branchDetails(r, timings.total()));
                    return new PgApi.Branched(name, Postgres.uri(rec.port()), rec.port(), rec.source(), snapshot, false,
                            rec.expiresAt(), timings);
                } catch (RuntimeException e) {
                    processes.stopQuietly(rec, StopMode.IMMEDIATE);
                    registry.put(rec.withRunning(false)); // the volume is the fresh clone; keep the branch, stopped
                    throw e;
                }
            } finally {
                if (source != null) {
                    history.endReplay(source.name(), name);
                }
            }
        });
    }
}
