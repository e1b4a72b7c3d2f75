package io.clonefs.pg.daemon;

import io.clonefs.api.ApiErrors;
import io.clonefs.api.ControlException;
import io.clonefs.api.MaskApi;
import io.clonefs.api.MigrationApi;
import io.clonefs.api.PgApi;
import io.clonefs.base.ClonefsException;
import io.clonefs.base.ErrorKind;
import io.clonefs.daemon.ControlServer;
import io.clonefs.daemon.Daemon;
import io.clonefs.daemon.EventLog;
import io.clonefs.daemon.Scope;
import io.clonefs.engine.Engine;
import io.clonefs.fuse.Mount;
import io.clonefs.metrics.Metrics;
import io.clonefs.pg.PgDurations;
import io.clonefs.pg.PgException;
import io.clonefs.pg.PgManager;
import io.clonefs.pg.PgMemory;
import io.clonefs.pg.PgOptions;
import io.clonefs.pg.PgPorts;
import io.clonefs.pg.PgRecord;
import io.clonefs.pg.PgRoutes;
import io.clonefs.pg.RemoteSnapshots;
import io.clonefs.pg.check.MigrationCheck;
import io.clonefs.pg.mask.Masking;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL branch manager inside the daemon: opens a {@link PgManager} on the daemon's
 * engine and mount, serves {@code /v1/pg/...} ({@link PgRoutes}), restarts the servers that were
 * running (in the background, so that the mount is published at once), and stops every server
 * before the unmount.
 *
 * <p>Configured from the environment of {@code clonefs mount}: {@code CLONEFS_PG_PORTS}
 * ({@code FIRST-LAST}, default 54400-55399; a configured range holding a port another program
 * listens on is refused, like a missing PostgreSQL; the part of it inside the kernel's ephemeral
 * range is reserved from outgoing connections: {@link PgPorts#reserve}), {@code CLONEFS_PG_BIN} (default
 * {@code /usr/lib/postgresql/15/bin}), {@code CLONEFS_PG_SUSPEND_AFTER} (the idle time after
 * which a branch without one of its own is suspended, e.g. {@code 10m}; default {@code 0},
 * never), {@code CLONEFS_PG_MEMORY_FLOOR} (how much of the host's memory a starting server must
 * leave available, e.g. {@code 1GiB}; {@code 0} off; default {@code auto}, 5 % of the RAM between
 * 256 MiB and 2 GiB: see {@code PgAdmission}), {@code CLONEFS_CGROUP_PARENT} (the cgroup under which servers with limits get theirs,
 * default {@code clonefs}) and {@code CLONEFS_CGROUP_ROOT} (where the cgroup hierarchies are,
 * instead of the mount table's). A host without PostgreSQL still mounts: the pg routes then
 * answer with the reason.
 */
public final class PgPlugin implements Daemon.Plugin {
    private static final Logger LOG = LoggerFactory.getLogger(PgPlugin.class);

    private final PgOptions options;
    private final RemoteSnapshots remotes;
    /** The port range was configured (CLONEFS_PG_PORTS): ports other programs use in it are refused. */
    private boolean checkPorts;
    private volatile PgManager manager;
    private Thread restorer;

    public PgPlugin(PgOptions options) {
        this(options, RemoteSnapshots.NONE);
    }

    /** @param remotes where {@code pg branch REMOTE:VOLUME@SNAP} imports its snapshot from */
    public PgPlugin(PgOptions options, RemoteSnapshots remotes) {
        this.options = options;
        this.remotes = remotes;
    }

    /**
     * Refuses a malformed or reversed {@code CLONEFS_PG_PORTS} (before a daemon is started).
     *
     * @throws io.clonefs.base.ClonefsException.InvalidArgument naming what is wrong
     */
    public static void checkEnvironment() {
        String ports = System.getenv("CLONEFS_PG_PORTS");
        if (ports != null && !ports.isBlank()) {
            PgPorts.parseRange("CLONEFS_PG_PORTS", ports);
        }
        String floor = System.getenv("CLONEFS_PG_MEMORY_FLOOR");
        if (floor != null && !floor.isBlank()) {
            memoryFloor(floor);
        }
    }

    private static long memoryFloor(String value) {
        try {
            return PgMemory.parseFloor(value);
        } catch (ClonefsException.InvalidArgument e) {
            throw new ClonefsException.InvalidArgument("CLONEFS_PG_MEMORY_FLOOR: " + e.getMessage());
        }
    }

    /** Options from {@code CLONEFS_PG_PORTS} and {@code CLONEFS_PG_BIN}, else the defaults. */
    public static PgPlugin fromEnvironment() {
        return fromEnvironment(RemoteSnapshots.NONE);
    }

    /** The same, importing the snapshots of remote sources through {@code remotes}. */
    public static PgPlugin fromEnvironment(RemoteSnapshots remotes) {
        PgOptions o = PgOptions.defaults();
        String ports = System.getenv("CLONEFS_PG_PORTS");
        boolean configured = ports != null && !ports.isBlank();
        if (configured) {
            int[] fl = PgPorts.parseRange("CLONEFS_PG_PORTS", ports);
            o = o.withPorts(fl[0], fl[1]);
        }
        String bin = System.getenv("CLONEFS_PG_BIN");
        if (bin != null && !bin.isBlank()) {
            o = new PgOptions(Path.of(bin), o.osUser(), o.firstPort(), o.lastPort(), o.tick(), o.startTimeout(),
                    o.suspendAfter());
        }
        String idle = System.getenv("CLONEFS_PG_SUSPEND_AFTER");
        if (idle != null && !idle.isBlank()) {
            try {
                o = o.withSuspendAfter(PgDurations.parseIdle(idle));
            } catch (ClonefsException.InvalidArgument e) {
                throw new ClonefsException.InvalidArgument("CLONEFS_PG_SUSPEND_AFTER: " + e.getMessage());
            }
        }
        String floor = System.getenv("CLONEFS_PG_MEMORY_FLOOR");
        if (floor != null && !floor.isBlank()) {
            o = o.withMemory(o.memory().withFloor(memoryFloor(floor)));
        }
        PgPlugin p = new PgPlugin(o, remotes);
        p.checkPorts = configured;
        return p;
    }

    /**
     * What a state change under {@code /v1/pg} needs: {@link Scope#BRANCH} to create a branch
     * ({@code POST branches}), and to reset ({@code POST servers/NAME/reset}) or destroy
     * ({@code DELETE servers/NAME}) a server that is a branch; {@link Scope#ADMIN} for anything
     * else, a source's reset or destroy included (docs/api/README.md, "Tokens and scopes").
     */
    static Scope scope(Predicate<String> isBranch, String method, String path) {
        String p = path.startsWith("/") ? path.substring(1) : path;
        if (method.equals("POST") && p.equals("branches")) {
            return Scope.BRANCH;
        }
        String[] parts = p.split("/", -1);
        boolean branchOp = parts.length == 2 && method.equals("DELETE")
                || parts.length == 3 && method.equals("POST") && parts[2].equals("reset");
        if (branchOp && parts[0].equals("servers") && isBranch.test(parts[1])) {
            return Scope.BRANCH;
        }
        return Scope.ADMIN;
    }

    private static boolean isBranch(PgManager m, String name) {
        try {
            return PgRecord.BRANCH.equals(m.get(name).role());
        } catch (RuntimeException e) {
            return false; // no such server: an admin's request (it gets its 404)
        }
    }

    @Override
    public void start(Engine engine, Mount mount, ControlServer server) {
        PgRoutes routes;
        try {
            manager = PgManager.open(engine, mount, engine.directory(), options);
            PgPorts.Reservation reserved = PgPorts.reserve(options.firstPort(), options.lastPort());
            if (reserved != null && reserved.warning()) {
                LOG.warn("{}", reserved.message());
            } else if (reserved != null) {
                LOG.info("{}", reserved.message());
            }
            if (checkPorts) {
                checkPortRange(manager, server.port());
            }
            routes = new PgRoutes(manager, remotes);
        } catch (PgException.Setup | PgException.PortInUse e) {
            LOG.warn("PostgreSQL branches are unavailable: {}", e.getMessage());
            server.extend("pg", request -> error(e));
            return;
        }
        EventLog events = server.events();
        if (events != null) {
            manager.listener((type, rec, details) -> events.append(type, rec.role(), rec.name(), details));
        }
        PgManager m = manager;
        Metrics.process().gauge("clonefs_branches_running", "PostgreSQL branches whose server runs.", null, null,
                m::branchesRunning);
        Metrics.process().gauge("clonefs_pg_servers_running", "Managed PostgreSQL servers whose server runs.", null, null,
                m::serversRunning);
        Metrics.process().gauge("clonefs_pg_history_bytes",
                "Bytes of WAL the history of managed PostgreSQL servers keeps in the pool (pg history).", null, null,
                m::historyBytes);
        Metrics.process().gauge("clonefs_pg_servers_suspended",
                "Managed PostgreSQL servers suspended for being idle (a connection to their port wakes them).", null, null,
                m::serversSuspended);
        server.extend("pg", request -> {
            String path = request.path().startsWith("/") ? request.path().substring(1) : request.path();
            try {
                if (path.equals("check-migration")) {
                    if (!request.method().equals("POST")) {
                        throw new ControlException(ErrorKind.METHOD_NOT_ALLOWED,
                                request.method() + " /v1/pg/check-migration is not allowed (use POST)");
                    }
                    return new ControlServer.Reply(200,
                            new MigrationCheck(m).run(request.body(MigrationApi.CheckRequest.class)));
                }
                if (path.equals("mask")) {
                    if (!request.method().equals("POST")) {
                        throw new ControlException(ErrorKind.METHOD_NOT_ALLOWED,
                                request.method() + " /v1/pg/mask is not allowed (use POST)");
                    }
                    return new ControlServer.Reply(200, new Masking(m).run(request.body(MaskApi.MaskRequest.class)));
                }
                PgRoutes.Reply r = routes.route(request.method(), path, new PgRoutes.Body() {
                    @Override
                    public <T> T read(Class<T> type) {
                        return request.body(type);
                    }

                    @Override
                    public <T> T readOptional(Class<T> type) {
                        return request.body() == null || new String(request.body(), StandardCharsets.UTF_8).isBlank()
                                ? null : request.body(type);
                    }
                });
                return new ControlServer.Reply(r.status(), r.body());
            } catch (PgException e) {
                return error(e); // answered here, so that the control server does not log it as its own failure
            }
        }, (method, path) -> scope(name -> isBranch(m, name), method, path));
        restorer = new Thread(this::restore, "clonefs-pg-restore");
        restorer.setDaemon(true);
        restorer.start();
    }

    /**
     * Refuses a configured range with ports other programs listen on (closing the manager: nothing
     * started). The pool's servers and the daemon's own control port (bound before, often an
     * ephemeral port that may fall in the range; new servers skip it like any port in use) do not
     * count.
     */
    private void checkPortRange(PgManager m, int controlPort) {
        try {
            Set<Integer> own = m.list().stream().map(PgApi.Server::port).collect(Collectors.toCollection(HashSet::new));
            own.add(controlPort);
            PgPorts.checkFree("CLONEFS_PG_PORTS", options.firstPort(), options.lastPort(), own);
        } catch (PgException.PortInUse e) {
            m.close();
            manager = null;
            throw e;
        }
    }

    private void restore() {
        List<PgApi.Restored> r = manager.restoreAll();
        if (!r.isEmpty()) {
            LOG.info("PostgreSQL servers restarted: {}", r);
        }
    }

    /** The error reply of the one table ({@link ApiErrors}). */
    private static ControlServer.Reply error(PgException e) {
        ApiErrors.Mapped m = ApiErrors.map(e);
        return new ControlServer.Reply(m.status(), m.body());
    }

    /** Stops every PostgreSQL server (they come back on the next mount). */
    @Override
    public void close() {
        PgManager m = manager;
        if (m != null) {
            Metrics.process().remove("clonefs_branches_running");
            Metrics.process().remove("clonefs_pg_servers_running");
            Metrics.process().remove("clonefs_pg_servers_suspended");
            m.close();
        }
    }

    @Override
    public String toString() {
        return "PostgreSQL branch manager";
    }
}
