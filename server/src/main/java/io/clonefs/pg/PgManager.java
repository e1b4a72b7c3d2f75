package io.clonefs.pg;

import io.clonefs.api.PgApi;
import io.clonefs.base.ClonefsException;
import io.clonefs.engine.Engine;
import io.clonefs.engine.Names;
import io.clonefs.engine.SnapshotInfo;
import io.clonefs.fuse.Mount;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL branch manager: it turns volumes into running PostgreSQL servers, each with its
 * own port and connection URI, and gives branches (servers on clones of a source) a lifecycle.
 * Owned by the daemon, so that branches outlive the client that made them.
 *
 * <h2>Servers</h2>
 * A managed server's name is its volume's name. Its data directory is {@code MOUNTPOINT/<name>/data}
 * (or the volume root, for a volume prepared by hand), owned by the PostgreSQL OS user, mode 0700.
 * Every server is started with {@code pg_ctl -w} as that user, listening on 127.0.0.1 only, on its
 * port, with its socket in {@code POOL/pg/run} and its log in {@code POOL/pg/log/<name>.log}; the
 * port and these settings are passed on the command line, so a clone carries nothing of its
 * source's to rewrite. A branch also gets {@code archive_mode=off} and no synchronous standbys, so
 * it can never archive into, or wait for, its source's infrastructure.
 *
 * <h2>Branch</h2>
 * Optionally {@code CHECKPOINT} on the source (shorter recovery on the branch), then the mount's
 * {@code syncfs} and an engine snapshot of the source volume while its server runs (DESIGN §5: a
 * crash-consistent image; the source is never paused or restarted), a clone, removal of the
 * copied {@code postmaster.pid}, start (crash recovery), promotion if the source was a standby,
 * and a {@code SELECT 1}. A failure at any step removes the clone and the snapshot made for it.
 *
 * <h2>State</h2>
 * {@code POOL/pg/state.json} ({@link PgStateStore}) lists every server and snapshot schedule; it
 * is rewritten atomically after every change. Whether a server runs is never stored as a fact but
 * probed ({@code postmaster.pid} plus the process); the stored {@code running} flag says whether it
 * should run, and {@link #restoreAll()} starts those after a daemon restart.
 *
 * <h2>Threads</h2>
 * Thread-safe. {@link #lock} guards the in-memory state and the state file, and is held only for
 * short steps, never while a program runs. Operations on one server are serialised by a lock per
 * name; a branch holds its new name's lock throughout and its source's lock while it snapshots
 * and clones (so a destroy of the source cannot interleave). Names being created are reserved
 * with their port. One scheduler thread destroys expired branches and takes scheduled snapshots.
 */
public final class PgManager implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PgManager.class);
    /** Snapshots taken for a branch; destroyed once no clone uses them. */
    public static final String BRANCH_SNAPSHOT_PREFIX = "pgb-";
    /** Snapshots taken by a schedule; destroyed by its retention. */
    public static final String SCHEDULED_SNAPSHOT_PREFIX = "pgauto-";
    private static final DateTimeFormatter SNAP_TIME =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'").withZone(ZoneOffset.UTC);
    private static final Duration INITDB_TIMEOUT = Duration.ofMinutes(15);
    private static final Duration IMPORT_TIMEOUT = Duration.ofDays(1);

    private final Engine engine;
    private final Path mountpoint;
    private final Runnable syncfs;
    private final Path runDir;
    private final Path logDir;
    private final PgOptions options;
    private final PgTools tools;
    private final PgProcesses processes;
    private final PgDataDirs dataDirs;
    private final PgStateStore store;

    private final Object lock = new Object();
    private final LinkedHashMap<String, PgRecord> servers = new LinkedHashMap<>();
    private final LinkedHashMap<String, PgSchedule> schedules = new LinkedHashMap<>();
    /** Names being created, and the port each was given. */
    private final Map<String, Integer> reserved = new HashMap<>();
    private final ConcurrentHashMap<String, ReentrantLock> nameLocks = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, PgApi.Progress> progress = new ConcurrentHashMap<>();
    private final ScheduledExecutorService scheduler;
    private volatile boolean closed;
    private volatile Listener listener = (type, rec, details) -> { };

    /**
     * Told of every lifecycle event, after it happened: {@code created} and {@code reset} of a
     * branch, {@code destroyed} and {@code expired} of any server. Called on the thread that did
     * the work; must not throw or block for long.
     */
    @FunctionalInterface
    public interface Listener {
        void on(String type, PgRecord server, Map<String, Object> details);
    }

    public void listener(Listener l) {
        this.listener = l == null ? (type, rec, details) -> { } : l;
    }

    private void emit(String type, PgRecord rec, Map<String, Object> details) {
        try {
            listener.on(type, rec, details);
        } catch (RuntimeException e) {
            LOG.warn("event listener failed on {} {}: {}", type, rec.name(), e.getMessage());
        }
    }

    /** How many branches run now (probed, not stored). */
    public long branchesRunning() {
        List<PgRecord> recs;
        synchronized (lock) {
            recs = new ArrayList<>(servers.values());
        }
        return recs.stream().filter(PgRecord::isBranch).filter(processes::running).count();
    }

    private PgManager(Engine engine, Path mountpoint, Runnable syncfs, Path pool, PgOptions options) {
        this.engine = engine;
        this.mountpoint = mountpoint.toAbsolutePath().normalize();
        this.syncfs = syncfs;
        this.options = options;
        this.tools = new PgTools(options);
        Path home = pool.toAbsolutePath().normalize().resolve("pg");
        this.runDir = home.resolve("run");
        this.logDir = home.resolve("log");
        this.store = new PgStateStore(home.resolve("state.json"));
        this.processes = new PgProcesses(tools, options, this.mountpoint, runDir, logDir);
        UserPrincipalLookupService users = home.getFileSystem().getUserPrincipalLookupService();
        try {
            this.dataDirs = new PgDataDirs(this.mountpoint, options.osUser(), users.lookupPrincipalByName(options.osUser()),
                    users.lookupPrincipalByGroupName(options.osUser()));
        } catch (IOException e) {
            throw new PgException.Setup("no OS user '" + options.osUser() + "' to run PostgreSQL as (install postgresql-15)");
        }
        for (String tool : List.of("initdb", "pg_ctl", "pg_basebackup", "postgres")) {
            if (!Files.isExecutable(options.binDir().resolve(tool))) {
                throw new PgException.Setup("no " + tool + " in " + options.binDir() + " (install postgresql-15)");
            }
        }
        try {
            Files.createDirectories(home);
            dataDirs.makeDir(runDir, "rwxr-xr-x");
            dataDirs.makeDir(logDir, "rwxr-x---");
        } catch (IOException e) {
            throw new ClonefsException.IoFailure("cannot create " + home + ": " + e.getMessage(), e);
        }
        dataDirs.checkReachable(runDir);
        dataDirs.checkReachable(this.mountpoint);
        PgStateStore.State s = store.load();
        s.servers().forEach(r -> servers.put(r.name(), r));
        s.schedules().forEach(sc -> schedules.put(sc.source(), sc));
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "clonefs-pg-scheduler");
            t.setDaemon(true);
            return t;
        });
        long tick = options.tick().toMillis();
        scheduler.scheduleWithFixedDelay(this::tick, tick, tick, TimeUnit.MILLISECONDS);
    }

    /**
     * Opens the manager of a pool: reads {@code POOL/pg/state.json} and starts the scheduler. It
     * does not start any server; the daemon calls {@link #restoreAll()} for that.
     */
    public static PgManager open(Engine engine, Mount mount, Path pool, PgOptions options) {
        return new PgManager(engine, mount.mountpoint(), mount::syncfs, pool, options);
    }

    /** The same with the mount given as its mount point and its {@code syncfs}. */
    public static PgManager open(Engine engine, Path mountpoint, Runnable syncfs, Path pool, PgOptions options) {
        return new PgManager(engine, mountpoint, syncfs, pool, options);
    }

    public PgOptions options() {
        return options;
    }

    // ---- bring a database in -----------------------------------------------------------------

    /**
     * {@code initdb --data-checksums} in {@code MOUNTPOINT/<volume>/data} (creating the volume if
     * missing), then start it.
     *
     * @param port null for one from the range
     */
    public PgApi.Server init(String volume, Integer port) {
        checkOpen();
        Names.checkDataset("volume", volume);
        return withName(volume, () -> {
            int p = reserveNew(volume, port, true);
            boolean created = false;
            boolean madeData = false;
            PgRecord rec = null;
            try {
                created = ensureVolume(volume);
                Path data = volumeRoot(volume).resolve("data");
                madeData = dataDirs.makeDataDir(volume, data);
                PgTools.Result r = tools.run(INITDB_TIMEOUT, "initdb", List.of("--data-checksums", "-D", data.toString(),
                        "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"));
                if (!r.ok()) {
                    throw new PgException.ToolFailed("initdb on volume '" + volume + "' failed: " + r.tail());
                }
                rec = new PgRecord(volume, PgRecord.SOURCE, "data", null, null, false, false, p, now(), null, false,
                        true, false, null);
                processes.start(rec, false);
                processes.awaitQuery(rec);
                put(rec);
                LOG.info("PostgreSQL initialised on volume {}, port {}", volume, p);
                return view(rec);
            } catch (RuntimeException e) {
                if (rec != null) {
                    processes.stopQuietly(rec, "immediate");
                }
                undoVolume(volume, created, madeData ? volumeRoot(volume).resolve("data") : null, e);
                throw e;
            } finally {
                release(volume);
            }
        });
    }

    /**
     * {@code pg_basebackup} from a running server into {@code MOUNTPOINT/<volume>/data}, then
     * start the copy. With {@code follow} the copy is a streaming standby of that server
     * ({@code -R}) and stays one; else it comes up as a server of its own.
     *
     * @param progress receives pg_basebackup's progress lines as they come (may be null)
     */
    public PgApi.Server importFrom(String volume, String conninfo, boolean follow, Integer port,
                                   Consumer<String> progress) {
        checkOpen();
        Names.checkDataset("volume", volume);
        if (conninfo == null || conninfo.isBlank()) {
            throw new ClonefsException.InvalidArgument("import needs the connection string of the server to copy (--from)");
        }
        return withName(volume, () -> {
            int p = reserveNew(volume, port, true);
            boolean created = false;
            boolean madeData = false;
            PgRecord rec = null;
            Consumer<String> sink = line -> {
                this.progress.put(volume, new PgApi.Progress(volume, line, false));
                if (progress != null) {
                    progress.accept(line);
                }
            };
            try {
                created = ensureVolume(volume);
                Path data = volumeRoot(volume).resolve("data");
                madeData = dataDirs.makeDataDir(volume, data);
                sink.accept("pg_basebackup from " + redact(conninfo) + " into volume " + volume);
                List<String> args = new ArrayList<>(List.of("-D", data.toString(), "-d", conninfo, "-X", "stream",
                        "-c", "fast", "-P", "-v"));
                if (follow) {
                    args.add("-R");
                }
                PgTools.Result r = tools.run(IMPORT_TIMEOUT, "pg_basebackup", args, sink);
                if (!r.ok()) {
                    throw new PgException.ToolFailed("pg_basebackup from " + redact(conninfo) + " failed: " + r.tail());
                }
                dataDirs.completeConfig(data);
                rec = new PgRecord(volume, PgRecord.SOURCE, "data", null, null, false, false, p, now(), null, false,
                        true, follow, redact(conninfo));
                sink.accept("starting the copy" + (follow ? " as a standby" : ""));
                processes.start(rec, false);
                processes.awaitQuery(rec);
                put(rec);
                sink.accept("imported: " + uri(p));
                LOG.info("imported {} into volume {} (port {}, {})", redact(conninfo), volume, p,
                        follow ? "following" : "standalone");
                return view(rec);
            } catch (RuntimeException e) {
                if (rec != null) {
                    processes.stopQuietly(rec, "immediate");
                }
                undoVolume(volume, created, madeData ? volumeRoot(volume).resolve("data") : null, e);
                sink.accept("import failed: " + e.getMessage());
                throw e;
            } finally {
                PgApi.Progress last = this.progress.get(volume);
                this.progress.put(volume, new PgApi.Progress(volume, last == null ? "" : last.line(), true));
                release(volume);
            }
        });
    }

    /** The latest progress line of an import into {@code volume}, if one ran since the daemon started. */
    public Optional<PgApi.Progress> progress(String volume) {
        return Optional.ofNullable(progress.get(volume));
    }

    // ---- start and stop ----------------------------------------------------------------------

    /**
     * Starts a managed server and waits until it answers. A volume holding a PostgreSQL data
     * directory that is not managed yet is adopted as a source, with a port from the range.
     */
    public PgApi.Server start(String name) {
        checkOpen();
        Names.checkDataset("volume", name);
        return withName(name, () -> {
            PgRecord rec = find(name);
            if (rec == null) {
                rec = adopt(name);
            }
            rec = rec.withRunning(true);
            if (!processes.running(rec)) {
                requireVolume(rec);
                processes.start(rec, false);
            }
            processes.awaitQuery(rec);
            put(rec);
            return view(rec);
        });
    }

    private PgRecord adopt(String name) {
        if (!volumeExists(name)) {
            throw new ClonefsException.NotFound("no volume or PostgreSQL server named '" + name + "'");
        }
        String dir = detectDataDir(name);
        int p = reserveNew(name, null, false);
        try {
            LOG.info("adopting the PostgreSQL data directory of volume {} as a source (port {})", name, p);
            return new PgRecord(name, PgRecord.SOURCE, dir, null, null, false, false, p, now(), null, false, true,
                    Files.exists(volumeRoot(name).resolve(dir).resolve("standby.signal")), null);
        } finally {
            release(name);
        }
    }

    /** Stops a managed server ({@code pg_ctl stop -m fast}); it stays stopped across daemon restarts. */
    public PgApi.Server stop(String name) {
        checkOpen();
        Names.checkDataset("volume", name);
        return withName(name, () -> {
            PgRecord rec = require(name);
            processes.stop(rec, "fast");
            rec = rec.withRunning(false);
            put(rec);
            return view(rec);
        });
    }

    // ---- branch --------------------------------------------------------------------------------

    /** A branch request (see {@link #branch}). */
    public record BranchSpec(String source, String name, Integer port, Duration ttl, boolean checkpoint,
                             boolean protect, Instant at) {
        public static BranchSpec of(String source, String name) {
            return new BranchSpec(source, name, null, null, false, false, null);
        }

        public BranchSpec withPort(Integer p) {
            return new BranchSpec(source, name, p, ttl, checkpoint, protect, at);
        }

        public BranchSpec withTtl(Duration t) {
            return new BranchSpec(source, name, port, t, checkpoint, protect, at);
        }

        public BranchSpec withCheckpoint(boolean c) {
            return new BranchSpec(source, name, port, ttl, c, protect, at);
        }

        public BranchSpec withProtect(boolean p) {
            return new BranchSpec(source, name, port, ttl, checkpoint, p, at);
        }

        public BranchSpec withAt(Instant t) {
            return new BranchSpec(source, name, port, ttl, checkpoint, protect, t);
        }
    }

    /**
     * Branches a source: snapshot (or, with {@code at}, the newest existing snapshot taken at or
     * before that moment), clone, start, promote if needed, first query. The source may be a
     * managed server (running or not), a branch, or any volume holding a PostgreSQL data
     * directory. Leaves nothing behind on failure.
     */
    public PgApi.Branched branch(BranchSpec spec) {
        checkOpen();
        Names.checkDataset("volume", spec.source());
        Names.checkDataset("volume", spec.name());
        if (spec.source().equals(spec.name())) {
            throw new ClonefsException.InvalidArgument("a branch needs a name other than its source's");
        }
        return withName(spec.name(), () -> {
            long t0 = System.nanoTime();
            long[] ms = new long[7];
            PgRecord src = find(spec.source());
            if (src == null && !volumeExists(spec.source())) {
                throw new ClonefsException.NotFound("unknown source '" + spec.source()
                        + "': no PostgreSQL server or volume of that name");
            }
            int port = reserveNew(spec.name(), spec.port(), false);
            String snapshot = null;
            boolean snapshotCreated = false;
            boolean cloned = false;
            PgRecord rec = null;
            try {
                String dir = src != null ? src.dataDir() : detectDataDir(spec.source());
                Path srcData = volumeRoot(spec.source()).resolve(dir);
                if (!Files.exists(srcData.resolve("PG_VERSION"))) {
                    throw new PgException.NotPostgres("source '" + spec.source() + "' holds no PostgreSQL data directory");
                }
                // snapshot and clone under the source's lock: a destroy of the source must not interleave
                ReentrantLock sourceLock = nameLock(spec.source());
                sourceLock.lock();
                try {
                    dataDirs.awaitGoneFromMount(spec.name());
                    long t = System.nanoTime();
                    if (spec.at() != null) {
                        snapshot = snapshotAt(spec.source(), spec.at());
                    } else {
                        if (spec.checkpoint() && src != null && processes.running(src)) {
                            processes.checkpoint(src);
                            ms[0] = millisSince(t);
                            t = System.nanoTime();
                        }
                        snapshot = takeSnapshot(spec.source(), BRANCH_SNAPSHOT_PREFIX);
                        snapshotCreated = true;
                    }
                    ms[1] = millisSince(t);
                    t = System.nanoTime();
                    engine.cloneVolume(snapshot, spec.name());
                    cloned = true;
                    ms[2] = millisSince(t);
                } finally {
                    sourceLock.unlock();
                }
                long t = System.nanoTime();
                Instant created = Instant.now();
                boolean promote = dataDirs.prepareClone(spec.name(), dir);
                rec = new PgRecord(spec.name(), PgRecord.BRANCH, dir, spec.source(), snapshot, snapshotCreated, promote,
                        port, created.toString(), spec.ttl() == null ? null : created.plus(spec.ttl()).toString(),
                        spec.protect(), true, false, null);
                ms[3] = millisSince(t);
                long[] st = processes.startBranch(rec);
                ms[4] = st[0];
                ms[5] = st[1];
                ms[6] = st[2];
                put(rec);
                PgApi.Timings timings = new PgApi.Timings(ms[0], ms[1], ms[2], ms[3], ms[4], ms[5], ms[6], millisSince(t0));
                LOG.info("branch {} of {} ({}) answers on port {} after {} ms", spec.name(), spec.source(), snapshot, port,
                        timings.total());
                emit("created", rec, eventDetails(rec, timings.total()));
                return new PgApi.Branched(rec.name(), uri(port), port, rec.source(), snapshot, snapshotCreated,
                        rec.expiresAt(), timings);
            } catch (RuntimeException e) {
                if (rec != null) {
                    processes.stopQuietly(rec, "immediate");
                }
                if (cloned) {
                    destroyQuietly(spec.name(), e);
                }
                if (snapshotCreated) {
                    destroyQuietly(snapshot, e);
                }
                if (cloned) {
                    deleteQuietly(processes.logFile(spec.name()));
                }
                throw e;
            } finally {
                release(spec.name());
            }
        });
    }

    /**
     * Brings a branch back to its snapshot: stop, destroy its volume, clone the same snapshot
     * again, start on the same port.
     */
    public PgApi.Branched reset(String name) {
        checkOpen();
        Names.checkDataset("volume", name);
        return withName(name, () -> {
            long t0 = System.nanoTime();
            PgRecord rec = require(name);
            if (!rec.isBranch()) {
                throw new ClonefsException.InvalidArgument("'" + name + "' is a source, not a branch; only branches can be reset");
            }
            try {
                engine.snapshotInfo(rec.snapshot());
            } catch (ClonefsException.NotFound e) {
                throw new ClonefsException.NotFound("the snapshot of branch '" + name + "' (" + rec.snapshot()
                        + ") no longer exists");
            }
            List<String> deps = dependants(name);
            if (!deps.isEmpty()) {
                throw new ClonefsException.Conflict("branch '" + name + "' has snapshots (" + String.join(", ", deps)
                        + "); destroy them and their branches before a reset");
            }
            if (!PgTools.portFree(rec.port()) && !processes.running(rec)) {
                throw new PgException.PortInUse("port " + rec.port() + " of branch '" + name
                        + "' is taken by another program on 127.0.0.1");
            }
            processes.stop(rec, "immediate");
            long t = System.nanoTime();
            if (volumeExists(name)) {
                engine.destroy(name, false);
            }
            dataDirs.awaitGoneFromMount(name);
            long destroyMs = millisSince(t);
            t = System.nanoTime();
            engine.cloneVolume(rec.snapshot(), name);
            long cloneMs = millisSince(t) + destroyMs;
            t = System.nanoTime();
            dataDirs.prepareClone(name, rec.dataDir());
            long prepMs = millisSince(t);
            try {
                long[] st = processes.startBranch(rec);
                PgRecord r = rec.withRunning(true);
                put(r);
                PgApi.Timings timings = new PgApi.Timings(0, 0, cloneMs, prepMs, st[0], st[1], st[2], millisSince(t0));
                LOG.info("branch {} reset to {} in {} ms", name, rec.snapshot(), timings.total());
                emit("reset", r, eventDetails(r, timings.total()));
                return new PgApi.Branched(name, uri(rec.port()), rec.port(), rec.source(), rec.snapshot(), false,
                        rec.expiresAt(), timings);
            } catch (RuntimeException e) {
                put(rec.withRunning(false)); // the volume is the fresh clone; keep the branch, stopped
                throw e;
            }
        });
    }

    // ---- lifecycle -----------------------------------------------------------------------------

    private static Map<String, Object> eventDetails(PgRecord r, long millis) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("source", r.source());
        d.put("snapshot", r.snapshot());
        d.put("port", r.port());
        d.put("uri", uri(r.port()));
        d.put("expiresAt", r.expiresAt());
        d.put("millis", millis);
        return d;
    }

    /** Every managed server, sources first, then by name. */
    public List<PgApi.Server> list() {
        List<PgRecord> recs;
        synchronized (lock) {
            recs = new ArrayList<>(servers.values());
        }
        recs.sort(Comparator.comparing(PgRecord::isBranch).thenComparing(PgRecord::name));
        List<PgApi.Server> out = new ArrayList<>();
        for (PgRecord r : recs) {
            out.add(view(r));
        }
        return out;
    }

    public PgApi.Server get(String name) {
        return view(require(name));
    }

    /**
     * Stops a managed server and destroys its volume (and its snapshots, if no clone uses them);
     * a snapshot taken for a branch goes too once no other clone uses it. Refused for a protected
     * server, and for one that other volumes were cloned from.
     */
    public PgApi.Destroyed destroy(String name) {
        checkOpen();
        Names.checkDataset("volume", name);
        return withName(name, () -> destroyLocked(require(name), false));
    }

    private PgApi.Destroyed destroyLocked(PgRecord rec, boolean expiry) {
        String name = rec.name();
        if (rec.protect()) {
            throw new PgException.Protected("'" + name + "' is protected; run 'clonefs pg unprotect " + name + "' first");
        }
        List<SnapshotInfo> snaps = snapshotsOf(name);
        List<String> clones = new ArrayList<>();
        snaps.forEach(s -> clones.addAll(s.clones()));
        if (!clones.isEmpty()) {
            throw new ClonefsException.Conflict("'" + name + "' has branches or clones (" + String.join(", ", clones)
                    + "); destroy them first");
        }
        processes.stop(rec, "immediate");
        for (SnapshotInfo s : snaps) {
            engine.destroy(s.name(), false);
        }
        if (volumeExists(name)) {
            engine.destroy(name, false);
        }
        synchronized (lock) {
            servers.remove(name);
            schedules.remove(name);
            save();
        }
        String snapDestroyed = rec.snapshotOwned() ? releaseSnapshot(rec.snapshot()) : null;
        deleteQuietly(processes.logFile(name));
        LOG.info("{} {} destroyed{}", rec.role(), name, expiry ? " (its time to live ran out)" : "");
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("source", rec.source());
        d.put("snapshotDestroyed", snapDestroyed);
        emit(expiry ? "expired" : "destroyed", rec, d);
        return new PgApi.Destroyed(name, snapDestroyed);
    }

    /** Sets or clears protection: a protected server is neither destroyed nor expired. */
    public PgApi.Server protect(String name, boolean on) {
        checkOpen();
        Names.checkDataset("volume", name);
        return withName(name, () -> {
            PgRecord rec = require(name).withProtect(on);
            put(rec);
            return view(rec);
        });
    }

    /**
     * Starts every server that should run (was running when the daemon stopped) and does not.
     * Failures are logged and reported, never thrown: one broken branch must not keep the daemon
     * from starting.
     */
    public List<PgApi.Restored> restoreAll() {
        checkOpen();
        List<PgRecord> recs;
        synchronized (lock) {
            recs = new ArrayList<>(servers.values());
        }
        List<PgApi.Restored> out = new ArrayList<>();
        for (PgRecord r : recs) {
            if (!r.running()) {
                continue;
            }
            try {
                withName(r.name(), () -> {
                    PgRecord cur = require(r.name());
                    if (processes.running(cur)) {
                        out.add(new PgApi.Restored(cur.name(), "running"));
                        return null;
                    }
                    requireVolume(cur);
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

    // ---- scheduled snapshots and expiry --------------------------------------------------------

    /** Takes a snapshot of {@code source} every {@code every}, keeping the newest {@code keep}. */
    public PgApi.Schedule schedule(String source, Duration every, int keep) {
        checkOpen();
        Names.checkDataset("volume", source);
        if (keep < 1) {
            throw new ClonefsException.InvalidArgument("--keep must be at least 1");
        }
        if (every.toSeconds() < 1) {
            throw new ClonefsException.InvalidArgument("the interval of scheduled snapshots must be at least 1 s");
        }
        if (!volumeExists(source)) {
            throw new ClonefsException.NotFound("unknown source '" + source + "'");
        }
        synchronized (lock) {
            PgSchedule old = schedules.get(source);
            schedules.put(source, new PgSchedule(source, every.toSeconds(), keep, old == null ? null : old.lastAt()));
            save();
        }
        return scheduleView(source);
    }

    /** Stops scheduled snapshots of {@code source}; the snapshots taken stay. */
    public void unschedule(String source) {
        synchronized (lock) {
            if (schedules.remove(source) == null) {
                throw new ClonefsException.NotFound("no snapshot schedule for '" + source + "'");
            }
            save();
        }
    }

    public List<PgApi.Schedule> schedules() {
        List<String> names;
        synchronized (lock) {
            names = new ArrayList<>(schedules.keySet());
        }
        List<PgApi.Schedule> out = new ArrayList<>();
        for (String n : names) {
            out.add(scheduleView(n));
        }
        return out;
    }

    private PgApi.Schedule scheduleView(String source) {
        PgSchedule s;
        synchronized (lock) {
            s = schedules.get(source);
        }
        if (s == null) {
            throw new ClonefsException.NotFound("no snapshot schedule for '" + source + "'");
        }
        List<String> snaps = scheduledSnapshots(source).stream().map(SnapshotInfo::name).toList();
        return new PgApi.Schedule(source, PgDurations.format(Duration.ofSeconds(s.everySeconds())), s.keep(), s.lastAt(),
                snaps);
    }

    /** One pass of the scheduler (also run by tests): expire branches, take due snapshots. */
    public void tick() {
        if (closed) {
            return;
        }
        try {
            expire();
            runSchedules();
        } catch (RuntimeException e) {
            LOG.error("pg scheduler: {}", e.getMessage(), e);
        }
    }

    private void expire() {
        Instant now = Instant.now();
        List<PgRecord> due = new ArrayList<>();
        synchronized (lock) {
            for (PgRecord r : servers.values()) {
                if (r.expiresAt() != null && !r.protect() && !Instant.parse(r.expiresAt()).isAfter(now)) {
                    due.add(r);
                }
            }
        }
        for (PgRecord r : due) {
            ReentrantLock l = nameLock(r.name());
            if (!l.tryLock()) {
                continue; // busy; next tick
            }
            try {
                PgRecord cur = find(r.name());
                if (cur != null && !cur.protect() && cur.expiresAt() != null
                        && !Instant.parse(cur.expiresAt()).isAfter(now)) {
                    destroyLocked(cur, true);
                }
            } catch (RuntimeException e) {
                LOG.warn("cannot expire {}: {}", r.name(), e.getMessage());
            } finally {
                l.unlock();
            }
        }
    }

    private void runSchedules() {
        Instant now = Instant.now();
        List<PgSchedule> due = new ArrayList<>();
        synchronized (lock) {
            for (PgSchedule s : schedules.values()) {
                if (s.lastAt() == null || !Instant.parse(s.lastAt()).plusSeconds(s.everySeconds()).isAfter(now)) {
                    due.add(s);
                }
            }
        }
        for (PgSchedule s : due) {
            if (closed) {
                return;
            }
            ReentrantLock l = nameLock(s.source());
            if (!l.tryLock()) {
                continue;
            }
            try {
                if (!volumeExists(s.source())) {
                    continue;
                }
                String snap = takeSnapshot(s.source(), SCHEDULED_SNAPSHOT_PREFIX);
                synchronized (lock) {
                    if (schedules.containsKey(s.source())) {
                        schedules.put(s.source(), schedules.get(s.source()).withLastAt(Instant.now().toString()));
                        save();
                    }
                }
                LOG.info("scheduled snapshot {} taken", snap);
                List<SnapshotInfo> kept = scheduledSnapshots(s.source());
                for (int i = s.keep(); i < kept.size(); i++) {
                    SnapshotInfo old = kept.get(i);
                    if (old.clones().isEmpty()) {
                        destroyQuietly(old.name(), null);
                    }
                }
            } catch (RuntimeException e) {
                LOG.warn("scheduled snapshot of {} failed: {}", s.source(), e.getMessage());
            } finally {
                l.unlock();
            }
        }
    }

    /** Scheduled snapshots of a volume, newest first. */
    private List<SnapshotInfo> scheduledSnapshots(String volume) {
        List<SnapshotInfo> out = new ArrayList<>();
        for (SnapshotInfo s : snapshotsOf(volume)) {
            if (s.snapshot().startsWith(SCHEDULED_SNAPSHOT_PREFIX)) {
                out.add(s);
            }
        }
        out.sort(Comparator.comparing(SnapshotInfo::createdAt).reversed());
        return out;
    }

    /** The newest snapshot of {@code volume} taken at or before {@code at}. */
    private String snapshotAt(String volume, Instant at) {
        SnapshotInfo best = null;
        for (SnapshotInfo s : snapshotsOf(volume)) {
            if (!s.createdAt().isAfter(at) && (best == null || s.createdAt().isAfter(best.createdAt()))) {
                best = s;
            }
        }
        if (best == null) {
            throw new ClonefsException.NotFound("no snapshot of '" + volume + "' was taken at or before " + at
                    + " (schedule some with 'clonefs pg schedule " + volume + "')");
        }
        return best.name();
    }

    // ---- closing -------------------------------------------------------------------------------

    /**
     * Stops the scheduler and every server this manager runs ({@code pg_ctl stop -m fast}, in
     * parallel), keeping their {@code running} flags so that {@link #restoreAll()} brings them
     * back. Must run before the mount is closed. Idempotent.
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        scheduler.shutdownNow();
        stopAllServers();
        try {
            scheduler.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Stops every running server ({@code pg_ctl stop -m fast}, in parallel), keeping their
     * {@code running} flags: what an unmount needs (the next {@link #restoreAll()} starts them
     * again). Returns the names of the servers it stopped.
     */
    public List<String> stopAll() {
        checkOpen();
        return stopAllServers();
    }

    private List<String> stopAllServers() {
        Set<String> names = new java.util.LinkedHashSet<>();
        synchronized (lock) {
            names.addAll(servers.keySet());
            names.addAll(reserved.keySet()); // being created: stop them too once created
        }
        List<String> stopped = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Thread> stoppers = new ArrayList<>();
        for (String name : names) {
            Thread t = new Thread(() -> {
                // wait for an operation in flight on this server (a start, a branch) to finish
                ReentrantLock l = nameLock(name);
                boolean locked = false;
                try {
                    locked = l.tryLock(options.startTimeout().toMillis(), TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                try {
                    PgRecord r = find(name);
                    if (r != null && processes.running(r)) {
                        processes.stopQuietly(r, "fast");
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

    // ---- volumes and data directories ------------------------------------------------------------

    private Path volumeRoot(String volume) {
        return mountpoint.resolve(volume);
    }

    private boolean volumeExists(String name) {
        try {
            engine.volumeInfo(name);
            return true;
        } catch (ClonefsException.NotFound e) {
            return false;
        }
    }

    private void requireVolume(PgRecord rec) {
        if (!volumeExists(rec.name())) {
            throw new ClonefsException.NotFound("the volume of PostgreSQL server '" + rec.name()
                    + "' no longer exists (destroy the server to forget it)");
        }
    }

    /** {@code "data"} or {@code ""} (the volume root): where a volume's PostgreSQL data directory is. */
    private String detectDataDir(String volume) {
        Path root = volumeRoot(volume);
        if (Files.exists(root.resolve("data").resolve("PG_VERSION"))) {
            return "data";
        }
        if (Files.exists(root.resolve("PG_VERSION"))) {
            return "";
        }
        throw new PgException.NotPostgres("volume '" + volume + "' holds no PostgreSQL data directory (expected "
                + root.resolve("data") + "; create one with 'clonefs pg init " + volume + "')");
    }

    /** Creates the volume if missing; true when it did. The volume root is given to the PostgreSQL user. */
    private boolean ensureVolume(String volume) {
        boolean created = false;
        if (!volumeExists(volume)) {
            engine.createVolume(volume);
            created = true;
        }
        Path root = PgDataDirs.awaitVisible(volumeRoot(volume));
        if (created) {
            try {
                dataDirs.chown(root);
            } catch (IOException e) {
                destroyQuietly(volume, null);
                throw new ClonefsException.IoFailure("cannot give " + root + " to " + options.osUser() + ": "
                        + e.getMessage(), e);
            }
        }
        return created;
    }

    /** Undo of init/import: the volume if we created it, else the data directory we made. */
    private void undoVolume(String volume, boolean created, Path madeData, RuntimeException failure) {
        if (created) {
            destroyQuietly(volume, failure);
        } else if (madeData != null) {
            try {
                PgDataDirs.deleteTree(madeData);
            } catch (IOException e) {
                failure.addSuppressed(e);
            }
        }
        deleteQuietly(processes.logFile(volume));
    }

    // ---- snapshots -----------------------------------------------------------------------------

    /** syncfs, then an engine snapshot {@code volume@PREFIX<UTC time>}; returns its full name. */
    private String takeSnapshot(String volume, String prefix) {
        syncfs.run();
        String base = prefix + SNAP_TIME.format(Instant.now());
        for (int i = 0; ; i++) {
            String snap = i == 0 ? base : base + "-" + i;
            try {
                return engine.snapshot(volume, snap).name();
            } catch (ClonefsException.AlreadyExists e) {
                if (i >= 100) {
                    throw e;
                }
            }
        }
    }

    private List<SnapshotInfo> snapshotsOf(String volume) {
        List<SnapshotInfo> out = new ArrayList<>();
        for (SnapshotInfo s : engine.snapshots()) {
            if (s.volume().equals(volume)) {
                out.add(s);
            }
        }
        return out;
    }

    private List<String> dependants(String volume) {
        return snapshotsOf(volume).stream().map(SnapshotInfo::name).toList();
    }

    /** Destroys a branch snapshot once no clone uses it; returns its name if it did. */
    private String releaseSnapshot(String snapshot) {
        if (snapshot == null || !Names.splitSnapshot(snapshot).snapshot().startsWith(BRANCH_SNAPSHOT_PREFIX)) {
            return null;
        }
        try {
            if (!engine.snapshotInfo(snapshot).clones().isEmpty()) {
                return null;
            }
            engine.destroy(snapshot, false);
            return snapshot;
        } catch (ClonefsException.NotFound | ClonefsException.Conflict e) {
            return null;
        }
    }

    private void destroyQuietly(String dataset, RuntimeException failure) {
        try {
            engine.destroy(dataset, false);
        } catch (ClonefsException.NotFound e) {
            // already gone
        } catch (RuntimeException e) {
            if (failure != null) {
                failure.addSuppressed(e);
            }
            LOG.warn("cannot destroy {}: {}", dataset, e.getMessage());
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            LOG.warn("cannot delete {}: {}", p, e.getMessage());
        }
    }

    // ---- state -----------------------------------------------------------------------------------

    private PgRecord find(String name) {
        synchronized (lock) {
            return servers.get(name);
        }
    }

    private PgRecord require(String name) {
        PgRecord r = find(name);
        if (r == null) {
            throw new ClonefsException.NotFound("no PostgreSQL server named '" + name + "' (see 'clonefs pg list')");
        }
        return r;
    }

    private void put(PgRecord rec) {
        synchronized (lock) {
            servers.put(rec.name(), rec);
            save();
        }
    }

    private void save() {
        store.save(new PgStateStore.State(PgStateStore.VERSION, new ArrayList<>(servers.values()),
                new ArrayList<>(schedules.values())));
    }

    /**
     * Reserves a name (and a port) for a server being created. {@code volumeMayExist}: init and
     * import may use an existing volume; a branch needs a new one.
     */
    private int reserveNew(String name, Integer port, boolean volumeMayExist) {
        synchronized (lock) {
            if (servers.containsKey(name) || reserved.containsKey(name)) {
                throw new ClonefsException.AlreadyExists("a PostgreSQL server named '" + name + "' already exists");
            }
            if (!volumeMayExist && volumeExists(name)) {
                throw new ClonefsException.AlreadyExists("volume '" + name + "' already exists");
            }
            int p = port != null ? checkPort(port) : freePort();
            reserved.put(name, p);
            return p;
        }
    }

    private void release(String name) {
        synchronized (lock) {
            reserved.remove(name);
        }
    }

    private Set<Integer> usedPorts() {
        Set<Integer> used = new HashSet<>(reserved.values());
        servers.values().forEach(r -> used.add(r.port()));
        return used;
    }

    private int checkPort(int port) {
        if (port < 1 || port > 65535) {
            throw new ClonefsException.InvalidArgument("port " + port + " is not a TCP port");
        }
        for (PgRecord r : servers.values()) {
            if (r.port() == port) {
                throw new PgException.PortInUse("port " + port + " is already used by PostgreSQL server '" + r.name() + "'");
            }
        }
        if (reserved.containsValue(port)) {
            throw new PgException.PortInUse("port " + port + " is being given to another server");
        }
        if (!PgTools.portFree(port)) {
            throw new PgException.PortInUse("port " + port + " is in use on 127.0.0.1 by another program");
        }
        return port;
    }

    private int freePort() {
        Set<Integer> used = usedPorts();
        for (int p = options.firstPort(); p <= options.lastPort(); p++) {
            if (!used.contains(p) && PgTools.portFree(p)) {
                return p;
            }
        }
        throw new PgException.NoFreePort("no free port in " + options.firstPort() + "-" + options.lastPort()
                + " (destroy servers you no longer need, or give one with --port)");
    }

    private PgApi.Server view(PgRecord r) {
        boolean exists = volumeExists(r.name());
        long pid = exists ? PgTools.livePostmaster(processes.dataDir(r)) : -1;
        String state = !exists ? "missing" : pid > 0 ? "running" : "stopped";
        long unique = 0;
        if (exists) {
            try {
                unique = engine.space(r.name()).uniqueBytes();
            } catch (ClonefsException.NotFound e) {
                state = "missing";
            }
        }
        long age = Math.max(0, Duration.between(Instant.parse(r.createdAt()), Instant.now()).toSeconds());
        boolean standby = r.standby() && "running".equals(state) ? isInRecovery(r) : r.standby();
        return new PgApi.Server(r.name(), r.role(), uri(r.port()), r.source(), r.snapshot(), r.port(), state, pid, r.createdAt(),
                age, r.expiresAt(), r.protect(), standby, r.primary(), unique, processes.dataDir(r).toString(),
                processes.logFile(r.name()).toString());
    }

    private static boolean isInRecovery(PgRecord r) {
        try {
            return "t".equals(PgTools.query(r.port(), "SELECT pg_is_in_recovery()"));
        } catch (SQLException e) {
            return r.standby();
        }
    }

    // ---- helpers ---------------------------------------------------------------------------------

    public static String uri(int port) {
        return "postgresql://postgres@127.0.0.1:" + port + "/postgres";
    }

    /** A conninfo (key=value or URI) with any password removed. */
    static String redact(String conninfo) {
        return conninfo.replaceAll("(?i)(password\\s*=\\s*)('([^'\\\\]|\\\\.)*'|\\S+)", "$1***")
                .replaceAll("(postgres(?:ql)?://[^:/@\\s]+):[^@/\\s]*@", "$1:***@");
    }

    private ReentrantLock nameLock(String name) {
        return nameLocks.computeIfAbsent(name, k -> new ReentrantLock());
    }

    private <T> T withName(String name, Supplier<T> action) {
        ReentrantLock l = nameLock(name);
        l.lock();
        try {
            checkOpen();
            return action.get();
        } finally {
            l.unlock();
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new ClonefsException.Conflict("the PostgreSQL manager is shutting down");
        }
    }

    private static String now() {
        return Instant.now().toString();
    }

    private static long millisSince(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }

}
