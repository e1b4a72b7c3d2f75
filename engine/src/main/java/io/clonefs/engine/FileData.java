package io.clonefs.engine;

import io.clonefs.base.BlockId;
import io.clonefs.base.ClonefsException;
import io.clonefs.block.BlockStore;
import io.clonefs.engine.WritePlan.CopyAhead;
import io.clonefs.metadata.CowTree;
import io.clonefs.metadata.InodeRecord;
import io.clonefs.metadata.Keys;
import io.clonefs.metadata.MetaStore;
import io.clonefs.metadata.Schema;
import io.clonefs.metrics.Metrics;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * The bytes of files: extents (file block index to block) read, written, truncated, deleted and
 * made durable. A write is planned ({@link WritePlan}: which blocks are written in place and which
 * are copied, decided by {@link CopyOnWrite}), its blocks are written, and only then are the
 * extents that point at new blocks recorded (data before the metadata that points at it; see
 * docs/design.md, "Group commit and durability"). Blocks overwritten in place are remembered in
 * {@link DirtyBlocks} for the next {@code fsync}.
 *
 * <p>Thread rules: the caller holds the inode's lock (read lock for {@link #read}, write lock for
 * writes and {@link #truncate}) and, for writes and truncates, the snapshot barrier's read side.
 * Methods take the {@link MetaStore} monitor themselves around tree work and never do block I/O
 * under it, except {@link #purge}, which is called holding the monitor and does no block I/O.
 */
final class FileData {
    private static final String FSYNCS = "clonefs_fsync_total";
    private static final String FSYNCS_HELP = "File fsyncs by what they needed: a metadata commit, or a data sync of the file's blocks alone.";
    private static final LongAdder FSYNC_COMMIT = Metrics.process().counter(FSYNCS, FSYNCS_HELP, "needs", "commit");
    private static final LongAdder FSYNC_DATA = Metrics.process().counter(FSYNCS, FSYNCS_HELP, "needs", "data");

    /** What a hole reads as, copied out in pieces. */
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(64 * 1024).asReadOnlyBuffer();

    private final MetaStore meta;
    private final CowTree tree;
    private final BlockStore blocks;
    private final int bs;
    private final DatasetRoot root;
    private final InodeTable inodes;
    private final CopyOnWrite cow;
    /** Blocks overwritten in place per inode since its last fsync (its own lock). */
    private final DirtyBlocks dirtyBlocks = new DirtyBlocks();

    FileData(VolumeContext pool, DatasetRoot root, InodeTable inodes, CopyOnWrite cow) {
        this.meta = pool.meta();
        this.tree = pool.tree();
        this.blocks = pool.blocks();
        this.bs = meta.blockSize();
        this.root = root;
        this.inodes = inodes;
        this.cow = cow;
    }

    // ---- read ----------------------------------------------------------------------------------

    /** Reads from {@code offset} (not negative) into {@code dst}; holes read as zeros. Returns bytes read. */
    int read(long ino, long offset, ByteBuffer dst) {
        long size;
        long first;
        long[] ids;
        int want;
        synchronized (meta) {
            InodeRecord r = inodes.inode(ino);
            if ((r.mode & FileType.TYPE_MASK) == FileType.DIRECTORY.bits()) {
                throw new ClonefsException.IsDirectory("inode " + ino + " is a directory");
            }
            size = r.size;
            if (offset >= size || !dst.hasRemaining()) {
                return 0;
            }
            want = (int) Math.min(dst.remaining(), size - offset);
            first = offset / bs;
            long last = (offset + want - 1) / bs;
            long[] found = new long[(int) (last - first + 1)];
            Arrays.fill(found, -1);
            tree.scan(root.get(), Keys.extent(ino, first), Keys.extent(ino, last + 1), (k, v) -> {
                found[(int) (Keys.extentIndex(k) - first)] = ByteBuffer.wrap(v).getLong();
                return true;
            });
            ids = found;
        }
        readExtents(ids, (int) (offset % bs), dst, want);
        return want;
    }

    /**
     * Reads {@code want} bytes into {@code dst}, from {@code inFirst} in the first of the blocks
     * {@code ids} (-1: a hole): each run of consecutive blocks (an extent, as a sequential write or
     * a copy leaves them) in one block-store read, each run of holes as one fill of zeros.
     */
    private void readExtents(long[] ids, int inFirst, ByteBuffer dst, int want) {
        int end = dst.position() + want;
        int inBlock = inFirst;
        int i = 0;
        while (dst.position() < end) {
            int run = 1;
            if (ids[i] < 0) {
                while (i + run < ids.length && ids[i + run] < 0) {
                    run++;
                }
            } else {
                int maxRun = blocks.maxRun(new BlockId(ids[i]));
                while (i + run < ids.length && run < maxRun && ids[i + run] == ids[i] + run) {
                    run++;
                }
            }
            int n = (int) Math.min((long) run * bs - inBlock, end - dst.position());
            ByteBuffer part = dst.slice(dst.position(), n);
            if (ids[i] < 0) {
                zero(part);
            } else {
                blocks.readRun(new BlockId(ids[i]), inBlock, part);
            }
            dst.position(dst.position() + n);
            i += run;
            inBlock = 0;
        }
    }

    /** Fills {@code part} with zeros. */
    private static void zero(ByteBuffer part) {
        while (part.hasRemaining()) {
            part.put(ZEROS.duplicate().limit(Math.min(ZEROS.capacity(), part.remaining())));
        }
    }

    // ---- write ---------------------------------------------------------------------------------

    /** Writes all of {@code src} (not empty) at {@code offset} of a regular file; sets mtime and ctime. */
    void write(long ino, long offset, ByteBuffer src) {
        WritePlan plan = planWrite(ino, offset, src.remaining());
        CopyAhead ahead = writeBlocks(plan, src);
        synchronized (meta) {
            long added = recordExtents(plan, ahead);
            InodeRecord r = inodes.inode(ino);
            boolean grows = plan.end() > r.size;
            if (grows) {
                r.size = plan.end();
            }
            r.blocks += added;
            long t = InodeTable.now();
            r.mtimeNs = t;
            r.ctimeNs = t;
            inodes.put(ino, r, false);
            inodes.addReferencedBlocks(added);
            markStructural(plan, grows);
        }
    }

    /**
     * As {@link #write}, but mtime and ctime stay as they are (the kernel's writeback cache keeps
     * file times): the inode changes only if the file grows or a hole is filled, so an overwrite
     * of owned blocks changes no metadata and its fsync is a data sync alone.
     */
    void writeKeepingTimes(long ino, long offset, ByteBuffer src) {
        WritePlan plan = planWrite(ino, offset, src.remaining());
        CopyAhead ahead = writeBlocks(plan, src);
        synchronized (meta) {
            long added = recordExtents(plan, ahead);
            InodeRecord r = inodes.inode(ino);
            boolean grows = plan.end() > r.size;
            if (grows || added > 0) {
                if (grows) {
                    r.size = plan.end();
                }
                r.blocks += added;
                inodes.put(ino, r, false);
                inodes.addReferencedBlocks(added);
            }
            markStructural(plan, grows);
        }
    }

    /**
     * Writes {@code length} zeros at {@code offset}, within one block that exists: bytes past EOF
     * left by an earlier failed write or truncate. Changes extents only (a block moved by
     * copy-on-write), never the inode's size, block count or times; no copy-ahead.
     */
    private void zeroFill(long ino, long offset, int length) {
        long firstIndex = offset / bs;
        int n = blockCount(offset, length);
        long[] target = new long[n];
        long[] old = new long[n];
        boolean[] fresh = new boolean[n];
        synchronized (meta) {
            cow.chooseBlocks(ino, firstIndex, target, old, fresh);
        }
        WritePlan plan = new WritePlan(ino, offset, length, firstIndex, target, old, fresh, CopyAhead.NONE);
        CopyAhead ahead = writeBlocks(plan, ByteBuffer.allocate(length));
        if (!plan.remaps()) {
            return;
        }
        synchronized (meta) {
            recordExtents(plan, ahead);
            markStructural(plan, false);
        }
    }

    /**
     * Plans a write into a regular file: zeroes first what lies between EOF and the write in EOF's
     * block, then chooses the blocks and the copy-ahead.
     */
    private WritePlan planWrite(long ino, long offset, int length) {
        long firstIndex = offset / bs;
        int n = blockCount(offset, length);
        long[] target = new long[n];
        long[] old = new long[n];
        boolean[] fresh = new boolean[n];
        long gapFrom = -1;
        synchronized (meta) {
            InodeRecord r = inodes.inode(ino);
            if ((r.mode & FileType.TYPE_MASK) != FileType.REGULAR.bits()) {
                throw new ClonefsException.IsDirectory("inode " + ino + " is not a regular file");
            }
            if (offset > r.size && r.size % bs != 0 && tree.get(root.get(), Keys.extent(ino, r.size / bs)) != null) {
                gapFrom = r.size;
            } else {
                cow.chooseBlocks(ino, firstIndex, target, old, fresh);
            }
        }
        if (gapFrom >= 0) {
            // a write past EOF: the bytes between EOF and the write in EOF's block must read as
            // zeros, whatever an earlier failed write or truncate left there
            zeroRange(ino, gapFrom, offset);
            synchronized (meta) {
                cow.chooseBlocks(ino, firstIndex, target, old, fresh);
            }
        }
        CopyAhead ahead = cow.planCopyAhead(ino, firstIndex, old, fresh);
        return new WritePlan(ino, offset, length, firstIndex, target, old, fresh, ahead);
    }

    /** How many blocks {@code length} (more than 0) bytes at {@code offset} touch. */
    private int blockCount(long offset, int length) {
        return (int) ((offset + length - 1) / bs - offset / bs + 1);
    }

    /**
     * Writes the bytes of {@code src} (consumed) into the plan's blocks with the monitor released:
     * in place into owned blocks (remembered for fsync), into new blocks by read-modify-write for
     * a partial block; runs of new, whole, consecutive blocks go to the block store in one write,
     * and so do runs of owned blocks that are consecutive in the block store.
     * Then copies the copy-ahead. On a failure gives back the plan's new blocks. Returns the
     * copy-ahead actually copied.
     */
    private CopyAhead writeBlocks(WritePlan plan, ByteBuffer src) {
        long ino = plan.ino();
        long[] target = plan.target();
        long[] old = plan.old();
        boolean[] fresh = plan.fresh();
        int n = plan.blockCount();
        try {
            long pos = plan.offset();
            int i = 0;
            while (i < n) {
                int inBlock = (int) (pos % bs);
                int chunk = Math.min(bs - inBlock, src.remaining());
                if (fresh[i] && chunk < bs) {
                    ByteBuffer whole = ByteBuffer.allocate(bs);
                    if (old[i] >= 0) {
                        blocks.read(new BlockId(old[i]), 0, whole);
                        whole.clear();
                    }
                    whole.position(inBlock);
                    whole.put(src.slice(src.position(), chunk));
                    whole.clear();
                    blocks.write(new BlockId(target[i]), 0, whole);
                } else if (fresh[i]) {
                    int run = 1;
                    int maxRun = blocks.maxRun(new BlockId(target[i]));
                    while (i + run < n && run < maxRun && fresh[i + run] && target[i + run] == target[i] + run
                            && src.remaining() >= (run + 1) * bs) {
                        run++;
                    }
                    chunk = run * bs;
                    blocks.write(new BlockId(target[i]), 0, src.slice(src.position(), chunk));
                    i += run - 1;
                } else {
                    // a run of owned blocks, consecutive on disk too (as a sequential write left
                    // them): one write in place
                    int run = 1;
                    int maxRun = blocks.maxRun(new BlockId(target[i]));
                    while (i + run < n && run < maxRun && !fresh[i + run] && target[i + run] == target[i] + run
                            && src.remaining() > run * bs - inBlock) {
                        run++;
                    }
                    chunk = (int) Math.min((long) run * bs - inBlock, src.remaining());
                    blocks.write(new BlockId(target[i]), inBlock, src.slice(src.position(), chunk));
                    dirtyBlocks.add(ino, target[i], run);
                    i += run - 1;
                }
                src.position(src.position() + chunk);
                pos += chunk;
                i++;
            }
        } catch (RuntimeException e) {
            synchronized (meta) {
                cow.abandon(plan);
            }
            throw e;
        }
        return cow.copyAhead(plan.ahead());
    }

    /**
     * Under the monitor, after the blocks are written: points the extents at the plan's new blocks
     * and at the copied-ahead ones. Returns blocks added (holes filled).
     */
    private long recordExtents(WritePlan plan, CopyAhead ahead) {
        long ino = plan.ino();
        int n = plan.blockCount();
        // the new extents, the write's then the copy-ahead's (which follow it), in key order:
        // one walk down per leaf they fall in
        byte[][] keys = new byte[n + ahead.count()][];
        byte[][] values = new byte[keys.length][];
        int count = 0;
        for (int i = 0; i < n; i++) {
            if (plan.fresh()[i]) {
                keys[count] = Keys.extent(ino, plan.firstIndex() + i);
                values[count++] = Schema.u64(plan.target()[i]);
            }
        }
        int written = count;
        long afterWrite = plan.firstIndex() + n;
        for (int j = 0; j < ahead.count(); j++) {
            keys[count] = Keys.extent(ino, afterWrite + j);
            values[count++] = Schema.u64(ahead.to()[j]);
        }
        if (count == 0) {
            return 0;
        }
        byte[][] old = tree.putRun(root, keys, values, count);
        long added = 0;
        for (int i = 0; i < written; i++) {
            // a copy-ahead replaces a shared block's extent: no block added
            if (old[i] == null) {
                added++;
            }
        }
        return added;
    }

    /** Under the monitor, last step of recording a write. */
    private void markStructural(WritePlan plan, boolean grows) {
        if (plan.remaps() || grows) {
            // only a changed extent map or size needs a metadata commit before fdatasync
            // returns; overwrites of owned blocks need just the data sync
            inodes.structuralChange(plan.ino());
        }
    }

    // ---- truncate and delete -------------------------------------------------------------------

    /**
     * Zeroes {@code [from, min(to, end of from's block))} if that block exists: bytes past EOF in
     * the last block must read as zeros once the file grows over them.
     */
    private void zeroRange(long ino, long from, long to) {
        int inBlock = (int) (from % bs);
        if (inBlock == 0 || to <= from) {
            return;
        }
        boolean present;
        synchronized (meta) {
            present = tree.get(root.get(), Keys.extent(ino, from / bs)) != null;
        }
        if (present) {
            zeroFill(ino, from, (int) Math.min(bs - inBlock, to - from));
        }
    }

    /** Sets the size of a regular file (size already checked); sets mtime and ctime. */
    InodeAttr truncate(long ino, long size) {
        long oldSize;
        synchronized (meta) {
            InodeRecord r = inodes.inode(ino);
            if ((r.mode & FileType.TYPE_MASK) == FileType.DIRECTORY.bits()) {
                throw new ClonefsException.IsDirectory("inode " + ino + " is a directory");
            }
            if ((r.mode & FileType.TYPE_MASK) != FileType.REGULAR.bits()) {
                throw new ClonefsException.InvalidArgument("inode " + ino + " is not a regular file");
            }
            oldSize = r.size;
        }
        long removed = 0;
        // zeroed before the extents go, so that a failed write leaves the inode's size and
        // block counts matching its extents
        zeroRange(ino, Math.min(size, oldSize), Math.max(size, oldSize));
        if (size < oldSize) {
            synchronized (meta) {
                removed = deleteExtentsFrom(ino, (size + bs - 1) / bs);
            }
        }
        synchronized (meta) {
            InodeRecord r = inodes.inode(ino);
            long t = InodeTable.now();
            r.size = size;
            r.blocks -= removed;
            r.mtimeNs = t;
            r.ctimeNs = t;
            inodes.put(ino, r, true);
            inodes.addReferencedBlocks(-removed);
            return InodeTable.attr(ino, r);
        }
    }

    /**
     * Under the monitor: deletes an inode with no links left (any type): its extents, its record
     * and orphan mark, and what is remembered of its writes.
     */
    void purge(long ino) {
        long removed = deleteExtentsFrom(ino, 0);
        inodes.remove(ino, removed);
        dirtyBlocks.forget(ino);
        cow.forget(ino);
    }

    /** Under the monitor: deletes extents with block index >= {@code fromIndex}; returns how many. */
    private long deleteExtentsFrom(long ino, long fromIndex) {
        long removed = 0;
        byte[] from = Keys.extent(ino, fromIndex);
        byte[] to = Keys.extentsTo(ino);
        while (true) {
            List<byte[]> batch = new ArrayList<>();
            tree.scan(root.get(), from, to, (k, v) -> {
                batch.add(k);
                return batch.size() < 4096;
            });
            if (batch.isEmpty()) {
                return removed;
            }
            for (byte[] k : batch) {
                tree.delete(root, k);
            }
            removed += batch.size();
        }
    }

    // ---- durability ----------------------------------------------------------------------------

    /**
     * Makes every change made so far durable (a directory's fsync, {@link VolumeFs#fsyncDir}). Not
     * counted in {@code clonefs_fsync_total}, which counts files' fsyncs; the commit it makes, if
     * any, counts in {@code clonefs_metadata_commits_total}.
     */
    void fsyncAll() {
        long epoch;
        synchronized (meta) {
            root.record();
            epoch = meta.epoch();
        }
        meta.commitThrough(epoch, new long[0]);
    }

    /**
     * Makes the file's changes durable: a metadata commit if one it depends on is not yet durable
     * (all changes, or for {@code dataOnly} only size, extents and links), else a data sync of the
     * blocks it overwrote in place. Needs no inode lock.
     */
    void fsync(long ino, boolean dataOnly) {
        long needed;
        synchronized (meta) {
            root.record();
            needed = inodes.epochToSync(ino, dataOnly);
        }
        long[] overwritten = dirtyBlocks.take(ino);
        try {
            if (needed > 0) {
                // syncs the blocks the commit references and this file's in-place writes, then commits
                FSYNC_COMMIT.increment();
                meta.commitThrough(needed, overwritten);
            } else {
                // nothing to commit: one data sync of the blocks this file overwrote in place
                // (through the intent log if it holds the bytes of one of them)
                FSYNC_DATA.increment();
                meta.syncInPlace(overwritten);
            }
        } catch (RuntimeException e) {
            dirtyBlocks.putBack(ino, overwritten);
            throw e;
        }
    }
}
