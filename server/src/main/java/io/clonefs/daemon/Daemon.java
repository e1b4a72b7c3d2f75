package io.clonefs.daemon;

import io.clonefs.api.Api;
import io.clonefs.base.ClonefsException;
import io.clonefs.base.MountTable;
import io.clonefs.engine.Engine;
import io.clonefs.engine.EngineOptions;
import io.clonefs.fuse.Mount;
import io.clonefs.fuse.MountOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running daemon: the open {@link Engine}, its FUSE {@link Mount} and the {@link ControlServer}.
 * Started by {@link #start}, which returns once the mount answers and {@code daemon.json} is
 * published; stopped by {@link #close()} (unmount, then {@code engine.close()}, which commits
 * everything), whoever calls it first: {@code POST /v1/shutdown}, the SIGTERM shutdown hook or the
 * caller.
 */
public final class Daemon implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Daemon.class);

    /**
     * @param port       control API port on 127.0.0.1; 0 for an ephemeral one
     * @param allowOther let other users (the {@code postgres} user) use the mount
     * @param debug      libfuse debug output
     */
    /**
     * @param writebackCache the kernel's writeback cache on the mount ({@link MountOptions#writebackCache})
     * @param listen         the control API's other listener ({@code --listen}, {@link ControlServer#listen}), or null
     */
    public record Options(int port, boolean allowOther, boolean debug, boolean writebackCache, ControlServer.Listen listen) {
        /** With the JVM's default for the writeback cache. */
        public Options(int port, boolean allowOther, boolean debug) {
            this(port, allowOther, debug, MountOptions.writebackDefault());
        }

        /** Listening on 127.0.0.1 only. */
        public Options(int port, boolean allowOther, boolean debug, boolean writebackCache) {
            this(port, allowOther, debug, writebackCache, null);
        }
    }

    /**
     * Something that runs inside the daemon next to the mount (e.g. a PostgreSQL manager). Started
     * once the mount answers, before the control API serves, so it can add routes with
     * {@link ControlServer#extend}; closed after the control API stops and before the unmount.
     */
    public interface Plugin extends AutoCloseable {
        void start(Engine engine, Mount mount, ControlServer server);

        @Override
        void close();
    }

    private final List<Plugin> plugins;
    private final List<Plugin> started = new ArrayList<>();
    private final Path pool;
    private final Path mountpoint;
    private final Options options;
    private final EngineOptions engineOptions;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private Engine engine;
    private volatile Mount mount;
    private ControlServer server;
    private SpaceHistory spaceHistory;
    private DaemonInfo info;
    private boolean closed;

    private Daemon(Path pool, Path mountpoint, Options options, EngineOptions engineOptions, List<Plugin> plugins) {
        this.plugins = List.copyOf(plugins);
        this.pool = pool;
        this.mountpoint = mountpoint;
        this.options = options;
        this.engineOptions = engineOptions;
    }

    /** Opens the pool, mounts it and serves the control API; refuses clearly if anything is in the way. */
    public static Daemon start(Path pool, Path mountpoint, Options options) {
        return start(pool, mountpoint, options, EngineOptions.defaults(), List.of());
    }

    /**
     * The same, with the engine's options (e.g. the fetcher of blocks on remotes) and plugins running
     * inside the daemon.
     */
    public static Daemon start(Path pool, Path mountpoint, Options options, EngineOptions engineOptions,
                               List<Plugin> plugins) {
        Path p = pool.toAbsolutePath().normalize();
        Path mp = mountpoint.toAbsolutePath().normalize();
        preflight(p, mp);
        Daemon d = new Daemon(p, mp, options, engineOptions, plugins);
        try {
            d.open();
        } catch (RuntimeException | Error e) {
            d.close();
            throw e;
        }
        return d;
    }

    /** The checks both the launcher and the daemon make before touching anything. */
    public static void preflight(Path pool, Path mountpoint) {
        if (!Files.isDirectory(pool)) {
            throw new ClonefsException.NotFound("no clonefs pool at " + pool + " (create one with 'clonefs init " + pool + "')");
        }
        Optional<DaemonClient> running = DaemonClient.findLocal(pool);
        if (running.isPresent()) {
            DaemonInfo i = running.get().info();
            throw new ClonefsException.Conflict("pool " + pool + " is already mounted at " + i.mountpoint()
                    + " (daemon pid " + i.pid() + ")");
        }
        Optional<MountTable.Entry> m = Mounts.find(mountpoint);
        if (m.isPresent()) {
            throw new ClonefsException.Conflict("mount point " + mountpoint + " is already mounted ("
                    + m.get().fstype() + ")" + (m.get().fuse() ? "; if its daemon died, run 'clonefs umount " + mountpoint + "'" : ""));
        }
        if (!Files.exists(mountpoint)) {
            throw new ClonefsException.NotFound("mount point " + mountpoint + " does not exist");
        }
        if (!Files.isDirectory(mountpoint)) {
            throw new ClonefsException.InvalidArgument("mount point " + mountpoint + " is not a directory");
        }
    }

    private void open() {
        DaemonFiles.readInfo(pool).filter(i -> !DaemonClient.alive(i.pid()))
                .ifPresent(stale -> DaemonFiles.deleteQuietly(DaemonFiles.info(pool)));
        engine = Engine.open(pool, engineOptions);
        String token = DaemonFiles.newToken();
        DaemonFiles.writePrivate(DaemonFiles.token(pool), (token + "\n").getBytes(StandardCharsets.US_ASCII));
        // snapshots flush the mount's dirty pages first (DESIGN §5)
        EngineService service = new EngineService(engine, () -> mount.syncfs(), false);
        try {
            // bind before mounting, so that a busy port fails without touching the mount point
            server = new ControlServer(service, token, options.port(), options.listen(), this::status, this::close);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on 127.0.0.1:" + options.port() + ": " + e.getMessage(), e);
        }
        server.events(EventLog.open(pool));
        server.tokens(TokenStore.open(pool));
        spaceHistory = new SpaceHistory(service::space);
        server.spaceHistory(spaceHistory);
        mount = Mount.mount(engine, mountpoint, new MountOptions(options.allowOther(), options.debug(), options.writebackCache()));
        for (Plugin plugin : plugins) {
            plugin.start(engine, mount, server);
            started.add(plugin);
        }
        spaceHistory.start();
        server.start();
        info = new DaemonInfo(ProcessHandle.current().pid(), server.port(), pool.toString(), mountpoint.toString(),
                Instant.now().toString(), version(), server.listenUrl(), mount.cacheMode());
        DaemonFiles.writeJson(DaemonFiles.info(pool), info);
        DaemonFiles.register(info);
        LOG.info("pool {} mounted at {} (pid {}, control port {})", pool, mountpoint, info.pid(), info.port());
    }

    public DaemonInfo info() {
        return info;
    }

    private Api.Status status() {
        return new Api.Status(pool.toString(), mountpoint.toString(), ProcessHandle.current().pid(), version());
    }

    /** Blocks until the daemon has stopped. */
    public void awaitStop() throws InterruptedException {
        stopped.await();
    }

    /** Stops serving, unmounts, closes the engine (committing everything) and unpublishes. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        LOG.info("stopping: unmounting {}", mountpoint);
        if (server != null) {
            run("stop the control API", server::close);
        }
        if (spaceHistory != null) {
            run("stop the space history", spaceHistory::close);
        }
        for (int i = started.size() - 1; i >= 0; i--) {
            run("stop " + started.get(i), started.get(i)::close);
        }
        if (mount != null) {
            run("unmount " + mountpoint, mount::close);
        }
        if (engine != null) {
            run("close the pool", engine::close);
        }
        if (info != null) {
            if (DaemonFiles.readInfo(pool).map(i -> i.pid() == info.pid()).orElse(false)) {
                DaemonFiles.deleteQuietly(DaemonFiles.info(pool));
            }
            Path entry = DaemonFiles.registryEntry(mountpoint);
            if (DaemonFiles.lookup(mountpoint).map(i -> i.pid() == info.pid()).orElse(false)) {
                DaemonFiles.deleteQuietly(entry);
            }
            LOG.info("stopped");
        }
        stopped.countDown();
    }

    private static void run(String what, Runnable step) {
        try {
            step.run();
        } catch (RuntimeException e) {
            LOG.error("cannot {}: {}", what, e.getMessage(), e);
        }
    }

    static String version() {
        String v = Daemon.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
