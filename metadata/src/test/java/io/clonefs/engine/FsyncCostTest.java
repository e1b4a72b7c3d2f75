package io.clonefs.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.metrics.Histogram;
import io.clonefs.metrics.Metrics;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** fdatasync after overwriting owned blocks needs a data sync only; a changed extent map needs a commit. */
class FsyncCostTest {
    @TempDir
    Path dir;

    private static Histogram commits() {
        return Metrics.process().histogram("clonefs_commit_seconds", "", null, null);
    }

    @Test
    void fdatasyncCommitsMetadataOnlyWhenTheExtentMapChanged() {
        Engine.init(dir, 8192);
        try (Engine e = Engine.open(dir, EngineOptions.defaults().withCommitIntervalMillis(0))) {
            e.createVolume("v");
            VolumeFs fs = e.volume("v");
            InodeId f = fs.create(InodeId.ROOT, "wal", 0600, 0, 0).ino();
            fs.write(f, 0, ByteBuffer.allocate(4 * 8192));
            long before = commits().count();
            fs.fsync(f, true);
            assertEquals(before + 1, commits().count(), "new blocks: fdatasync must commit the extent map");

            fs.write(f, 8192, ByteBuffer.wrap(new byte[8192]));
            before = commits().count();
            fs.fsync(f, true);
            assertEquals(before, commits().count(), "overwrite of an owned block: fdatasync needs no commit");

            e.snapshot("v", "s");
            fs.write(f, 8192, ByteBuffer.wrap(new byte[8192]));
            before = commits().count();
            fs.fsync(f, true);
            assertTrue(commits().count() > before, "first write after a snapshot remaps the block: commit needed");
        }
    }
}
