package io.clonefs.engine;

import io.clonefs.metadata.CowTree;
import io.clonefs.metadata.MetaStore;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pool's two background threads and how they are woken: the group committer (commits dirty
 * metadata every {@link EngineOptions#commitIntervalMillis()}, under memory pressure, and checks
 * the space reserve now and then) and the reclaimer (drops the references of destroyed trees that
 * {@link MetaStore#enqueueReclaim} queued).
 *
 * <p>Thread rules: thread-safe. Both threads wait on one monitor, {@link #wake}; {@link #close}
 * wakes them and waits for them but never interrupts them (an interrupt inside a
 * {@code FileChannel} write closes the channel). They stop once {@link Pool#markClosing} was called.
 */
final class Committer {
    /** Engine's logger: these messages keep the category they always had. */
    private static final Logger log = LoggerFactory.getLogger(Engine.class);

    private final Pool pool;
    private final MetaStore meta;
    private final CowTree tree;
    private final EngineOptions options;
    private final Object wake = new Object();
    private final Thread committer;
    private final Thread reclaimer;
    private long reserveCheckedNanos;

    Committer(Pool pool) {
        this.pool = pool;
        this.meta = pool.meta;
        this.tree = pool.tree;
        this.options = pool.options;
        this.committer = new Thread(this::commitLoop, "clonefs-committer");
        this.reclaimer = new Thread(this::reclaimLoop, "clonefs-reclaimer");
        committer.setDaemon(true);
        reclaimer.setDaemon(true);
    }

    void start() {
        committer.start();
        reclaimer.start();
    }

    /** Wakes both threads: the reclaimer has work (a destroy), or the pool is closing. */
    void wake() {
        synchronized (wake) {
            wake.notifyAll();
        }
    }

    /** Called after data changes: wakes the committer under memory pressure. */
    void afterChange() {
        if (meta.dirtyNodeCount() > options.maxDirtyNodes()) {
            wake();
        }
    }

    /** Waits until the reclaimer has drained its queue and the freed blocks are durable and free. */
    boolean awaitReclaim(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            boolean idle;
            synchronized (meta) {
                idle = meta.reclaimBacklog() == 0;
            }
            if (idle) {
                meta.commit();
                synchronized (meta) {
                    if (meta.reclaimBacklog() == 0 && meta.pendingFreeBlocks() == 0) {
                        return true;
                    }
                }
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            wake();
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    private void commitLoop() {
        long interval = options.commitIntervalMillis();
        while (!pool.closing()) {
            try {
                synchronized (wake) {
                    wake.wait(interval > 0 ? interval : 1000);
                }
                if (pool.closing()) {
                    return;
                }
                boolean pressure = meta.dirtyNodeCount() > options.maxDirtyNodes();
                if ((interval > 0 || pressure) && meta.hasChanges()) {
                    meta.commit();
                }
                if (System.nanoTime() - reserveCheckedNanos > 30_000_000_000L) {
                    reserveCheckedNanos = System.nanoTime();
                    pool.ensureReserve();
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                log.error("group commit failed; will retry", e);
            }
        }
    }

    private void reclaimLoop() {
        while (!pool.closing()) {
            try {
                int done = 0;
                if (options.reclaim()) {
                    synchronized (meta) {
                        long id;
                        while (done < 256 && (id = meta.pollReclaim()) >= 0) {
                            tree.dropReference(id);
                            done++;
                        }
                    }
                }
                if (done == 0) {
                    synchronized (wake) {
                        wake.wait(200);
                    }
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                log.error("reclaim step failed; will retry", e);
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    /**
     * Stops both threads: the caller has called {@link Pool#markClosing}; they are woken rather
     * than interrupted, and waited for (up to 10 s each) so that the final commit runs alone.
     */
    void close() {
        // Wake the background threads instead of interrupting them: an interrupt that lands
        // inside a FileChannel write or force closes the channel (ClosedByInterruptException),
        // and the final commit then failed with "sync of block file N failed".
        wake();
        try {
            committer.join(10_000);
            reclaimer.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
