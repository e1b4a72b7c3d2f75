package io.clonefs.block;

import io.clonefs.base.BlockId;
import io.clonefs.metadata.BlockSpace;
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
public interface BlockStore extends BlockSpace {
    /** Reads {@code dst.remaining()} bytes starting at {@code offsetInBlock}. Never-written bytes read as zeros. */
    void read(BlockId id, int offsetInBlock, ByteBuffer dst);

    /**
     * As {@link #read}, but {@code dst} may run on into the following blocks, up to
     * {@link #maxRun} blocks in all: one read of consecutive blocks (a file's extent), which a
     * store over files serves with one positional read. By default one {@link #read} per block.
     */
    default void readRun(BlockId first, int offsetInBlock, ByteBuffer dst) {
        int bs = blockSize();
        long id = first.value();
        int inBlock = offsetInBlock;
        while (dst.hasRemaining()) {
            int n = Math.min(bs - inBlock, dst.remaining());
            read(new BlockId(id), inBlock, dst.slice(dst.position(), n));
            dst.position(dst.position() + n);
            id++;
            inBlock = 0;
        }
    }

    /**
     * Writes all of {@code src} at {@code offsetInBlock}; the bytes around it are left as they were.
     * {@code src} may run on into the following blocks, up to {@link #maxRun} blocks in all.
     */
    void write(BlockId id, int offsetInBlock, ByteBuffer src);

    @Override
    default boolean readWhole(long id, ByteBuffer dst) {
        read(new BlockId(id), 0, dst);
        return true;
    }

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

    Stats stats();

    /**
     * @param highWater  one past the highest block handed out
     * @param freeBlocks blocks below the high-water mark available for reuse
     * @param fileBytes  bytes the block files occupy on disk
     * @param diskFree   bytes still usable on the filesystem holding the block files
     */
    record Stats(long highWater, long freeBlocks, long fileBytes, long diskFree) {
    }
}
