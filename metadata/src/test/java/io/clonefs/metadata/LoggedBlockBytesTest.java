package io.clonefs.metadata;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.base.BlockId;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A small fsync's intent-log record carries its blocks' bytes, so they need no write-back of their
 * own; recovery writes them back. The rules that keep that safe until the next LMDB commit: newer
 * bytes of such a block are made durable only by a record that carries them, the block is not
 * freed, and the LMDB commit syncs it first. Tested against a block space whose writes are lost
 * in a crash unless synced (what a power cut does to the page cache), a model of the disk.
 */
class LoggedBlockBytesTest {
    private static final int BS = 8192;
    private static final long[] NONE = new long[0];

    @TempDir
    Path dir;

    /**
     * Block numbers with bytes: a write is volatile until a sync makes it durable; {@link #crash}
     * keeps the durable bytes only. Reads see the newest bytes. Recovery writes durably.
     */
    static final class DiskModel implements BlockSpace {
        final CountingBlockSpace ids = new CountingBlockSpace(BS);
        final Map<Long, byte[]> newest = new HashMap<>();
        final Map<Long, byte[]> durable = new HashMap<>();
        final List<Long> freed = new ArrayList<>();
        /** Blocks made durable by a sync or write-back of their own (not by the log). */
        int synced;

        void write(long id, byte[] bytes) {
            newest.put(id, bytes.clone());
        }

        void crash() {
            newest.clear();
            newest.putAll(durable);
        }

        IntentLog.DataSink sink() {
            return new IntentLog.DataSink() {
                @Override
                public void write(long id, byte[] bytes) {
                    durable.put(id, bytes.clone());
                    newest.put(id, bytes.clone());
                }

                @Override
                public void sync() {
                }
            };
        }

        @Override
        public void syncBlocks(long[] ids, int count) {
            for (int i = 0; i < count; i++) {
                byte[] b = newest.get(ids[i]);
                if (b != null) {
                    durable.put(ids[i], b.clone());
                }
            }
            synced += count;
        }

        @Override
        public void writeBackBlocks(long[] ids, int count, Runnable whileWriting) {
            whileWriting.run();
            syncBlocks(ids, count);
        }

        @Override
        public boolean readWhole(long id, ByteBuffer dst) {
            byte[] b = newest.get(id);
            dst.put(b != null ? b : new byte[BS]);
            return true;
        }

        @Override
        public void sync() {
            for (Map.Entry<Long, byte[]> e : newest.entrySet()) {
                durable.put(e.getKey(), e.getValue().clone());
            }
        }

        @Override
        public int blockSize() {
            return BS;
        }

        @Override
        public BlockId allocate() {
            return ids.allocate();
        }

        @Override
        public void free(BlockId id) {
            freed.add(id.value());
            ids.free(id);
        }

        @Override
        public long highWater() {
            return ids.highWater();
        }

        @Override
        public void close() {
        }
    }

    /** A pool's metadata over {@link DiskModel}, with its intent log; reopened after a crash. */
    private final class Pool {
        final DiskModel disk;
        Lmdb lmdb;
        IntentLog log;
        MetaStore st;

        Pool(DiskModel disk) {
            this.disk = disk;
            Path meta = dir.resolve("meta");
            lmdb = Lmdb.open(meta.toFile());
            long gen = IntentLog.recover(lmdb, meta.resolve(IntentLog.FILE_NAME), disk.sink());
            st = MetaStore.open(lmdb, disk, 100);
            log = IntentLog.open(meta.resolve(IntentLog.FILE_NAME), gen, IntentLog.DEFAULT_CAPACITY);
            st.useIntentLog(log);
            st.setLmdbFlushesBlockDisk(true);
        }

        /** A new block with {@code bytes}, referenced from now on. */
        long newBlock(byte[] bytes) {
            long id;
            synchronized (st) {
                id = st.allocateBlock().value();
            }
            disk.write(id, bytes);
            synchronized (st) {
                st.confirmBlock(id);
            }
            return id;
        }

        /** A file's fsync that commits what changed, with {@code inPlace} overwritten in place. */
        void fsync(long... inPlace) {
            long epoch;
            synchronized (st) {
                epoch = st.epoch();
            }
            st.commitThrough(epoch, inPlace);
        }

        /** kill -9 and a power cut: memory and every unsynced block write are gone; reopened. */
        Pool crashAndReopen() {
            log.close();
            lmdb.close();
            disk.crash();
            return new Pool(disk);
        }
    }

    private Pool newPool() {
        try (Lmdb lmdb = Lmdb.open(dir.resolve("meta").toFile())) {
            MetaStore.format(lmdb, BS);
        }
        return new Pool(new DiskModel());
    }

