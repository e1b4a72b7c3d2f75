package io.clonefs.block;

import io.clonefs.base.BlockId;
import io.clonefs.base.ClonefsException;
import java.util.Arrays;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Which block {@link FileBlockStore#allocate} hands out: a freed one if any (the top of a stack of
 * numbers, seeded from metadata at open, lowest on top), else the high-water mark, which then moves
 * up by one. Callers free a batch highest first ({@code MetaStore}), so that its blocks go out
 * again lowest first: blocks that were consecutive on disk are handed out in ascending order, and
 * the file data writes them as runs (one {@code pwrite} per run, one extent per run) instead of
 * one block at a time.
 * A new block is subject to the {@link FreeSpaceFloor}, is never one the {@link Preparer} is
 * zeroing right now, and may wake the preparer to zero further ahead.
 *
 * <p>The free list and the high-water mark live only here; their durable copy is the metadata's
 * (see {@link BlockStore}), which is why {@link #free} is called only once a block's release is
 * durable.
 *
 * <p>Thread rules: thread-safe. One lock, {@link #lock} (the allocation lock), guards the free
 * list, the high-water mark, the closed state, the floor and the preparer's state (the range being
 * zeroed and how far blocks are prepared), because an allocation must see the high-water mark and
 * the range being zeroed at once. It is held for in-memory work and the floor's free-space reading
 * only, never across block I/O, and no other lock is taken under it.
 */
final class Allocator {
    /** The allocation lock (see the class comment). */
    final ReentrantLock lock = new ReentrantLock();
    private final FreeSpaceFloor floor;
    private final Preparer preparer;
    /** One past the highest block handed out (guarded by lock). */
    private long highWater;
    /** Free blocks: {@code freeStack[0, freeCount)} (guarded by lock). */
    private long[] freeStack;
    private int freeCount;
    /** Set by {@link #close} (guarded by lock). */
    private boolean closed;

    /**
     * @param highWater the durable high-water mark recorded in metadata
     * @param free      the durable free list recorded in metadata
     * @param prepare   whether a {@link Preparer} zeroes and syncs blocks ahead of the high-water mark
     */
    Allocator(BlockFiles files, long highWater, long[] free, boolean prepare) {
        this.highWater = highWater;
        this.freeStack = free.length == 0 ? new long[1024] : Arrays.copyOf(free, Math.max(1024, free.length * 2));
        this.freeCount = free.length;
        // highest first, so that allocations pop the lowest first and climb: consecutive free
        // blocks go out in ascending order, and a write of many blocks lands in runs
        Arrays.sort(freeStack, 0, freeCount);
        for (int i = 0, j = freeCount - 1; i < j; i++, j--) {
            long t = freeStack[i];
            freeStack[i] = freeStack[j];
            freeStack[j] = t;
        }
        this.floor = new FreeSpaceFloor(files.dir(), files.blockSize());
        this.preparer = new Preparer(this, files, prepare);
    }

    /** See {@link FileBlockStore#setFreeSpaceFloor}. */
    void setFreeSpaceFloor(long bytes) {
        lock.lock();
        try {
            floor.set(bytes);
        } finally {
            lock.unlock();
        }
    }

    BlockId allocate() {
        lock.lock();
        try {
            checkOpen();
            if (freeCount > 0) {
                // a freed block keeps its place on disk (only the remote tier punches it out)
                return new BlockId(freeStack[--freeCount]);
            }
            floor.takeNewBlock();
            while (preparer.isZeroing(highWater)) {
                // being zeroed right now: wait (rare, the preparer keeps ahead)
                preparer.awaitChunk();
                checkOpen();
            }
            long b = highWater++;
            preparer.allocated(highWater);
            return new BlockId(b);
        } finally {
            lock.unlock();
        }
    }

    void free(BlockId id) {
        lock.lock();
        try {
            if (id.value() >= highWater) {
                throw new IllegalStateException("freeing " + id + " past the high-water mark " + highWater);
            }
            if (freeCount == freeStack.length) {
                freeStack = Arrays.copyOf(freeStack, freeStack.length * 2);
            }
            freeStack[freeCount++] = id.value();
        } finally {
            lock.unlock();
        }
    }

    long highWater() {
        lock.lock();
        try {
            return highWater;
        } finally {
            lock.unlock();
        }
    }

    /** The store's stats: the allocation state now, with the given file sizes and disk free space. */
    BlockStore.Stats stats(long fileBytes, long diskFree) {
        lock.lock();
        try {
            return new BlockStore.Stats(highWater, freeCount, fileBytes, diskFree);
        } finally {
            lock.unlock();
        }
    }

    /** Refuses allocations from now on and wakes waiting ones; returns the preparer thread to join, if one runs. */
    Thread close() {
        lock.lock();
        try {
            closed = true;
            return preparer.stop();
        } finally {
            lock.unlock();
        }
    }

    /** Under the lock. */
    long highWaterLocked() {
        return highWater;
    }

    /** Under the lock. */
    boolean closedLocked() {
        return closed;
    }

    private void checkOpen() {
        if (closed) {
            throw new ClonefsException.IoFailure("block store is closed", null);
        }
    }
}
