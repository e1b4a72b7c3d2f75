package io.clonefs.pg;

import io.clonefs.metrics.Metrics;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warms a new branch's page cache: its files are new inodes, so nothing of the source's page cache
 * serves them and every first read of a page would be a FUSE round trip. A second after the branch
 * answers (so that its first client, typically connecting at once, does not share the CPU with it;
 * {@code -Dclonefs.pg.warmDelayMillis}), background threads read its relation files ({@code base/}, {@code global/}; largest
 * first, {@link #readers} files at once) through the mount, so the kernel's read-ahead fetches them in 1 MiB requests from block files
 * the host usually has cached. A read through the kernel never replaces a page the branch's server
 * has already written (unlike storing pages into the cache from the daemon).
 *
 * <p>Budget per branch: {@code -Dclonefs.pg.warmMiB=N} ({@code 0}: off); by default the branch's
 * relation files up to a quarter of the host's available memory ({@code MemAvailable}). A warm-up
 * stops when another branch starts one (one at a time, the newest), when the branch is warmed
 * again (a reset) or destroyed (its reads fail), or when the budget is spent. {@code /metrics}: {@code clonefs_pg_warm_bytes_total}.
 *
 * <p>Thread-safe.
 */
final class PgWarmup {
    private static final Logger LOG = LoggerFactory.getLogger(PgWarmup.class);
    private static final LongAdder WARM_BYTES = Metrics.process().counter("clonefs_pg_warm_bytes_total",
            "Bytes of new branches' relation files read ahead into the page cache after they started.", null, null);
    private static final int CHUNK = 1 << 20;
    /**
     * Files read at once by default (see {@link #readers}). One: more readers warm a branch that
     * serves clients several times as fast, but take that much more of the daemon's request
     * workers from a busy source meanwhile (docs/design.md, "A new branch's warm-up").
     */
    static final int READERS = 1;

    private final long budgetMiB = Long.getLong("clonefs.pg.warmMiB", -1);
    /** How long after the branch answers its warm-up starts: its first client comes first. */
    private final long delayMillis = Long.getLong("clonefs.pg.warmDelayMillis", 1000);
    private final ExecutorService exec = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "clonefs-pg-warmup");
        t.setDaemon(true);
        t.setPriority(Thread.MIN_PRIORITY);
        return t;
    });
    private final AtomicLong tokens = new AtomicLong();
    /** The current warm-up of each branch: an older one stops at its next read. */
    private final Map<String, Long> current = new ConcurrentHashMap<>();

    /** Whether warm-ups are on. */
    boolean enabled() {
        return budgetMiB != 0;
    }

    /** Starts warming branch {@code name}, whose data directory is {@code dataDir} on the mount. */
    void start(String name, Path dataDir) {
        if (!enabled()) {
            return;
        }
        long token = tokens.incrementAndGet();
        // one warm-up at a time, the newest branch's: branches made one after another (a branch per
        // pull request) must not queue reads of the older ones' files behind each other
        current.clear();
        current.put(name, token);
        exec.execute(() -> {
            try {
                run(name, dataDir, token);
            } catch (IOException | RuntimeException e) {
                // destroyed, reset or unmounted meanwhile: nothing to warm any more
                LOG.debug("warm-up of {} stopped: {}", name, e.toString());
            } finally {
                current.remove(name, token);
            }
        });
    }

    /** Stops warming {@code name} (if it is) before its next read. */
    void stop(String name) {
        current.remove(name);
    }

    /**
     * Stops every warm-up and waits (up to 10 s) until none holds a file of the mount open: what an
     * unmount needs.
     */
    void stopAll() {
        current.clear();
        try {
            exec.submit(() -> { }).get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | RejectedExecutionException e) {
            LOG.warn("warm-ups did not stop within 10 s: {}", e.toString());
        }
    }

    private void run(String name, Path dataDir, long token) throws IOException {
        long until = System.nanoTime() + delayMillis * 1_000_000L;
        while (System.nanoTime() < until && Long.valueOf(token).equals(current.get(name))) {
            try {
                Thread.sleep(Math.min(50, Math.max(1, (until - System.nanoTime()) / 1_000_000L)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        if (!Long.valueOf(token).equals(current.get(name))) {
            return;
        }
        List<Path> files = relationFiles(dataDir);
        long total = 0;
        for (Path f : files) {
            total += Files.size(f);
        }
        long budget = budgetMiB > 0 ? budgetMiB << 20 : Math.min(total, memAvailable() / 4);
        long t0 = System.nanoTime();
        Queue<Path> todo = new ConcurrentLinkedQueue<>(files);
        AtomicLong done = new AtomicLong();
        // this thread is the first reader; the others (-Dclonefs.pg.warmReaders) take files from the same queue
        List<Thread> others = new ArrayList<>();
        AtomicReference<Exception> failed = new AtomicReference<>();
        for (int i = 1; i < readers(); i++) {
            Thread t = new Thread(() -> {
                try {
                    read(todo, done, budget, name, token);
                } catch (IOException | RuntimeException e) {
                    failed.compareAndSet(null, e);
                    todo.clear();
                }
            }, "clonefs-pg-warmup-" + i);
            t.setDaemon(true);
            t.start();
            others.add(t);
        }
        try {
            read(todo, done, budget, name, token);
        } finally {
            todo.clear(); // on a failure here the others stop after their current file
            for (Thread t : others) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    current.remove(name, token); // they stop at their next chunk
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
        if (failed.get() instanceof IOException io) {
            throw io;
        }
        if (failed.get() instanceof RuntimeException re) {
            throw re;
        }
        if (!Long.valueOf(token).equals(current.get(name))) {
            return;
        }
        LOG.info("warmed {} MiB of branch {} in {} ms", done.get() >> 20, name, (System.nanoTime() - t0) / 1_000_000);
    }

    /**
     * One reader of a warm-up: takes the next file of {@code todo} and reads it through the mount in
     * 1 MiB reads, until the files or the {@code budget} (shared by the readers) are used up or the
     * warm-up is no longer {@code name}'s current one.
     */
    private void read(Queue<Path> todo, AtomicLong done, long budget, String name, long token)
            throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK);
        for (Path f = todo.poll(); f != null && done.get() < budget; f = todo.poll()) {
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
                long pos = 0;
                while (done.get() < budget) {
                    if (!Long.valueOf(token).equals(current.get(name))) {
                        return;
                    }
                    buf.clear();
                    int n = ch.read(buf, pos);
                    if (n <= 0) {
                        break;
                    }
                    pos += n;
                    done.addAndGet(n);
                    WARM_BYTES.add(n);
                }
            }
        }
    }

    /** How many files a warm-up reads at once ({@code -Dclonefs.pg.warmReaders}, default {@value #READERS}). */
    static int readers() {
        return Integer.getInteger("clonefs.pg.warmReaders", READERS);
    }

    /** Regular files under {@code base/} and {@code global/}, largest first. */
    static List<Path> relationFiles(Path dataDir) throws IOException {
        List<Path> out = new ArrayList<>();
        for (String sub : List.of("base", "global")) {
            Path d = dataDir.resolve(sub);
            if (!Files.isDirectory(d)) {
                continue;
            }
            try (Stream<Path> s = Files.walk(d)) {
                s.filter(Files::isRegularFile).forEach(out::add);
            }
        }
        Map<Path, Long> size = new HashMap<>();
        for (Path p : out) {
            size.put(p, Files.size(p));
        }
        out.sort(Comparator.comparingLong((Path p) -> -size.get(p)));
        return out;
    }

    /** The host's {@code MemAvailable} in bytes (0 if unknown: then nothing is warmed by default). */
    static long memAvailable() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (l.startsWith("MemAvailable:")) {
                    return Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }
}
