package io.clonefs.pg;

import io.clonefs.api.PgApi;
import io.clonefs.base.ClonefsException;
import io.clonefs.engine.SnapshotInfo;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What runs on a clock: one scheduler thread that, every {@link PgOptions#tick()}, destroys the
 * branches whose time to live ran out (unless protected), takes the snapshots schedules are due
 * for ({@code <source>@pgauto-<UTC time>}), destroying the oldest beyond each schedule's
 * retention once no clone uses them, and suspends servers idle for their idle time
 * ({@link PgSleeps}). Also the schedules' API: set, remove, list.
 *
 * <p>Thread-safe. A tick skips a server whose name lock is taken (it is busy; the next tick tries
 * again) and never throws.
 */
final class PgSchedules implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PgSchedules.class);

    private final PgRegistry registry;
    private final PgVolumes volumes;
    private final PgServers servers;
    private final PgSleeps sleeps;
    private final PgHistory history;
    private final ScheduledExecutorService scheduler;

    PgSchedules(PgRegistry registry, PgVolumes volumes, PgServers servers, PgSleeps sleeps, PgHistory history) {
        this.history = history;
        this.registry = registry;
        this.volumes = volumes;
        this.servers = servers;
        this.sleeps = sleeps;
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "clonefs-pg-scheduler");
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts ticking every {@code tick}. */
    void start(Duration tick) {
        long ms = tick.toMillis();
        scheduler.scheduleWithFixedDelay(this::tick, ms, ms, TimeUnit.MILLISECONDS);
    }

    // ---- schedules -----------------------------------------------------------------------------

    PgApi.Schedule schedule(String source, Duration every, int keep) {
        if (keep < 1) {
            throw new ClonefsException.InvalidArgument("--keep must be at least 1");
        }
        if (every.toSeconds() < 1) {
            throw new ClonefsException.InvalidArgument("the interval of scheduled snapshots must be at least 1 s");
        }
        if (!volumes.exists(source)) {
            throw new ClonefsException.NotFound("unknown source '" + source + "'");
        }
        registry.putSchedule(source, every.toSeconds(), keep);
        return view(source);
    }

    void unschedule(String source) {
        if (!registry.removeSchedule(source)) {
            throw new ClonefsException.NotFound("no snapshot schedule for '" + source + "'");
        }
    }

    List<PgApi.Schedule> list() {
        List<PgApi.Schedule> out = new ArrayList<>();
        for (PgSchedule s : registry.schedules()) {
            out.add(view(s.source()));
        }
        return out;
    }

    private PgApi.Schedule view(String source) {
        PgSchedule s = registry.schedule(source);
        if (s == null) {
            throw new ClonefsException.NotFound("no snapshot schedule for '" + source + "'");
        }
        List<String> snaps = volumes.scheduledSnapshots(source).stream().map(SnapshotInfo::name).toList();
        return new PgApi.Schedule(source, PgDurations.format(Duration.ofSeconds(s.everySeconds())), s.keep(), s.lastAt(),
                snaps);
    }

    // ---- the clock -------------------------------------------------------------------------------

    /** One pass: expire branches, take due snapshots, suspend idle servers ({@link PgSleeps#tick()}). */
    void tick() {
        if (registry.closed()) {
            return;
        }
        try {
            expire();
            runSchedules();
        } catch (RuntimeException e) {
            LOG.error("pg scheduler: {}", e.getMessage(), e);
        }
        history.tick();
        try {
            sleeps.tick();
        } catch (RuntimeException e) {
            LOG.error("pg scheduler, idle servers: {}", e.getMessage(), e);
        }
    }

    private void expire() {
        Instant now = Instant.now();
        List<PgRecord> due = new ArrayList<>();
        for (PgRecord r : registry.servers()) {
            if (expired(r, now)) {
                due.add(r);
            }
        }
        for (PgRecord r : due) {
            ReentrantLock l = registry.nameLock(r.name());
            if (!l.tryLock()) {
                continue; // busy; next tick
            }
            try {
                PgRecord cur = registry.find(r.name());
                if (cur != null && expired(cur, now)) {
                    servers.destroyLocked(cur, true);
                }
            } catch (RuntimeException e) {
                LOG.warn("cannot expire {}: {}", r.name(), e.getMessage());
            } finally {
                l.unlock();
            }
        }
    }

    private static boolean expired(PgRecord r, Instant now) {
        return r.expiresAt() != null && !r.protect() && !Instant.parse(r.expiresAt()).isAfter(now);
    }

    private void runSchedules() {
        Instant now = Instant.now();
        List<PgSchedule> due = new ArrayList<>();
        for (PgSchedule s : registry.schedules()) {
            if (s.lastAt() == null || !Instant.parse(s.lastAt()).plusSeconds(s.everySeconds()).isAfter(now)) {
                due.add(s);
            }
        }
        for (PgSchedule s : due) {
            if (registry.closed()) {
                return;
            }
            ReentrantLock l = registry.nameLock(s.source());
            if (!l.tryLock()) {
                continue;
            }
            try {
                if (!volumes.exists(s.source())) {
                    continue;
                }
                String snap = volumes.takeSnapshot(s.source(), PgVolumes.SCHEDULED_SNAPSHOT_PREFIX);
                registry.scheduleTaken(s.source(), Instant.now().toString());
                LOG.info("scheduled snapshot {} taken", snap);
                List<SnapshotInfo> kept = volumes.scheduledSnapshots(s.source());
                for (int i = s.keep(); i < kept.size(); i++) {
                    SnapshotInfo old = kept.get(i);
                    if (old.clones().isEmpty()) {
                        volumes.destroyQuietly(old.name(), null);
                    }
                }
            } catch (RuntimeException e) {
                LOG.warn("scheduled snapshot of {} failed: {}", s.source(), e.getMessage());
            } finally {
                l.unlock();
            }
        }
    }

    /** Stops the scheduler, interrupting a tick in progress; {@link #awaitClosed()} waits for it. */
    @Override
    public void close() {
        scheduler.shutdownNow();
    }

    /** Waits up to 10 s for the scheduler thread to end. */
    void awaitClosed() {
        try {
            scheduler.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
