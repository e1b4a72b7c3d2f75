package io.clonefs.it.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Drives the {@code clonefs} launcher ({@code bin/clonefs}) against one pool, as a user would.
 * The launcher and the jar come from the system properties {@code clonefs.it.launcher} and
 * {@code clonefs.it.jar} (set by the integration-tests pom).
 */
public final class Clonefs {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Workspace ws;
    private final Path pool;
    private final Map<String, String> env;

    public Clonefs(Workspace ws, Path pool) {
        this.ws = ws;
        this.pool = pool;
        this.env = Map.of("CLONEFS_POOL", pool.toString(), "CLONEFS_JAR", jar().toString(),
                "CLONEFS_RUN_DIR", ws.root().resolve("run").toString());
    }

    private Clonefs(Workspace ws, Path pool, Map<String, String> env) {
        this.ws = ws;
        this.pool = pool;
        this.env = Map.copyOf(env);
    }

    /** The same pool, with more environment for every command (e.g. {@code CLONEFS_PG_PORTS} for the daemon). */
    public Clonefs withEnv(Map<String, String> extra) {
        Map<String, String> e = new java.util.HashMap<>(env);
        e.putAll(extra);
        return new Clonefs(ws, pool, e);
    }

    /** The environment every command runs with (to run scripts that call the launcher the same way). */
    public Map<String, String> env() {
        return env;
    }

    public static Path launcher() {
        String p = System.getProperty("clonefs.it.launcher");
        Path l = p != null ? Path.of(p) : repoRoot().resolve("bin/clonefs");
        if (!Files.isExecutable(l)) {
            throw new AssertionError("launcher " + l + " missing or not executable");
        }
        return l.toAbsolutePath().normalize();
    }

    public static Path jar() {
        String p = System.getProperty("clonefs.it.jar");
        Path j = p != null ? Path.of(p) : repoRoot().resolve("cli/target/clonefs.jar");
        if (!Files.isRegularFile(j)) {
            throw new AssertionError("clonefs jar " + j + " missing: build the cli module first");
        }
        return j.toAbsolutePath().normalize();
    }

    private static Path repoRoot() {
        Path d = Path.of("").toAbsolutePath();
        while (d != null && !Files.exists(d.resolve("bin/clonefs"))) {
            d = d.getParent();
        }
        if (d == null) {
            throw new AssertionError("cannot find the repository root (bin/clonefs) from " + Path.of("").toAbsolutePath());
        }
        return d;
    }

    public Path pool() {
        return pool;
    }

    /** Runs {@code clonefs ARGS} with this pool as {@code CLONEFS_POOL}. */
    public Proc.Result run(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(launcher().toString());
        cmd.addAll(Arrays.asList(args));
        return Proc.run(cmd, env, Duration.ofMinutes(3));
    }

    /** Runs and fails unless the exit code is 0. */
    public Proc.Result ok(String... args) {
        return run(args).check();
    }

    /** Runs with {@code --json} and parses stdout. */
    public JsonNode json(String... args) {
        String[] a = Arrays.copyOf(args, args.length + 1);
        a[args.length] = "--json";
        Proc.Result r = ok(a);
        try {
            return JSON.readTree(r.out());
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + r.describe(), e);
        }
    }

    public void init() {
        ok("init", pool.toString());
    }

    /**
     * Mounts the pool at {@code mp} (background daemon) and registers its unmount with the
     * workspace: {@code clonefs umount}, and if that fails, SIGKILL of the daemon and a forced
     * unmount.
     */
    public void mount(Path mp, String... options) {
        List<String> args = new java.util.ArrayList<>(List.of("mount", pool.toString(), mp.toString()));
        args.addAll(List.of(options));
        Proc.Result r = run(args.toArray(String[]::new));
        ws.onClose("unmount " + mp, () -> unmount(mp));
        r.check();
        if (!KernelMounts.isMounted(mp)) {
            throw new AssertionError("clonefs mount returned but " + mp + " is not mounted: " + r.describe());
        }
    }

    /** Unmounts cleanly if possible, by force otherwise; never leaves the mount or the daemon behind. */
    public void unmount(Path mp) {
        long pid = daemonPid();
        if (KernelMounts.isMounted(mp) || pid > 0) {
            try {
                Proc.Result r = run("umount", mp.toString());
                if (!r.ok()) {
                    System.err.println("clonefs umount failed: " + r.describe());
                    r = run("umount", "--force", mp.toString());
                }
                if (!r.ok()) {
                    System.err.println("clonefs umount --force failed: " + r.describe());
                }
            } catch (AssertionError e) {
                System.err.println("clonefs umount failed: " + e);
            }
        }
        if (pid > 0 && !Proc.waitGone(pid, Duration.ofSeconds(5))) {
            Proc.kill9(pid);
            Proc.waitGone(pid, Duration.ofSeconds(10));
        }
        if (KernelMounts.isMounted(mp) && !KernelMounts.forceUnmount(mp)) {
            throw new AssertionError("cannot unmount " + mp);
        }
    }

    /** The daemon's {@code daemon.json}, or null when none is published. */
    public JsonNode daemonInfo() {
        Path f = pool.resolve("daemon.json");
        try {
            return Files.exists(f) ? JSON.readTree(f.toFile()) : null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The published daemon pid if that process is alive, else -1. */
    public long daemonPid() {
        JsonNode i = daemonInfo();
        if (i == null) {
            return -1;
        }
        long pid = i.get("pid").asLong();
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) ? pid : -1;
    }
}
