package io.clonefs.fuse.ops;

import io.clonefs.engine.InodeId;
import io.clonefs.engine.VolumeFs;
import io.clonefs.fuse.protocol.NodeIds;
import io.clonefs.fuse.protocol.StoreNotify;
import io.clonefs.metrics.Metrics;
import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fills a file's page cache in the kernel when it is opened while no handle of it is open, so
 * that its first reads need no round trip: a fresh clone's files are new inodes, whose pages the
 * kernel would otherwise ask for one read request at a time (8 KiB for a random read). The first
 * {@code maxBytes} of the file are read from the engine and stored with
 * {@code FUSE_NOTIFY_STORE} before the OPEN is answered. Off unless
 * {@code -Dclonefs.fuse.primeMiB=N} (N MiB per open).
 *
 * <p>Why only then: a store overwrites whatever the kernel has in the range, dirty pages
 * included. Bytes newer than the engine's exist in the kernel only while a handle of the file is
 * open (a write or a writable mapping needs an open file; with the writeback cache the kernel
 * writes dirty pages back before it releases the last handle). While the OPEN is being answered
 * the opener has no handle yet, and every other way to change the file without a handle (a
 * truncate by path) and every other open or create of the inode waits for this inode's lock. So
 * what is stored is what the engine has, and no page of the range can hold anything newer. A node
 * is primed once until the kernel forgets it (a FORGET drops it from {@link NodeIds}).
 *
 * <p>Thread-safe: the open counts are guarded by the inode's stripe lock.
 */
final class Priming {
    static final String PROPERTY = "clonefs.fuse.primeMiB";
    private static final Logger LOG = LoggerFactory.getLogger(Priming.class);
    private static final int CHUNK = 1 << 20;
    private static final LongAdder PRIMED_BYTES = Metrics.process().counter("clonefs_fuse_primed_bytes_total",
            "Bytes stored into the kernel's page cache when a file was opened with no handle open (FUSE_NOTIFY_STORE).",
            null, null);

    private record Key(String dataset, long ino) {
    }

    private final long maxBytes;
    private final KernelTimes kernel;
    private final NodeIds<Namespace.Dataset> nodeIds;
    private final ReentrantLock[] stripes = new ReentrantLock[64];
    /** Open handles per inode (guarded by the inode's stripe lock). */
    private final ConcurrentHashMap<Key, Integer> open = new ConcurrentHashMap<>();

    Priming(long maxBytes, KernelTimes kernel, NodeIds<Namespace.Dataset> nodeIds) {
        this.maxBytes = maxBytes;
        this.kernel = kernel;
        this.nodeIds = nodeIds;
        for (int i = 0; i < stripes.length; i++) {
            stripes[i] = new ReentrantLock();
        }
    }

    /** With the size per open from {@link #PROPERTY} (MiB, 0 or absent: off). */
    static Priming fromProperty(KernelTimes kernel, NodeIds<Namespace.Dataset> nodeIds) {
        long mib = Long.getLong(PROPERTY, 0);
        return new Priming(Math.max(0, mib) << 20, kernel, nodeIds);
    }

    boolean enabled() {
        return maxBytes > 0;
    }

    private ReentrantLock lock(Key k) {
        return stripes[Math.floorMod(k.hashCode(), stripes.length)];
    }

    /**
     * Opens inode {@code ino} of {@code d} for kernel node {@code nodeId} (0: unknown): primes it
     * first if no handle of it is open, then registers the handle ({@code addHandle}); returns it.
     */
    long open(Namespace.Dataset d, InodeId ino, long nodeId, boolean truncating, LongSupplier addHandle) {
        if (!enabled()) {
            return addHandle.getAsLong();
        }
        Key k = new Key(d.name(), ino.value());
        ReentrantLock l = lock(k);
        l.lock();
        try {
            if (!truncating && nodeId != 0 && open.getOrDefault(k, 0) == 0 && nodeIds.markPrimed(nodeId)) {
                prime(d.fs(), ino, nodeId);
            }
            long h = addHandle.getAsLong();
            open.merge(k, 1, Integer::sum);
            return h;
        } finally {
            l.unlock();
        }
    }

    /** A handle of a file just created is open. */
    void created(Namespace.Dataset d, InodeId ino) {
        if (enabled()) {
            Key k = new Key(d.name(), ino.value());
            ReentrantLock l = lock(k);
            l.lock();
            try {
                open.merge(k, 1, Integer::sum);
            } finally {
                l.unlock();
            }
        }
    }

    /** A handle was released. */
    void released(Namespace.Dataset d, InodeId ino) {
        if (enabled()) {
            Key k = new Key(d.name(), ino.value());
            ReentrantLock l = lock(k);
            l.lock();
            try {
                open.computeIfPresent(k, (key, n) -> n <= 1 ? null : n - 1);
            } finally {
                l.unlock();
            }
        }
    }

    /** Runs a change of the file made without a handle (a truncate by path) under the inode's lock. */
    <T> T withoutHandle(Namespace.Dataset d, InodeId ino, Supplier<T> change) {
        if (!enabled()) {
            return change.get();
        }
        ReentrantLock l = lock(new Key(d.name(), ino.value()));
        l.lock();
        try {
            return change.get();
        } finally {
            l.unlock();
        }
    }

    /** Stores the file's first {@link #maxBytes} (within its size) into the node's page cache. */
    private void prime(VolumeFs fs, InodeId ino, long nodeId) {
        StoreNotify notify = kernel.storeNotify();
        if (notify == null) {
            return;
        }
        try {
            store(notify, fs, ino, nodeId);
        } catch (RuntimeException e) {
            // the open goes on without: its reads go to the engine and report what fails
            LOG.debug("priming node {} stopped: {}", nodeId, e.toString());
        }
    }

    private void store(StoreNotify notify, VolumeFs fs, InodeId ino, long nodeId) {
        long end = Math.min(fs.getattr(ino).size(), maxBytes);
        if (end <= 0) {
            return;
        }
        Pointer buf = Memory.allocateDirect(Runtime.getSystemRuntime(), StoreNotify.HEADER + CHUNK, false);
        ByteBuffer view = NativeBuffers.wrap(buf, StoreNotify.HEADER + CHUNK);
        for (long off = 0; off < end; off += CHUNK) {
            int len = (int) Math.min(CHUNK, end - off);
            ByteBuffer dst = view.slice(StoreNotify.HEADER, len);
            while (dst.hasRemaining()) {
                if (fs.read(ino, off + dst.position(), dst) <= 0) {
                    break;
                }
            }
            if (dst.position() == 0) {
                return;
            }
            int rc = notify.store(nodeId, off, buf, dst.position());
            if (rc != 0) {
                LOG.debug("priming node {} at {}: the kernel answered {}", nodeId, off, rc);
                return;
            }
            PRIMED_BYTES.add(dst.position());
            if (dst.position() < len) {
                return;
            }
        }
    }
}
