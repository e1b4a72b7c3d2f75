package io.clonefs.block;

import java.nio.ByteBuffer;

/**
 * Fixed-size data blocks and their free space. Knows nothing of files, trees or reference counts:
 * the metadata layer decides when a block is referenced and when it may be freed.
 *
 * <p>Free-space tracking is in memory; its durable form is kept by the caller in the same metadata
 * transaction that references or releases the blocks (see {@code Schema}), so that allocation
 * state and block references can never disagree after a crash. Hence the contract of
 * {@link #free}: call it only once the transaction that dropped the block's last reference is
 * durable (a block freed earlier could be overwritten while an older committed tree still points
 * at it).
 *
 * <p>Thread rules: all methods are thread-safe. Reads and writes of distinct blocks run in
 * parallel; callers order accesses to the same block.
 */
public interface BlockStore extends AutoCloseable {
    int blockSize();

    /** A block that is not in use: a freed one if any, else a new one past the high-water mark. */
    BlockId allocate();

    /** Returns a block to free space. Only after its release is durable in metadata. */
    void free(BlockId id);

    /** Reads {@code dst.remaining()} bytes starting at {@code offsetInBlock}. Never-written bytes read as zeros. */
    void read(BlockId id, int offsetInBlock, ByteBuffer dst);

    /**
     * Writes all of {@code src} at {@code offsetInBlock}; the bytes around it are left as they were.
     * {@code src} may run on into the following blocks, up to {@link #maxRun} blocks in all.
     */
    void write(BlockId id, int offsetInBlock, ByteBuffer src);

    /** How many consecutive blocks, starting at {@code first}, one {@link #write} may cover. */
    int maxRun(BlockId first);

    /**
     * Whether the block may be overwritten in place when one tree alone owns it. False for blocks
     * whose bytes live in an object store (they are immutable: a write goes to a new block).
     */
    default boolean writableInPlace(BlockId id) {
        return true;
    }

    /**
     * The block's bytes are no longer needed here (a cached copy being evicted): the store may give
     * their disk space back. Reads afterwards return zeros or the old bytes.
     */
    default void discard(BlockId id) {
    }

    /** Makes every write that returned before this call durable. */
    void sync();

    /**
     * Makes durable every write to the given blocks that returned before this call (writes to
     * other blocks may become durable too). For {@code fsync} of one file: a store that can sync
     * ranges need not flush the other files' data. {@code ids} may hold repeats and any order.
     */
    default void syncBlocks(long[] ids, int count) {
        sync();
    }

    /**
     * Like {@link #syncBlocks}, for a caller whose next step is an {@code fdatasync} on the same
     * disk before anything may point at these blocks (a metadata commit): the writes must have
     * reached the disk, but its volatile write cache may be left to that {@code fdatasync} to
     * flush. A store that syncs by range then skips its own cache flush.
     */
    default void writeBackBlocks(long[] ids, int count) {
        syncBlocks(ids, count);
    }

    /** One past the highest block number ever handed out. */
    long highWater();

    Stats stats();

    @Override
    void close();

    /**
     * @param highWater  one past the highest block handed out
     * @param freeBlocks blocks below the high-water mark available for reuse
     * @param fileBytes  bytes the block files occupy on disk
     * @param diskFree   bytes still usable on the filesystem holding the block files
     */
    record Stats(long highWater, long freeBlocks, long fileBytes, long diskFree) {
    }
}
