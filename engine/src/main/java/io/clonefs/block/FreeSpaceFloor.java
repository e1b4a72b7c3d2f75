package io.clonefs.block;

import io.clonefs.base.ClonefsException;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Why a new block is refused with ENOSPC while the disk still has space: new blocks (past the
 * high-water mark) never take the disk's last {@code floorBytes}. They are the metadata's, so that
 * on a full disk a destroy (or any commit) still finds room after the reserve file is released,
 * even while the kernel keeps writing back cached data. Blocks from the free list are not checked:
 * they already have their place in a block file. The disk's free space is read at most every
 * 100 ms, and sooner when the blocks handed out since the last reading may have reached the floor.
 *
 * <p>Thread rules: not thread-safe; every method is called under the {@link Allocator}'s lock.
 */
final class FreeSpaceFloor {
    private static final long CHECK_NANOS = 100_000_000L;

    private final Path dir;
    private final int blockSize;
    /** Bytes of the disk that new blocks never take (0: no floor). */
    private long floorBytes;
    private FileStore fileStore;
    private long usableAtCheck;
    private long allocatedSinceCheck;
    private long checkedNanos;

    FreeSpaceFloor(Path dir, int blockSize) {
        this.dir = dir;
        this.blockSize = blockSize;
    }

    /** From now on new blocks leave {@code bytes} of the disk free (0 turns the floor off). */
    void set(long bytes) {
        try {
            if (bytes > 0 && fileStore == null) {
                fileStore = Files.getFileStore(dir);
            }
            floorBytes = Math.max(0, bytes);
            checkedNanos = System.nanoTime() - CHECK_NANOS;
        } catch (IOException e) {
            throw new ClonefsException.IoFailure("cannot read the free space of " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Counts one new block, or refuses it with {@link ClonefsException.NoSpace} if it might take the floor's room. */
    void takeNewBlock() {
        if (floorBytes == 0) {
            return;
        }
        long now = System.nanoTime();
        if (now - checkedNanos >= CHECK_NANOS
                || usableAtCheck - (allocatedSinceCheck + 1) * blockSize < floorBytes) {
            try {
                usableAtCheck = fileStore.getUsableSpace();
            } catch (IOException e) {
                throw ClonefsException.ioOrNoSpace("free space check of " + dir, e);
            }
            allocatedSinceCheck = 0;
            checkedNanos = now;
        }
        if (usableAtCheck - (allocatedSinceCheck + 1) * blockSize < floorBytes) {
            throw new ClonefsException.NoSpace("no space left on the pool's disk: " + (usableAtCheck >> 10)
                    + " KiB free, and the last " + (floorBytes >> 10) + " KiB are kept for metadata", null);
        }
        allocatedSinceCheck++;
    }
}
