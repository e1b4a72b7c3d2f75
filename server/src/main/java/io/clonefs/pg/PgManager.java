package io.clonefs.pg;

import io.clonefs.api.PgApi;
import io.clonefs.base.ClonefsException;
import io.clonefs.engine.Engine;
import io.clonefs.engine.Names;
import io.clonefs.fuse.Mount;
import io.clonefs.pg.limits.Limits;
import io.clonefs.pg.process.Postgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The PostgreSQL branch manager: it turns volumes into running PostgreSQL servers, each with its
 * own port and connection URI, and gives branches (servers on clones of a source) a lifecycle.
 * Owned by the daemon, so that branches outlive the client that made them. A facade: it checks
 * arguments and hands each operation to the class that answers for it.
 *
 * <table>
 *   <caption>Where each part lives</caption>
 *   <tr><th>question</th><th>class</th></tr>
 *   <tr><td>which servers and schedules exist, which ports are taken, the state file, name locks</td>
 *       <td>{@link PgRegistry}</td></tr>
 *   <tr><td>init and import (bringing a database in)</td><td>{@link PgImports}</td></tr>
 *   <tr><td>branch and reset</td><td>{@link PgBranches}</td></tr>
 *   <tr><td>diff of two servers or snapshots</td><td>{@link PgDiffs}</td></tr>
 *   <tr><td>list, start, stop, protect, destroy, restore after a restart, stop all</td><td>{@link PgServers}</td></tr>
 *   <tr><td>expiry and scheduled snapshots (the scheduler thread)</td><td>{@link PgSchedules}</td></tr>
 *   <tr><td>volumes and the snapshots taken for branches and schedules</td><td>{@link PgVolumes}</td></tr>
 *   <tr><td>a record's server process (pg_ctl through {@link Postgres})</td><td>{@link PgProcesses}</td></tr>
 *   <tr><td>data directory files and ownership</td><td>{@link PgDataDirs}</td></tr>
 *   <tr><td>a server's memory limit, CPU weight (its cgroup) and settings; the port range</td>
 *       <td>{@link PgLimiter}, {@link PgServerLimits}, {@link PgServerSettings}, {@link PgPorts}</td></tr>
 * </table>
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
 * Thread-safe. The registry's lock guards the in-memory state and the state file, and is held only
 * for short steps, never while a program runs. Operations on one server are serialised by a lock
 * per name; a branch holds its new name's lock throughout and its source's lock while it snapshots
 * and clones (so a destroy of the source cannot interleave). Names being created are reserved
 * with their port. One scheduler thread destroys expired branches and takes scheduled snapshots.
 */
public final class PgManager implements AutoCloseable {
    /** Snapshots taken for a branch; destroyed once no clone uses them. */
    public static final String BRANCH_SNAPSHOT_PREFIX = PgVolumes.BRANCH_SNAPSHOT_PREFIX;
    /** Snapshots taken by a schedule; destroyed by its retention. */
    public static final String SCHEDULED_SNAPSHOT_PREFIX = PgVolumes.SCHEDULED_SNAPSHOT_PREFIX;

    private final PgOptions options;
    private final PgRegistry registry;
    private final PgEvents events = new PgEvents();
    private final PgServers servers;
    private final PgImports imports;
    private final PgBranches branches;
    private final PgSchedules schedules;
    private final PgSleeps sleeps;
    private final PgServerLimits limits;
    private final PgDiffs diffs;
    private final PgMaskMarks masks;
    private final PgHistory history;

    /**
     * Told of every lifecycle event, after it happened: {@code created} and {@code reset} of a
     * branch, {@code destroyed}, {@code expired} and {@code limits} of any server. Called on the thread that did
     * the work; must not throw or block for long.
     */
    @FunctionalInterface
    public interface Listener {
        void on(String type, PgRecord server, Map<String, Object> details);
    }

    public void listener(Listener l) {
        events.listener(l);
    }

    /** How many branches run now (probed, not stored). */
    public long branchesRunning() {
        return servers.branchesRunning();
    }

    /** How many managed servers run now (probed, not stored). */
    public long serversRunning() {
        return servers.running();
    }

    /** How many managed servers are suspended (stopped for being idle; woken by a connection). */
    public long serversSuspended() {
        return sleeps.suspendedCount();
    }

    /** Bytes of WAL archived by the history of every source ({@code pg history}). */
    public long historyBytes() {
        return history.totalWalBytes();
    }

