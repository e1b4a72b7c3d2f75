package io.clonefs.it.support;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.clonefs.engine.Engine;
import io.clonefs.engine.EngineOptions;
import io.clonefs.fuse.Mount;
import io.clonefs.fuse.MountOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A fresh {@link Workspace} with one or more clonefs pools, initialised and mounted before each
 * test and torn down after it, whatever the test did: unmounted (cleanly, else by force), daemons
 * killed, tmpfs unmounted, Ceph stopped, the directory removed. A failed teardown (something left
 * mounted) fails the test. Register it on an instance field:
 *
 * <pre>{@code
 * @RegisterExtension
 * final MountedPool pool = MountedPool.daemon("api").tmpfs("96m").build();
 *
 * @Test
 * void t() {
 *     pool.clonefs().ok("create", "v");
 *     Files.write(pool.mnt().resolve("v/a"), data);
 * }
 * }</pre>
 *
 * <p>Two kinds: {@link #daemon} drives the {@code clonefs} launcher (a real daemon, {@link Clonefs});
 * {@link #inProcess} opens an {@link Engine} and a {@link Mount} in the test's JVM.
 */
public final class MountedPool implements BeforeEachCallback, AfterEachCallback {
    private static final int PG_PORTS_PER_POOL = 20;

    private final Builder spec;
    private Workspace ws;
    private Ceph ceph;
    private final Map<String, Clonefs> pools = new LinkedHashMap<>();
    private final Map<String, Path> mounts = new LinkedHashMap<>();
    private Engine engine;
    private Mount mount;

    private MountedPool(Builder spec) {
        this.spec = spec;
    }

    /** Pools driven by the {@code clonefs} launcher: {@code clonefs init}, {@code clonefs mount} (a daemon). */
    public static Builder daemon(String name) {
        return new Builder(name, true);
    }

    /** One pool in this JVM: {@link Engine#init}, {@link Engine#open}, {@link Mount#mount}; no daemon. */
    public static Builder inProcess(String name) {
        return new Builder(name, false);
    }

    /** The variants. Defaults: one pool, mounted, no tmpfs, no Ceph, the workspace under {@code /tmp}. */
    public static final class Builder {
        private final String name;
        private final boolean daemon;
        private List<String> poolNames = List.of("");
        private String tmpfsSize;
        private List<String> mountArgs = List.of();
        private MountOptions mountOptions = MountOptions.defaults();
        private final List<String> volumes = new ArrayList<>();
        private boolean mounted = true;
        private boolean ceph;
        private Path under = Path.of("/tmp");
        private int pgPortBase;
        private int pgPortSlots;
        private int pgPortsPerPool = PG_PORTS_PER_POOL;

        private Builder(String name, boolean daemon) {
            this.name = name;
            this.daemon = daemon;
        }

        /**
         * Several daemon pools, each at {@code pool-NAME/pool} and mounted at {@code mnt-NAME},
         * made and mounted in this order (and so unmounted in the reverse order).
         */
        public Builder pools(String... names) {
            daemonOnly("pools");
            poolNames = List.of(names);
            return this;
        }

        /** The workspace only: the test (or a helper such as {@code CrashLoop}) makes its own pool. */
        public Builder noPool() {
            daemonOnly("noPool");
            poolNames = List.of();
            return this;
        }

        /** Each pool on its own tmpfs of this size ({@code mount -o size=SIZE}), so that it can be filled. */
        public Builder tmpfs(String size) {
            daemonOnly("tmpfs");
            tmpfsSize = size;
            return this;
        }

        /** Extra arguments of {@code clonefs mount} (e.g. {@code --no-writeback-cache}). */
        public Builder mountArgs(String... args) {
            daemonOnly("mountArgs");
            mountArgs = List.of(args);
            return this;
        }

        /**
         * {@value #PG_PORTS_PER_POOL} ports per pool for its PostgreSQL servers
         * ({@code CLONEFS_PG_PORTS}), consecutive from {@code base + r * 20 * pools} with a random
         * {@code r < slots}, so that tests running at the same time rarely collide.
         */
        public Builder pgPorts(int base, int slots) {
            daemonOnly("pgPorts");
            pgPortBase = base;
            pgPortSlots = slots;
            return this;
        }

        /** Ports per pool for its PostgreSQL servers, instead of {@value #PG_PORTS_PER_POOL} (with {@link #pgPorts}). */
        public Builder pgPortsPerPool(int n) {
            daemonOnly("pgPortsPerPool");
            pgPortsPerPool = n;
            return this;
        }

        /** A Ceph with radosgw ({@link Ceph}) started before the pools and stopped after they are unmounted. */
        public Builder withCeph() {
            daemonOnly("withCeph");
            ceph = true;
            return this;
        }

        /** The mount for {@link #inProcess} pools (default {@link MountOptions#defaults()}). */
        public Builder mountOptions(MountOptions options) {
            if (daemon) {
                throw new IllegalStateException("mountOptions is for inProcess pools; daemon pools take mountArgs");
            }
            mountOptions = options;
            return this;
        }

        /** A volume created (in-process, before mounting) in the pool. */
        public Builder volume(String volume) {
            if (daemon) {
                throw new IllegalStateException("volume is for inProcess pools; create daemon volumes with clonefs()");
            }
            volumes.add(volume);
            return this;
        }

        /**
         * Daemon: the pools are initialised, not mounted ({@link Clonefs#mount} in the test). In
         * process: only the workspace; the test inits and opens {@link MountedPool#pool()} and
         * creates and mounts {@link MountedPool#mnt()}, handing what it opens to
         * {@link MountedPool#track}.
         */
        public Builder unmounted() {
            mounted = false;
            return this;
        }

        /** The parent directory of the workspace (default {@code /tmp}). */
        public Builder under(Path parent) {
            under = parent;
            return this;
        }

        public MountedPool build() {
            return new MountedPool(this);
        }

        private void daemonOnly(String what) {
            if (!daemon) {
                throw new IllegalStateException(what + " is for daemon pools");
            }
        }
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        if (!spec.daemon && spec.mounted) {
            assumeTrue(Files.exists(Path.of("/dev/fuse")), "needs /dev/fuse");
            if (spec.mountOptions.allowOther()) {
                assumeTrue("root".equals(System.getProperty("user.name")), "needs root (allow_other, runuser)");
            }
        }
        ws = Workspace.create(spec.under, spec.name);
        try {
            if (spec.daemon) {
                setUpDaemons();
            } else {
                setUpInProcess();
            }
        } catch (RuntimeException | Error e) {
            // afterEach runs as well; closing here keeps a failed set-up from ever leaving a mount
            try {
                closeWorkspace();
            } catch (RuntimeException | Error t) {
                e.addSuppressed(t);
            }
            throw e;
        }
    }

    private void setUpDaemons() {
        if (spec.ceph) {
            ceph = Ceph.start(ws.dir("ceph"));
            ws.onClose("stop ceph", ceph::close); // closed last: the mounts are registered after it
        }
        boolean several = spec.poolNames.size() > 1;
        int firstPort = spec.pgPortSlots == 0 ? 0
                : spec.pgPortBase + ThreadLocalRandom.current().nextInt(0, spec.pgPortSlots) * spec.pgPortsPerPool
                        * spec.poolNames.size();
        for (String n : spec.poolNames) {
            String suffix = several ? "-" + n : "";
            Path home = spec.tmpfsSize != null ? tmpfs(ws.dir("small" + suffix), spec.tmpfsSize)
                    : several ? ws.dir("pool" + suffix) : ws.root();
            Clonefs c = new Clonefs(ws, home.resolve("pool"));
            if (firstPort > 0) {
                int first = firstPort + pools.size() * spec.pgPortsPerPool;
                c = c.withEnv(Map.of("CLONEFS_PG_PORTS", first + "-" + (first + spec.pgPortsPerPool - 1)));
            }
            pools.put(n, c);
            mounts.put(n, ws.dir("mnt" + suffix));
        }
        for (Clonefs c : pools.values()) {
            c.init();
        }
        if (spec.mounted) {
            for (Map.Entry<String, Clonefs> e : pools.entrySet()) {
                e.getValue().mount(mounts.get(e.getKey()), spec.mountArgs.toArray(String[]::new));
            }
        }
    }

    private Path tmpfs(Path dir, String size) {
        Proc.run(List.of("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString()), Map.of(),
                Duration.ofMinutes(1)).check();
        ws.onClose("unmount the tmpfs " + dir, () -> {
            if (KernelMounts.isMounted(dir)) {
                Proc.run(List.of("umount", "-l", dir.toString()), Map.of(), Duration.ofMinutes(1));
            }
        });
        return dir;
    }

    private void setUpInProcess() {
        if (!spec.mounted) {
            mounts.put("", ws.root().resolve("mnt"));
            return;
        }
        mounts.put("", ws.dir("mnt"));
        Engine.init(pool(), Engine.DEFAULT_BLOCK_SIZE);
        engine = track(Engine.open(pool(), EngineOptions.defaults()));
        for (String v : spec.volumes) {
            engine.createVolume(v);
        }
        mount = track(Mount.mount(engine, mnt(), spec.mountOptions));
    }

    @Override
    public void afterEach(ExtensionContext context) {
        closeWorkspace();
    }

    private void closeWorkspace() {
        Workspace w = ws;
        ws = null;
        if (w != null) {
            w.close();
        }
    }

    /**
     * Closes {@code resource} in teardown (after what was tracked later, before what was tracked
     * earlier: a mount before its engine), unless the test closed it already (close is idempotent).
     */
    public <T extends AutoCloseable> T track(T resource) {
        ws.onClose("close " + resource, () -> {
            try {
                resource.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        return resource;
    }

    public Workspace ws() {
        return ws;
    }

    /** The only (or first) daemon pool. */
    public Clonefs clonefs() {
        return pools.values().iterator().next();
    }

    /** The daemon pool of that name ({@link Builder#pools}). */
    public Clonefs clonefs(String name) {
        return require(pools, name);
    }

    /** Where the only (or first) pool is (to be) mounted. */
    public Path mnt() {
        return mounts.values().iterator().next();
    }

    /** Where the pool of that name is mounted ({@link Builder#pools}). */
    public Path mnt(String name) {
        return require(mounts, name);
    }

    /** The directory of the only (or first) pool. */
    public Path pool() {
        return spec.daemon ? clonefs().pool() : ws.root().resolve("pool");
    }

    /** The Ceph of {@link Builder#withCeph()}. */
    public Ceph ceph() {
        if (ceph == null) {
            throw new IllegalStateException("no Ceph: build with withCeph()");
        }
        return ceph;
    }

    /** The engine of a mounted {@link #inProcess} pool, as opened before the test. */
    public Engine engine() {
        return engine;
    }

    /** The mount of a mounted {@link #inProcess} pool, as made before the test. */
    public Mount mount() {
        return mount;
    }

    private static <V> V require(Map<String, V> m, String name) {
        V v = m.get(name);
        if (v == null) {
            throw new IllegalArgumentException("no pool " + name + "; pools: " + m.keySet());
        }
        return v;
    }
}
