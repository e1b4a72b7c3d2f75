package io.clonefs.block;

import io.clonefs.engine.ClonefsException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link BlockStore} over large files {@code blocks/NNNNNN.blk}, each holding
 * {@link #FILE_BYTES} of blocks; block {@code b} lives in file {@code b / blocksPerFile} at offset
 * {@code (b % blocksPerFile) * blockSize}. Files grow (sparsely) as blocks are first written.
 * Free blocks are a stack of numbers in memory, seeded from metadata at open.
 *
 * <p>Thread rules: positional I/O on shared {@link FileChannel}s needs no lock; allocation and the
 * file table are guarded by one small lock.
 */
public final class FileBlockStore implements BlockStore {
    /** Bytes per block file. */
    public static final long FILE_BYTES = 1L << 30;

    private final Path dir;
    private final int blockSize;
    private final long blocksPerFile;
    private final ReentrantLock lock = new ReentrantLock();
    private volatile FileChannel[] files = new FileChannel[0];
    private volatile AtomicBoolean[] dirty = new AtomicBoolean[0];
    private long highWater;
    private long[] freeStack;
    private int freeCount;
    private boolean closed;

    private FileBlockStore(Path dir, int blockSize, long highWater, long[] free) {
        this.dir = dir;
        this.blockSize = blockSize;
        this.blocksPerFile = FILE_BYTES / blockSize;
        this.highWater = highWater;
        this.freeStack = free.length == 0 ? new long[1024] : Arrays.copyOf(free, Math.max(1024, free.length * 2));
        this.freeCount = free.length;
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

    @Override
    public BlockId allocate() {
        lock.lock();
        try {
            checkOpen();
            if (freeCount > 0) {
                return new BlockId(freeStack[--freeCount]);
            }
            return new BlockId(highWater++);
        } finally {
            lock.unlock();
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
        FileChannel ch = channel(id.value() / blocksPerFile, false);
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
        FileChannel ch = channel(fileNo, true);
        long pos = position(id, offsetInBlock);
        try {
            while (src.hasRemaining()) {
                pos += ch.write(src, pos);
            }
        } catch (IOException e) {
            throw ioOrNoSpace("write of " + id, e);
        } finally {
            // marked after the write: a sync that clears the mark before this write completed
            // would otherwise leave the write unsynced and unmarked
            dirty[(int) fileNo].set(true);
        }
    }

    @Override
    public void sync() {
        FileChannel[] fs = files;
        AtomicBoolean[] ds = dirty;
        for (int i = 0; i < fs.length; i++) {
            if (fs[i] != null && ds[i].getAndSet(false)) {
                try {
                    fs[i].force(false);
                } catch (IOException e) {
                    ds[i].set(true);
                    throw ioOrNoSpace("sync of block file " + i, e);
                }
            }
        }
    }

    @Override
    public Stats stats() {
        long bytes = 0;
        for (FileChannel f : files) {
            if (f != null) {
                try {
                    bytes += f.size();
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
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            for (FileChannel f : files) {
                if (f != null) {
                    try {
                        f.close();
                    } catch (IOException e) {
                        // closing after a sync: nothing more to save
                    }
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** The bits of libc that Java lacks: fallocate(2) to punch holes. */
    public interface LibC {
        int open(String path, int flags);

        int fallocate(int fd, int mode, long offset, long length);

        int close(int fd);
    }

    private static final int O_RDWR = 2;
    private static final int FALLOC_FL_KEEP_SIZE = 1;
    private static final int FALLOC_FL_PUNCH_HOLE = 2;
    private static volatile LibC libc;

    private static LibC libc() {
        LibC l = libc;
        if (l == null) {
            l = jnr.ffi.LibraryLoader.create(LibC.class).load("c");
            libc = l;
        }
        return l;
    }

    /** Punches a hole over the block: its disk space goes back to the filesystem, it reads as zeros. */
    @Override
    public void discard(BlockId id) {
        long fileNo = id.value() / blocksPerFile;
        if (channel(fileNo, false) == null) {
            return; // never written: nothing on disk
        }
        Path p = dir.resolve(String.format("%06d.blk", fileNo));
        LibC c = libc();
        int fd = c.open(p.toString(), O_RDWR);
        if (fd < 0) {
            throw new ClonefsException.IoFailure("cannot open " + p + " to discard " + id, null);
        }
        try {
            if (c.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, position(id, 0), blockSize) != 0) {
                throw new ClonefsException.IoFailure("fallocate(PUNCH_HOLE) of " + id + " in " + p + " failed", null);
            }
        } finally {
            c.close(fd);
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

    private FileChannel channel(long fileNo, boolean create) {
        FileChannel[] fs = files;
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
            int n = (int) Math.max(fs.length, fileNo + 1);
            FileChannel[] nf = Arrays.copyOf(fs, n);
            AtomicBoolean[] nd = Arrays.copyOf(dirty, n);
            for (int i = 0; i < n; i++) {
                if (nd[i] == null) {
                    nd[i] = new AtomicBoolean();
                }
            }
            nf[(int) fileNo] = ch;
            dirty = nd;
            files = nf;
            return ch;
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