    private PgManager(Engine engine, Path mountpoint, Runnable syncfs, Path pool, PgOptions options) {
        this.options = options;
        Path mnt = mountpoint.toAbsolutePath().normalize();
        PgTools tools = new PgTools(options);
        Path home = pool.toAbsolutePath().normalize().resolve("pg");
        Path runDir = home.resolve("run");
        Path logDir = home.resolve("log");
        PgStateStore store = new PgStateStore(home.resolve("state.json"));
        UserPrincipalLookupService users = home.getFileSystem().getUserPrincipalLookupService();
        PgDataDirs dataDirs;
        try {
            dataDirs = new PgDataDirs(mnt, options.osUser(), users.lookupPrincipalByName(options.osUser()),
                    users.lookupPrincipalByGroupName(options.osUser()));
        } catch (IOException e) {
            throw new PgException.Setup("no OS user '" + options.osUser() + "' to run PostgreSQL as (install postgresql-15)");
        }
        PgProcesses processes = new PgProcesses(tools, options, mnt, runDir, logDir, PgLimiter.forPool(pool, options),
                new PgTempFiles(home.resolve("tmp"), dataDirs));
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
        dataDirs.checkReachable(mnt);
        PgVolumes volumes = new PgVolumes(engine, mnt, syncfs, dataDirs, options.osUser());
        this.registry = new PgRegistry(options, store, volumes::exists);
        this.sleeps = new PgSleeps(registry, volumes, processes, events, options);
        this.servers = new PgServers(registry, volumes, processes, events, options, sleeps);
        this.imports = new PgImports(registry, volumes, dataDirs, tools, processes, servers);
        this.history = new PgHistory(registry, volumes, processes, dataDirs, tools, home.resolve("history"));
        processes.moreSettings(history::apply);
        servers.history(history);
        this.branches = new PgBranches(registry, volumes, dataDirs, processes, events, sleeps, history);
        this.schedules = new PgSchedules(registry, volumes, servers, sleeps, history);
        this.limits = new PgServerLimits(registry, processes, servers, events);
        this.diffs = new PgDiffs(engine, registry, volumes, processes, tools, options, branches, servers);
        this.masks = new PgMaskMarks(registry, volumes, processes, servers, events);
        schedules.start(options.tick());
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
        registry.checkOpen();
        Names.checkDataset("volume", volume);
        return imports.init(volume, port);
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
        registry.checkOpen();
        Names.checkDataset("volume", volume);
        return imports.importFrom(volume, conninfo, follow, port, progress);
    }

    /** The latest progress line of an import into {@code volume}, if one ran since the daemon started. */
    public Optional<PgApi.Progress> progress(String volume) {
        return imports.progress(volume);
    }

    // ---- start and stop ----------------------------------------------------------------------

    /**
     * Starts a managed server and waits until it answers. A volume holding a PostgreSQL data
     * directory that is not managed yet is adopted as a source, with a port from the range.
     */
    public PgApi.Server start(String name) {
        registry.checkOpen();
        Names.checkDataset("volume", name);
        return servers.start(name);
    }

    /** Stops a managed server ({@code pg_ctl stop -m fast}); it stays stopped across daemon restarts. */
    public PgApi.Server stop(String name) {
        registry.checkOpen();
        Names.checkDataset("volume", name);
        return servers.stop(name);
    }

    // ---- branch --------------------------------------------------------------------------------

    /**
     * A branch request (see {@link #branch}).
     *
     * @param suspendAfter idle time before the branch is suspended: null the pool's default, zero never
     * @param limits       its memory limit, CPU weight and settings of its own, or null for none
     */
    public record BranchSpec(String source, String name, Integer port, Duration ttl, boolean checkpoint,
                             boolean protect, Instant at, Duration suspendAfter, Limits limits, Long atLsn) {
        /** Without an LSN. */
        public BranchSpec(String source, String name, Integer port, Duration ttl, boolean checkpoint, boolean protect,
                          Instant at, Duration suspendAfter, Limits limits) {
            this(source, name, port, ttl, checkpoint, protect, at, suspendAfter, limits, null);
        }

        public static BranchSpec of(String source, String name) {
            return new BranchSpec(source, name, null, null, false, false, null, null, null);
        }

        /** At an LSN of the source's history ({@link PgLsn}): every WAL record that starts before it. */
        public BranchSpec withAtLsn(Long lsn) {
            return new BranchSpec(source, name, port, ttl, checkpoint, protect, at, suspendAfter, limits, lsn);
        }

        /** The moment of the source's history asked for, or null. */
        PgRecord.Moment moment() {
            return at == null && atLsn == null ? null
                    : new PgRecord.Moment(at == null ? null : at.toString(), atLsn == null ? null : PgLsn.format(atLsn));
        }

        /** Its memory limit, CPU weight and settings of its own (null: none). */
        public BranchSpec withLimits(Limits l) {
            return new BranchSpec(source, name, port, ttl, checkpoint, protect, at, suspendAfter, l, atLsn);
        }

        public BranchSpec withPort(Integer p) {
            return new BranchSpec(source, name, p, ttl, checkpoint, protect, at, suspendAfter, limits, atLsn);
        }

        public BranchSpec withTtl(Duration t) {
            return new BranchSpec(source, name, port, t, checkpoint, protect, at, suspendAfter, limits, atLsn);
        }

        public BranchSpec withCheckpoint(boolean c) {
            return new BranchSpec(source, name, port, ttl, c, protect, at, suspendAfter, limits, atLsn);
        }

        public BranchSpec withProtect(boolean p) {
            return new BranchSpec(source, name, port, ttl, checkpoint, p, at, suspendAfter, limits, atLsn);
        }

        public BranchSpec withAt(Instant t) {
            return new BranchSpec(source, name, port, ttl, checkpoint, protect, t, suspendAfter, limits, atLsn);
        }

        public BranchSpec withSuspendAfter(Duration d) {
            return new BranchSpec(source, name, port, ttl, checkpoint, protect, at, d, limits, atLsn);
        }
    }

