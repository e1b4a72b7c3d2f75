package io.clonefs.engine;

/**
 * What one write into a file's blocks will do, decided under the {@link io.clonefs.metadata.MetaStore}
 * monitor before any block is written ({@link CopyOnWrite#chooseBlocks}, {@link CopyOnWrite#planCopyAhead})
 * and then applied by {@link FileData} in two steps: the block writes with the monitor released, then
 * the extents (and the inode) under the monitor, so that data is written before the metadata that
 * points at it.
 *
 * <p>The write covers {@code blockCount()} consecutive blocks from {@code firstIndex}. Per block
 * {@code i}: {@code target[i]} is the block to write into, {@code fresh[i]} whether that is a new
 * block (allocated, not yet in the tree: the copy-on-write case, or a hole filled) rather than the
 * current one written in place, and {@code old[i]} the current block or -1 for a hole. These stay
 * parallel arrays because the write loop walks them per block and a record per block would be an
 * allocation per block.
 *
 * <p>Thread rules: a plan belongs to one writer, which holds the snapshot barrier and the inode's
 * write lock from planning to recording; the arrays are not changed after planning.
 *
 * @param ino the file
 * @param offset byte offset of the write in the file
 * @param length bytes written, more than 0
 * @param firstIndex index in the file of the first block written
 * @param ahead shared blocks after the write copied to new blocks in the same change (none for
 *     a zero fill)
 */
record WritePlan(long ino, long offset, int length, long firstIndex, long[] target, long[] old, boolean[] fresh,
        CopyAhead ahead) {

    /**
     * Copy-ahead of a sequential copy-on-write (see {@link CopyOnWrite#planCopyAhead}): the shared
     * blocks {@code from[j]} that follow the write, at file block {@code firstIndex + blockCount() + j},
     * and the new blocks {@code to[j]} (allocated, not yet written) that replace them.
     */
    record CopyAhead(long[] from, long[] to) {
        static final CopyAhead NONE = new CopyAhead(new long[0], new long[0]);

        int count() {
            return to.length;
        }
    }

    int blockCount() {
        return target.length;
    }

    /** One past the last byte written. */
    long end() {
        return offset + length;
    }

    /** Whether any block goes to a new place, so that the extent map changes. */
    boolean remaps() {
        for (boolean f : fresh) {
            if (f) {
                return true;
            }
        }
        return false;
    }
}
