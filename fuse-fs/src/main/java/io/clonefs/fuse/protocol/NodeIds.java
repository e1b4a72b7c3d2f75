package io.clonefs.fuse.protocol;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * libfuse's node ids (what the kernel names inodes by) of the files the adapter has seen, with
 * what the adapter resolved them to (a dataset of type {@code D} and an engine inode number), so
 * that {@link FuseLoop} can answer a request libfuse 2 would fail: with the writeback cache the
 * kernel writes back the times it keeps as a SETATTR without a handle, also for a file just
 * unlinked or renamed over, whose path libfuse 2 can no longer resolve.
 *
 * <p>The loop names the request a worker thread is serving ({@link #serving}) for the request
 * types whose header node id is the file itself (OPEN, WRITE, GETATTR, SETATTR, FSYNC);
 * the adapter's callbacks then {@link #record} what the path or handle resolved to. A FORGET (the
 * kernel dropped the inode) removes the id, so the map holds at most the inodes the kernel
 * caches.
 *
 * <p>A callback whose write or truncate the engine refused asks for the node's cached pages and
 * attributes to be dropped ({@link #invalidateAfterReply}); the loop sends that invalidation
 * once the request is answered ({@link #takeInvalidations}), never while answering it: the
 * kernel may hold a page lock of the node until the reply. Until it is sent
 * ({@link #invalidated}), requests of the node that the invalidation cannot depend on wait for it
 * ({@link #awaitInvalidation}): the caller that saw the error cannot open, close, sync or stat
 * the file before its cached pages are gone. Thread-safe.
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
    /** Per thread: the node ids to invalidate once the request served now is answered. */
    private final ThreadLocal<long[]> invalidations = ThreadLocal.withInitial(() -> new long[1 + MAX_PENDING]);
    private static final int MAX_PENDING = 8;
    private static final long[] NONE = new long[0];
    /** The file ({@code st_ino}) each node id names, from the reply that gave the kernel the id. */
    private final ConcurrentHashMap<Long, Long> fileOf = new ConcurrentHashMap<>();
    /** The node ids of each file the kernel knows by more than none (one per name: libfuse 2's path API). */
    private final ConcurrentHashMap<Long, java.util.Set<Long>> namesOf = new ConcurrentHashMap<>();
    /** Per thread: node ids whose cached attributes to drop before the reply of the request served now. */
    private final ThreadLocal<List<Long>> attributeInvalidations = ThreadLocal.withInitial(ArrayList::new);
    /** Node ids whose invalidation is asked for and not sent yet. */
    private final ConcurrentHashMap<Long, CountDownLatch> pending = new ConcurrentHashMap<>();

    /** The node id of the request this thread serves now, or 0 for none. */
    public void serving(long nodeId) {
        current.get()[0] = nodeId;
    }

    /** The node id of the request this thread serves now, or 0 for none. */
    public long current() {
        return current.get()[0];
    }

    /**
     * The kernel must drop what it caches of the node this thread serves now (the engine refused
     * or rolled back a write or truncate: the kernel's pages or size may hold what it refused).
     * Sent by the loop after the reply; nothing when no node is being served.
     */
    public void invalidateAfterReply() {
        invalidateAfterReply(current.get()[0]);
    }

    /** As {@link #invalidateAfterReply()}, for node {@code nodeId} (0: nothing). */
    public void invalidateAfterReply(long nodeId) {
        if (nodeId == 0) {
            return;
        }
        long[] p = invalidations.get();
        int n = (int) p[0];
        for (int i = 1; i <= n; i++) {
            if (p[i] == nodeId) {
                return;
            }
        }
        if (n < MAX_PENDING) {
            p[n + 1] = nodeId;
            p[0] = n + 1;
            pending.computeIfAbsent(nodeId, k -> new CountDownLatch(1));
        }
    }

    /** The invalidation of {@code nodeId} asked for by {@link #invalidateAfterReply} was sent (or failed). */
    public void invalidated(long nodeId) {
        CountDownLatch l = pending.remove(nodeId);
        if (l != null) {
            l.countDown();
        }
    }

    /** Another invalidation of {@code nodeId} is still to be sent: requests that wait for one wait again. */
    public void stillPending(long nodeId) {
        pending.computeIfAbsent(nodeId, k -> new CountDownLatch(1));
    }

    /**
     * Waits, at most {@code timeoutMs}, until no invalidation of {@code nodeId} is pending; false
     * if one still is. Only for requests the invalidation cannot wait for.
     */
    public boolean awaitInvalidation(long nodeId, long timeoutMs) {
        CountDownLatch l = pending.get(nodeId);
        if (l == null) {
            return true;
        }
        try {
            return l.await(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The node ids this thread asked to invalidate since the last call (usually none), cleared. */
    public long[] takeInvalidations() {
        long[] p = invalidations.get();
        int n = (int) p[0];
        if (n == 0) {
            return NONE;
        }
        p[0] = 0;
        return Arrays.copyOfRange(p, 1, n + 1);
    }

    /** The node ids recorded for which {@code test} holds (e.g. every node of a dataset that was replaced). */
    public List<Long> nodesOf(Predicate<D> test) {
        List<Long> ids = new ArrayList<>();
        known.forEach((id, k) -> {
            if (test.test(k.dataset())) {
                ids.add(id);
            }
        });
        return ids;
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
        Long file = fileOf.remove(nodeId);
        if (file != null) {
            namesOf.computeIfPresent(file, (f, ids) -> {
                ids.remove(nodeId);
                return ids.isEmpty() ? null : ids;
            });
        }
    }

    /**
     * A reply gave the kernel node id {@code nodeId} for the file whose {@code st_ino} is
     * {@code stIno} (LOOKUP, CREATE, MKNOD, MKDIR, SYMLINK, LINK: {@link ReplyHook}).
     */
    public void entryReplied(long nodeId, long stIno) {
        Long before = fileOf.put(nodeId, stIno);
        if (before != null && before != stIno) {
            namesOf.computeIfPresent(before, (f, ids) -> {
                ids.remove(nodeId);
                return ids.isEmpty() ? null : ids;
            });
        }
        namesOf.computeIfAbsent(stIno, f -> ConcurrentHashMap.newKeySet()).add(nodeId);
    }

    /**
     * The link count, mode, owner or ctime of file {@code stIno} changed through one of its
     * names: the kernel's cached attributes of every node id naming it, except the one this
     * thread's request names (its reply carries the new ones), are dropped before the reply
     * ({@link #takeAttributeInvalidations}). Only with {@link ReplyHook} in place, which learns the
     * node ids; nothing otherwise.
     */
    public void attributesChanged(long stIno) {
        java.util.Set<Long> ids = namesOf.get(stIno);
        if (ids == null) {
            return;
        }
        long self = current.get()[0];
        List<Long> out = attributeInvalidations.get();
        for (Long id : ids) {
            if (id != self && !out.contains(id)) {
                out.add(id);
            }
        }
    }

    /** The node ids {@link #attributesChanged} collected on this thread (usually none), cleared. */
    public long[] takeAttributeInvalidations() {
        List<Long> l = attributeInvalidations.get();
        if (l.isEmpty()) {
            return NONE;
        }
        long[] ids = new long[l.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = l.get(i);
        }
        l.clear();
        return ids;
    }

    /**
     * Whether any file's node ids are known ({@link #entryReplied}): never without {@link ReplyHook},
     * so a write-through mount's unlinks and renames need not look at the file's link count.
     */
    public boolean tracksNames() {
        return !namesOf.isEmpty();
    }

    /** How many node ids name file {@code stIno} (tests). */
    public int names(long stIno) {
        java.util.Set<Long> ids = namesOf.get(stIno);
        return ids == null ? 0 : ids.size();
    }

    public int size() {
        return known.size();
    }
}
