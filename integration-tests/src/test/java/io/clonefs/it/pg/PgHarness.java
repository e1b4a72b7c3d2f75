package io.clonefs.it.pg;

import io.clonefs.engine.Engine;
import io.clonefs.fuse.Mount;
import io.clonefs.fuse.MountOptions;
import io.clonefs.it.support.PgServer;
import io.clonefs.it.support.Proc;
import io.clonefs.it.support.Workspace;
import io.clonefs.pg.PgManager;
import io.clonefs.pg.PgOptions;
import io.clonefs.pg.process.Postgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.UnaryOperator;

/**
 * What a daemon holds, in the test's process: a pool in a temp directory, its engine, its FUSE
 * mount (allow_other, so the postgres user can use it) and a {@link PgManager} with a short
 * scheduler tick and a port range of its own. {@link #restart()} simulates a daemon restart;
 * the workspace's teardown stops every server, unmounts and closes the pool, even after a failure.
 */
public final class PgHarness implements AutoCloseable {
    public static final Duration TICK = Duration.ofMillis(200);

    private final Workspace ws;
    private final Path pool;
    private final Path mnt;
    private final PgOptions options;
    private Engine engine;
    private Mount mount;
    private PgManager pg;

    private PgHarness(Workspace ws, UnaryOperator<PgOptions> tweak) {
        this.ws = ws;
        this.pool = ws.dir("pool");
        this.mnt = ws.dir("mnt");
        // a window of ports of our own, away from the default range others may use
        int first = 41000 + ThreadLocalRandom.current().nextInt(0, 150) * 40;
        this.options = tweak.apply(PgOptions.defaults().withPorts(first, first + 39).withTick(TICK)
                .withStartTimeout(Duration.ofMinutes(5)));
        // teardown runs last-registered first: manager, then mount, then engine
        ws.onClose("close the engine", () -> {
            if (engine != null) {
                engine.close();
            }
        });
        ws.onClose("unmount", () -> {
            if (mount != null) {
                mount.close();
            }
        });
        ws.onClose("stop PostgreSQL servers", () -> {
            if (pg != null) {
                pg.close();
            }
        });
    }

    public static PgHarness start(String name) {
        return start(name, UnaryOperator.identity());
    }

    /** The same, with the manager's options changed by {@code tweak}. */
    public static PgHarness start(String name, UnaryOperator<PgOptions> tweak) {
        Workspace ws = Workspace.create(name);
        try {
            PgHarness h = new PgHarness(ws, tweak);
            Engine.init(h.pool, Engine.DEFAULT_BLOCK_SIZE);
            h.open();
            return h;
        } catch (RuntimeException | Error e) {
            ws.close();
            throw e;
        }
    }

    private void open() {
        engine = Engine.open(pool);
        mount = Mount.mount(engine, mnt, MountOptions.defaults());
        pg = PgManager.open(engine, mount, pool, options);
    }

    /** A daemon restart: stop the servers, unmount, close the pool; open, mount and manage again. */
    public void restart() {
        pg.close();
        pg = null;
        mount.close();
        mount = null;
        engine.close();
        engine = null;
        open();
    }

    public Workspace ws() {
        return ws;
    }

    public Engine engine() {
        return engine;
    }

    public Mount mount() {
        return mount;
    }

    public PgManager pg() {
        return pg;
    }

    public Path pool() {
        return pool;
    }

    public PgOptions options() {
        return options;
    }

    @Override
    public void close() {
        ws.close();
    }

    // ---- talking to servers --------------------------------------------------------------------

    public static Connection connect(int port) throws SQLException {
        return PgServer.connect(port);
    }

    /** First column of the first row (or null). */
    public static String query(int port, String sql) throws SQLException {
        try (Connection c = connect(port)) {
            return Postgres.query(c, sql);
        }
    }

    public static void execute(int port, String sql) throws SQLException {
        query(port, sql);
    }

    public static long queryLong(int port, String sql) throws SQLException {
        return Long.parseLong(query(port, sql));
    }

    /** Runs a client tool as postgres against 127.0.0.1:port. */
    public static Proc.Result tool(int port, Duration timeout, String tool, String... args) {
        return Proc.runAsPostgres(toolCommand(port, tool, args), timeout);
    }

    public static List<String> toolCommand(int port, String tool, String... args) {
        return PgServer.toolCommand(port, tool, args);
    }

    /** Polls {@code sql} until it returns {@code expected}, or fails after {@code timeout}. */
    public static void awaitValue(int port, String sql, String expected, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = null;
        while (System.nanoTime() < deadline) {
            try {
                last = query(port, sql);
                if (expected.equals(last)) {
                    return;
                }
            } catch (SQLException e) {
                last = e.toString();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("'" + sql + "' on port " + port + " still returns " + last + ", expected " + expected);
    }
}
