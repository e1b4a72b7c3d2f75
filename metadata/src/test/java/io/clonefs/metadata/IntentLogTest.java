package io.clonefs.metadata;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.base.ClonefsException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The metadata intent log: a file's fsync commits by one append; a crash before the next LMDB
 * commit loses nothing ({@link IntentLog#recover} applies the records once); torn and older
 * records are ignored; a record that does not fit goes to LMDB.
 */
class IntentLogTest {
    @TempDir
    Path dir;

    private static final long[] NO_BLOCKS = new long[0];

    /** A tree under test with its model; {@link #crash} drops the store without a commit. */
    private final class Store {
        final Lmdb lmdb;
        final IntentLog log;
        final MetaStore st;
        final CowTree tree;
        final TestRoot root;

        Store(Path meta, long capacity, long rootId) {
            this(meta, capacity, rootId, new CountingBlockSpace(8192));
        }

        Store(Path meta, long capacity, long rootId, BlockSpace blocks) {
            lmdb = Lmdb.open(meta.toFile());
            long gen = IntentLog.recover(lmdb, meta.resolve(IntentLog.FILE_NAME));
            st = MetaStore.open(lmdb, blocks, 100); // a small node cache: evictions happen
            log = IntentLog.open(meta.resolve(IntentLog.FILE_NAME), gen, capacity);
            st.useIntentLog(log);
            tree = new CowTree(st);
            synchronized (st) {
                root = new TestRoot(rootId < 0 ? st.newTree() : rootId);
            }
        }

        /** What a kill -9 leaves: LMDB and the log file as written, nothing of memory. */
        void crash() {
            log.close();
            lmdb.close();
        }

        /** One file's fsync: commits through the current epoch with no in-place blocks to sync. */
        void fsync() {
            long epoch;
            synchronized (st) {
                epoch = st.epoch();
            }
            st.commitThrough(epoch, NO_BLOCKS);
        }
    }


    private static void change(Store s, TreeMap<Integer, byte[]> model, Random rnd, int steps) {
        synchronized (s.st) {
            for (int i = 0; i < steps; i++) {
                int k = rnd.nextInt(3000);
                if (rnd.nextInt(10) < 7) {
                    byte[] v = new byte[1 + rnd.nextInt(40)];
                    rnd.nextBytes(v);
                    s.tree.put(s.root, Keys.inode(k), v);
                    model.put(k, v);
                } else {
                    s.tree.delete(s.root, Keys.inode(k));
                    model.remove(k);
                }
            }
        }
    }

    private static void check(Store s, TreeMap<Integer, byte[]> model) {
        synchronized (s.st) {
            List<byte[]> seen = new ArrayList<>();
            s.tree.scan(s.root.root, new byte[0], null, (k, v) -> {
                seen.add(k);
                return true;
            });
            assertEquals(model.size(), seen.size(), "number of keys");
            int i = 0;
            for (Map.Entry<Integer, byte[]> e : model.entrySet()) {
                assertArrayEquals(Keys.inode(e.getKey()), seen.get(i++));
                assertArrayEquals(e.getValue(), s.tree.get(s.root.root, Keys.inode(e.getKey())));
            }
        }
    }

    @Test
    void fsyncCommitsGoToTheLogAndSurviveAKill() throws IOException {
        Path meta = dir.resolve("meta");
        try (Lmdb lmdb = Lmdb.open(meta.toFile())) {
            MetaStore.format(lmdb, 8192);
        }
        Random rnd = new Random(7);
        TreeMap<Integer, byte[]> model = new TreeMap<>();
        Store s = new Store(meta, IntentLog.DEFAULT_CAPACITY, -1);
        change(s, model, rnd, 3000);
        s.st.commit(); // the base state, in LMDB
        TreeMap<Integer, byte[]> base = new TreeMap<>(model);
        for (int round = 0; round < 20; round++) {
            change(s, model, rnd, 150);
            s.fsync();
        }
        check(s, model); // read through logged nodes, with a node cache far smaller than the tree
        assertEquals(0, IntentLog.generation(s.lmdb), "the fsyncs did not commit to LMDB");
        long root = s.root.root;
        s.crash();

        // LMDB alone still holds the base state: the fsyncs are only in the log
        Path copy = dir.resolve("lmdb-only");
        Files.createDirectories(copy);
        try (Stream<Path> files = Files.list(meta)) {
            for (Path f : files.toList()) {
                if (!f.getFileName().toString().equals(IntentLog.FILE_NAME)) {
                    Files.copy(f, copy.resolve(f.getFileName()));
                }
            }
        }
        Store lmdbOnly = new Store(copy, IntentLog.DEFAULT_CAPACITY, root);
        assertThrowsOrDiffers(lmdbOnly, model, base);
        lmdbOnly.crash();

        Store after = new Store(meta, IntentLog.DEFAULT_CAPACITY, root);
        assertEquals(1, IntentLog.generation(after.lmdb), "recovery starts the next generation");
        check(after, model);
        // recovered twice (a crash right after recovery): nothing is applied again
        after.crash();
        Store again = new Store(meta, IntentLog.DEFAULT_CAPACITY, root);
        assertEquals(1, IntentLog.generation(again.lmdb));
        check(again, model);
        again.st.close();
    }

    /**
     * Block numbers whose write-back (for a logged fsync on the same disk as LMDB) checks that the
     * log record is written while the blocks are on their way, and fails when told to, after the
     * record is written: the worst moment for the log.
     */
    private static final class InFlightBlockSpace implements BlockSpace {
        private final CountingBlockSpace ids = new CountingBlockSpace(8192);
        private final Path logFile;
        boolean failNext;
        int recordsWrittenInFlight;

        InFlightBlockSpace(Path logFile) {
            this.logFile = logFile;
        }

        @Override
        public void writeBackBlocks(long[] ids, int count, Runnable whileWriting) {
            long before = logBytes();
            whileWriting.run();
            if (logBytes() != before) {
                recordsWrittenInFlight++;
            }
            if (failNext) {
                failNext = false;
                throw new io.clonefs.base.ClonefsException.IoFailure("block write-back failed (test)", null);
            }
        }

        /** A checksum of the log's first MiB: changes when a record is written (the file is preallocated). */
        private long logBytes() {
            try (RandomAccessFile f = new RandomAccessFile(logFile.toFile(), "r")) {
                byte[] b = new byte[(int) Math.min(f.length(), 1 << 20)];
                f.readFully(b);
                java.util.zip.CRC32 c = new java.util.zip.CRC32();
                c.update(b);
                return c.getValue();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        @Override
        public int blockSize() {
            return ids.blockSize();
        }

        @Override
        public io.clonefs.base.BlockId allocate() {
            return ids.allocate();
        }

        @Override
        public void free(io.clonefs.base.BlockId id) {
            ids.free(id);
        }

        @Override
        public void sync() {
        }

        @Override
        public long highWater() {
            return ids.highWater();
        }

        @Override
        public void close() {
        }
    }

    /**
     * A new pool whose logged fsyncs write back their blocks through an {@link InFlightBlockSpace}
     * (LMDB on the blocks' disk), with a base state of 2000 changes committed to LMDB.
     */
    private final class Based {
        final Path meta = dir.resolve("meta");
        final InFlightBlockSpace blocks = new InFlightBlockSpace(meta.resolve(IntentLog.FILE_NAME));
        final TreeMap<Integer, byte[]> model = new TreeMap<>();
        final Random rnd;
        final Store s;

        Based(long seed) {
            try (Lmdb lmdb = Lmdb.open(meta.toFile())) {
                MetaStore.format(lmdb, 8192);
            }
            rnd = new Random(seed);
            s = new Store(meta, IntentLog.DEFAULT_CAPACITY, -1, blocks);
            s.st.setLmdbFlushesBlockDisk(true);
            change(s, model, rnd, 2000);
            s.st.commit();
        }

        /** The same pool after a crash, opened at {@code root}. */
        Store reopened(long root) {
            return new Store(meta, IntentLog.DEFAULT_CAPACITY, root,
                    new InFlightBlockSpace(meta.resolve(IntentLog.FILE_NAME)));
        }
    }

    @Test
    void theRecordTravelsWithItsBlocksAndIsTakenBackWhenTheirWriteFails() {
        Based b = new Based(17);
        TreeMap<Integer, byte[]> base = new TreeMap<>(b.model);
        for (int round = 0; round < 5; round++) {
            change(b.s, b.model, b.rnd, 100);
            b.s.fsync();
        }
        assertEquals(5, b.blocks.recordsWrittenInFlight, "each record was written while its blocks were on their way");
        TreeMap<Integer, byte[]> durable = new TreeMap<>(b.model);
        change(b.s, b.model, b.rnd, 100);
        b.blocks.failNext = true;
        assertThrows(ClonefsException.IoFailure.class, b.s::fsync);
        assertEquals(6, b.blocks.recordsWrittenInFlight, "the failed fsync's record was written before the failure");
        long root = b.s.root.root;
        b.s.crash();

        // the failed fsync's record was taken back: recovery applies the five before it, not it
        Store after = b.reopened(root);
        assertEquals(1, IntentLog.generation(after.lmdb));
        assertNotEquals(base, durable);
        assertThrowsOrDiffers(after, b.model, durable);
        after.crash();
    }

    @Test
    void afterAFailedWriteBackTheNextFsyncTakesTheRecordsPlaceAndKeepsEverything() {
        Based b = new Based(19);
        change(b.s, b.model, b.rnd, 100);
        b.s.fsync();
        change(b.s, b.model, b.rnd, 100);
        b.blocks.failNext = true;
        assertThrows(ClonefsException.IoFailure.class, b.s::fsync);
        change(b.s, b.model, b.rnd, 100);
        b.s.fsync(); // the failed batch goes again, with the new one
        change(b.s, b.model, b.rnd, 100);
        b.s.fsync();
        long root = b.s.root.root;
        b.s.crash();
        Store after = b.reopened(root);
        check(after, b.model);
        after.crash();
    }

    /** Without the log's records the tree is the base state (or its root is not even there). */
    private static void assertThrowsOrDiffers(Store s, TreeMap<Integer, byte[]> model, TreeMap<Integer, byte[]> base) {
        try {
            check(s, base);
        } catch (RuntimeException e) {
            // the newest root node exists only in the log
            assertTrue(e.getMessage().contains("missing"), e.getMessage());
            return;
        }
        assertNotEquals(base, model);
    }

    @Test
    void anLmdbCommitAppliesTheLogAndStartsTheNextGeneration() {
        Path meta = dir.resolve("meta");
        try (Lmdb lmdb = Lmdb.open(meta.toFile())) {
            MetaStore.format(lmdb, 8192);
        }
        Random rnd = new Random(11);
        TreeMap<Integer, byte[]> model = new TreeMap<>();
        Store s = new Store(meta, IntentLog.DEFAULT_CAPACITY, -1);
        for (int round = 0; round < 10; round++) {
            change(s, model, rnd, 200);
            s.fsync();
        }
        s.st.commit(); // applies the logged batches
        assertEquals(1, IntentLog.generation(s.lmdb));
        assertFalse(s.st.hasChanges());
        change(s, model, rnd, 200);
        s.fsync(); // generation 1, written over the start of generation 0's records
        check(s, model);
        long root = s.root.root;
        s.crash();
        Store after = new Store(meta, IntentLog.DEFAULT_CAPACITY, root);
        assertEquals(2, IntentLog.generation(after.lmdb));
        check(after, model);
        after.st.close();
        // a clean close committed to LMDB: nothing left to recover
        try (Lmdb lmdb = Lmdb.open(meta.toFile())) {
            assertEquals(2, IntentLog.recover(lmdb, meta.resolve(IntentLog.FILE_NAME)));
        }
    }

    @Test
    void aRecordThatDoesNotFitCommitsToLmdb() {
        Path meta = dir.resolve("meta");
        try (Lmdb lmdb = Lmdb.open(meta.toFile())) {
            MetaStore.format(lmdb, 8192);
        }
        Random rnd = new Random(13);
        TreeMap<Integer, byte[]> model = new TreeMap<>();
        Store s = new Store(meta, 4096, -1);
        change(s, model, rnd, 2000); // far more than 4 KiB of nodes
        s.fsync();
        long root = s.root.root;
        s.crash();
        try (Lmdb lmdb = Lmdb.open(meta.toFile())) {
            assertEquals(0, IntentLog.generation(lmdb), "nothing was logged");
        }
        Store after = new Store(meta, 4096, root);
        check(after, model);
        after.st.close();
    }

    @Test
    void recoveryStopsAtATornRecordAndIgnoresOlderGenerations() throws IOException {
        Path meta = dir.resolve("meta");
        Path file = meta.resolve(IntentLog.FILE_NAME);
        byte[] k1 = Schema.name("k1");
        byte[] k2 = Schema.name("k2");
        try (Lmdb lmdb = Lmdb.open(meta.toFile())) {
            MetaStore.format(lmdb, 8192);
            try (IntentLog log = IntentLog.open(file, 0, IntentLog.DEFAULT_CAPACITY)) {
                log.write(record(k1, "one"));
                log.force();
                log.write(record(k2, "two"));
                log.force();
            }
        }
        // tear the second record: flip its last payload byte
        long secondEnd;
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            secondEnd = 2 * 28 + record(k1, "one").length + record(k2, "two").length;
            f.seek(secondEnd - 1);
            int b = f.read();
            f.seek(secondEnd - 1);
            f.write(b ^ 0xff);
        }
        try (Lmdb lmdb = Lmdb.open(meta.toFile())) {
            assertEquals(1, IntentLog.recover(lmdb, file));
            assertArrayEquals(Schema.name("one"), lmdb.read(r -> r.get(Schema.Db.DATASETS, k1)));
            assertNull(lmdb.read(r -> r.get(Schema.Db.DATASETS, k2)), "a torn record is not applied");
            // the file still holds generation 0's records: LMDB now expects generation 1
            assertEquals(1, IntentLog.recover(lmdb, file));
            lmdb.write(w -> w.delete(Schema.Db.DATASETS, k1));
            assertEquals(1, IntentLog.recover(lmdb, file));
            assertNull(lmdb.read(r -> r.get(Schema.Db.DATASETS, k1)), "an older generation is not applied again");
        }
    }

    private static byte[] record(byte[] key, String value) {
        IntentLog.Recorder r = new IntentLog.Recorder();
        r.put(Schema.Db.DATASETS, key, Schema.name(value));
        return r.bytes();
    }
}
