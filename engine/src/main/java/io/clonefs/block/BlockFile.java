package io.clonefs.block;

import io.clonefs.base.BlockId;
import io.clonefs.base.ClonefsException;
import io.clonefs.base.LibC;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One block file: its channel, its raw descriptor (for {@code sync_file_range} and
 * {@code fallocate}), and which of its blocks are <em>stable</em> — their allocation in the file is
 * durable, so that an overwrite of them may be synced by range (see {@link RangeSync}).
 *
 * <p>A block becomes stable when a whole-file {@link #force} completes after it was
 * {@link #wrote written}, or at open when it lies in the file's allocated space
 * ({@link #stabilizeAllocated}); it stops being stable when its space is {@link #punch punched} out.
 *
 * <p>Thread rules: positional I/O on {@link #ch} needs no lock. {@code stable}, {@code written} and
 * the descriptor are guarded by this object's monitor. {@code syncLock} is held across a
 * whole-file sync and across a punch, so that a punched block is never marked stable by a sync
 * that started before the punch. Lock order: {@code syncLock} → monitor.
 */
final class BlockFile {
    /** The file's number: it holds blocks {@code [no * blocksPerFile, (no + 1) * blocksPerFile)}. */
    final long no;
    final Path path;
    /** Shared by every reader and writer: positional I/O only. */
    final FileChannel ch;
    /** Set after a write, cleared when a whole-file sync starts. */
    final AtomicBoolean dirty = new AtomicBoolean();
    /** Held across a whole-file sync and across a punch, so a punched block is never marked stable. */
    private final ReentrantLock syncLock = new ReentrantLock();
    /** Blocks whose allocation in this file is durable (guarded by this). */
    private final BitSet stable = new BitSet();
    /** Blocks written since the last whole-file sync started (guarded by this). */
    private BitSet written = new BitSet();
    /** A raw descriptor for sync_file_range, opened on first use (guarded by this). */
    private int fd = -1;
    private final LongAdder wholeSyncs;

    BlockFile(long no, Path path, FileChannel ch, LongAdder wholeSyncs) {
        this.no = no;
        this.path = path;
        this.ch = ch;
        this.wholeSyncs = wholeSyncs;
    }

    /** Blocks {@code [fromIndex, toIndex)} of this file were written (call after the write returned). */
    synchronized void wrote(int fromIndex, int toIndex) {
        written.set(fromIndex, toIndex);
    }

    synchronized boolean isStable(int index) {
        return stable.get(index);
    }

    /** The raw descriptor, opened on first use and kept until {@link #closeFd}. */
    synchronized int fd() {
        if (fd < 0) {
            fd = LibC.get().open(path.toString(), LibC.O_RDWR | LibC.O_CLOEXEC);
            if (fd < 0) {
                throw new ClonefsException.IoFailure("cannot open block file " + no + " for a ranged sync", null);
            }
        }
        return fd;
    }

    /** fdatasync of the whole file; afterwards every block written before it is stable. */
    void force() {
        syncLock.lock();
        try {
            BitSet taken;
            synchronized (this) {
                taken = written;
                written = new BitSet();
            }
            dirty.set(false);
            wholeSyncs.increment();
            try {
                ch.force(false);
            } catch (IOException e) {
                dirty.set(true);
                synchronized (this) {
                    written.or(taken);
                }
                throw ClonefsException.ioOrNoSpace("sync of block file " + no, e);
            }
            synchronized (this) {
                stable.or(taken);
            }
        } finally {
            syncLock.unlock();
        }
    }

    /**
     * At open, before any block of this file is read or written: makes every block that lies
     * wholly in the file's data extents stable. An fdatasync of the file first makes durable what
     * an earlier run (a daemon killed, say) wrote without syncing, allocation included; then
     * {@code lseek(SEEK_DATA/SEEK_HOLE)} finds the allocated ranges. Holes (punched blocks, never
     * written ones, the space past the end) stay not stable, and so do unwritten (preallocated)
     * extents, which ext4 and XFS report as holes while none of their pages is cached — hence
     * before any read. A block only partly allocated (a block larger than the filesystem's) is not
     * stable. If the file cannot be walked, nothing of it is marked.
     *
     * @return how many blocks were marked stable
     */
    int stabilizeAllocated(int blockSize, long blocksPerFile) {
        syncLock.lock();
        try {
            force();
            LibC c = LibC.get();
            int d = fd();
            BitSet found = new BitSet();
            long pos = 0;
            long fileEnd = blocksPerFile * blockSize;
            while (pos < fileEnd) {
                long data = c.lseek(d, pos, LibC.SEEK_DATA);
                if (data < 0) {
                    if (LibC.lastErrno() == LibC.ENXIO) {
                        break; // no data after pos
                    }
                    return 0; // cannot tell: leave every block to a whole-file sync
                }
                long hole = c.lseek(d, data, LibC.SEEK_HOLE);
                if (hole < 0) {
                    return 0;
                }
                long from = (data + blockSize - 1) / blockSize;
                long to = Math.min(hole, fileEnd) / blockSize;
                if (to > from) {
                    found.set((int) from, (int) to);
                }
                pos = hole;
            }
            synchronized (this) {
                stable.or(found);
            }
            return found.cardinality();
        } finally {
            syncLock.unlock();
        }
    }

    /**
     * Punches a hole over block {@code id}, at {@code index} in this file ({@code length} bytes at
     * {@code position}): its disk space goes back to the filesystem, it reads as zeros, and it is no
     * longer stable.
     */
    void punch(BlockId id, int index, long position, int length) {
        syncLock.lock();
        try {
            synchronized (this) {
                // a hole: the next write allocates again, so only a whole-file sync makes it durable
                stable.clear(index);
                written.clear(index);
            }
            if (LibC.get().fallocate(fd(), LibC.FALLOC_FL_PUNCH_HOLE | LibC.FALLOC_FL_KEEP_SIZE, position, length) != 0) {
                throw new ClonefsException.IoFailure("fallocate(PUNCH_HOLE) of " + id + " in " + path + " failed", null);
            }
        } finally {
            syncLock.unlock();
        }
    }

    synchronized void closeFd() {
        if (fd >= 0) {
            LibC.get().close(fd);
            fd = -1;
        }
    }
}
