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
 * A file's fsync that commits metadata leaves the disk cache flush to the intent log's
 * fdatasync: the few blocks it makes durable travel in the log record, with no write-back and no
 * flush of their own (the block store's side of ranged syncs is in {@code FileBlockStoreSyncTest}).
 * Until the next LMDB commit, a later in-place fsync of such a block goes through the log too;
 * after it, an in-place fsync is a ranged write-back and a flush.
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
            assertEquals(range, count("range"), "the overwritten block travels in the log record");
            assertEquals(flush, count("cache_flush"), "no flush of its own: the log's fdatasync flushes the disk cache");
            v.write(f, 100, filled(10, 3)); // an overwrite alone: the log holds this block, so the log again
            v.fsync(f, true);
            assertEquals(range, count("range"));
            assertEquals(flush, count("cache_flush"));
            e.sync(); // an LMDB commit: the log's records are stale, the block is in its file
            v.write(f, 200, filled(10, 4)); // an overwrite alone: a data sync by range, which flushes
            v.fsync(f, true);
            assertEquals(range + 1, count("range"));
            assertEquals(flush + 1, count("cache_flush"));
            ByteBuffer back = ByteBuffer.allocate(5000);
            v.read(f, 0, back);
            byte[] want = filled(5000, 1).array();
            Arrays.fill(want, 4000, 5000, (byte) 2);
            Arrays.fill(want, 100, 110, (byte) 3);
            Arrays.fill(want, 200, 210, (byte) 4);
            assertEquals(ByteBuffer.wrap(want), back.flip());
        }
    }
}
