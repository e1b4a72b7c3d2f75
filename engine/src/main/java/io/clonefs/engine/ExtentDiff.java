package io.clonefs.engine;

/**
 * One block index of a file at which two snapshots' trees differ: the extent is missing on one
 * side or names another block. Found by {@link Engine#diffExtents}; a block index not reported
 * references the same block in both snapshots (so its bytes are equal without reading them).
 *
 * @param ino    the inode number (the same number may be another file in each snapshot: callers
 *               match files by path and compare inode numbers)
 * @param index  the block index within the file (its bytes {@code index * blockSize} on)
 * @param blockA the block in the first snapshot, or -1 when it has no extent there (a hole or past the end)
 * @param blockB the block in the second snapshot, or -1
 */
public record ExtentDiff(InodeId ino, long index, long blockA, long blockB) {
    /** Receives the differing extents in key order (by inode, then block index). */
    @FunctionalInterface
    public interface Visitor {
        void visit(ExtentDiff d);
    }
}
