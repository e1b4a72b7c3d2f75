package io.clonefs.block;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Makes new blocks stable before they are handed out. A new block is not stable (its first sync
 * needs an fdatasync of its whole block file, with a journal commit for the allocation). So a
 * background thread ({@code clonefs-block-prepare}) writes zeros over the blocks just past the
 * high-water mark, {@link #CHUNK_BYTES} at a time, up to {@link #AHEAD_BYTES} ahead, fdatasyncs
 * them, and so makes them stable: a write into a newly allocated block then syncs by range, like
 * an overwrite. The thread starts when an allocation finds fewer blocks prepared than that, and
 * ends when it has caught up. It does nothing while the disk has less than
 * {@link #MIN_FREE_BYTES} free, and pauses for 10 s after a failure.
 *
 * <p>Thread rules: the preparer's state (how far blocks are prepared, the range being zeroed, the
 * thread) is guarded by the {@link Allocator}'s lock, which the allocator holds when it calls
 * {@link #isZeroing}, {@link #awaitChunk}, {@link #allocated} and {@link #stop}; the thread takes
 * that lock only to read and update the state, never across its writes and syncs. An allocation
 * that reaches the range being zeroed waits on {@code chunkDone}, signalled after each chunk and
 * on close.
 */
final class Preparer {
    /** Bytes zeroed per round. */
    static final long CHUNK_BYTES = 4L << 20;
    /** How far past the high-water mark blocks are kept prepared. */
    static final long AHEAD_BYTES = 8L << 20;
    /** No zeroing ahead while the disk has less free than this. */
    static final long MIN_FREE_BYTES = 512L << 20;
    private static final long PAUSE_NANOS = 10_000_000_000L;

    private final Allocator allocator;
    private final ReentrantLock lock;
    private final BlockFiles files;
    private final boolean enabled;
    private final int blockSize;
    private final long blocksPerFile;
    /** Signalled when a chunk is zeroed (or given up) and on close. */
    private final Condition chunkDone;
    /** Blocks in [highWater at open, preparedEnd) past the high-water mark are zeroed and stable (guarded by lock). */
    private long preparedEnd = -1;
    /** The range being zeroed now, empty when none (guarded by lock). */
    private long preparingFrom;
    private long preparingTo;
    /** The running thread, null when none (guarded by lock). */
    private Thread thread;
    /** No thread starts before this (guarded by lock). */
    private long pausedUntil = System.nanoTime();

    /** @param enabled false: never starts, {@link #isZeroing} is always false */
    Preparer(Allocator allocator, BlockFiles files, boolean enabled) {
        this.allocator = allocator;
        this.lock = allocator.lock;
        this.files = files;
        this.enabled = enabled;
        this.blockSize = files.blockSize();
        this.blocksPerFile = files.blocksPerFile();
        this.chunkDone = lock.newCondition();
    }

    /** Under the lock: whether {@code block} is being zeroed right now (then it must not be handed out). */
    boolean isZeroing(long block) {
        return block >= preparingFrom && block < preparingTo;
    }

    /** Under the lock: waits until the chunk being zeroed is done, or the store closes. */
    void awaitChunk() {
        chunkDone.awaitUninterruptibly();
    }

    /** Under the lock, after the high-water mark moved to {@code highWater}: starts the thread if blocks run short. */
    void allocated(long highWater) {
        if (enabled && highWater + AHEAD_BYTES / blockSize > preparedEnd) {
            start(highWater);
        }
    }

    /** Under the lock, with the allocator closed: wakes waiting allocations; returns the thread to join, if one runs. */
    Thread stop() {
        chunkDone.signalAll();
        return thread;
    }

    /** Under the lock. */
    private void start(long highWater) {
        if (thread == null && !allocator.closedLocked() && System.nanoTime() - pausedUntil >= 0) {
            if (preparedEnd < 0) {
                preparedEnd = highWater;
            }
            thread = new Thread(this::run, "clonefs-block-prepare");
            thread.setDaemon(true);
            thread.start();
        }
    }

    /** Under the lock: the thread stops, to start again at the earliest in 10 s. */
    private void pause() {
        pausedUntil = System.nanoTime() + PAUSE_NANOS;
        thread = null;
    }

    private void run() {
        ByteBuffer zeros = ByteBuffer.allocateDirect(1 << 20);
        try {
            while (true) {
                long from;
                long to;
                lock.lock();
                try {
                    long highWater = allocator.highWaterLocked();
                    from = Math.max(preparedEnd, highWater);
                    if (allocator.closedLocked() || from >= highWater + AHEAD_BYTES / blockSize) {
                        thread = null;
                        return;
                    }
                    long fileEnd = (from / blocksPerFile + 1) * blocksPerFile;
                    to = Math.min(from + CHUNK_BYTES / blockSize, fileEnd);
                    preparingFrom = from;
                    preparingTo = to;
                } finally {
                    lock.unlock();
                }
                boolean zeroed = false;
                BlockFile f = null;
                try {
                    if (Files.getFileStore(files.dir()).getUsableSpace() < MIN_FREE_BYTES) {
                        // never take a filling disk's last space (the metadata reserve needs it)
                        throw new IOException("less than " + (MIN_FREE_BYTES >> 20) + " MiB free");
                    }
                    f = files.file(from / blocksPerFile, true);
                    long pos = (from % blocksPerFile) * blockSize;
                    long end = pos + (to - from) * blockSize;
                    while (pos < end) {
                        zeros.clear().limit((int) Math.min(zeros.capacity(), end - pos));
                        while (zeros.hasRemaining()) {
                            pos += f.ch.write(zeros, pos);
                        }
                    }
                    f.wrote((int) (from % blocksPerFile), (int) ((to - 1) % blocksPerFile) + 1);
                    f.dirty.set(true);
                    zeroed = true;
                } catch (IOException | RuntimeException e) {
                    // disk full or failing: allocation goes on with unprepared blocks; try later
                } finally {
                    // the zeros are written: the allocator may hand these blocks out from now on
                    lock.lock();
                    try {
                        if (zeroed) {
                            preparedEnd = to;
                        } else {
                            pause();
                        }
                        preparingFrom = 0;
                        preparingTo = 0;
                        chunkDone.signalAll();
                    } finally {
                        lock.unlock();
                    }
                }
                if (!zeroed) {
                    return;
                }
                try {
                    // outside the range: no allocation ever waits for this sync, which may carry
                    // other writes of the file; blocks handed out before it ends are simply not
                    // stable yet (their first sync is a whole-file one)
                    f.force();
                } catch (RuntimeException e) {
                    lock.lock();
                    try {
                        pause();
                    } finally {
                        lock.unlock();
                    }
                    return;
                }
            }
        } catch (Error e) {
            lock.lock();
            try {
                thread = null;
                preparingFrom = 0;
                preparingTo = 0;
                chunkDone.signalAll();
            } finally {
                lock.unlock();
            }
            throw e;
        }
    }
}
