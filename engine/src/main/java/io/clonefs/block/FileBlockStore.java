package io.clonefs.block;

import io.clonefs.base.BlockId;
import io.clonefs.base.ClonefsException;
import io.clonefs.metadata.IntentLog;
import io.clonefs.metrics.Metrics;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A {@link BlockStore} over large files {@code blocks/NNNNNN.blk}, each holding
 * {@link #FILE_BYTES} of blocks. A thin composition of the parts that answer one question each:
 * <ul>
 *   <li>{@link BlockFiles}: where a block's bytes are (the files, their channels and descriptors);
 *       reads and writes go straight to it;
 *   <li>{@link Allocator}: which block is handed out next (free list, high-water mark), with the
 *       {@link FreeSpaceFloor} that keeps the disk's last bytes for metadata;
 *   <li>{@link Preparer}: the background thread that zeroes and syncs blocks ahead of the
 *       high-water mark, so that new blocks are stable;
 *   <li>{@link RangeSync}: what a sync writes out — whole files, or for one file's {@code fsync}
 *       just its blocks by range plus a disk cache flush (see there for when that is durable);
 *   <li>{@link BlockFile#punch}: {@link #discard}, which punches a block's space out.
 * </ul>
 *
 * <p>Thread rules: thread-safe. Positional I/O on shared channels needs no lock. The allocation
 * state and the preparer's are guarded by the allocator's lock; the file table and the barrier
 * descriptor by the block files' lock; each file's stable/written sets by the file's monitor, and
 * a whole-file sync and a punch of the same file by the file's sync lock. No two of these are
 * nested, except a file's monitor under its sync lock or under the block files' lock.
 */
public final class FileBlockStore implements BlockStore {
    /** Bytes per block file. */
    public static final long FILE_BYTES = 1L << 30;

    private static final SyncCounters COUNTERS = SyncCounters.register(Metrics.process());

    private final BlockFiles files;
    private final Allocator allocator;
    private final RangeSync rangeSync;

    private FileBlockStore(Path dir, int blockSize, long highWater, long[] free) {
        this.files = new BlockFiles(dir, blockSize, COUNTERS);
        boolean rangedSync = RangeSync.supported(dir);
        this.rangeSync = new RangeSync(files, rangedSync, COUNTERS);
        // before anything reads a block (see BlockFile#stabilizeAllocated)
        rangeSync.stabilizeExisting();
        boolean prepareBlocks = rangedSync && Boolean.parseBoolean(System.getProperty("clonefs.prepareBlocks", "true"));
        this.allocator = new Allocator(files, highWater, free, prepareBlocks);
    }

    /**
     * Opens (creating the directory if needed) a block store. With ranged syncs, each existing
     * block file is fdatasync'd once and its allocated blocks are stable from the start (see
     * {@link RangeSync}).
     *
     * @param highWater  the durable high-water mark recorded in metadata
     * @param freeBlocks the durable free list recorded in metadata
     */
    public static FileBlockStore open(Path dir, int blockSize, long highWater, long[] freeBlocks) {
        if (Integer.bitCount(blockSize) != 1 || blockSize < 512 || blockSize > (1 << 20)) {
            throw new ClonefsException.InvalidArgument("block size must be a power of two between 512 B and 1 MiB: " + blockSize);
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new ClonefsException.IoFailure("cannot create block directory " + dir + ": " + e.getMessage(), e);
        }
        return new FileBlockStore(dir, blockSize, highWater, freeBlocks);
    }

    /**
     * Where recovery writes the block bytes intent-log records carry ({@link IntentLog.DataSink}),
     * before the store is opened: into the block files of {@code dir}, made durable by an
     * {@code fdatasync} of each file written.
     */
    public static IntentLog.DataSink recoveryWriter(Path dir, int blockSize) {
        BlockFiles files = new BlockFiles(dir, blockSize, COUNTERS);
        return new IntentLog.DataSink() {
            @Override
            public void write(long id, byte[] bytes) {
                try {
                    Files.createDirectories(dir);
                } catch (IOException e) {
                    throw new ClonefsException.IoFailure("cannot create block directory " + dir + ": " + e.getMessage(), e);
                }
                files.write(new BlockId(id), 0, ByteBuffer.wrap(bytes));
            }

            @Override
            public void sync() {
                try {
                    for (BlockFile f : files.opened()) {
                        if (f != null) {
                            f.force();
                        }
                    }
                } finally {
                    files.closeAll();
                }
            }
        };
    }

    @Override
    public int blockSize() {
        return files.blockSize();
    }

    /**
     * From now on, {@link #allocate} refuses a new block (none is free) with
     * {@link ClonefsException.NoSpace} while the pool's disk has less than {@code bytes} free
     * (0 turns the floor off). See {@link FreeSpaceFloor}.
     */
    public void setFreeSpaceFloor(long bytes) {
        allocator.setFreeSpaceFloor(bytes);
    }

    @Override
    public BlockId allocate() {
        return allocator.allocate();
    }

    @Override
    public void free(BlockId id) {
        allocator.free(id);
    }

    @Override
    public long highWater() {
        return allocator.highWater();
    }

    @Override
    public void read(BlockId id, int offsetInBlock, ByteBuffer dst) {
        files.read(id, offsetInBlock, dst);
    }

    /** One positional read however many blocks {@code dst} spans (up to {@link #maxRun}). */
    @Override
    public void readRun(BlockId first, int offsetInBlock, ByteBuffer dst) {
        files.readRun(first, offsetInBlock, dst);
    }

    @Override
    public int maxRun(BlockId first) {
        return files.maxRun(first);
    }

    @Override
    public void write(BlockId id, int offsetInBlock, ByteBuffer src) {
        files.write(id, offsetInBlock, src);
    }

    @Override
    public void sync() {
        rangeSync.syncAll();
    }

    /** Whether the block's allocation is known durable, so that its sync may go by range. */
    boolean isStable(BlockId id) {
        return rangeSync.isStable(id);
    }

    /** Whether {@link #syncBlocks} may sync by range (see {@link RangeSync}). */
    public boolean rangedSync() {
        return rangeSync.enabled();
    }

    @Override
    public void syncBlocks(long[] ids, int count) {
        rangeSync.syncBlocks(ids, count, true, null);
    }

    /** Without the cache flush: the caller's next fdatasync on this disk does it (see {@link BlockStore#writeBackBlocks}). */
    @Override
    public void writeBackBlocks(long[] ids, int count) {
        rangeSync.syncBlocks(ids, count, false, null);
    }

    /** The ranged syncs' write-backs are started before {@code whileWriting} runs and waited for after it. */
    @Override
    public void writeBackBlocks(long[] ids, int count, Runnable whileWriting) {
        rangeSync.syncBlocks(ids, count, false, whileWriting);
    }

    /** Punches a hole over the block: its disk space goes back to the filesystem, it reads as zeros. */
    @Override
    public void discard(BlockId id) {
        BlockFile f = files.fileOf(id.value(), false);
        if (f == null) {
            return; // never written: nothing on disk
        }
        f.punch(id, files.indexOf(id.value()), files.position(id, 0), files.blockSize());
    }

    @Override
    public Stats stats() {
        long bytes = files.fileBytes();
        long diskFree;
        try {
            diskFree = Files.getFileStore(files.dir()).getUsableSpace();
        } catch (IOException e) {
            diskFree = 0;
        }
        return allocator.stats(bytes, diskFree);
    }

    /** Stops allocation and the preparer (waiting for it), then closes the files. Idempotent. */
    @Override
    public void close() {
        files.markClosed();
        Thread preparer = allocator.close();
        if (preparer != null) {
            try {
                preparer.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        files.closeAll();
    }
}
