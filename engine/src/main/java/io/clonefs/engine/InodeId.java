package io.clonefs.engine;

/** An inode number inside one volume or snapshot. The root directory is {@link #ROOT}. */
public record InodeId(long value) implements Comparable<InodeId> {
    public static final InodeId ROOT = new InodeId(1);

    public InodeId {
        if (value <= 0) {
            throw new IllegalArgumentException("inode numbers start at 1: " + value);
        }
    }

    public static InodeId of(long value) {
        return value == 1 ? ROOT : new InodeId(value);
    }

    @Override
    public int compareTo(InodeId o) {
        return Long.compare(value, o.value);
    }

    @Override
    public String toString() {
        return "ino:" + value;
    }
}