    /**
     * Branches a source: snapshot (or, with {@code at}, the newest existing snapshot taken at or
     * before that moment), clone, start, promote if needed, first query. The source may be a
     * managed server (running or not), a branch, or any volume holding a PostgreSQL data
     * directory. Leaves nothing behind on failure.
     */
    public PgApi.Branched branch(BranchSpec spec) {
        registry.checkOpen();
        Names.checkDataset("volume", spec.source());
        Names.checkDataset("volume", spec.name());
        PgSleeps.checkIdle(spec.suspendAfter());
        return branches.branch(spec);
    }

    /**
     * Brings a branch back to what it was made from: stop, destroy its volume, clone the same
     * snapshot again (and recover to the same moment of its source's history, for a branch made at
     * one), start on the same port.
     */
    public PgApi.Branched reset(String name) {
        return reset(name, null, null);
    }

    /**
     * Brings a branch to a moment of its source's history ({@code at}, or {@code atLsn}: every WAL
     * record that starts before it): stop, destroy its volume, clone the history snapshot before
     * that moment, recover to it, start on the same port. Both null: as {@link #reset(String)}.
     */
    public PgApi.Branched reset(String name, Instant at, Long atLsn) {
        registry.checkOpen();
        Names.checkDataset("volume", name);
        return branches.reset(name, at, atLsn);
    }

    /**
     * What differs between two servers or snapshots of one lineage: their schemas and/or how many
     * pages of each relation (see {@link PgDiffs}). Snapshots and throwaway branches made for it
     * are destroyed before it returns.
     */
    public PgApi.Diff diff(PgApi.DiffRequest request) {
        registry.checkOpen();
        return diffs.diff(request);
    }

    // ---- history (pg history: PgHistory) --------------------------------------------------------

    /**
     * Turns a source's history on, or changes its window or snapshot interval: its WAL is archived
     * into the pool from its next start (now with {@code restart}), and snapshots are taken every
     * {@code every}; both are kept for {@code keep}.
     */
    public PgApi.History history(String name, Duration keep, Duration every, boolean restart) {
        return history(name, keep, every, null, restart);
    }

    /**
     * As {@link #history(String, Duration, Duration, boolean)}, and a snapshot sooner once the
     * source has written {@code everyWalBytes} of WAL since the last one (0: by time only; null:
     * as it was, else {@link PgHistory#DEFAULT_EVERY_WAL}).
     */
    public PgApi.History history(String name, Duration keep, Duration every, Long everyWalBytes, boolean restart) {
        registry.checkOpen();
        Names.checkDataset("volume", name);
        return history.enable(name, keep, every == null ? PgHistory.DEFAULT_EVERY : every, everyWalBytes, restart);
    }

    /** Turns a source's history off and deletes its archive and history snapshots (those without clones). */
    public PgApi.History historyOff(String name) {
        registry.checkOpen();
        Names.checkDataset("volume", name);
        return history.disable(name);
    }

    /** A source's history: its window, archive and snapshots. */
    public PgApi.History historyStatus(String name) {
        Names.checkDataset("volume", name);
        return history.status(name);
    }

    // ---- masked snapshots (pg mask: io.clonefs.pg.mask.Masking) ---------------------------------

    /** Takes {@code NAME@masked-TIME} of a stopped server; refused while it runs. */
    public String snapshotMasked(String name) {
        registry.checkOpen();
        Names.checkDataset("volume", name);
        return masks.snapshotStopped(name);
    }

    /** The root of a snapshot's files as the mount shows them. */
    public Path snapshotFiles(String snapshot) {
        return masks.snapshotFiles(snapshot);
    }

