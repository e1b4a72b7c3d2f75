package io.clonefs.daemon;

import io.clonefs.api.Api;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pool's used and free space and reclaim backlog, sampled once a minute for the last 24 hours
 * ({@value #CAPACITY} samples, about 60 KiB), for {@code GET /v1/space/history} and the console's
 * pool chart. Kept in memory only: a restarted daemon starts a new history.
 *
 * <p>Thread-safe.
 */
public final class SpaceHistory implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SpaceHistory.class);
    /** Samples kept: one a minute for 24 h. */
    public static final int CAPACITY = 1440;
    /** Seconds between samples. */
    public static final int INTERVAL_SECONDS = 60;

    private final Supplier<Api.Space> space;
    private final ArrayDeque<Api.SpaceSample> ring = new ArrayDeque<>(CAPACITY);
    private ScheduledExecutorService timer;

    public SpaceHistory(Supplier<Api.Space> space) {
        this.space = space;
    }

    /** Takes the first sample now and one every {@link #INTERVAL_SECONDS} on a daemon thread. */
    public synchronized void start() {
        if (timer != null) {
            return;
        }
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "clonefs-space-history");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleAtFixedRate(this::sample, 0, INTERVAL_SECONDS, TimeUnit.SECONDS);
    }

    /** Takes one sample now and keeps it (the oldest goes when {@link #CAPACITY} are kept). */
    void sample() {
        try {
            Api.SpaceSample s = now();
            synchronized (ring) {
                if (ring.size() == CAPACITY) {
                    ring.removeFirst();
                }
                ring.addLast(s);
            }
        } catch (RuntimeException e) {
            LOG.debug("space sample not taken: {}", e.getMessage()); // closing, or the pool failed: the next one will tell
        }
    }

    private Api.SpaceSample now() {
        Api.Space s = space.get();
        return new Api.SpaceSample(Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(), s.usedBytes(), s.freeBytes(),
                s.reclaimBacklog());
    }

    /** The samples kept, oldest first, and one taken now (not kept) as the last. */
    public Api.SpaceHistory history() {
        List<Api.SpaceSample> out;
        synchronized (ring) {
            out = new ArrayList<>(ring.size() + 1);
            out.addAll(ring);
        }
        out.add(now());
        return new Api.SpaceHistory(INTERVAL_SECONDS, CAPACITY, out);
    }

    @Override
    public synchronized void close() {
        if (timer != null) {
            timer.shutdownNow();
        }
    }
}
