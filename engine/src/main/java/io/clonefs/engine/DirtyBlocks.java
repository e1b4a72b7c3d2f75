package io.clonefs.engine;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Per inode, the blocks overwritten in place since the inode's last {@code fsync}: what an
 * {@code fsync} with no metadata to commit must make durable (see {@code BlockStore#syncBlocks}).
 * Blocks written into new places need no entry: the metadata commit that such an fsync waits for
 * syncs all block data first.
 *
 * <p>Over-syncing is always safe (a block listed here that has since been freed or reused is just
 * synced again); missing a block is not, hence {@link #putBack} when a sync fails.
 *
 * <p>Thread rules: thread-safe, one monitor; the sets are small (what was written between two
 * fsyncs of a file).
 */
final class DirtyBlocks {
    private final Map<Long, LongSet> byInode = new HashMap<>();

    /** Records {@code count} consecutive blocks from {@code first}, written in place for {@code ino}. */
    synchronized void add(long ino, long first, int count) {
        LongSet s = byInode.computeIfAbsent(ino, k -> new LongSet());
        for (int i = 0; i < count; i++) {
            s.add(first + i);
        }
    }

    /** Removes and returns the inode's blocks (an empty array if none). */
    synchronized long[] take(long ino) {
        LongSet s = byInode.remove(ino);
        return s == null ? new long[0] : s.toArray();
    }

    /** Puts back blocks taken by a sync that failed, so the next fsync tries them again. */
    synchronized void putBack(long ino, long[] ids) {
        if (ids.length == 0) {
            return;
        }
        LongSet s = byInode.computeIfAbsent(ino, k -> new LongSet());
        for (long id : ids) {
            s.add(id);
        }
    }

    /** The inode is gone: nothing of it will be fsynced again. */
    synchronized void forget(long ino) {
        byInode.remove(ino);
    }

    /** Open-addressing set of non-negative longs. */
    static final class LongSet {
        private long[] slots = new long[16];
        private int size;

        LongSet() {
            Arrays.fill(slots, -1);
        }

        boolean add(long v) {
            if ((size + 1) * 2 > slots.length) {
                grow();
            }
            int mask = slots.length - 1;
            int i = mix(v) & mask;
            while (slots[i] != -1) {
                if (slots[i] == v) {
                    return false;
                }
                i = (i + 1) & mask;
            }
            slots[i] = v;
            size++;
            return true;
        }

        int size() {
            return size;
        }

        long[] toArray() {
            long[] out = new long[size];
            int n = 0;
            for (long v : slots) {
                if (v != -1) {
                    out[n++] = v;
                }
            }
            return out;
        }

        private void grow() {
            long[] old = slots;
            slots = new long[old.length * 2];
            Arrays.fill(slots, -1);
            size = 0;
            for (long v : old) {
                if (v != -1) {
                    add(v);
                }
            }
        }

        private static int mix(long v) {
            long h = v * 0x9E3779B97F4A7C15L;
            return (int) (h ^ (h >>> 32));
        }
    }
}