    /**
     * Marks a server as holding masked data made into {@code snapshot} (one of its own), and drops
     * its time to live; its branches inherit the mark.
     */
    public PgApi.Server markMasked(String name, String snapshot, boolean verified) {
        registry.checkOpen();
        Names.checkDataset("volume", name);
        return masks.mark(name, snapshot, verified);
    }

    // ---- lifecycle -----------------------------------------------------------------------------

    /** Every managed server, sources first, then by name. */
    public List<PgApi.Server> list() {
        return servers.list();
    }

    public PgApi.Server get(String name) {
        return servers.get(name);
    }

    /**
     * Stops a managed server and destroys its volume (and its snapshots, if no clone uses them);
     * a snapshot taken for a branch goes too once no other clone uses it. Refused for a protected
     * server, and for one that other volumes were cloned from.
     */
    public PgApi.Destroyed destroy(String name) {
        registry.checkOpen();
        Names.checkDataset("volume", name);
        return servers.destroy(name);
    }

    /**
     * Changes a server's memory limit, CPU weight or settings of its own (see
     * {@link PgServerLimits#change}): limits take effect at once on a running server, settings
     * at its next start.
     */
    public PgApi.Server limits(String name, PgApi.LimitsRequest change) {
        registry.checkOpen();
        Names.checkDataset("volume", name);
        return limits.change(name, change);
    }

    /**
     * Suspends a running server now ({@code pg_ctl stop -m fast}); the daemon listens on its port
     * and the next connection starts it again. Idempotent.
     */
    public PgApi.Server suspend(String name) {
        registry.checkOpen();
        Names.checkDataset("volume", name);
        return servers.suspend(name);
    }

    /**
     * Sets how long a server may have no client before it is suspended: null for the pool's
     * default ({@link PgOptions#suspendAfter()}, which applies to branches), zero for never.
     */
    public PgApi.Server suspendAfter(String name, Duration idle) {
        registry.checkOpen();
        Names.checkDataset("volume", name);
        return servers.suspendAfter(name, idle);
    }

    /**
     * Sets its time to live: it expires {@code ttl} from now (a longer or a shorter time than it had),
     * or never when {@code ttl} is null.
     */
    public PgApi.Server ttl(String name, Duration ttl) {
        registry.checkOpen();
        Names.checkDataset("volume", name);
        return servers.ttl(name, ttl);
    }

    /** Sets or clears protection: a protected server is neither destroyed nor expired. */
    public PgApi.Server protect(String name, boolean on) {
        registry.checkOpen();
        Names.checkDataset("volume", name);
        return servers.protect(name, on);
    }

    /**
     * Starts every server that should run (was running when the daemon stopped) and does not.
     * Failures are logged and reported, never thrown: one broken branch must not keep the daemon
     * from starting.
     */
    public List<PgApi.Restored> restoreAll() {
        registry.checkOpen();
        return servers.restoreAll();
    }

    // ---- scheduled snapshots and expiry --------------------------------------------------------

    /** Takes a snapshot of {@code source} every {@code every}, keeping the newest {@code keep}. */
    public PgApi.Schedule schedule(String source, Duration every, int keep) {
        registry.checkOpen();
        Names.checkDataset("volume", source);
        return schedules.schedule(source, every, keep);
    }

    /** Stops scheduled snapshots of {@code source}; the snapshots taken stay. */
    public void unschedule(String source) {
        schedules.unschedule(source);
    }

    public List<PgApi.Schedule> schedules() {
        return schedules.list();
    }

    /** One pass of the scheduler (also run by tests): expire branches, take due snapshots, suspend idle servers. */
    public void tick() {
        schedules.tick();
    }

    // ---- closing -------------------------------------------------------------------------------

    /**
     * Stops the scheduler and every server this manager runs ({@code pg_ctl stop -m fast}, in
     * parallel), keeping their {@code running} flags so that {@link #restoreAll()} brings them
     * back. Must run before the mount is closed. Idempotent.
     */
    @Override
    public void close() {
        if (!registry.close()) {
            return;
        }
        schedules.close();
        branches.stopWarmups();
        sleeps.close();
        servers.stopAll();
        schedules.awaitClosed();
    }

    /**
     * Stops every running server ({@code pg_ctl stop -m fast}, in parallel), keeping their
     * {@code running} flags (suspended servers stay suspended): what an unmount needs (the next {@link #restoreAll()} starts them
     * again). Returns the names of the servers it stopped.
     */
    public List<String> stopAll() {
        registry.checkOpen();
        branches.stopWarmups();
        return servers.stopAll();
    }

    // ---- helpers ---------------------------------------------------------------------------------

    /** {@code postgresql://postgres@127.0.0.1:PORT/postgres}. */
    public static String uri(int port) {
        return Postgres.uri(port);
    }
}
