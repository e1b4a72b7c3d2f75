package io.clonefs.base;

/** The number of a fixed-size data block in a pool's block store (0-based). */
public record BlockId(long value) implements Comparable<BlockId> {
    public BlockId {
        if (value < 0) {
            throw new IllegalArgumentException("block numbers are not negative: " + value);
        }
    }

    @Override
    public int compareTo(BlockId o) {
        return Long.compare(value, o.value);
    }

    @Override
    public String toString() {
        return "blk:" + value;
    }
}