    private static byte[] bytes(int seed) {
        byte[] b = new byte[BS];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** {@code clonefs_intent_log_bytes_total{holds=...}} of this process. */
    private static long logBytes(String holds) {
        return io.clonefs.metrics.Metrics.process().counter("clonefs_intent_log_bytes_total", "", "holds", holds).sum();
    }

    @Test
    void aSmallFsyncsRecordCarriesItsBlocksAndRecoveryWritesThemBack() {
        Pool p = newPool();
        long b = p.newBlock(bytes(1));
        long dataBefore = logBytes("block_data");
        long metaBefore = logBytes("metadata");
        p.fsync();
        assertEquals(0, p.disk.synced, "the block was not written back: the record carries it");
        assertEquals(IntentLog.DATA_OVERHEAD + BS, logBytes("block_data") - dataBefore, "the record's block bytes");
        assertTrue(logBytes("metadata") > metaBefore, "the record's metadata bytes");
        assertNull(p.disk.durable.get(b), "only the log holds the block's bytes");
        assertEquals(0, IntentLog.generation(p.lmdb), "no LMDB commit");

        p = p.crashAndReopen();
        assertArrayEquals(bytes(1), p.disk.durable.get(b), "recovery wrote the logged bytes back");
        assertEquals(1, IntentLog.generation(p.lmdb));
        p.st.close();
    }

    @Test
    void aLargeFsyncWritesItsBlocksBack() {
        Pool p = newPool();
        long[] ids = new long[MetaStore.DATA_BLOCKS + 1];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = p.newBlock(bytes(i));
        }
        long dataBefore = logBytes("block_data");
        p.fsync();
        assertEquals(ids.length, p.disk.synced);
        assertEquals(0, logBytes("block_data") - dataBefore, "a large fsync's record carries no block bytes");
        p = p.crashAndReopen();
        for (int i = 0; i < ids.length; i++) {
            assertArrayEquals(bytes(i), p.disk.durable.get(ids[i]));
        }
        p.st.close();
    }

    @Test
    void newerBytesOfALoggedBlockGoToTheLogToo() {
        Pool p = newPool();
        long b = p.newBlock(bytes(1));
        p.fsync();
        // overwritten in place, nothing to commit: a sync by range would make these bytes
        // durable in the block file, and recovery would put the logged ones back over them
        p.disk.write(b, bytes(2));
        p.st.syncInPlace(new long[] {b});
        assertEquals(0, p.disk.synced, "not synced by range");
        // the same through a commit's fsync with the block among its in-place writes
        long other = p.newBlock(bytes(9));
        p.disk.write(b, bytes(3));
        p.fsync(b);
        assertEquals(0, p.disk.synced);

        p = p.crashAndReopen();
        assertArrayEquals(bytes(3), p.disk.durable.get(b), "the newest fsynced bytes");
        assertArrayEquals(bytes(9), p.disk.durable.get(other));
        p.st.close();
    }

    @Test
    void aBlockNotInTheLogIsSyncedInPlaceByRange() {
        Pool p = newPool();
        long b = p.newBlock(bytes(1));
        p.st.commit(); // in LMDB, synced by the commit
        long logged = p.newBlock(bytes(5));
        p.fsync(); // a record carries another block: the log holds bytes now
        int before = p.disk.synced;
        p.disk.write(b, bytes(2));
        p.st.syncInPlace(new long[] {b});
        assertEquals(before + 1, p.disk.synced, "a block whose bytes no record holds is synced by range");
        p = p.crashAndReopen();
        assertArrayEquals(bytes(2), p.disk.durable.get(b));
        assertArrayEquals(bytes(5), p.disk.durable.get(logged));
        p.st.close();
    }

    @Test
    void aLoggedBlockIsFreedOnlyOnceTheNextLmdbCommitHasSyncedIt() {
        Pool p = newPool();
        long b = p.newBlock(bytes(1));
        p.fsync();
        synchronized (p.st) {
            p.st.decBlock(b); // its file deleted
        }
        p.fsync(); // the release is durable (logged)...
        assertFalse(p.disk.freed.contains(b), "...but the block is not reused while a record holds its bytes");

        p.st.commit(); // ends the log's generation, syncing the block first
        assertTrue(p.disk.freed.contains(b));
        assertArrayEquals(bytes(1), p.disk.durable.get(b));
        assertEquals(1, IntentLog.generation(p.lmdb));
        assertEquals(0, p.disk.synced, "the commit synced it with the whole store, not by range");
        p.st.close();
    }

    @Test
    void aLargeFsyncCarriesTheLoggedBlocksAgainAndWritesTheOthersBack() {
        Pool p = newPool();
        long b = p.newBlock(bytes(1));
        p.fsync(); // b carried
        long[] inPlace = new long[MetaStore.DATA_BLOCKS + 2];
        inPlace[0] = b;
        for (int i = 1; i < inPlace.length; i++) {
            inPlace[i] = p.newBlock(bytes(100 + i));
        }
        p.fsync(); // 17 new blocks: too many to carry, written back
        int before = p.disk.synced;
        assertEquals(MetaStore.DATA_BLOCKS + 1, before);
        for (int i = 0; i < inPlace.length; i++) {
            p.disk.write(inPlace[i], bytes(200 + i));
        }
        p.st.syncInPlace(inPlace);
        assertEquals(before + inPlace.length - 1, p.disk.synced, "all but the logged block written back");
        p = p.crashAndReopen();
        for (int i = 0; i < inPlace.length; i++) {
            assertArrayEquals(bytes(200 + i), p.disk.durable.get(inPlace[i]));
        }
        p.st.close();
    }

    @Test
    void tooManyLoggedBlocksInOneSyncEndTheGenerationByAnLmdbCommit() {
        Pool p = newPool();
        long[] ids = new long[MetaStore.DATA_BLOCKS + 1];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = p.newBlock(bytes(i));
            p.fsync(); // each carried by its own record
        }
        assertEquals(0, p.disk.synced);
        for (int i = 0; i < ids.length; i++) {
            p.disk.write(ids[i], bytes(300 + i));
        }
        p.st.syncInPlace(ids);
        assertEquals(1, IntentLog.generation(p.lmdb), "an LMDB commit ended the log's generation");
        p = p.crashAndReopen();
        for (int i = 0; i < ids.length; i++) {
            assertArrayEquals(bytes(300 + i), p.disk.durable.get(ids[i]));
        }
        p.st.close();
    }
}
