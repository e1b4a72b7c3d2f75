package io.clonefs.it.support;

import io.clonefs.base.FileTrees;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;

/**
 * A scratch directory under {@code /tmp} (or another parent) (mode 0755, so that the {@code postgres} user can reach
 * mount points inside it) plus the teardown of everything a test started there: {@link #close()}
 * runs the registered cleanups last-first (stop servers, unmount), each even if an earlier one
 * failed, and deletes the directory only when nothing is mounted under it any more.
 */
public final class Workspace implements AutoCloseable {
    private final Path root;
    private final Deque<Cleanup> cleanups = new ArrayDeque<>();

    private record Cleanup(String what, Runnable action) {
    }

    private Workspace(Path root) {
        this.root = root;
    }

    public static Workspace create(String name) {
        return create(Path.of("/tmp"), name);
    }

    /** A workspace under another directory (e.g. {@code /var/tmp}, on the host's disk rather than a tmpfs). */
    public static Workspace create(Path parent, String name) {
        try {
            Path root = Files.createTempDirectory(parent, "clonefs-it-" + name + "-");
            Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
            return new Workspace(root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path root() {
        return root;
    }

    /** A fresh subdirectory, mode 0755, owned by root. */
    public Path dir(String name) {
        try {
            Path d = Files.createDirectories(root.resolve(name));
            Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
            return d;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A fresh subdirectory, mode 0700, owned by the {@code postgres} user (socket and log directories). */
    public Path postgresDir(String name) {
        Path d = dir(name);
        chownPostgres(d);
        try {
            Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwx------"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return d;
    }

    public static void chownPostgres(Path p) {
        Proc.run(List.of("chown", "postgres:postgres", p.toString()), Map.of(), Duration.ofSeconds(30)).check();
    }

    /** Registers a teardown step; steps run in reverse order of registration. */
    public void onClose(String what, Runnable action) {
        cleanups.push(new Cleanup(what, action));
    }

    @Override
    public void close() {
        List<String> failures = new ArrayList<>();
        while (!cleanups.isEmpty()) {
            Cleanup c = cleanups.pop();
            try {
                c.action().run();
            } catch (RuntimeException | AssertionError e) {
                failures.add(c.what() + ": " + e);
                System.err.println("teardown: " + c.what() + " failed: " + e);
            }
        }
        List<String> stillMounted = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] f = line.split(" ");
                if (f.length > 4 && f[4].startsWith(root.toString() + "/")) {
                    stillMounted.add(f[4]);
                }
            }
        } catch (IOException e) {
            failures.add("read mountinfo: " + e);
        }
        for (String mp : stillMounted) {
            KernelMounts.forceUnmount(Path.of(mp));
        }
        boolean clean = stillMounted.stream().noneMatch(mp -> KernelMounts.isMounted(Path.of(mp)));
        if (clean && !Boolean.getBoolean("clonefs.it.keep")) {
            deleteTree(root);
        }
        if (!stillMounted.isEmpty()) {
            throw new AssertionError("left mounted after teardown: " + stillMounted + " " + failures);
        }
    }

    private static void deleteTree(Path root) {
        try {
            FileTrees.delete(root);
        } catch (IOException e) {
            System.err.println("teardown: cannot delete " + root + ": " + e);
        }
    }
}
