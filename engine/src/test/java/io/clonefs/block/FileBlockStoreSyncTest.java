package io.clonefs.block;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.clonefs.base.BlockId;
import io.clonefs.metrics.Metrics;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which sync {@link FileBlockStore#syncBlocks} chooses: a block is synced by range only once a
 * whole-file sync has made its allocation durable, and no longer after its space is punched out.
 */
class FileBlockStoreSyncTest {
    @TempDir
    Path dir;

    @BeforeEach
    void noPreparer(TestInfo info) {
        // the preparer syncs whole files in the background: counted syncs would race with it
        if (!info.getTestMethod().orElseThrow().getName().startsWith("prepared")) {
            System.setProperty("clonefs.prepareBlocks", "false");
        }
    }

    @AfterEach
    void clear() {
        System.clearProperty("clonefs.prepareBlocks");
    }

    private static long count(String kind) {
        return Metrics.process().counter("clonefs_block_syncs_total", "", "kind", kind).sum();
    }

    private static ByteBuffer filled(int n, int value) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) value);
        return ByteBuffer.wrap(b);
    }

    /** Ranged syncs are used on ext4 and XFS only: elsewhere these tests have nothing to check. */
    private String assumeRangedSyncFilesystem() throws IOException {
        String type = Files.getFileStore(dir).type();
        assumeTrue(type.equals("ext4") || type.equals("xfs"), "ranged sync needs ext4 or XFS, the temp dir is on " + type);
        return type;
    }

    @Test
    void rangeSyncOnlyForBlocksWhoseAllocationIsDurable() throws Exception {
        String type = assumeRangedSyncFilesystem();
        int bs = 8192;
        try (FileBlockStore s = FileBlockStore.open(dir.resolve("blocks"), bs, 0, new long[0])) {
            assertEquals(true, s.rangedSync(), "ranged sync enabled on " + type);
            BlockId a = s.allocate();
            BlockId b = s.allocate();
            s.write(a, 0, filled(2 * bs, 1));

            long whole = count("whole_file");
            long range = count("range");
            long flush = count("cache_flush");
            s.syncBlocks(new long[] {a.value()}, 1);
            assertEquals(whole + 1, count("whole_file"), "first sync of a new block: its allocation needs an fdatasync");
            assertEquals(range, count("range"));

            s.write(a, 100, filled(10, 2));
            s.write(b, 0, filled(bs, 3));
            s.syncBlocks(new long[] {b.value(), a.value(), a.value()}, 3);
            assertEquals(whole + 1, count("whole_file"), "overwrites of stable blocks need no whole-file sync");
            assertEquals(range + 1, count("range"), "two adjacent blocks: one range");
            assertEquals(flush + 1, count("cache_flush"), "and one disk cache flush");

            s.write(a, 200, filled(10, 5));
            s.writeBackBlocks(new long[] {a.value()}, 1);
            assertEquals(range + 2, count("range"), "written back by range");
            assertEquals(flush + 1, count("cache_flush"), "the caller's own fdatasync flushes the cache");

            s.discard(b);
            s.write(b, 0, filled(bs, 4));
            s.syncBlocks(new long[] {b.value()}, 1);
            assertEquals(whole + 2, count("whole_file"), "a punched block is allocated again: whole-file sync");

            ByteBuffer got = ByteBuffer.allocate(bs);
            s.read(b, 0, got);
            assertArrayEquals(filled(bs, 4).array(), got.array());
            got.clear();
            s.read(a, 0, got);
            assertEquals(2, got.get(100));
            assertEquals(1, got.get(99));
        }
    }

    @Test
    void allocatedBlocksAreStableAfterReopen() throws Exception {
        assumeRangedSyncFilesystem();
        int bs = 8192;
        long a;
        long punched;
        long never;
        try (FileBlockStore s = FileBlockStore.open(dir.resolve("blocks"), bs, 0, new long[0])) {
            a = s.allocate().value();
            s.allocate(); // a + 1
            punched = s.allocate().value();
            never = s.allocate().value();
            long last = s.allocate().value();
            s.write(new BlockId(a), 0, filled(3 * bs, 1));
            s.discard(new BlockId(punched));
            // a block never written below the file's end: a hole
            s.write(new BlockId(last), 0, filled(bs, 1));
            // no sync before close: the reopened store's own fdatasync makes the allocation durable
        }
        try (FileBlockStore s = FileBlockStore.open(dir.resolve("blocks"), bs, never + 2, new long[0])) {
            assertEquals(true, s.isStable(new BlockId(a)), "an allocated block is stable after reopen");
            assertEquals(false, s.isStable(new BlockId(punched)), "a punched block is not");
            assertEquals(false, s.isStable(new BlockId(never)), "nor a never-written one");
            assertEquals(false, s.isStable(new BlockId(never + 2)), "nor one past the file's end");

            s.write(new BlockId(a), 0, filled(bs, 2));
            long whole = count("whole_file");
            long range = count("range");
            s.syncBlocks(new long[] {a}, 1);
            assertEquals(whole, count("whole_file"), "an overwrite after reopen needs no whole-file sync");
            assertEquals(range + 1, count("range"), "it syncs by range");

            s.write(new BlockId(punched), 0, filled(bs, 3));
            s.syncBlocks(new long[] {punched}, 1);
            assertEquals(whole + 1, count("whole_file"), "filling a hole allocates: whole-file sync");

            ByteBuffer got = ByteBuffer.allocate(bs);
            s.read(new BlockId(a), 0, got);
            assertArrayEquals(filled(bs, 2).array(), got.array());
            got.clear();
            s.read(new BlockId(a + 1), 0, got);
            assertArrayEquals(filled(bs, 1).array(), got.array());
        }
    }

    @Test
    void preparedNewBlocksSyncByRange() throws Exception {
        String type = assumeRangedSyncFilesystem();
        int bs = 8192;
        try (FileBlockStore s = FileBlockStore.open(dir.resolve("blocks"), bs, 0, new long[0])) {
            BlockId first = s.allocate();
            assertEquals(false, s.isStable(first), "the first block was handed out before any preparing");
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (!s.isStable(new BlockId(first.value() + 1)) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            BlockId next = s.allocate();
            assertEquals(first.value() + 1, next.value());
            assertEquals(true, s.isStable(next), "blocks past the high-water mark are zeroed and synced ahead");
            ByteBuffer got = ByteBuffer.allocate(bs);
            s.read(next, 0, got);
            assertArrayEquals(new byte[bs], got.array(), "a prepared block reads as zeros");
            s.write(next, 0, filled(bs, 7));
            long range = count("range");
            s.syncBlocks(new long[] {next.value()}, 1);
            assertEquals(range + 1, count("range"), "a new but prepared block syncs by range");
            got.clear();
            s.read(next, 0, got);
            assertArrayEquals(filled(bs, 7).array(), got.array());
            // many allocations in a row never hand out a block while it is being zeroed
            for (int i = 0; i < 3000; i++) {
                BlockId b = s.allocate();
                s.write(b, 0, filled(bs, i & 0x7f));
            }
            for (long id = next.value() + 1; id < next.value() + 3001; id++) {
                got.clear();
                s.read(new BlockId(id), 0, got);
                assertEquals((byte) ((id - next.value() - 1) & 0x7f), got.get(bs - 1), "block " + id);
            }
        }
    }

    @Test
    void turnedOffByProperty() {
        System.setProperty("clonefs.rangedSync", "false");
        try (FileBlockStore s = FileBlockStore.open(dir.resolve("blocks"), 8192, 0, new long[0])) {
            assertEquals(false, s.rangedSync());
        } finally {
            System.clearProperty("clonefs.rangedSync");
        }
    }
}
