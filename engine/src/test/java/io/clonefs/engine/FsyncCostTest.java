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

    /** With the times kept by the caller (the kernel's writeback cache), even a full fsync of an overwrite needs no commit. */
    @Test
    void overwriteKeepingTimesNeedsNoCommitEvenForAFullFsync() {
        Engine.init(dir, 8192);
        try (Engine e = Engine.open(dir, EngineOptions.defaults().withCommitIntervalMillis(0))) {
            e.createVolume("v");
            VolumeFs fs = e.volume("v");
            InodeId f = fs.create(InodeId.ROOT, "data", 0600, 0, 0).ino();
            fs.write(f, 0, ByteBuffer.allocate(4 * 8192));
            fs.fsync(f, false);
            fs.utimens(f, 1_000_000_000L, 2_000_000_000L);
            fs.fsync(f, false);
            InodeAttr set = fs.getattr(f);

            long before = commits().count();
            fs.writeKeepingTimes(f, 8192, ByteBuffer.wrap(new byte[8192]));
            fs.fsync(f, false);
            assertEquals(before, commits().count(), "an overwrite of an owned block changed no metadata");
            assertEquals(set.mtimeNs(), fs.getattr(f).mtimeNs(), "mtime left to the caller");
            assertEquals(set.ctimeNs(), fs.getattr(f).ctimeNs());

            fs.write(f, 8192, ByteBuffer.wrap(new byte[8192]));
            before = commits().count();
            fs.fsync(f, false);
            assertEquals(before + 1, commits().count(), "a plain write sets the times: a full fsync commits them");
            assertTrue(fs.getattr(f).mtimeNs() > set.mtimeNs());

            fs.writeKeepingTimes(f, 4 * 8192, ByteBuffer.wrap(new byte[100]));
            before = commits().count();
            fs.fsync(f, true);
            assertEquals(before + 1, commits().count(), "growing the file still needs a commit");
            assertEquals(4 * 8192 + 100, fs.getattr(f).size());
        }
    }

    @Test
    void sequentialWritesAfterASnapshotCopyAheadSoMostFdatasyncsNeedNoCommit() {
        int bs = 8192;
        int blocks = 256;
        Engine.init(dir, bs);
        try (Engine e = Engine.open(dir, EngineOptions.defaults().withCommitIntervalMillis(0))) {
            e.createVolume("v");
            VolumeFs fs = e.volume("v");
            InodeId f = fs.create(InodeId.ROOT, "wal", 0600, 0, 0).ino();
            byte[] before = new byte[blocks * bs];
            new java.util.Random(1).nextBytes(before);
            fs.write(f, 0, ByteBuffer.wrap(before));
            fs.fsync(f, true);
            e.snapshot("v", "s");

            // a WAL-like writer: each page written in two halves, fdatasync after each write
            byte[] after = before.clone();
            java.util.Random rnd = new java.util.Random(2);
            long before0 = commits().count();
            for (int b = 0; b < blocks; b++) {
                for (int half = 0; half < 2; half++) {
                    byte[] part = new byte[bs / 2];
                    rnd.nextBytes(part);
                    int off = b * bs + half * bs / 2;
                    System.arraycopy(part, 0, after, off, part.length);
                    fs.write(f, off, ByteBuffer.wrap(part));
                    fs.fsync(f, true);
                }
            }
            long commitsMade = commits().count() - before0;
            assertTrue(commitsMade <= blocks / 32 + 4, "sequential copy-on-write copies ahead: " + commitsMade
                    + " commits for " + blocks + " blocks");

            ByteBuffer got = ByteBuffer.allocate(blocks * bs);
            fs.read(f, 0, got);
            org.junit.jupiter.api.Assertions.assertArrayEquals(after, got.array(), "the file has what was written");
            VolumeFs snap = e.snapshotFs("v@s");
            InodeId sf = snap.lookup(InodeId.ROOT, "wal");
            got.clear();
            snap.read(sf, 0, got);
            org.junit.jupiter.api.Assertions.assertArrayEquals(before, got.array(), "the snapshot is untouched");

            // a random writer gets no copy-ahead: one commit per copied block
            e.snapshot("v", "s2");
            before0 = commits().count();
            int[] order = {17, 3, 90, 41, 200, 150};
            for (int b : order) {
                fs.write(f, (long) b * bs, ByteBuffer.wrap(new byte[bs]));
                fs.fsync(f, true);
            }
            assertEquals(order.length, commits().count() - before0, "no copy-ahead for random writes");
        }
    }
}
