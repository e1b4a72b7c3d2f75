package io.clonefs.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.base.BlockId;
import io.clonefs.block.BlockStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The read path of a file: each run of consecutive blocks is one block-store read (and freed
 * blocks come back as such runs for the next file's writes), holes read as zeros, and the bytes
 * are right for every offset and length across holes, blocks shared with a snapshot, blocks
 * copied on write, partial blocks and the end of file.
 */
class ReadPathTest {
    private static final int BS = 8192;

    @TempDir
    Path tmp;

    private Engine engine;
    private final Counting counting = new Counting();

    private Engine pool() {
        Path dir = tmp.resolve("pool");
        Engine.init(dir, BS);
        engine = Engine.open(dir, EngineOptions.defaults().withBlockStoreDecorator(s -> {
            counting.inner = s;
            return counting;
        }));
        engine.createVolume("vol");
        return engine;
    }

    @AfterEach
    void fsckClean() {
        if (engine != null) {
            try {
                EngineModelTest.assertClean(engine.fsck(), "fsck after the test");
            } finally {
                engine.close();
            }
        }
    }

    @Test
    void aSequentiallyWrittenMebibyteIsOneBlockStoreRead() {
        VolumeFs fs = pool().volume("vol");
        InodeId f = fs.create(InodeId.ROOT, "seq", 0644, 0, 0).ino();
        byte[] data = Op.data(1, 1 << 20);
        assertEquals(data.length, fs.write(f, 0, ByteBuffer.wrap(data)));

        ByteBuffer dst = ByteBuffer.allocateDirect(1 << 20);
        long calls = counting.calls();
        assertEquals(1 << 20, fs.read(f, 0, dst));
        assertEquals(1, counting.calls() - calls, "one read of the block store for 128 consecutive blocks");
        byte[] got = new byte[1 << 20];
        dst.flip().get(got);
        assertArrayEquals(data, got);

        // unaligned: starts and ends inside a block, still one read
        calls = counting.calls();
        ByteBuffer part = ByteBuffer.allocate(5 * BS + 300);
        assertEquals(part.capacity(), fs.read(f, 3 * BS + 17, part));
        assertEquals(1, counting.calls() - calls);
        assertArrayEquals(Arrays.copyOfRange(data, 3 * BS + 17, 8 * BS + 317), part.array());
    }

    @Test
    void aFileWrittenIntoFreedBlocksGetsThemBackInAscendingRuns() {
        VolumeFs fs = pool().volume("vol");
        InodeId old = fs.create(InodeId.ROOT, "old", 0644, 0, 0).ino();
        assertEquals(1 << 20, fs.write(old, 0, ByteBuffer.wrap(Op.data(3, 1 << 20))));
        fs.release(old);
        engine.sync();
        fs.unlink(InodeId.ROOT, "old");
        engine.sync(); // the release is durable: the 128 blocks are free again
        long highWater = counting.highWater();

        InodeId f = fs.create(InodeId.ROOT, "new", 0644, 0, 0).ino();
        byte[] data = Op.data(4, 1 << 20);
        long writes = counting.writes.get();
        assertEquals(data.length, fs.write(f, 0, ByteBuffer.wrap(data)));
        assertEquals(highWater, counting.highWater(), "the freed blocks were taken, none past the high-water mark");
        // in the order freed they came back highest first: 128 writes of one block each
        assertEquals(1, counting.writes.get() - writes, "one block-store write for 128 freed consecutive blocks");
        long reads = counting.calls();
        ByteBuffer dst = ByteBuffer.allocateDirect(1 << 20);
        assertEquals(1 << 20, fs.read(f, 0, dst));
        assertEquals(1, counting.calls() - reads, "and one read");
        byte[] got = new byte[1 << 20];
        dst.flip().get(got);
        assertArrayEquals(data, got);
        fs.release(f);
    }

    @Test
    void holesSharedCopiedAndPartialBlocksReadRightAtEveryOffset() {
        VolumeFs src = pool().volume("vol");
        InodeId f = src.create(InodeId.ROOT, "f", 0644, 0, 0).ino();
        // blocks 0-9 in one write, a hole at 10-14, blocks 15-19, then a partial block 20
        int size = 20 * BS + 100;
        byte[] expect = new byte[size];
        put(src, f, expect, 0, Op.data(2, 10 * BS));
        put(src, f, expect, 15 * BS, Op.data(3, 5 * BS));
        put(src, f, expect, 20 * BS, Op.data(4, 100));
        assertEquals(size, src.getattr(f).size());
        engine.snapshot("vol", "s");
        engine.cloneVolume("vol@s", "c");
        VolumeFs clone = engine.volume("c");
        byte[] cloned = expect.clone();
        // copy on write in the clone: part of block 3, all of block 16, a byte into the hole (block 12)
        put(clone, f, cloned, 3 * BS + 50, Op.data(5, 100));
        put(clone, f, cloned, 16 * BS, Op.data(6, BS));
        put(clone, f, cloned, 12 * BS + 9, new byte[] {7});

        for (VolumeFs fs : new VolumeFs[] {src, engine.snapshotFs("vol@s"), clone}) {
            byte[] want = fs == clone ? cloned : expect;
            assertArrayEquals(want, readAll(fs, f, size, size + 1000), fs.name() + " in one read");
            int[] lengths = {1, 100, BS - 1, BS, BS + 1, 3 * BS + 7, 11 * BS, size};
            for (int off = 0; off < size + BS; off += BS / 2 - 3) {
                for (int len : lengths) {
                    ByteBuffer dst = ByteBuffer.allocate(len);
                    int n = fs.read(f, off, dst);
                    int expected = (int) Math.max(0, Math.min(len, (long) size - off));
                    assertEquals(expected, n, fs.name() + ": count of a read of " + len + " at " + off);
                    assertEquals(n, dst.position(), "the buffer advances by the count");
                    assertArrayEquals(Arrays.copyOfRange(want, Math.min(off, size), Math.min(off, size) + n),
                            Arrays.copyOf(dst.array(), n), fs.name() + ": bytes of a read of " + len + " at " + off);
                }
            }
        }
        // the source's blocks 0-9 and 15-20 (block 20 allocated right after 19) are two runs, the
        // hole none: two reads, not 16
        long calls = counting.calls();
        readAll(src, f, size, size);
        assertEquals(2, counting.calls() - calls, "reads of the block store for the whole source file");
    }

    @Test
    void aReadIntoAnOffsetBufferFillsOnlyItsRemaining() {
        VolumeFs fs = pool().volume("vol");
        InodeId f = fs.create(InodeId.ROOT, "f", 0644, 0, 0).ino();
        byte[] data = Op.data(8, 4 * BS);
        fs.write(f, 0, ByteBuffer.wrap(data));
        fs.truncate(f, 6 * BS); // a hole of two blocks at the end
        byte[] backing = new byte[8 * BS];
        Arrays.fill(backing, (byte) 0x55);
        ByteBuffer dst = ByteBuffer.wrap(backing, 1000, 6 * BS);
        assertEquals(6 * BS, fs.read(f, 0, dst));
        assertEquals(1000 + 6 * BS, dst.position());
        assertTrue(allEqual(backing, 0, 1000, (byte) 0x55), "bytes before the buffer's position untouched");
        assertArrayEquals(data, Arrays.copyOfRange(backing, 1000, 1000 + 4 * BS));
        assertTrue(allEqual(backing, 1000 + 4 * BS, 1000 + 6 * BS, (byte) 0), "the hole reads as zeros");
        assertTrue(allEqual(backing, 1000 + 6 * BS, backing.length, (byte) 0x55), "bytes after the read untouched");
    }

    private static void put(VolumeFs fs, InodeId f, byte[] model, int off, byte[] data) {
        assertEquals(data.length, fs.write(f, off, ByteBuffer.wrap(data)));
        System.arraycopy(data, 0, model, off, data.length);
    }

    private static byte[] readAll(VolumeFs fs, InodeId f, int size, int bufferSize) {
        ByteBuffer dst = ByteBuffer.allocateDirect(bufferSize);
        assertEquals(size, fs.read(f, 0, dst));
        byte[] out = new byte[size];
        dst.flip().get(out);
        return out;
    }

    private static boolean allEqual(byte[] b, int from, int to, byte v) {
        for (int i = from; i < to; i++) {
            if (b[i] != v) {
                return false;
            }
        }
        return true;
    }

    /** Counts the block store's reads ({@link BlockStore#read} and {@link BlockStore#readRun} calls) and writes. */
    private static final class Counting implements BlockStore {
        volatile BlockStore inner;
        final AtomicLong reads = new AtomicLong();
        final AtomicLong writes = new AtomicLong();

        long calls() {
            return reads.get();
        }

        @Override
        public void read(BlockId id, int offsetInBlock, ByteBuffer dst) {
            reads.incrementAndGet();
            inner.read(id, offsetInBlock, dst);
        }

        @Override
        public void readRun(BlockId first, int offsetInBlock, ByteBuffer dst) {
            reads.incrementAndGet();
            inner.readRun(first, offsetInBlock, dst);
        }

        @Override
        public void write(BlockId id, int offsetInBlock, ByteBuffer src) {
            writes.incrementAndGet();
            inner.write(id, offsetInBlock, src);
        }

        @Override
        public int maxRun(BlockId first) {
            return inner.maxRun(first);
        }

        @Override
        public boolean writableInPlace(BlockId id) {
            return inner.writableInPlace(id);
        }

        @Override
        public void discard(BlockId id) {
            inner.discard(id);
        }

        @Override
        public Stats stats() {
            return inner.stats();
        }

        @Override
        public int blockSize() {
            return inner.blockSize();
        }

        @Override
        public BlockId allocate() {
            return inner.allocate();
        }

        @Override
        public void free(BlockId id) {
            inner.free(id);
        }

        @Override
        public void sync() {
            inner.sync();
        }

        @Override
        public void syncBlocks(long[] ids, int count) {
            inner.syncBlocks(ids, count);
        }

        @Override
        public void writeBackBlocks(long[] ids, int count) {
            inner.writeBackBlocks(ids, count);
        }

        @Override
        public long highWater() {
            return inner.highWater();
        }

        @Override
        public void close() {
            inner.close();
        }
    }
}
