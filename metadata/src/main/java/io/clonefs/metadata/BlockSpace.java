package io.clonefs.metadata;

import io.clonefs.base.BlockId;
import java.nio.ByteBuffer;

/**
 * What the metadata layer needs of the block store: block numbers to hand out and take back, and
 * durability of the data a commit is about to point at. It writes no block bytes, and reads them
 * only to put a few in an intent-log record ({@link #readWhole}); the engine's
 * {@code io.clonefs.block.BlockStore} extends this with reads and writes.
 *
 * <p>Thread rules: all methods are thread-safe.
 */
public interface BlockSpace extends AutoCloseable {
    int blockSize();

    /** A block that is not in use: a freed one if any, else a new one past the high-water mark. */
    BlockId allocate();

    /** Returns a block to free space. Only after its release is durable in metadata. */
    void free(BlockId id);

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

    /**
     * Like {@link #writeBackBlocks(long[], int)}, and runs {@code whileWriting} while these writes
     * are on their way to the disk, so that its own write (an intent-log record) travels with them
     * instead of after them. {@code whileWriting} runs exactly once unless this throws first;
     * when this returns, the blocks' writes have completed whatever it did.
     */
    default void writeBackBlocks(long[] ids, int count, Runnable whileWriting) {
        whileWriting.run();
        writeBackBlocks(ids, count);
    }

    /**
     * Reads the whole block {@code id} (as written so far, durable or not) into {@code dst}, for
     * an intent-log record that carries it; false if this space cannot read blocks (then the
     * record does not carry them and they are synced instead).
     */
    default boolean readWhole(long id, ByteBuffer dst) {
        return false;
    }

    /** One past the highest block number ever handed out. */
    long highWater();

    @Override
    void close();
}
