package io.clonefs.metadata;

import io.clonefs.base.BlockId;
import java.util.ArrayDeque;

/** Block numbers without bytes, for tests of the metadata layer alone (it writes no block bytes, and reads none from a space that cannot: {@link #readWhole}). */
final class CountingBlockSpace implements BlockSpace {
    private final int blockSize;
    private final ArrayDeque<Long> free = new ArrayDeque<>();
    private long highWater;

    CountingBlockSpace(int blockSize) {
        this.blockSize = blockSize;
    }

    @Override
    public int blockSize() {
        return blockSize;
    }

    @Override
    public synchronized BlockId allocate() {
        Long id = free.poll();
        return new BlockId(id != null ? id : highWater++);
    }

    @Override
    public synchronized void free(BlockId id) {
        free.add(id.value());
    }

    @Override
    public void sync() {
    }

    @Override
    public synchronized long highWater() {
        return highWater;
    }

    @Override
    public void close() {
    }
}
