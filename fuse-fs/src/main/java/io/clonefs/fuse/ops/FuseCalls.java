package io.clonefs.fuse.ops;

import io.clonefs.base.ClonefsException;
import io.clonefs.base.Errno;
import io.clonefs.metrics.Metrics;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where a FUSE callback's outcome becomes a return code. Every callback of
 * {@link ClonefsFuse} runs through {@link #call}: a {@link ClonefsException} becomes
 * {@code -errno} (expected ones are logged at DEBUG only), anything else becomes {@code -EIO}
 * with a logged stack trace, and operations slower than {@link #SLOW_NANOS} are reported.
 * Nothing thrown here ever reaches native code.
 */
final class FuseCalls {
    /** An operation slower than this is logged as a warning. */
    static final long SLOW_NANOS = 1_000_000_000L;

    private static final Logger LOG = LoggerFactory.getLogger(FuseCalls.class);
    private static final Metrics METRICS = Metrics.process();

    /** The body of a callback: returns 0, a byte count, or a negative errno. */
    @FunctionalInterface
    interface Op {
        int run();
    }

    private FuseCalls() {
    }

    /**
     * Runs one callback.
     *
     * @param name operation name, for logs
     * @param path the path libfuse passed, or what names the file in the logs when there is none
     *             (an open handle, see {@link HandleOps}); may be null
     */
    static int call(String name, Object path, Op op) {
        long start = System.nanoTime();
        int rc = -Errno.EIO.value();
        try {
            rc = op.run();
            return rc;
        } catch (ClonefsException e) {
            rc = errno(name, path, e);
            return rc;
        } catch (Throwable t) {
            LOG.error("{} {}: unexpected failure, returning EIO", name, path, t);
            return rc;
        } finally {
            long elapsed = System.nanoTime() - start;
            METRICS.histogram("clonefs_fuse_op_seconds", "FUSE operations by type and their latency.", "op", name)
                    .observeNanos(elapsed);
            if (rc < 0) {
                METRICS.counter("clonefs_fuse_errors_total", "FUSE operations that returned an error, by type.", "op", name)
                        .increment();
            }
            if (elapsed > SLOW_NANOS) {
                LOG.warn("slow FUSE operation: {} {} took {} ms", name, path, elapsed / 1_000_000);
            }
        }
    }

    /** The read-request-size counter family ({@link #countRead}). */
    static final String READ_REQUESTS = "clonefs_fuse_read_requests_total";
    static final String READ_REQUESTS_HELP = "FUSE read requests by size: the size asked for, rounded up to a power of two, in KiB.";

    /**
     * Counts one read request of {@code size} bytes under {@link #READ_REQUESTS}, labelled with
     * the size rounded up to a power of two in KiB ({@code kib="1024"} for a 1 MiB request): how
     * large the kernel's reads are (its read-ahead window and {@code max_pages}).
     */
    static void countRead(long size) {
        long kib = Math.max(1, Long.highestOneBit(Math.max(1, size - 1)) * 2 / 1024);
        int bucket = Long.numberOfTrailingZeros(kib);
        if (bucket < READS_BY_SIZE.length) {
            READS_BY_SIZE[bucket].increment(); // every read request passes here: no lookup, no string
        } else {
            METRICS.counter(READ_REQUESTS, READ_REQUESTS_HELP, "kib", Long.toString(kib)).increment();
        }
    }

    /** The counters of 1 KiB up to 1 MiB ({@code max_pages}), made at once: all sizes show from the start. */
    private static final LongAdder[] READS_BY_SIZE = new LongAdder[11];

    static {
        for (int i = 0; i < READS_BY_SIZE.length; i++) {
            READS_BY_SIZE[i] = METRICS.counter(READ_REQUESTS, READ_REQUESTS_HELP, "kib", Long.toString(1L << i));
        }
    }

    private static int errno(String name, Object path, ClonefsException e) {
        Errno errno = e.errno() == null ? Errno.EIO : e.errno();
        switch (errno) {
            case EIO -> LOG.error("{} {}: I/O error: {}", name, path, e.getMessage(), e);
            case ENOSPC -> LOG.warn("{} {}: out of space: {}", name, path, e.getMessage());
            default -> {
                if (LOG.isDebugEnabled()) {
                    LOG.debug("{} {}: {} ({})", name, path, errno, e.getMessage());
                }
            }
        }
        return -errno.value();
    }

    /** The exception for an errno the adapter itself decides (e.g. EPERM at the mount root). */
    static ClonefsException fail(Errno errno, String message) {
        return new ClonefsException(errno, message);
    }
}
