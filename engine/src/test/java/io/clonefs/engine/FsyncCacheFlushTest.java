package io.clonefs.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.clonefs.metrics.Metrics;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A file's fsync that commits metadata leaves the disk cache flush to LMDB's fdatasync: the block
 * store writes the file's overwritten blocks back by range without a flush of its own (the block
 * store's side of it is in {@code FileBlockStoreSyncTest}).
 */
class FsyncCacheFlushTest {
    @TempDir
    Path dir;

    @BeforeEach
    void noPreparer() {
        // the preparer syncs whole files in the background: counted syncs would race with it
        System.setProperty("clonefs.prepareBlocks", "false");
    }

    @AfterEach
    void clear() {
        System.clearProperty("clonefs.prepareBlocks");
    }

    private static long count(String kind) {
        return Metrics.process().counter("clonefs_block_syncs_total", "", "kind", kind).sum();
    }

    private static long commits() {
        return Metrics.process().counter("clonefs_fsync_total", "", "needs", "commit").sum();
    }

    private static ByteBuffer filled(int n, int value) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) value);
        return ByteBuffer.wrap(b);
    }

    @Test
    void fsyncThatCommitsHasNoCacheFlushOfItsOwn() throws Exception {
        String type = Files.getFileStore(dir).type();
        assumeTrue(type.equals("ext4") || type.equals("xfs"), "ranged sync needs ext4 or XFS, the temp dir is on " + type);
        Engine.init(dir.resolve("pool"), 8192);
        // no group commit in between: the fsync itself must commit
        try (Engine e = Engine.open(dir.resolve("pool"), EngineOptions.defaults().withCommitIntervalMillis(0))) {
            e.createVolume("v");
            VolumeFs v = e.volume("v");
            InodeId f = v.create(v.resolve(""), "f", 0644, 0, 0).ino();
            v.write(f, 0, filled(4096, 1));
            e.sync(); // the block's allocation is durable: it syncs by range from now on
            long range = count("range");
            long flush = count("cache_flush");
            long commits = commits();
            v.write(f, 4000, filled(1000, 2)); // an overwrite that grows the file: the size needs a commit
            v.fsync(f, true);
            assertEquals(commits + 1, commits());
            assertEquals(range + 1, count("range"), "the overwritten block is written back by range");
            assertEquals(flush, count("cache_flush"), "no flush of its own: LMDB's commit flushes the disk cache");
            v.write(f, 100, filled(10, 3)); // an overwrite alone: a data sync, which flushes
            v.fsync(f, true);
            assertEquals(flush + 1, count("cache_flush"));
        }
    }
}
