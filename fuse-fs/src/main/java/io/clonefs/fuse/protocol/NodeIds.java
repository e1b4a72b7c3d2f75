package io.clonefs.fuse.protocol;

import java.util.concurrent.ConcurrentHashMap;

/**
 * libfuse's node ids (what the kernel names inodes by) of the files the adapter has seen, with
 * what the adapter resolved them to (a dataset of type {@code D} and an engine inode number), so
 * that {@link FuseLoop} can answer a request libfuse 2 would fail: with the writeback cache the
 * kernel writes back the times it keeps as a SETATTR without a handle, also for a file just
 * unlinked or renamed over, whose path libfuse 2 can no longer resolve.
 *
 * <p>The loop names the request a worker thread is serving ({@link #serving}) for the request
 * types whose header node id is the file itself (OPEN, WRITE, GETATTR, FSYNC, FLUSH); the
 * adapter's callbacks then {@link #record} what the path or handle resolved to. A FORGET (the
 * kernel dropped the inode) removes the id, so the map holds at most the inodes the kernel
 * caches. Thread-safe.
 *
 * @param <D> the adapter's dataset type
 */
public final class NodeIds<D> {
    /** A file as the adapter resolved it. */
    public record Known<D>(D dataset, long ino) {
    }

    private final ConcurrentHashMap<Long, Known<D>> known = new ConcurrentHashMap<>();
    /** Nodes whose page cache was primed since the kernel last looked them up. */
    private final java.util.Set<Long> primed = ConcurrentHashMap.newKeySet();
    private final ThreadLocal<long[]> current = ThreadLocal.withInitial(() -> new long[1]);

    /** The node id of the request this thread serves now, or 0 for none. */
    public void serving(long nodeId) {
        current.get()[0] = nodeId;
    }

    /** The node id of the request this thread serves now, or 0 for none. */
    public long current() {
        return current.get()[0];
    }

    /** Marks {@code nodeId} primed; false if it already was (and the kernel has not forgotten it since). */
    public boolean markPrimed(long nodeId) {
        return primed.add(nodeId);
    }

    /** Records that the request this thread serves names inode {@code ino} of {@code dataset}. */
    public void record(D dataset, long ino) {
        long id = current.get()[0];
        if (id == 0) {
            return;
        }
        Known<D> k = known.get(id);
        if (k == null || k.dataset() != dataset || k.ino() != ino) {
            known.put(id, new Known<>(dataset, ino));
        }
    }

    /** What {@code nodeId} was resolved to, or null. */
    public Known<D> get(long nodeId) {
        return known.get(nodeId);
    }

    public void forget(long nodeId) {
        known.remove(nodeId);
        primed.remove(nodeId);
    }

    public int size() {
        return known.size();
    }
}
