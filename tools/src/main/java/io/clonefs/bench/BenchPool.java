package io.clonefs.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A pool of a benchmark's own, used through the CLI as a user would: a fresh directory under
 * {@code dir} holding the pool and its mount point (both reachable by the PostgreSQL user), the
 * environment {@code bin/clonefs} runs with (the pool, a run directory, a port range of its own
 * chosen by the process id so that two benchmarks do not collide), initialised and mounted by
 * {@link #mount}; {@link #close} unmounts (forcing it when a clean unmount fails) and deletes it all.
 */
final class BenchPool implements AutoCloseable {
    final Path root;
    final Path pool;
    final Path mnt;
    final Map<String, String> env = new HashMap<>();
    private final Path launcher;
    private final Consumer<String> log;
    private boolean mounted;

    private BenchPool(Path root, Path launcher, int firstPort, int ports, Consumer<String> log) throws IOException {
        this.root = root;
        this.pool = root.resolve("pool");
        this.mnt = Files.createDirectories(root.resolve("mnt"));
        Files.setPosixFilePermissions(mnt, PosixFilePermissions.fromString("rwxr-xr-x"));
        this.launcher = launcher;
        this.log = log;
        env.put("CLONEFS_POOL", pool.toString());
        env.put("CLONEFS_RUN_DIR", root.resolve("run").toString());
        env.put("CLONEFS_PG_PORTS", firstPort + "-" + (firstPort + ports - 1));
    }

    /**
     * A new pool, mounted.
     *
     * @param portBase the first port of the benchmark's ports; {@code slots} ranges of {@code ports}
     *                 follow it, one chosen by the process id
     */
    static BenchPool mount(Path dir, String prefix, Path launcher, int portBase, int slots, int ports,
                           Consumer<String> log) throws IOException {
        Path root = Files.createTempDirectory(dir, prefix);
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        int first = portBase + (int) (ProcessHandle.current().pid() % slots) * ports;
        BenchPool p = new BenchPool(root, launcher, first, ports, log);
        try {
            p.cli("init", p.pool.toString()).check();
            p.cli("mount", p.pool.toString(), p.mnt.toString()).check();
            p.mounted = true;
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
        return p;
    }

    /** {@code bin/clonefs ARGS...} against this pool. */
    PgProc.Result cli(String... args) {
        List<String> cmd = new ArrayList<>(List.of(launcher.toString()));
        cmd.addAll(List.of(args));
        return PgProc.run(Duration.ofMinutes(60), cmd, env);
    }

    /** {@code pg init NAME}: the new source's port. */
    int initSource(String name) throws IOException {
        return BranchBench.json(cli("pg", "init", name, "--json").check().output()).get("port").asInt();
    }

    @Override
    public void close() {
        if (mounted) {
            mounted = false;
            PgProc.Result u = cli("umount", mnt.toString());
            if (!u.ok()) {
                log.accept("umount failed, forcing: " + u.output());
                cli("umount", "--force", mnt.toString());
            }
        }
        BenchSupport.deleteTree(root);
    }
}
