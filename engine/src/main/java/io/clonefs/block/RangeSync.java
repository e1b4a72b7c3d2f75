package io.clonefs.block;

import io.clonefs.base.BlockId;
import io.clonefs.base.ClonefsException;
import io.clonefs.base.LibC;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * What a sync of the block store writes out. {@link #syncAll} fdatasyncs every block file written
 * since its last sync, which also flushes every other file's dirty pages that share the block
 * file. {@link #syncBlocks} (one file's {@code fsync}) instead writes back just the given blocks
 * with {@code sync_file_range(WAIT_BEFORE|WRITE|WAIT_AFTER)}, one call per run of adjacent blocks,
 * and then flushes the disk's write cache with an {@code fdatasync} of a small clean file
 * ({@code .sync-barrier}; ext4 and XFS issue a cache flush for it).
 *
 * <p>That is durable only for an overwrite of a block whose place in the block file is allocated
 * and whose allocation is itself durable, because {@code sync_file_range} commits no filesystem
 * metadata. Such blocks are <em>stable</em> (see {@link BlockFile}): a block becomes stable once a
 * whole-file fdatasync has completed after its first write since the store opened, and stops
 * being stable when its space is punched out. A block that is not stable is synced by an
 * fdatasync of its whole file. At open ({@link #stabilizeExisting}) each block file is fdatasync'd
 * once and the blocks in its allocated space (not in a hole) become stable, so that a restarted
 * daemon overwrites existing blocks as cheaply as a fresh one. Ranged syncs are used only on ext4 and
 * XFS, which overwrite allocated blocks in place (never on btrfs, say, which copies on write);
 * {@code -Dclonefs.rangedSync=false} turns them off, and then every sync is {@link #syncAll}.
 *
 * <p>Thread rules: thread-safe and holds no lock of its own; a whole-file sync takes the file's
 * sync lock ({@link BlockFile#force}), the barrier descriptor is opened under the
 * {@link BlockFiles}' lock, and the syscalls run with no lock held.
 */
final class RangeSync {
    private final BlockFiles files;
    private final boolean enabled;
    private final SyncCounters counters;
    private final int blockSize;
    private final long blocksPerFile;

    RangeSync(BlockFiles files, boolean enabled, SyncCounters counters) {
        this.files = files;
        this.enabled = enabled;
        this.counters = counters;
        this.blockSize = files.blockSize();
        this.blocksPerFile = files.blocksPerFile();
    }

    /**
     * Whether ranged syncs may be used for block files in {@code dir}: an ext4 or XFS directory,
     * the C library loads, and {@code -Dclonefs.rangedSync} is not false.
     */
    static boolean supported(Path dir) {
        if (!Boolean.parseBoolean(System.getProperty("clonefs.rangedSync", "true"))) {
            return false;
        }
        try {
            String type = Files.getFileStore(dir).type();
            if (!type.equals("ext4") && !type.equals("xfs")) {
                return false;
            }
            LibC.get();
            return true;
        } catch (IOException | LinkageError | RuntimeException e) {
            return false;
        }
    }

    boolean enabled() {
        return enabled;
    }

    /**
     * At open, before any block is read or written: each existing block file is fdatasync'd and
     * its allocated blocks become stable ({@link BlockFile#stabilizeAllocated}). Nothing when
     * ranged syncs are off. Returns how many blocks became stable.
     */
    long stabilizeExisting() {
        if (!enabled) {
            return 0;
        }
        long n = 0;
        for (BlockFile f : files.openExisting()) {
            n += f.stabilizeAllocated(blockSize, blocksPerFile);
        }
        return n;
    }

    /** fdatasync of every block file written since its last sync. */
    void syncAll() {
        for (BlockFile f : files.opened()) {
            if (f != null && f.dirty.get()) {
                f.force();
            }
        }
    }

    /** Whether the block's allocation is known durable, so that its sync may go by range. */
    boolean isStable(BlockId id) {
        BlockFile f = files.fileOf(id.value(), false);
        return f != null && f.isStable(files.indexOf(id.value()));
    }

    /**
     * Makes the writes to the given blocks durable: by range for stable blocks, by a whole-file
     * fdatasync for the others' files. {@code flushCache} false leaves the disk cache flush after
     * ranged syncs to the caller's next fdatasync (see {@link BlockStore#writeBackBlocks}).
     *
     * <p>The ranged syncs go in two passes: first every run's write-back is started
     * ({@code SYNC_FILE_RANGE_WRITE}), so that the disk has all of them at once rather than one
     * after the other; then {@code whileWriting} runs (if not null: the caller's own write, such
     * as an intent-log record, joins them on the disk); then each run is waited for
     * ({@code WAIT_BEFORE|WRITE|WAIT_AFTER}, which also writes back a page dirtied since the first
     * pass). When this returns, every run's write has completed, as with one call per run.
     */
    void syncBlocks(long[] ids, int count, boolean flushCache, Runnable whileWriting) {
        if (!enabled) {
            syncAll();
            if (whileWriting != null) {
                whileWriting.run();
            }
            return;
        }
        long[] sorted = Arrays.copyOf(ids, count);
        Arrays.sort(sorted);
        BlockFile[] fs = files.opened();
        boolean[] whole = new boolean[fs.length];
        // the runs of consecutive stable blocks in one file: (file, first byte, length)
        int[] runFile = new int[count];
        long[] runFrom = new long[count];
        long[] runLen = new long[count];
        int runs = 0;
        int i = 0;
        while (i < count) {
            long fileNo = sorted[i] / blocksPerFile;
            BlockFile f = fileNo < fs.length ? fs[(int) fileNo] : null;
            if (f == null) {
                i++; // never written: nothing to sync
                continue;
            }
            if (!f.isStable((int) (sorted[i] % blocksPerFile))) {
                whole[(int) fileNo] = true;
                i++;
                continue;
            }
            int j = i + 1;
            while (j < count && sorted[j] / blocksPerFile == fileNo && sorted[j] <= sorted[j - 1] + 1
                    && f.isStable((int) (sorted[j] % blocksPerFile))) {
                j++;
            }
            runFile[runs] = (int) fileNo;
            runFrom[runs] = (sorted[i] % blocksPerFile) * blockSize;
            runLen[runs] = (sorted[j - 1] - sorted[i] + 1) * blockSize;
            runs++;
            i = j;
        }
        LibC c = runs > 0 ? LibC.get() : null;
        for (int r = 0; r < runs; r++) {
            if (c.sync_file_range(fs[runFile[r]].fd(), runFrom[r], runLen[r], LibC.SYNC_FILE_RANGE_WRITE) != 0) {
                // the error is reported again by the whole-file sync, which also retries the write-back
                whole[runFile[r]] = true;
            }
        }
        if (whileWriting != null) {
            whileWriting.run();
        }
        boolean ranged = false;
        for (int r = 0; r < runs; r++) {
            if (whole[runFile[r]]) {
                continue; // its file is fdatasync'd below
            }
            if (c.sync_file_range(fs[runFile[r]].fd(), runFrom[r], runLen[r], LibC.SYNC_FILE_RANGE_WAIT_BEFORE
                    | LibC.SYNC_FILE_RANGE_WRITE | LibC.SYNC_FILE_RANGE_WAIT_AFTER) != 0) {
                whole[runFile[r]] = true;
            } else {
                ranged = true;
                counters.range().increment();
            }
        }
        boolean forced = false;
        for (int k = 0; k < whole.length; k++) {
            if (whole[k]) {
                fs[k].force();
                forced = true;
            }
        }
        if (ranged && !forced && flushCache) {
            flushDiskCache();
        }
    }

    /** fdatasync of a clean file: the filesystem flushes the disk's volatile write cache. */
    private void flushDiskCache() {
        int fd = files.barrierFd();
        counters.cacheFlush().increment();
        if (LibC.get().fdatasync(fd) != 0) {
            throw new ClonefsException.IoFailure("fdatasync of " + files.barrierPath() + " failed", null);
        }
    }
}
