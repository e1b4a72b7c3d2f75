package io.clonefs.fuse;

import io.clonefs.base.ClonefsException;
import io.clonefs.base.MountTable;
import io.clonefs.base.Command;
import io.clonefs.base.Errno;
import io.clonefs.base.LibC;
import io.clonefs.engine.Engine;
import io.clonefs.fuse.ops.ClonefsFuse;
import io.clonefs.fuse.protocol.FuseAttr;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A pool mounted with FUSE: {@code MOUNTPOINT/<volume>/...} for every volume and, read-only,
 * {@code MOUNTPOINT/.snapshots/<volume>@<snap>/...}.
 *
 * <p>{@link #mount} starts libfuse's multithreaded loop on a thread of its own and returns only
 * once the kernel mount answers a probe: a {@code stat} of the mount point must show the root
 * inode number chosen for this mount. {@link #close} unmounts ({@code fusermount -u}, then a lazy
 * unmount if the mount stays busy) and is idempotent and bounded in time. Closing the mount does
 * not close the engine.
 *
 * <p>Thread-safe.
 */
public final class Mount implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Mount.class);
    private static final long PROBE_TIMEOUT_MS = 30_000;
    private static final long UNMOUNT_WAIT_MS = 10_000;
    private static final long LAZY_WAIT_MS = 5_000;
    /** Kernel attribute and dentry cache lifetime in seconds (see {@link #fuseOptions}). */
    static final String CACHE_TIMEOUT = String.valueOf(FuseAttr.CACHE_TIMEOUT_SECONDS);
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(10);

    private final Path mountpoint;
    private final ClonefsFuse fs;
    private final MountOptions options;
    private final CompletableFuture<Integer> loopExit;
    private final AtomicBoolean closed = new AtomicBoolean();

    private Mount(Path mountpoint, ClonefsFuse fs, MountOptions options, CompletableFuture<Integer> loopExit) {
        this.mountpoint = mountpoint;
        this.fs = fs;
        this.options = options;
        this.loopExit = loopExit;
    }

    /**
     * Mounts every volume and snapshot of {@code engine} at {@code mountpoint}.
     *
     * @throws ClonefsException.NotFound        the mount point does not exist
     * @throws ClonefsException.InvalidArgument it is not an empty directory
     * @throws ClonefsException.Conflict        a FUSE filesystem is already mounted there
     * @throws ClonefsException.IoFailure       libfuse could not mount, or the mount did not answer
     */
    public static Mount mount(Engine engine, Path mountpoint, MountOptions options) {
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(options, "options");
        Path mp = checkMountPoint(mountpoint);
        // A root inode number unlikely to be the mount point's own: the probe looks for it.
        long rootIno = ThreadLocalRandom.current().nextLong(1L << 20, 1L << 39);
        ClonefsFuse fs = new ClonefsFuse(engine, rootIno);
        String[] args = args(mp, options);
        CompletableFuture<Integer> exit = new CompletableFuture<>();
        Thread loop = new Thread(() -> {
            try {
                exit.complete(fs.runLoop(args, options.tuning()));
            } catch (Throwable t) {
                exit.completeExceptionally(t);
            }
        }, "clonefs-fuse-loop " + mp);
        loop.setDaemon(true);
        loop.start();
        Mount m = new Mount(mp, fs, options, exit);
        try {
            m.awaitProbe(rootIno);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        LOG.info("mounted clonefs at {} (cache: {})", mp, m.cacheMode());
        return m;
    }

    /**
     * How the kernel caches this mount's writes, one line for the log and {@code clonefs mount}:
     * {@code writeback}, {@code write-through}, or {@code write-through (why)} when the writeback
     * cache was asked for and is not used: the libfuse layout check failed (the mount is then
     * correct, only slower; fuse-fs/README.md) or the kernel did not offer it. Known once
     * {@link #mount} returned.
     */
    public String cacheMode() {
        if (fs.writebackCacheOn()) {
            return "writeback";
        }
        if (!options.writebackCache()) {
            return "write-through";
        }
        String why = fs.writebackRefusal();
        return why != null ? "write-through (libfuse layout check failed: " + why + ")"
                : "write-through (the kernel did not offer the writeback cache)";
    }

    /** The absolute mount point. */
    public Path mountpoint() {
        return mountpoint;
    }

    private static final int ENOENT = 2;
    private static final int ENOSPC = 28;

    /**
     * Flushes the kernel's dirty pages of this mount into the engine ({@code syncfs(2)} on the
     * mount point): with the writeback cache ({@link MountOptions#writebackCache}) written pages
     * stay in the kernel until written back; without it, writes through {@code write(2)} reach
     * the engine before they return and this catches pages dirtied through shared mappings.
     * Does not make anything durable: that is {@code Engine.sync()}.
     */
    public void syncfs() {
        if (closed.get()) {
            throw new ClonefsException(Errno.EBADF, "mount at " + mountpoint + " is closed");
        }
        LibC libc = LibC.get();
        int fd = libc.open(mountpoint.toString(), LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_CLOEXEC);
        if (fd < 0) {
            throw new ClonefsException.IoFailure("cannot open " + mountpoint + " for syncfs: errno "
                    + LibC.lastErrno(), null);
        }
        try {
            if (libc.syncfs(fd) != 0) {
                int errno = LibC.lastErrno();
                // With the writeback cache the kernel writes back the mtime of a file written,
                // closed and deleted before its inode was written: a SETATTR that libfuse 2
                // fails with ENOENT (a deleted file has no path), which syncfs(2) then reports
                // through the superblock's error sequence. No data write-back fails with ENOENT
                // (writes go by open handle), so it is not an error of the flush.
                if (errno == ENOSPC) {
                    // a write-back the kernel did for this syncfs, or since the last one, found
                    // the pool full: the data is not in the engine
                    throw new ClonefsException.NoSpace("the pool is full: the kernel could not write back data"
                            + " written through " + mountpoint + " (syncfs: No space left on device)", null);
                }
                if (errno != ENOENT) {
                    throw new ClonefsException.IoFailure("syncfs of " + mountpoint + " failed: errno " + errno, null);
                }
            }
        } finally {
            libc.close(fd);
        }
    }

    /**
     * Unmounts: {@code fusermount -u}; if the mount is still busy after a while, a lazy unmount
     * (it disappears from the namespace at once and goes away when the last open file closes).
     * Idempotent; returns within about 35 seconds whatever happens (usually at once).
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (!loopExit.isDone()) {
            boolean unmounted = run("fusermount", "-u", mountpoint.toString())
                    || run("umount", mountpoint.toString());
            if (!unmounted || !awaitLoop(UNMOUNT_WAIT_MS)) {
                // busy (open files, a process's working directory) or not answering
                LOG.warn("{} is busy, unmounting lazily", mountpoint);
                if (!run("fusermount", "-u", "-z", mountpoint.toString())) {
                    run("umount", "-l", mountpoint.toString());
                }
                if (!awaitLoop(LAZY_WAIT_MS)) {
                    LOG.warn("{} is detached; its FUSE loop keeps serving {} open files until they are closed",
                            mountpoint, fs.openHandles());
                    return;
                }
            }
        }
        LOG.info("unmounted clonefs from {}", mountpoint);
    }

    @Override
    public String toString() {
        return "Mount[" + mountpoint + "]";
    }

    // ---- mounting ---------------------------------------------------------------------------

    static String[] args(Path mp, MountOptions options) {
        List<String> a = new ArrayList<>();
        a.add("clonefs");
        a.add("-f"); // foreground: libfuse must not fork the JVM
        if (options.debug()) {
            a.add("-d");
        }
        a.add(mp.toString());
        a.add("-o");
        a.add(fuseOptions(options));
        return a.toArray(String[]::new);
    }

    /**
     * libfuse 2 options. {@code default_permissions}: the kernel checks permissions.
     * {@code hard_remove}: unlink really unlinks an open file (the engine keeps it alive until
     * release) instead of renaming it to {@code .fuse_hidden*}, which would make rmdir fail.
     * {@code use_ino}: st_ino comes from the adapter's {@code Namespace} (unique across datasets, stable, and
     * equal for hard links). {@code kernel_cache}: keep the page cache across opens; safe because
     * every change to a file goes through this mount. Attribute and entry caches live
     * {@link #CACHE_TIMEOUT} s: all changes go through the kernel, which updates or invalidates
     * what it cached; only a dataset destroyed behind the kernel's back stays visible that long.
     */
    static String fuseOptions(MountOptions options) {
        StringBuilder o = new StringBuilder("fsname=clonefs,subtype=clonefs,default_permissions");
        if (options.allowOther()) {
            o.append(",allow_other");
        }
        o.append(",big_writes,max_write=131072,kernel_cache,hard_remove,use_ino");
        o.append(",attr_timeout=").append(CACHE_TIMEOUT).append(",entry_timeout=").append(CACHE_TIMEOUT);
        o.append(",negative_timeout=0");
        return o.toString();
    }

    private static Path checkMountPoint(Path mountpoint) {
        Objects.requireNonNull(mountpoint, "mountpoint");
        Path abs = mountpoint.toAbsolutePath().normalize();
        if (!Files.exists(abs, LinkOption.NOFOLLOW_LINKS) && !Files.exists(abs)) {
            throw new ClonefsException.NotFound("mount point " + abs + " does not exist");
        }
        Path real;
        try {
            real = abs.toRealPath();
        } catch (IOException e) {
            // e.g. ENOTCONN: a FUSE mount whose daemon died
            throw new ClonefsException.Conflict("mount point " + abs + " is unusable (" + e.getMessage()
                    + "); if a dead mount is left there, run: fusermount -u " + abs);
        }
        String fuseType = fuseMountAt(real);
        if (fuseType != null) {
            throw new ClonefsException.Conflict("mount point " + real + " is already mounted (" + fuseType + ")");
        }
        if (!Files.isDirectory(real)) {
            throw new ClonefsException.InvalidArgument("mount point " + real + " is not a directory");
        }
        try (DirectoryStream<Path> d = Files.newDirectoryStream(real)) {
            if (d.iterator().hasNext()) {
                throw new ClonefsException.InvalidArgument("mount point " + real + " is not empty");
            }
        } catch (IOException e) {
            throw new ClonefsException.IoFailure("cannot read mount point " + real + ": " + e.getMessage(), e);
        }
        return real;
    }

    /** The type of a FUSE filesystem mounted exactly at {@code dir}, or null. */
    static String fuseMountAt(Path dir) {
        // the last mount at a path is the visible one
        return MountTable.at(dir.toString()).map(MountTable.Entry::fstype).filter(t -> t.startsWith("fuse")).orElse(null);
    }

    private void awaitProbe(long rootIno) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(PROBE_TIMEOUT_MS);
        String lastError = null;
        while (System.nanoTime() < deadline) {
            if (loopExit.isDone()) {
                throw new ClonefsException.IoFailure("cannot mount clonefs at " + mountpoint + ": " + loopOutcome()
                        + " (see libfuse's message on stderr)", null);
            }
            try {
                Object ino = Files.getAttribute(mountpoint, "unix:ino");
                if (ino instanceof Long l && l == rootIno) {
                    return;
                }
            } catch (IOException e) {
                lastError = e.toString();
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ClonefsException.IoFailure("interrupted while mounting " + mountpoint, e);
            }
        }
        throw new ClonefsException.IoFailure("clonefs at " + mountpoint + " did not answer within "
                + PROBE_TIMEOUT_MS + " ms" + (lastError == null ? "" : " (" + lastError + ")"), null);
    }

    private String loopOutcome() {
        try {
            return "libfuse exited with code " + loopExit.get();
        } catch (ExecutionException e) {
            return "libfuse failed: " + e.getCause();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    private boolean awaitLoop(long ms) {
        try {
            loopExit.get(ms, TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return loopExit.isDone();
        }
    }

    /** Runs a command for at most 10 s; true if it exited with 0. */
    private static boolean run(String... cmd) {
        Command.Result r;
        try {
            r = Command.of(cmd).mergeStderr().timeout(COMMAND_TIMEOUT).run();
        } catch (Command.Aborted e) {
            LOG.warn("{}", e.getMessage());
            return false;
        } catch (UncheckedIOException e) {
            LOG.debug("cannot run {}: {}", cmd[0], e.getCause().toString());
            return false;
        }
        if (!r.ok()) {
            LOG.debug("{} exited with {}: {}", String.join(" ", cmd), r.exit(), r.out().trim());
        }
        return r.ok();
    }
}
