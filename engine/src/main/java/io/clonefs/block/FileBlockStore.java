package io.clonefs.block;

import io.clonefs.base.BlockId;
import io.clonefs.base.LibC;
import io.clonefs.base.ClonefsException;
import io.clonefs.metrics.Metrics;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.BitSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link BlockStore} over large files {@code blocks/NNNNNN.blk}, each holding
 * {@link #FILE_BYTES} of blocks; block {@code b} lives in file {@code b / blocksPerFile} at offset
 * {@code (b % blocksPerFile) * blockSize}. Files grow (sparsely) as blocks are first written.
 * Free blocks are a stack of numbers in memory, seeded from metadata at open.
 *
 * <p><b>Syncing one file's blocks.</b> {@link #sync} fdatasyncs every block file written since the
 * last sync, which also flushes every other file's dirty pages that share the block file.
 * {@link #syncBlocks} (one file's {@code fsync}) instead writes back just the given blocks with
 * {@code sync_file_range(WAIT_BEFORE|WRITE|WAIT_AFTER)} and then flushes the disk's write cache
 * with an {@code fdatasync} of a small clean file ({@code .sync-barrier}; ext4 and XFS issue a
 * cache flush for it). That is durable only for an overwrite of a block whose place in the block
 * file is allocated and whose allocation is itself durable, because {@code sync_file_range}
 * commits no filesystem metadata. Such blocks are <em>stable</em>: a block becomes stable once a
 * whole-file fdatasync has completed after its first write since the store opened, and stops being
 * stable when its space is punched out ({@link #discard}). A block that is not stable is synced
 * by an fdatasync of its whole file. Nothing is stable at open. Ranged syncs are used only on ext4
 * and XFS, which overwrite allocated blocks in place (never on btrfs, say, which copies on write);
 * {@code -Dclonefs.rangedSync=false} turns them off. So that new blocks are stable too, a
 * background thread keeps the next few MiB past the high-water mark written with zeros and synced
 * ({@code -Dclonefs.prepareBlocks=false} turns that off).
 *
 * <p>Thread rules: positional I/O on shared {@link FileChannel}s needs no lock; allocation and the
 * file table are guarded by one small lock; each file's stable/written sets by the file's monitor,
 * and a whole-file sync and a punch of the same file by the file's sync lock.
 */
public final class FileBlockStore implements BlockStore {
    /** Bytes per block file. */
    public static final long FILE_BYTES = 1L << 30;

    private final Path dir;
    private final int blockSize;
    private final long blocksPerFile;
    private final ReentrantLock lock = new ReentrantLock();
    private static final String SYNCS = "clonefs_block_syncs_total";
    private static final String SYNCS_HELP = "Block store syncs: whole block files fdatasync'd, block runs synced by range, disk cache flushes.";
    private static final LongAdder WHOLE_SYNCS = Metrics.process().counter(SYNCS, SYNCS_HELP, "kind", "whole_file");
    private static final LongAdder RANGE_SYNCS = Metrics.process().counter(SYNCS, SYNCS_HELP, "kind", "range");
    private static final LongAdder FLUSHES = Metrics.process().counter(SYNCS, SYNCS_HELP, "kind", "cache_flush");
    private volatile BlockFile[] files = new BlockFile[0];
    private final boolean rangedSync;
    private final boolean prepareBlocks;
    private int barrierFd = -1;
    private long highWater;
    private long[] freeStack;
    private int freeCount;
    private boolean closed;
    private boolean channelsClosed;

    private FileBlockStore(Path dir, int blockSize, long highWater, long[] free) {
        this.dir = dir;
        this.blockSize = blockSize;
        this.blocksPerFile = FILE_BYTES / blockSize;
        this.highWater = highWater;
        this.freeStack = free.length == 0 ? new long[1024] : Arrays.copyOf(free, Math.max(1024, free.length * 2));
        this.freeCount = free.length;
        this.rangedSync = rangedSyncSupported(dir);
        this.prepareBlocks = rangedSync && Boolean.parseBoolean(System.getProperty("clonefs.prepareBlocks", "true"));
    }

    /** One block file: its channel, and what the ranged sync needs to know of it. */
    private final class BlockFile {
        final long no;
        final FileChannel ch;
        /** Set after a write, cleared when a whole-file sync starts. */
        final AtomicBoolean dirty = new AtomicBoolean();
        /** Held across a whole-file sync and across a punch, so a punched block is never marked stable. */
        final ReentrantLock syncLock = new ReentrantLock();
        /** Blocks whose allocation in this file is durable (guarded by this). */
        final BitSet stable = new BitSet();
        /** Blocks written since the last whole-file sync started (guarded by this). */
        BitSet written = new BitSet();
        /** A raw descriptor for sync_file_range, opened on first use (guarded by this). */
        int fd = -1;

        BlockFile(long no, FileChannel ch) {
            this.no = no;
            this.ch = ch;
        }

        synchronized void wrote(int fromIndex, int toIndex) {
            written.set(fromIndex, toIndex);
        }

        synchronized boolean isStable(int index) {
            return stable.get(index);
        }

        synchronized int fd() {
            if (fd < 0) {
                fd = libc().open(dir.resolve(String.format("%06d.blk", no)).toString(), LibC.O_RDWR | LibC.O_CLOEXEC);
                if (fd < 0) {
                    throw new ClonefsException.IoFailure("cannot open block file " + no + " for a ranged sync", null);
                }
            }
            return fd;
        }

        /** fdatasync of the whole file; afterwards every block written before it is stable. */
        void force() {
            syncLock.lock();
            try {
                BitSet taken;
                synchronized (this) {
                    taken = written;
                    written = new BitSet();
                }
                dirty.set(false);
                WHOLE_SYNCS.increment();
                try {
                    ch.force(false);
                } catch (IOException e) {
                    dirty.set(true);
                    synchronized (this) {
                        written.or(taken);
                    }
                    throw ioOrNoSpace("sync of block file " + no, e);
                }
                synchronized (this) {
                    stable.or(taken);
                }
            } finally {
                syncLock.unlock();
            }
        }

        synchronized void closeFd() {
            if (fd >= 0) {
                libc().close(fd);
                fd = -1;
            }
        }
    }

    private static boolean rangedSyncSupported(Path dir) {
        if (!Boolean.parseBoolean(System.getProperty("clonefs.rangedSync", "true"))) {
            return false;
        }
        try {
            String type = Files.getFileStore(dir).type();
            if (!type.equals("ext4") && !type.equals("xfs")) {
                return false;
            }
            libc();
            return true;
        } catch (IOException | LinkageError | RuntimeException e) {
            return false;
        }
    }

    /**
     * Opens (creating the directory if needed) a block store.
     *
     * @param highWater  the durable high-water mark recorded in metadata
     * @param freeBlocks the durable free list recorded in metadata
     */
    public static FileBlockStore open(Path dir, int blockSize, long highWater, long[] freeBlocks) {
        if (Integer.bitCount(blockSize) != 1 || blockSize < 512 || blockSize > (1 << 20)) {
            throw new ClonefsException.InvalidArgument("block size must be a power of two between 512 B and 1 MiB: " + blockSize);
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new ClonefsException.IoFailure("cannot create block directory " + dir + ": " + e.getMessage(), e);
        }
        return new FileBlockStore(dir, blockSize, highWater, freeBlocks);
    }

    @Override
    public int blockSize() {
        return blockSize;
    }

    // ---- the free-space floor ------------------------------------------------------------------
    //
    // New blocks (past the high-water mark) never take the disk's last floorBytes: they are the
    // metadata's, so that on a full disk a destroy (or any commit) still finds room after the
    // reserve file is released, even while the kernel keeps writing back cached data. Blocks from
    // the free list are not checked: they already have their place in a block file. The disk's
    // free space is read at most every 100 ms, and sooner when the blocks handed out since the
    // last reading may have reached the floor.

    private static final long FLOOR_CHECK_NANOS = 100_000_000L;
    /** Bytes of the disk that new blocks never take (guarded by lock; 0: no floor). */
    private long floorBytes;
    private java.nio.file.FileStore fileStore;
    private long usableAtCheck;
    private long allocatedSinceCheck;
    private long floorCheckedNanos;

    /**
     * From now on, {@link #allocate} refuses a new block (none is free) with
     * {@link ClonefsException.NoSpace} while the pool's disk has less than {@code bytes} free
     * (0 turns the floor off).
     */
    public void setFreeSpaceFloor(long bytes) {
        lock.lock();
        try {
            if (bytes > 0 && fileStore == null) {
                fileStore = Files.getFileStore(dir);
            }
            floorBytes = Math.max(0, bytes);
            floorCheckedNanos = System.nanoTime() - FLOOR_CHECK_NANOS;
        } catch (IOException e) {
            throw new ClonefsException.IoFailure("cannot read the free space of " + dir + ": " + e.getMessage(), e);
        } finally {
            lock.unlock();
        }
    }

    /** Under the lock: refuses a new block if it might take the floor's room. */
    private void checkFloor() {
        if (floorBytes == 0) {
            return;
        }
        long now = System.nanoTime();
        if (now - floorCheckedNanos >= FLOOR_CHECK_NANOS
                || usableAtCheck - (allocatedSinceCheck + 1) * blockSize < floorBytes) {
            try {
                usableAtCheck = fileStore.getUsableSpace();
            } catch (IOException e) {
                throw ioOrNoSpace("free space check of " + dir, e);
            }
            allocatedSinceCheck = 0;
            floorCheckedNanos = now;
        }
        if (usableAtCheck - (allocatedSinceCheck + 1) * blockSize < floorBytes) {
            throw new ClonefsException.NoSpace("no space left on the pool's disk: " + (usableAtCheck >> 10)
                    + " KiB free, and the last " + (floorBytes >> 10) + " KiB are kept for metadata", null);
        }
        allocatedSinceCheck++;
    }

    @Override
    public BlockId allocate() {
        lock.lock();
        try {
            checkOpen();
            if (freeCount > 0) {
                // a freed block keeps its place on disk (only the remote tier punches it out)
                return new BlockId(freeStack[--freeCount]);
            }
            checkFloor();
            while (highWater >= preparingFrom && highWater < preparingTo) {
                // being zeroed right now: wait (rare, the preparer keeps ahead)
                preparedCond.awaitUninterruptibly();
                checkOpen();
            }
            long b = highWater++;
            if (prepareBlocks && highWater + PREPARE_AHEAD_BYTES / blockSize > preparedEnd) {
                startPreparer();
            }
            return new BlockId(b);
        } finally {
            lock.unlock();
        }
    }

    // ---- preparing blocks past the high-water mark ---------------------------------------------
    //
    // A new block is not stable (its first sync needs an fdatasync of its whole block file, with a
    // journal commit for the allocation). So a background thread writes zeros over the blocks just
    // past the high-water mark, a chunk at a time, fdatasyncs them, and marks them stable: a write
    // into a newly allocated block then syncs by range, like an overwrite.

    /** Bytes zeroed per round. */
    static final long PREPARE_CHUNK_BYTES = 4L << 20;
    /** How far past the high-water mark blocks are kept prepared. */
    static final long PREPARE_AHEAD_BYTES = 8L << 20;
    /** No zeroing ahead while the disk has less free than this. */
    static final long PREPARE_MIN_FREE_BYTES = 512L << 20;
    private final java.util.concurrent.locks.Condition preparedCond = lock.newCondition();
    /** Blocks in [highWater at open, preparedEnd) past the high-water mark are zeroed and stable (guarded by lock). */
    private long preparedEnd = -1;
    /** The range being zeroed now, empty when none (guarded by lock). */
    private long preparingFrom;
    private long preparingTo;
    private Thread preparer;
    private long preparerPausedUntil = System.nanoTime();

    /** Under the lock. */
    private void startPreparer() {
        if (preparer == null && !closed && System.nanoTime() - preparerPausedUntil >= 0) {
            if (preparedEnd < 0) {
                preparedEnd = highWater;
            }
            preparer = new Thread(this::prepareLoop, "clonefs-block-prepare");
            preparer.setDaemon(true);
            preparer.start();
        }
    }

    /** Under the lock: the preparer stops, to start again at the earliest in 10 s. */
    private void pausePreparer() {
        preparerPausedUntil = System.nanoTime() + 10_000_000_000L;
        preparer = null;
    }

    private void prepareLoop() {
        ByteBuffer zeros = ByteBuffer.allocateDirect(1 << 20);
        try {
            while (true) {
                long from;
                long to;
                lock.lock();
                try {
                    from = Math.max(preparedEnd, highWater);
                    if (closed || from >= highWater + PREPARE_AHEAD_BYTES / blockSize) {
                        preparer = null;
                        return;
                    }
                    long fileEnd = (from / blocksPerFile + 1) * blocksPerFile;
                    to = Math.min(from + PREPARE_CHUNK_BYTES / blockSize, fileEnd);
                    preparingFrom = from;
                    preparingTo = to;
                }  finally {
                    lock.unlock();
                }
                boolean zeroed = false;
                BlockFile f = null;
                try {
                    if (Files.getFileStore(dir).getUsableSpace() < PREPARE_MIN_FREE_BYTES) {
                        // never take a filling disk's last space (the metadata reserve needs it)
                        throw new IOException("less than " + (PREPARE_MIN_FREE_BYTES >> 20) + " MiB free");
                    }
                    f = file(from / blocksPerFile, true);
                    long pos = (from % blocksPerFile) * blockSize;
                    long end = pos + (to - from) * blockSize;
                    while (pos < end) {
                        zeros.clear().limit((int) Math.min(zeros.capacity(), end - pos));
                        while (zeros.hasRemaining()) {
                            pos += f.ch.write(zeros, pos);
                        }
                    }
                    f.wrote((int) (from % blocksPerFile), (int) ((to - 1) % blocksPerFile) + 1);
                    f.dirty.set(true);
                    zeroed = true;
                } catch (IOException | RuntimeException e) {
                    // disk full or failing: allocation goes on with unprepared blocks; try later
                } finally {
                    // the zeros are written: the allocator may hand these blocks out from now on
                    lock.lock();
                    try {
                        if (zeroed) {
                            preparedEnd = to;
                        } else {
                            pausePreparer();
                        }
                        preparingFrom = 0;
                        preparingTo = 0;
                        preparedCond.signalAll();
                    } finally {
                        lock.unlock();
                    }
                }
                if (!zeroed) {
                    return;
                }
                try {
                    // outside the range: no allocation ever waits for this sync, which may carry
                    // other writes of the file; blocks handed out before it ends are simply not
                    // stable yet (their first sync is a whole-file one)
                    f.force();
                } catch (RuntimeException e) {
                    lock.lock();
                    try {
                        pausePreparer();
                    } finally {
                        lock.unlock();
                    }
                    return;
                }
            }
        } catch (Error e) {
            lock.lock();
            try {
                preparer = null;
                preparingFrom = 0;
                preparingTo = 0;
                preparedCond.signalAll();
            } finally {
                lock.unlock();
            }
            throw e;
        }
    }

    @Override
    public void free(BlockId id) {
        lock.lock();
        try {
            if (id.value() >= highWater) {
                throw new IllegalStateException("freeing " + id + " past the high-water mark " + highWater);
            }
            if (freeCount == freeStack.length) {
                freeStack = Arrays.copyOf(freeStack, freeStack.length * 2);
            }
            freeStack[freeCount++] = id.value();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public long highWater() {
        lock.lock();
        try {
            return highWater;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void read(BlockId id, int offsetInBlock, ByteBuffer dst) {
        checkRange(offsetInBlock, dst.remaining());
        BlockFile f = file(id.value() / blocksPerFile, false);
        FileChannel ch = f == null ? null : f.ch;
        long pos = position(id, offsetInBlock);
        int want = dst.remaining();
        try {
            int got = 0;
            while (got < want) {
                int n = ch == null ? -1 : ch.read(dst, pos + got);
                if (n < 0) {
                    // past the end of a sparse file: never written, reads as zeros
                    while (dst.hasRemaining()) {
                        dst.put((byte) 0);
                    }
                    return;
                }
                got += n;
            }
        } catch (IOException e) {
            throw new ClonefsException.IoFailure("read of " + id + " failed: " + e.getMessage(), e);
        }
    }

    @Override
    public int maxRun(BlockId first) {
        return (int) Math.min(Integer.MAX_VALUE / blockSize, blocksPerFile - first.value() % blocksPerFile);
    }

    @Override
    public void write(BlockId id, int offsetInBlock, ByteBuffer src) {
        if (offsetInBlock < 0 || offsetInBlock + (long) src.remaining() > (long) maxRun(id) * blockSize) {
            throw new IllegalArgumentException("write of " + src.remaining() + " bytes at " + offsetInBlock + " in " + id + " crosses a block file");
        }
        long fileNo = id.value() / blocksPerFile;
        BlockFile f = file(fileNo, true);
        long pos = position(id, offsetInBlock);
        int first = (int) (id.value() % blocksPerFile);
        int last = (int) ((pos + src.remaining() - 1) / blockSize);
        try {
            while (src.hasRemaining()) {
                pos += f.ch.write(src, pos);
            }
        } catch (IOException e) {
            throw ioOrNoSpace("write of " + id, e);
        } finally {
            // marked after the write: a sync that clears the mark before this write completed
            // would otherwise leave the write unsynced and unmarked
            f.wrote(first, last + 1);
            f.dirty.set(true);
        }
    }

    @Override
    public void sync() {
        for (BlockFile f : files) {
            if (f != null && f.dirty.get()) {
                f.force();
            }
        }
    }

    /** Whether the block's allocation is known durable, so that its sync may go by range. */
    boolean isStable(BlockId id) {
        BlockFile f = file(id.value() / blocksPerFile, false);
        return f != null && f.isStable((int) (id.value() % blocksPerFile));
    }

    /** Whether {@link #syncBlocks} may sync by range (see the class comment). */
    public boolean rangedSync() {
        return rangedSync;
    }

    @Override
    public void syncBlocks(long[] ids, int count) {
        syncBlocks(ids, count, true);
    }

    /** Without the cache flush: the caller's next fdatasync on this disk does it (see {@link BlockStore#writeBackBlocks}). */
    @Override
    public void writeBackBlocks(long[] ids, int count) {
        syncBlocks(ids, count, false);
    }

    private void syncBlocks(long[] ids, int count, boolean flushCache) {
        if (!rangedSync) {
            sync();
            return;
        }
        long[] sorted = Arrays.copyOf(ids, count);
        Arrays.sort(sorted);
        BlockFile[] fs = files;
        boolean[] whole = new boolean[fs.length];
        boolean ranged = false;
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
            // a run of consecutive stable blocks in one file: one sync_file_range
            int j = i + 1;
            while (j < count && sorted[j] / blocksPerFile == fileNo && sorted[j] <= sorted[j - 1] + 1
                    && f.isStable((int) (sorted[j] % blocksPerFile))) {
                j++;
            }
            long from = (sorted[i] % blocksPerFile) * blockSize;
            long len = (sorted[j - 1] - sorted[i] + 1) * blockSize;
            if (libc().sync_file_range(f.fd(), from, len, LibC.SYNC_FILE_RANGE_WAIT_BEFORE | LibC.SYNC_FILE_RANGE_WRITE
                    | LibC.SYNC_FILE_RANGE_WAIT_AFTER) != 0) {
                // the error is reported again by the whole-file sync, which also retries the write-back
                whole[(int) fileNo] = true;
            } else {
                ranged = true;
                RANGE_SYNCS.increment();
            }
            i = j;
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
        int fd;
        lock.lock();
        try {
            checkOpen();
            if (barrierFd < 0) {
                barrierFd = libc().open(dir.resolve(".sync-barrier").toString(), LibC.O_RDWR | LibC.O_CREAT | LibC.O_CLOEXEC, 0600);
                if (barrierFd < 0) {
                    throw new ClonefsException.IoFailure("cannot open " + dir.resolve(".sync-barrier"), null);
                }
            }
            fd = barrierFd;
        } finally {
            lock.unlock();
        }
        FLUSHES.increment();
        if (libc().fdatasync(fd) != 0) {
            throw new ClonefsException.IoFailure("fdatasync of " + dir.resolve(".sync-barrier") + " failed", null);
        }
    }

    @Override
    public Stats stats() {
        long bytes = 0;
        for (BlockFile f : files) {
            if (f != null) {
                try {
                    bytes += f.ch.size();
                } catch (IOException e) {
                    // a closed channel during shutdown: report what we have
                }
            }
        }
        long diskFree;
        try {
            diskFree = Files.getFileStore(dir).getUsableSpace();
        } catch (IOException e) {
            diskFree = 0;
        }
        lock.lock();
        try {
            return new Stats(highWater, freeCount, bytes, diskFree);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        Thread p;
        lock.lock();
        try {
            closed = true;
            p = preparer;
            preparedCond.signalAll();
        } finally {
            lock.unlock();
        }
        if (p != null) {
            try {
                p.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        lock.lock();
        try {
            if (channelsClosed) {
                return;
            }
            channelsClosed = true;
            for (BlockFile f : files) {
                if (f != null) {
                    f.closeFd();
                    try {
                        f.ch.close();
                    } catch (IOException e) {
                        // closing after a sync: nothing more to save
                    }
                }
            }
            if (barrierFd >= 0) {
                libc().close(barrierFd);
                barrierFd = -1;
            }
        } finally {
            lock.unlock();
        }
    }

    private static LibC libc() {
        return LibC.get();
    }

    /** Punches a hole over the block: its disk space goes back to the filesystem, it reads as zeros. */
    @Override
    public void discard(BlockId id) {
        long fileNo = id.value() / blocksPerFile;
        BlockFile f = file(fileNo, false);
        if (f == null) {
            return; // never written: nothing on disk
        }
        Path p = dir.resolve(String.format("%06d.blk", fileNo));
        int index = (int) (id.value() % blocksPerFile);
        f.syncLock.lock();
        try {
            synchronized (f) {
                // a hole: the next write allocates again, so only a whole-file sync makes it durable
                f.stable.clear(index);
                f.written.clear(index);
            }
            if (libc().fallocate(f.fd(), LibC.FALLOC_FL_PUNCH_HOLE | LibC.FALLOC_FL_KEEP_SIZE, position(id, 0), blockSize) != 0) {
                throw new ClonefsException.IoFailure("fallocate(PUNCH_HOLE) of " + id + " in " + p + " failed", null);
            }
        } finally {
            f.syncLock.unlock();
        }
    }

    private long position(BlockId id, int offsetInBlock) {
        return (id.value() % blocksPerFile) * blockSize + offsetInBlock;
    }

    private void checkRange(int offset, int length) {
        if (offset < 0 || length < 0 || offset + length > blockSize) {
            throw new IllegalArgumentException("range " + offset + "+" + length + " outside a block of " + blockSize);
        }
    }

    private BlockFile file(long fileNo, boolean create) {
        BlockFile[] fs = files;
        if (fileNo < fs.length && fs[(int) fileNo] != null) {
            return fs[(int) fileNo];
        }
        lock.lock();
        try {
            checkOpen();
            fs = files;
            if (fileNo < fs.length && fs[(int) fileNo] != null) {
                return fs[(int) fileNo];
            }
            Path p = dir.resolve(String.format("%06d.blk", fileNo));
            if (!create && !Files.exists(p)) {
                return null;
            }
            FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            BlockFile f = new BlockFile(fileNo, ch);
            BlockFile[] nf = Arrays.copyOf(fs, (int) Math.max(fs.length, fileNo + 1));
            nf[(int) fileNo] = f;
            files = nf;
            return f;
        } catch (IOException e) {
            throw ioOrNoSpace("open of block file " + fileNo, e);
        } finally {
            lock.unlock();
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new ClonefsException.IoFailure("block store is closed", null);
        }
    }

    private static ClonefsException ioOrNoSpace(String what, IOException e) {
        String m = String.valueOf(e.getMessage());
        if (m.contains("No space left") || m.contains("Disk quota")) {
            return new ClonefsException.NoSpace(what + ": no space left on the pool's disk", e);
        }
        return new ClonefsException.IoFailure(what + " failed: " + m, e);
    }
}
