package io.clonefs.block;

import io.clonefs.base.BlockId;
import io.clonefs.base.ClonefsException;
import io.clonefs.base.FileChannels;
import io.clonefs.base.LibC;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;

/**
 * Where a block's bytes are: the block files {@code NNNNNN.blk} of one directory, each holding
 * {@link FileBlockStore#FILE_BYTES} of blocks. Block {@code b} lives in file
 * {@code b / blocksPerFile} at offset {@code (b % blocksPerFile) * blockSize}. Files are created
 * (sparse) when a block in them is first written, and opened when first read. Also the raw
 * descriptor of the barrier file {@code .sync-barrier}, whose fdatasync flushes the disk's write
 * cache.
 *
 * <p>Thread rules: reads and writes are positional I/O on shared channels and take no lock. The
 * file table is copy-on-write: readers see a {@code volatile} array, and growing it (opening a
 * file), the barrier descriptor and the closed state are guarded by this object's {@code lock},
 * which is never held across block I/O. Lock order: {@code lock} → a {@link BlockFile}'s monitor
 * (closing closes each file's descriptor under it).
 */
final class BlockFiles {
    private final Path dir;
    private final int blockSize;
    private final long blocksPerFile;
    private final SyncCounters counters;
    private final ReentrantLock lock = new ReentrantLock();
    /** Indexed by file number; null for a file not opened (yet). Replaced, never mutated, under lock. */
    private volatile BlockFile[] files = new BlockFile[0];
    /** The barrier file's descriptor, opened on first use (guarded by lock). */
    private int barrierFd = -1;
    /** No file is opened any more (guarded by lock). */
    private boolean closed;
    /** The channels and descriptors are closed (guarded by lock). */
    private boolean channelsClosed;

    BlockFiles(Path dir, int blockSize, SyncCounters counters) {
        this.dir = dir;
        this.blockSize = blockSize;
        this.blocksPerFile = FileBlockStore.FILE_BYTES / blockSize;
        this.counters = counters;
    }

    Path dir() {
        return dir;
    }

    int blockSize() {
        return blockSize;
    }

    long blocksPerFile() {
        return blocksPerFile;
    }

    /** The files opened so far, indexed by number (null entries for files not opened). */
    BlockFile[] opened() {
        return files;
    }

    /** The block's index within its file. */
    int indexOf(long block) {
        return (int) (block % blocksPerFile);
    }

    /** The byte offset in its file of {@code offsetInBlock} in the block. */
    long position(BlockId id, int offsetInBlock) {
        return (id.value() % blocksPerFile) * blockSize + offsetInBlock;
    }

    /** How many consecutive blocks, starting at {@code first}, one {@link #write} may cover: up to the end of its file. */
    int maxRun(BlockId first) {
        return (int) Math.min(Integer.MAX_VALUE / blockSize, blocksPerFile - first.value() % blocksPerFile);
    }

    /** Reads {@code dst.remaining()} bytes of the block; bytes past a file's end read as zeros. */
    void read(BlockId id, int offsetInBlock, ByteBuffer dst) {
        checkRange(offsetInBlock, dst.remaining());
        readAt(id, offsetInBlock, dst);
    }

    /**
     * Reads {@code dst.remaining()} bytes at {@code offsetInBlock} of the block, on into the
     * following blocks of its file, in one positional read; bytes past the file's end read as zeros.
     */
    void readRun(BlockId id, int offsetInBlock, ByteBuffer dst) {
        if (offsetInBlock < 0 || offsetInBlock + (long) dst.remaining() > (long) maxRun(id) * blockSize) {
            throw new IllegalArgumentException("read of " + dst.remaining() + " bytes at " + offsetInBlock + " in " + id + " crosses a block file");
        }
        readAt(id, offsetInBlock, dst);
    }

    private void readAt(BlockId id, int offsetInBlock, ByteBuffer dst) {
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

    /** Writes all of {@code src} at {@code offsetInBlock} of the block, on into the following blocks of its file. */
    void write(BlockId id, int offsetInBlock, ByteBuffer src) {
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
            throw ClonefsException.ioOrNoSpace("write of " + id, e);
        } finally {
            // marked after the write: a sync that clears the mark before this write completed
            // would otherwise leave the write unsynced and unmarked
            f.wrote(first, last + 1);
            f.dirty.set(true);
        }
    }

    /** The file holding {@code block}, or null if it does not exist and {@code create} is false. */
    BlockFile fileOf(long block, boolean create) {
        return file(block / blocksPerFile, create);
    }

    /** File {@code fileNo}, opened (or created) on first use; null if it does not exist and {@code create} is false. */
    BlockFile file(long fileNo, boolean create) {
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
            FileChannel ch = FileChannels.open(p, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            BlockFile f = new BlockFile(fileNo, p, ch, counters.wholeFile());
            BlockFile[] nf = Arrays.copyOf(fs, (int) Math.max(fs.length, fileNo + 1));
            nf[(int) fileNo] = f;
            files = nf;
            return f;
        } catch (IOException e) {
            throw ClonefsException.ioOrNoSpace("open of block file " + fileNo, e);
        } finally {
            lock.unlock();
        }
    }

    /** Opens every block file in the directory (those named {@code NNNNNN.blk}); returns them. */
    List<BlockFile> openExisting() {
        List<BlockFile> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String name = p.getFileName().toString();
                if (name.matches("[0-9]{6,}\\.blk")) {
                    out.add(file(Long.parseLong(name.substring(0, name.length() - 4)), false));
                }
            }
        } catch (IOException e) {
            throw new ClonefsException.IoFailure("cannot list block directory " + dir + ": " + e.getMessage(), e);
        }
        return out;
    }

    /** Bytes the block files occupy (their sizes; sparse files may take less). */
    long fileBytes() {
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
        return bytes;
    }

    Path barrierPath() {
        return dir.resolve(".sync-barrier");
    }

    /** The barrier file's raw descriptor, opened (and the file created) on first use. */
    int barrierFd() {
        lock.lock();
        try {
            checkOpen();
            if (barrierFd < 0) {
                barrierFd = LibC.get().open(barrierPath().toString(), LibC.O_RDWR | LibC.O_CREAT | LibC.O_CLOEXEC, 0600);
                if (barrierFd < 0) {
                    throw new ClonefsException.IoFailure("cannot open " + barrierPath(), null);
                }
            }
            return barrierFd;
        } finally {
            lock.unlock();
        }
    }

    /** From now on no file (nor the barrier file) is opened; the open ones stay usable until {@link #closeAll}. */
    void markClosed() {
        lock.lock();
        try {
            closed = true;
        } finally {
            lock.unlock();
        }
    }

    /** Closes every channel and descriptor (idempotent). */
    void closeAll() {
        lock.lock();
        try {
            closed = true;
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
                LibC.get().close(barrierFd);
                barrierFd = -1;
            }
        } finally {
            lock.unlock();
        }
    }

    private void checkRange(int offset, int length) {
        if (offset < 0 || length < 0 || offset + length > blockSize) {
            throw new IllegalArgumentException("range " + offset + "+" + length + " outside a block of " + blockSize);
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new ClonefsException.IoFailure("block store is closed", null);
        }
    }
}
