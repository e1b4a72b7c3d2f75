package io.clonefs.it.reliability;

import io.clonefs.base.BlockId;
import io.clonefs.block.BlockStore;
import io.clonefs.base.ClonefsException;
import java.nio.ByteBuffer;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A test-only {@link BlockStore} decorator that fails reads, writes and syncs at random (seeded) by
 * throwing {@link ClonefsException.IoFailure}, the way a dying disk would. A failing write may first
 * write part of its bytes (a torn write: the first block's share), so callers can only rely on
 * "old or new" for the bytes a failed write covered. Rates are changed on the fly;
 * {@link #quiet()} switches faults off (for checking against a model).
 */
public final class FaultyBlockStore implements BlockStore {
    private final BlockStore inner;
    private final Random rnd;
    private volatile double readRate;
    private volatile double writeRate;
    private volatile double syncRate;
    public final AtomicLong readFaults = new AtomicLong();
    public final AtomicLong writeFaults = new AtomicLong();
    public final AtomicLong tornWrites = new AtomicLong();
    public final AtomicLong syncFaults = new AtomicLong();

    public FaultyBlockStore(BlockStore inner, long seed) {
        this.inner = inner;
        this.rnd = new Random(seed);
    }

    /** Sets the failure probability of each call of read, write and sync. */
    public FaultyBlockStore rates(double read, double write, double sync) {
        this.readRate = read;
        this.writeRate = write;
        this.syncRate = sync;
        return this;
    }

    public FaultyBlockStore quiet() {
        return rates(0, 0, 0);
    }

    public long faults() {
        return readFaults.get() + writeFaults.get() + syncFaults.get();
    }

    private boolean dice(double rate) {
        if (rate <= 0) {
            return false;
        }
        synchronized (rnd) {
            return rnd.nextDouble() < rate;
        }
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
    public void read(BlockId id, int offsetInBlock, ByteBuffer dst) {
        if (dice(readRate)) {
            readFaults.incrementAndGet();
            throw new ClonefsException.IoFailure("injected read fault on " + id, null);
        }
        inner.read(id, offsetInBlock, dst);
    }

    @Override
    public void write(BlockId id, int offsetInBlock, ByteBuffer src) {
        if (dice(writeRate)) {
            writeFaults.incrementAndGet();
            boolean torn;
            synchronized (rnd) {
                torn = rnd.nextBoolean();
            }
            if (torn) {
                int n = Math.min(src.remaining(), blockSize() - offsetInBlock) / 2;
                if (n > 0) {
                    tornWrites.incrementAndGet();
                    inner.write(id, offsetInBlock, src.slice(src.position(), n));
                }
            }
            throw new ClonefsException.IoFailure("injected write fault on " + id, null);
        }
        inner.write(id, offsetInBlock, src);
    }

    @Override
    public int maxRun(BlockId first) {
        return inner.maxRun(first);
    }

    @Override
    public void sync() {
        if (dice(syncRate)) {
            syncFaults.incrementAndGet();
            throw new ClonefsException.IoFailure("injected sync fault", null);
        }
        inner.sync();
    }

    @Override
    public void syncBlocks(long[] ids, int count) {
        if (dice(syncRate)) {
            syncFaults.incrementAndGet();
            throw new ClonefsException.IoFailure("injected sync fault", null);
        }
        inner.syncBlocks(ids, count);
    }

    @Override
    public long highWater() {
        return inner.highWater();
    }

    @Override
    public Stats stats() {
        return inner.stats();
    }

    @Override
    public void close() {
        inner.close();
    }

    @Override
    public String toString() {
        return String.format("%d read, %d write (%d torn), %d sync faults injected", readFaults.get(),
                writeFaults.get(), tornWrites.get(), syncFaults.get());
    }
}
