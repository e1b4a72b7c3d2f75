package io.clonefs.fuse;

import io.clonefs.engine.InodeId;
import java.util.concurrent.ConcurrentHashMap;

/**
 * libfuse's node ids (what the kernel names inodes by) of the files the adapter has seen, with
 * their dataset and engine inode, so that {@link FuseLoop} can answer a request libfuse 2 would
 * fail: with the writeback cache the kernel writes back the times it keeps as a SETATTR without a
 * handle, also for a file just unlinked or renamed over, whose path libfuse 2 can no longer
 * resolve.
 *
 * <p>The loop names the request a worker thread is serving ({@link #serving}) for the request
 * types whose header node id is the file itself (OPEN, WRITE, GETATTR, FSYNC, FLUSH); the
 * adapter's callbacks then {@link #record} what the path or handle resolved to. A FORGET (the
 * kernel dropped the inode) removes the id, so the map holds at most the inodes the kernel
 * caches. Thread-safe.
 */
final class NodeIds {
    /** A file as the adapter resolved it. */
    record Known(Namespace.Dataset dataset, InodeId ino) {
    }

    private final ConcurrentHashMap<Long, Known> known = new ConcurrentHashMap<>();
    private final ThreadLocal<long[]> current = ThreadLocal.withInitial(() -> new long[1]);

    /** The node id of the request this thread serves now, or 0 for none. */
    void serving(long nodeId) {
        current.get()[0] = nodeId;
    }

    /** Records that the request this thread serves names {@code ino} of {@code dataset}. */
    void record(Namespace.Dataset dataset, InodeId ino) {
        long id = current.get()[0];
        if (id == 0) {
            return;
        }
        Known k = known.get(id);
        if (k == null || k.dataset() != dataset || !k.ino().equals(ino)) {
            known.put(id, new Known(dataset, ino));
        }
    }

    Known get(long nodeId) {
        return known.get(nodeId);
    }

    void forget(long nodeId) {
        known.remove(nodeId);
    }

    int size() {
        return known.size();
    }
}
