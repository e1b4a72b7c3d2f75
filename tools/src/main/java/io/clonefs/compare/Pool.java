package io.clonefs.compare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A clonefs pool driven through the {@code clonefs} launcher, as a user would. */
final class Pool implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path launcher;
    private final Path pool;
    private final Path mountpoint;
    private final Map<String, String> env;
    private boolean mounted;

    Pool(Path launcher, Path jar, Path pool, Path mountpoint, Path runDir) {
        this.launcher = launcher;
        this.pool = pool;
        this.mountpoint = mountpoint;
        this.env = Map.of("CLONEFS_POOL", pool.toString(), "CLONEFS_JAR", jar.toString(),
                "CLONEFS_RUN_DIR", runDir.toString());
    }

    Path mountpoint() {
        return mountpoint;
    }

    Sh.Result run(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(launcher.toString());
        cmd.addAll(List.of(args));
        return Sh.run(cmd, env, Duration.ofMinutes(20));
    }

    JsonNode json(String... args) {
        String[] a = java.util.Arrays.copyOf(args, args.length + 1);
        a[args.length] = "--json";
        Sh.Result r = run(a).check();
        try {
            return JSON.readTree(r.out());
        } catch (IOException e) {
            throw new CompareException("not JSON: " + r.describe(), e);
        }
    }

    void initAndMount() {
        run("init", pool.toString()).check();
        run("mount", pool.toString(), mountpoint.toString()).check();
        mounted = true;
    }

    /** Pool bytes in use ({@code space --json} usedBytes). */
    long usedBytes() {
        return json("space").get("usedBytes").asLong();
    }

    /** True when this launcher has {@code clonefs pg branch}. */
    boolean hasPgBranch() {
        Sh.Result r = run("pg", "--help");
        return r.ok() && r.out().contains("branch");
    }

    /** Destroys a volume (or snapshot); quiet when it is already gone. */
    void destroyQuietly(String name) {
        Sh.Result r = run("destroy", "--recursive", name);
        if (!r.ok() && !r.err().contains("does not exist") && !r.err().contains("not found")) {
            System.err.println("warning: destroy " + name + ": " + r.err().strip());
        }
    }

    /** Unmounts, flushing everything; kills the daemon if that fails. */
    @Override
    public void close() {
        if (!mounted) {
            return;
        }
        mounted = false;
        Sh.Result r = run("umount", mountpoint.toString());
        if (!r.ok()) {
            System.err.println("clonefs umount failed: " + r.err().strip() + "; forcing");
            r = run("umount", "--force", mountpoint.toString());
        }
        if (!r.ok()) {
            long pid = daemonPid();
            if (pid > 0) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                Sh.waitGone(pid, Duration.ofSeconds(10));
            }
            Sh.run(Duration.ofSeconds(30), "fusermount", "-u", "-z", mountpoint.toString());
        }
    }

    private long daemonPid() {
        try {
            Path f = pool.resolve("daemon.json");
            return Files.exists(f) ? JSON.readTree(f.toFile()).get("pid").asLong() : -1;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
