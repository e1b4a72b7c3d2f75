package io.clonefs.engine;

import io.clonefs.base.ClonefsException;
import io.clonefs.base.Errno;
import io.clonefs.base.BlockId;
import io.clonefs.block.BlockStore;
import io.clonefs.metadata.CowTree;
import io.clonefs.metadata.DatasetRecord;
import io.clonefs.metadata.InodeRecord;
import io.clonefs.metadata.Keys;
import io.clonefs.metadata.MetaStore;
import io.clonefs.metadata.Schema;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * {@link VolumeFs} of one dataset: a volume (writable) or a snapshot (read-only).
 *
 * <p>Locking, always in this order: the engine's snapshot barrier (read side, held by writes and
 * truncates, whose data I/O spans several steps), then the inode's lock from {@link InodeLocks},
 * then the {@link MetaStore} monitor, held only around in-memory tree work. Block reads and
 * writes happen with the monitor released. Namespace operations (create, rename, ...) are one
 * critical section under the monitor and so are atomic with respect to snapshots.
 */
final class Volume implements VolumeFs, CowTree.RootRef {
    private static final long MAX_FILE_SIZE = 1L << 50;
    private static final byte[] NO_VALUE = new byte[0];

    private final VolumeContext pool;
    private final MetaStore meta;
    private final CowTree tree;
    private final BlockStore blocks;
    private final int bs;
    private final String name;
    private final long datasetId;
    private final boolean readOnly;
    /** Open handles per inode; guarded by the meta monitor. */
    private final HashMap<Long, Integer> opens = new HashMap<>();
    /** Epoch of the last change of any attribute, and of size/extents/links, per inode; guarded by the meta monitor. */
    private final HashMap<Long, Long> changedEpoch = new HashMap<>();
    private final HashMap<Long, Long> structEpoch = new HashMap<>();
    private static final String FSYNCS = "clonefs_fsync_total";
    private static final String FSYNCS_HELP = "File fsyncs by what they needed: a metadata commit, or a data sync of the file's blocks alone.";
    private static final java.util.concurrent.atomic.LongAdder FSYNC_COMMIT = io.clonefs.metrics.Metrics.process()
            .counter(FSYNCS, FSYNCS_HELP, "needs", "commit");
    private static final java.util.concurrent.atomic.LongAdder FSYNC_DATA = io.clonefs.metrics.Metrics.process()
            .counter(FSYNCS, FSYNCS_HELP, "needs", "data");
    /** Per inode, one past the last block its latest copy-on-write copied (guarded by meta). */
    private final HashMap<Long, Long> cowEnd = new HashMap<>();
    /** Blocks overwritten in place per inode since its last fsync (its own lock). */
    private final DirtyBlocks dirtyBlocks = new DirtyBlocks();

    Volume(VolumeContext pool, DatasetRecord rec) {
        this.pool = pool;
        this.meta = pool.meta();
        this.tree = pool.tree();
        this.blocks = pool.blocks();
        this.bs = meta.blockSize();
        this.name = rec.name();
        this.datasetId = rec.id();
        this.readOnly = rec.snapshot();
    }

    long datasetId() {
        return datasetId;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public boolean readOnly() {
        return readOnly;
    }

    // ---- RootRef (under the meta monitor) ------------------------------------------------------

    private DatasetRecord record() {
        DatasetRecord r = meta.dataset(name);
        if (r == null || r.id() != datasetId) {
            throw new ClonefsException.NotFound((readOnly ? "snapshot '" : "volume '") + name + "' no longer exists");
        }
        return r;
    }

    @Override
    public long get() {
        return record().root();
    }

    @Override
    public void set(long newRoot) {
        meta.putDataset(record().withRoot(newRoot));
    }

    // ---- helpers (under the meta monitor) ------------------------------------------------------

    private void checkWritable() {
        if (readOnly) {
            throw new ClonefsException.ReadOnly("snapshot '" + name + "' is read-only");
        }
    }

    private InodeRecord inode(long ino) {
        byte[] v = tree.get(get(), Keys.inode(ino));
        if (v == null) {
            throw new ClonefsException.NotFound("no inode " + ino + " in " + name);
        }
        return InodeRecord.decode(v);
    }

    private InodeRecord dirInode(long ino) {
        InodeRecord r = inode(ino);
        if ((r.mode & FileType.TYPE_MASK) != FileType.DIRECTORY.bits()) {
            throw new ClonefsException.NotDirectory("inode " + ino + " is not a directory");
        }
        return r;
    }

    private void putInode(long ino, InodeRecord r, boolean structural) {
        tree.put(this, Keys.inode(ino), r.encode());
        long e = meta.epoch();
        changedEpoch.put(ino, e);
        if (structural) {
            structEpoch.put(ino, e);
        }
    }

    /** [next inode number, referenced blocks] */
    private long[] superRecord() {
        byte[] v = tree.get(get(), Keys.superKey());
        ByteBuffer b = ByteBuffer.wrap(v);
        return new long[] {b.getLong(), b.getLong()};
    }

    private void putSuper(long nextIno, long refBlocks) {
        tree.put(this, Keys.superKey(), ByteBuffer.allocate(16).putLong(nextIno).putLong(refBlocks).array());
    }

    private void addReferencedBlocks(long delta) {
        if (delta != 0) {
            long[] s = superRecord();
            putSuper(s[0], s[1] + delta);
        }
    }

    private long direntIno(long dir, byte[] nameBytes) {
        byte[] v = tree.get(get(), Keys.dirent(dir, nameBytes));
        return v == null ? -1 : ByteBuffer.wrap(v).getLong();
    }

    private static byte[] direntValue(long ino, int mode) {
        return ByteBuffer.allocate(9).putLong(ino).put((byte) ((mode & FileType.TYPE_MASK) >>> 12)).array();
    }

    private static long now() {
        long ms = System.currentTimeMillis();
        return ms * 1_000_000L + (System.nanoTime() % 1_000_000L + 1_000_000L) % 1_000_000L;
    }

    private static InodeAttr attr(long ino, InodeRecord r) {
        return new InodeAttr(InodeId.of(ino), r.mode, r.nlink, r.uid, r.gid, r.size, r.blocks, r.atimeNs, r.mtimeNs, r.ctimeNs);
    }

    private void touchDir(long dir, InodeRecord d, long t, int nlinkDelta) {
        d.mtimeNs = t;
        d.ctimeNs = t;
        d.nlink += nlinkDelta;
        putInode(dir, d, true);
    }

    /** Under the monitor: puts one item of an imported tree as it is (see {@code Engine.importSnapshot}). */
    void importItem(byte[] key, byte[] value) {
        tree.put(this, key, value);
    }

    /** Builds the tree of a new, empty volume: super record and root directory. */
    void format() {
        long t = now();
        putSuper(InodeId.ROOT.value() + 1, 0);
        InodeRecord root = new InodeRecord();
        root.mode = FileType.DIRECTORY.bits() | 0755;
        root.nlink = 2;
        root.parent = InodeId.ROOT.value();
        root.atimeNs = t;
        root.mtimeNs = t;
        root.ctimeNs = t;
        putInode(InodeId.ROOT.value(), root, true);
    }

    /** Removes inodes that were unlinked while open when this tree was last written. */
    void purgeOrphans() {
        List<Long> inos = new ArrayList<>();
        tree.scan(get(), Keys.orphansFrom(), Keys.orphansTo(), (k, v) -> inos.add(Keys.orphanIno(k)));
        for (long ino : inos) {
            purge(ino);
        }
    }

    /** Deletes an inode with no links left: its extents, its record and its orphan mark. */
    private void purge(long ino) {
        long removed = deleteExtentsFrom(ino, 0);
        tree.delete(this, Keys.inode(ino));
        tree.delete(this, Keys.orphan(ino));
        addReferencedBlocks(-removed);
        changedEpoch.remove(ino);
        structEpoch.put(ino, meta.epoch());
        dirtyBlocks.forget(ino);
        cowEnd.remove(ino);
    }

    /** Deletes extents with block index >= {@code fromIndex}; returns how many. */
    private long deleteExtentsFrom(long ino, long fromIndex) {
        long removed = 0;
        byte[] from = Keys.extent(ino, fromIndex);
        byte[] to = Keys.extentsTo(ino);
        while (true) {
            List<byte[]> batch = new ArrayList<>();
            tree.scan(get(), from, to, (k, v) -> {
                batch.add(k);
                return batch.size() < 4096;
            });
            if (batch.isEmpty()) {
                return removed;
            }
            for (byte[] k : batch) {
                tree.delete(this, k);
            }
            removed += batch.size();
        }
    }

    // ---- VolumeFs: lookups --------------------------------------------------------------------

    @Override
    public InodeAttr getattr(InodeId ino) {
        synchronized (meta) {
            return attr(ino.value(), inode(ino.value()));
        }
    }

    @Override
    public InodeId lookup(InodeId dir, String fileName) {
        byte[] nb = Names.checkFileName(fileName);
        synchronized (meta) {
            dirInode(dir.value());
            long ino = direntIno(dir.value(), nb);
            if (ino < 0) {
                throw new ClonefsException.NotFound("'" + fileName + "' not found");
            }
            return InodeId.of(ino);
        }
    }

    @Override
    public InodeId resolve(String relativePath) {
        InodeId cur = InodeId.ROOT;
        for (String part : relativePath.split("/")) {
            if (!part.isEmpty() && !part.equals(".")) {
                cur = lookup(cur, part);
            }
        }
        return cur;
    }

    @Override
    public List<DirEntry> readdir(InodeId dir) {
        synchronized (meta) {
            dirInode(dir.value());
            List<DirEntry> out = new ArrayList<>();
            tree.scan(get(), Keys.direntsFrom(dir.value()), Keys.direntsTo(dir.value()), (k, v) -> {
                ByteBuffer b = ByteBuffer.wrap(v);
                long ino = b.getLong();
                int type = (b.get() & 0xff) << 12;
                out.add(new DirEntry(new String(Keys.direntName(k), StandardCharsets.UTF_8), InodeId.of(ino), FileType.ofMode(type)));
                return true;
            });
            return out;
        }
    }

    @Override
    public String readlink(InodeId ino) {
        synchronized (meta) {
            InodeRecord r = inode(ino.value());
            if ((r.mode & FileType.TYPE_MASK) != FileType.SYMLINK.bits()) {
                throw new ClonefsException.InvalidArgument("inode " + ino.value() + " is not a symbolic link");
            }
            return r.targetString();
        }
    }

    // ---- VolumeFs: namespace changes ----------------------------------------------------------

    private InodeAttr newInode(InodeId dir, String fileName, int mode, int uid, int gid, byte[] target) {
        checkWritable();
        byte[] nb = Names.checkFileName(fileName);
        synchronized (meta) {
            InodeRecord d = dirInode(dir.value());
            if (direntIno(dir.value(), nb) >= 0) {
                throw new ClonefsException.AlreadyExists("'" + fileName + "' already exists");
            }
            long[] sup = superRecord();
            long ino = sup[0];
            putSuper(ino + 1, sup[1]);
            long t = now();
            InodeRecord r = new InodeRecord();
            r.mode = mode;
            r.uid = uid;
            r.gid = gid;
            r.atimeNs = t;
            r.mtimeNs = t;
            r.ctimeNs = t;
            boolean isDir = (mode & FileType.TYPE_MASK) == FileType.DIRECTORY.bits();
            r.nlink = isDir ? 2 : 1;
            r.parent = isDir ? dir.value() : 0;
            if (target != null) {
                r.target = target;
                r.size = target.length;
            }
            putInode(ino, r, true);
            tree.put(this, Keys.dirent(dir.value(), nb), direntValue(ino, mode));
            touchDir(dir.value(), d, t, isDir ? 1 : 0);
            return attr(ino, r);
        }
    }

    @Override
    public InodeAttr create(InodeId dir, String fileName, int mode, int uid, int gid) {
        int type = mode & FileType.TYPE_MASK;
        if (type != 0 && type != FileType.REGULAR.bits()) {
            throw new ClonefsException.InvalidArgument("create makes regular files only");
        }
        return newInode(dir, fileName, FileType.REGULAR.bits() | (mode & FileType.PERMISSION_MASK), uid, gid, null);
    }

    @Override
    public InodeAttr mkdir(InodeId dir, String fileName, int mode, int uid, int gid) {
        return newInode(dir, fileName, FileType.DIRECTORY.bits() | (mode & FileType.PERMISSION_MASK), uid, gid, null);
    }

    @Override
    public InodeAttr symlink(InodeId dir, String fileName, String target, int uid, int gid) {
        byte[] t = target.getBytes(StandardCharsets.UTF_8);
        if (t.length == 0 || t.length > 4095) {
            throw new ClonefsException.InvalidArgument("symbolic link target must be 1 to 4095 bytes");
        }
        return newInode(dir, fileName, FileType.SYMLINK.bits() | 0777, uid, gid, t);
    }

    @Override
    public InodeAttr link(InodeId ino, InodeId newDir, String newName) {
        checkWritable();
        byte[] nb = Names.checkFileName(newName);
        synchronized (meta) {
            InodeRecord r = inode(ino.value());
            if ((r.mode & FileType.TYPE_MASK) == FileType.DIRECTORY.bits()) {
                throw new ClonefsException(Errno.EPERM, "cannot hard-link a directory");
            }
            InodeRecord d = dirInode(newDir.value());
            if (direntIno(newDir.value(), nb) >= 0) {
                throw new ClonefsException.AlreadyExists("'" + newName + "' already exists");
            }
            if (r.nlink == 0) {
                throw new ClonefsException.NotFound("inode " + ino.value() + " has been unlinked");
            }
            long t = now();
            r.nlink++;
            r.ctimeNs = t;
            putInode(ino.value(), r, true);
            tree.put(this, Keys.dirent(newDir.value(), nb), direntValue(ino.value(), r.mode));
            touchDir(newDir.value(), d, t, 0);
            return attr(ino.value(), r);
        }
    }

    @Override
    public void unlink(InodeId dir, String fileName) {
        checkWritable();
        byte[] nb = Names.checkFileName(fileName);
        synchronized (meta) {
            InodeRecord d = dirInode(dir.value());
            long ino = direntIno(dir.value(), nb);
            if (ino < 0) {
                throw new ClonefsException.NotFound("'" + fileName + "' not found");
            }
            InodeRecord r = inode(ino);
            if ((r.mode & FileType.TYPE_MASK) == FileType.DIRECTORY.bits()) {
                throw new ClonefsException.IsDirectory("'" + fileName + "' is a directory");
            }
            long t = now();
            tree.delete(this, Keys.dirent(dir.value(), nb));
            dropLink(ino, r, t);
            touchDir(dir.value(), d, t, 0);
        }
    }

    private void dropLink(long ino, InodeRecord r, long t) {
        r.nlink--;
        r.ctimeNs = t;
        if (r.nlink > 0) {
            putInode(ino, r, true);
        } else if (opens.getOrDefault(ino, 0) > 0) {
            putInode(ino, r, true);
            tree.put(this, Keys.orphan(ino), NO_VALUE);
        } else {
            purge(ino);
        }
    }

    @Override
    public void rmdir(InodeId dir, String fileName) {
        checkWritable();
        byte[] nb = Names.checkFileName(fileName);
        synchronized (meta) {
            InodeRecord d = dirInode(dir.value());
            long ino = direntIno(dir.value(), nb);
            if (ino < 0) {
                throw new ClonefsException.NotFound("'" + fileName + "' not found");
            }
            dirInode(ino);
            checkEmpty(ino, fileName);
            tree.delete(this, Keys.dirent(dir.value(), nb));
            purge(ino);
            touchDir(dir.value(), d, now(), -1);
        }
    }

    private void checkEmpty(long dirIno, String fileName) {
        boolean[] any = {false};
        tree.scan(get(), Keys.direntsFrom(dirIno), Keys.direntsTo(dirIno), (k, v) -> {
            any[0] = true;
            return false;
        });
        if (any[0]) {
            throw new ClonefsException.NotEmpty("directory '" + fileName + "' is not empty");
        }
    }

    @Override
    public void rename(InodeId srcDir, String srcName, InodeId dstDir, String dstName) {
        checkWritable();
        byte[] sn = Names.checkFileName(srcName);
        byte[] dn = Names.checkFileName(dstName);
        synchronized (meta) {
            InodeRecord sd = dirInode(srcDir.value());
            InodeRecord dd = srcDir.equals(dstDir) ? sd : dirInode(dstDir.value());
            long ino = direntIno(srcDir.value(), sn);
            if (ino < 0) {
                throw new ClonefsException.NotFound("'" + srcName + "' not found");
            }
            long existing = direntIno(dstDir.value(), dn);
            if (existing == ino) {
                return; // same file (or a hard link to it): POSIX says do nothing
            }
            InodeRecord r = inode(ino);
            boolean isDir = (r.mode & FileType.TYPE_MASK) == FileType.DIRECTORY.bits();
            if (isDir && !srcDir.equals(dstDir)) {
                for (long p = dstDir.value(); ; p = inode(p).parent) {
                    if (p == ino) {
                        throw new ClonefsException.InvalidArgument("cannot move directory '" + srcName + "' into itself");
                    }
                    if (p == InodeId.ROOT.value()) {
                        break;
                    }
                }
            }
            long t = now();
            if (existing >= 0) {
                InodeRecord er = inode(existing);
                boolean eDir = (er.mode & FileType.TYPE_MASK) == FileType.DIRECTORY.bits();
                if (isDir && !eDir) {
                    throw new ClonefsException.NotDirectory("'" + dstName + "' is not a directory");
                }
                if (!isDir && eDir) {
                    throw new ClonefsException.IsDirectory("'" + dstName + "' is a directory");
                }
                if (eDir) {
                    checkEmpty(existing, dstName);
                    purge(existing);
                    dd.nlink--;
                } else {
                    dropLink(existing, er, t);
                }
            }
            tree.delete(this, Keys.dirent(srcDir.value(), sn));
            tree.put(this, Keys.dirent(dstDir.value(), dn), direntValue(ino, r.mode));
            r.ctimeNs = t;
            if (isDir && !srcDir.equals(dstDir)) {
                r.parent = dstDir.value();
                sd.nlink--;
                dd.nlink++;
            }
            putInode(ino, r, true);
            touchDir(srcDir.value(), sd, t, 0);
            if (!srcDir.equals(dstDir)) {
                touchDir(dstDir.value(), dd, t, 0);
            }
        }
    }

    // ---- VolumeFs: attributes -----------------------------------------------------------------

    /** Changes attributes of an inode in one critical section; ctime is set. */
    private InodeAttr updateAttributes(InodeId ino, boolean structural, java.util.function.Consumer<InodeRecord> change) {
        checkWritable();
        synchronized (meta) {
            InodeRecord r = inode(ino.value());
            change.accept(r);
            r.ctimeNs = now();
            putInode(ino.value(), r, structural);
            return attr(ino.value(), r);
        }
    }

    @Override
    public InodeAttr chmod(InodeId ino, int mode) {
        return updateAttributes(ino, true, r -> r.mode = (r.mode & FileType.TYPE_MASK) | (mode & FileType.PERMISSION_MASK));
    }

    @Override
    public InodeAttr chown(InodeId ino, int uid, int gid) {
        return updateAttributes(ino, true, r -> {
            if (uid != -1) {
                r.uid = uid;
            }
            if (gid != -1) {
                r.gid = gid;
            }
        });
    }

    @Override
    public InodeAttr utimens(InodeId ino, long atimeNs, long mtimeNs) {
        return updateAttributes(ino, false, r -> {
            r.atimeNs = atimeNs;
            r.mtimeNs = mtimeNs;
        });
    }

    // ---- VolumeFs: data -----------------------------------------------------------------------

    @Override
    public int read(InodeId ino, long offset, ByteBuffer dst) {
        if (offset < 0) {
            throw new ClonefsException.InvalidArgument("negative offset");
        }
        ReentrantReadWriteLock lock = pool.inodeLocks().of(datasetId, ino.value());
        lock.readLock().lock();
        try {
            long size;
            long first;
            long[] ids;
            int want;
            synchronized (meta) {
                InodeRecord r = inode(ino.value());
                if ((r.mode & FileType.TYPE_MASK) == FileType.DIRECTORY.bits()) {
                    throw new ClonefsException.IsDirectory("inode " + ino.value() + " is a directory");
                }
                size = r.size;
                if (offset >= size || !dst.hasRemaining()) {
                    return 0;
                }
                want = (int) Math.min(dst.remaining(), size - offset);
                first = offset / bs;
                long last = (offset + want - 1) / bs;
                long[] found = new long[(int) (last - first + 1)];
                java.util.Arrays.fill(found, -1);
                tree.scan(get(), Keys.extent(ino.value(), first), Keys.extent(ino.value(), last + 1), (k, v) -> {
                    found[(int) (Keys.extentIndex(k) - first)] = ByteBuffer.wrap(v).getLong();
                    return true;
                });
                ids = found;
            }
            long pos = offset;
            int end = dst.position() + want;
            for (int i = 0; dst.position() < end; i++) {
                int inBlock = (int) (pos % bs);
                int n = Math.min(bs - inBlock, end - dst.position());
                ByteBuffer part = dst.slice(dst.position(), n);
                if (ids[i] < 0) {
                    while (part.hasRemaining()) {
                        part.put((byte) 0);
                    }
                } else {
                    blocks.read(new BlockId(ids[i]), inBlock, part);
                }
                dst.position(dst.position() + n);
                pos += n;
            }
            return want;
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public int write(InodeId ino, long offset, ByteBuffer src) {
        return write(ino, offset, src, true);
    }

    @Override
    public int writeKeepingTimes(InodeId ino, long offset, ByteBuffer src) {
        return write(ino, offset, src, false);
    }

    private int write(InodeId ino, long offset, ByteBuffer src, boolean setTimes) {
        checkWritable();
        int len = src.remaining();
        if (offset < 0) {
            throw new ClonefsException.InvalidArgument("negative offset");
        }
        if (offset + len > MAX_FILE_SIZE) {
            throw new ClonefsException(Errno.EFBIG, "write beyond the largest file size");
        }
        if (len == 0) {
            return 0; // POSIX: a zero-length write changes nothing, not even the size
        }
        pool.barrier().readLock().lock();
        try {
            ReentrantReadWriteLock lock = pool.inodeLocks().of(datasetId, ino.value());
            lock.writeLock().lock();
            try {
                writeBlocks(ino.value(), offset, src, true, setTimes);
                pool.afterChange().run();
                return len;
            } finally {
                lock.writeLock().unlock();
            }
        } finally {
            pool.barrier().readLock().unlock();
        }
    }

    /**
     * Writes bytes into the file's blocks: in place where this tree alone owns the block, else
     * into a new block (read-modify-write for a partial block) that then replaces the extent.
     * Runs of new, whole, consecutive blocks go to the block store in one write. Caller holds the
     * barrier and the inode lock, not the monitor, which is taken twice: to plan (look up and
     * allocate blocks) and to record (extents, and for {@code asWrite} the inode's size, block
     * count and times). Returns blocks added (holes filled).
     */
    private long writeBlocks(long ino, long offset, ByteBuffer src, boolean asWrite, boolean setTimes) {
        int len = src.remaining();
        if (len == 0) {
            return 0;
        }
        long firstIndex = offset / bs;
        int n = (int) ((offset + len - 1) / bs - firstIndex + 1);
        long[] target = new long[n];
        long[] old = new long[n];
        boolean[] fresh = new boolean[n];
        long gapFrom = -1;
        synchronized (meta) {
            if (asWrite) {
                InodeRecord r = inode(ino);
                if ((r.mode & FileType.TYPE_MASK) != FileType.REGULAR.bits()) {
                    throw new ClonefsException.IsDirectory("inode " + ino + " is not a regular file");
                }
                if (offset > r.size && r.size % bs != 0 && tree.get(get(), Keys.extent(ino, r.size / bs)) != null) {
                    gapFrom = r.size;
                }
            }
            if (gapFrom < 0) {
                planBlocks(ino, firstIndex, target, old, fresh);
            }
        }
        if (gapFrom >= 0) {
            // a write past EOF: the bytes between EOF and the write in EOF's block must read as
            // zeros, whatever an earlier failed write or truncate left there
            zeroRange(ino, gapFrom, offset);
            synchronized (meta) {
                planBlocks(ino, firstIndex, target, old, fresh);
            }
        }
        long[][] ahead = asWrite ? planCopyAhead(ino, firstIndex, n, old, fresh) : NO_AHEAD;
        try {
            long pos = offset;
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
                    blocks.write(new BlockId(target[i]), inBlock, src.slice(src.position(), chunk));
                    dirtyBlocks.add(ino, target[i], 1);
                }
                src.position(src.position() + chunk);
                pos += chunk;
                i++;
            }
        } catch (RuntimeException e) {
            synchronized (meta) {
                for (int j = 0; j < n; j++) {
                    if (fresh[j]) {
                        meta.abandonBlock(new BlockId(target[j]));
                    }
                }
                abandon(ahead);
            }
            throw e;
        }
        ahead = copyAhead(ahead);
        long added = 0;
        boolean remapped = false;
        for (boolean f : fresh) {
            remapped |= f;
        }
        if (!remapped && !asWrite) {
            return 0;
        }
        synchronized (meta) {
            for (int i = 0; i < n; i++) {
                if (fresh[i] && tree.put(this, Keys.extent(ino, firstIndex + i), Schema.u64(target[i])) == null) {
                    added++;
                }
            }
            for (int j = 0; j < ahead[0].length; j++) {
                // replaces a shared block's extent: no block added
                tree.put(this, Keys.extent(ino, firstIndex + n + j), Schema.u64(ahead[1][j]));
            }
            boolean grows = false;
            if (asWrite) {
                InodeRecord r = inode(ino);
                grows = offset + len > r.size;
                if (setTimes || grows || added > 0) {
                    if (grows) {
                        r.size = offset + len;
                    }
                    r.blocks += added;
                    if (setTimes) {
                        long t = now();
                        r.mtimeNs = t;
                        r.ctimeNs = t;
                    }
                    putInode(ino, r, false);
                    addReferencedBlocks(added);
                }
            }
            if (remapped || grows) {
                // only a changed extent map or size needs a metadata commit before fdatasync
                // returns; overwrites of owned blocks need just the data sync
                structEpoch.put(ino, meta.epoch());
            }
        }
        return added;
    }

    private static final long[][] NO_AHEAD = {new long[0], new long[0]};
    /** How far a sequential writer's copy-on-write copies ahead. */
    private static final int COPY_AHEAD_BYTES = 256 << 10;

    /**
     * Copy-ahead for sequential copy-on-write. Right after a snapshot every write to a shared block
     * moves it to a new block, so each {@code fdatasync} needs a metadata commit. A file written in
     * order (PostgreSQL's WAL) would pay one commit per block. When a write copies a shared block
     * and the file's previous copy ended within this write, the shared blocks that follow
     * (up to {@link #COPY_AHEAD_BYTES}, within the file, stopping at the first block that is not a
     * shared local block) are copied to new blocks in the same metadata change, so the writes that
     * follow land in place. The cost: up to that many bytes copied that the writer may never
     * overwrite. Returns {old blocks, new blocks}, allocated, not yet copied.
     */
    private long[][] planCopyAhead(long ino, long firstIndex, int n, long[] old, boolean[] fresh) {
        boolean cow = fresh[n - 1] && old[n - 1] >= 0;
        long end = firstIndex + n;
        synchronized (meta) {
            if (!cow) {
                return NO_AHEAD;
            }
            Long prev = cowEnd.get(ino);
            if (cowEnd.size() > 10_000) {
                cowEnd.clear();
            }
            // sequential: this write reaches the first block the previous copy left shared
            if (prev == null || prev < firstIndex || prev >= end) {
                cowEnd.put(ino, end);
                return NO_AHEAD;
            }
            long lastIndex = (inode(ino).size - 1) / bs;
            int max = Math.max(1, COPY_AHEAD_BYTES / bs);
            long root = get();
            long[] from = new long[max];
            int k = 0;
            while (k < max && end + k <= lastIndex) {
                long[] probe = tree.probeBlock(root, Keys.extent(ino, end + k));
                if (probe == null || probe[1] == 1 || !blocks.writableInPlace(new BlockId(probe[0]))) {
                    break;
                }
                from[k++] = probe[0];
            }
            long[] to = new long[k];
            for (int j = 0; j < k; j++) {
                to[j] = meta.allocateBlock().value();
            }
            cowEnd.put(ino, end + k);
            return new long[][] {Arrays.copyOf(from, k), to};
        }
    }

    /** Copies the planned blocks; on a failure gives up the copy-ahead (nothing is lost: the extents still point at the shared blocks). */
    private long[][] copyAhead(long[][] ahead) {
        if (ahead[0].length == 0) {
            return ahead;
        }
        try {
            ByteBuffer buf = ByteBuffer.allocate(bs);
            for (int j = 0; j < ahead[0].length; j++) {
                buf.clear();
                blocks.read(new BlockId(ahead[0][j]), 0, buf);
                buf.flip();
                blocks.write(new BlockId(ahead[1][j]), 0, buf);
            }
            return ahead;
        } catch (RuntimeException e) {
            synchronized (meta) {
                abandon(ahead);
            }
            return NO_AHEAD;
        }
    }

    /** Under the monitor. */
    private void abandon(long[][] ahead) {
        for (long b : ahead[1]) {
            meta.abandonBlock(new BlockId(b));
        }
    }

    /**
     * Under the monitor: for each block of a write, the block to write into — the current one if
     * this tree alone owns it, else a new one ({@code fresh}) — and the current one ({@code old}, or -1).
     */
    private void planBlocks(long ino, long firstIndex, long[] target, long[] old, boolean[] fresh) {
        long root = get();
        for (int i = 0; i < target.length; i++) {
            long[] probe = tree.probeBlock(root, Keys.extent(ino, firstIndex + i));
            old[i] = probe == null ? -1 : probe[0];
            if (probe != null && probe[1] == 1 && blocks.writableInPlace(new BlockId(probe[0]))) {
                target[i] = probe[0];
            } else {
                target[i] = meta.allocateBlock().value();
                fresh[i] = true;
            }
        }
    }

    /**
     * Zeroes {@code [from, min(to, end of from's block))} if that block exists: bytes past EOF in
     * the last block must read as zeros once the file grows over them. Caller holds the barrier
     * and the inode lock.
     */
    private void zeroRange(long ino, long from, long to) {
        int inBlock = (int) (from % bs);
        if (inBlock == 0 || to <= from) {
            return;
        }
        boolean present;
        synchronized (meta) {
            present = tree.get(get(), Keys.extent(ino, from / bs)) != null;
        }
        if (present) {
            writeBlocks(ino, from, ByteBuffer.allocate((int) Math.min(bs - inBlock, to - from)), false, false);
        }
    }

    @Override
    public InodeAttr truncate(InodeId ino, long size) {
        checkWritable();
        if (size < 0 || size > MAX_FILE_SIZE) {
            throw new ClonefsException.InvalidArgument("invalid file size " + size);
        }
        pool.barrier().readLock().lock();
        try {
            ReentrantReadWriteLock lock = pool.inodeLocks().of(datasetId, ino.value());
            lock.writeLock().lock();
            try {
                long oldSize;
                synchronized (meta) {
                    InodeRecord r = inode(ino.value());
                    if ((r.mode & FileType.TYPE_MASK) == FileType.DIRECTORY.bits()) {
                        throw new ClonefsException.IsDirectory("inode " + ino.value() + " is a directory");
                    }
                    if ((r.mode & FileType.TYPE_MASK) != FileType.REGULAR.bits()) {
                        throw new ClonefsException.InvalidArgument("inode " + ino.value() + " is not a regular file");
                    }
                    oldSize = r.size;
                }
                long removed = 0;
                // zeroed before the extents go, so that a failed write leaves the inode's size and
                // block counts matching its extents
                zeroRange(ino.value(), Math.min(size, oldSize), Math.max(size, oldSize));
                if (size < oldSize) {
                    synchronized (meta) {
                        removed = deleteExtentsFrom(ino.value(), (size + bs - 1) / bs);
                    }
                }
                synchronized (meta) {
                    InodeRecord r = inode(ino.value());
                    long t = now();
                    r.size = size;
                    r.blocks -= removed;
                    r.mtimeNs = t;
                    r.ctimeNs = t;
                    putInode(ino.value(), r, true);
                    addReferencedBlocks(-removed);
                    return attr(ino.value(), r);
                }
            } finally {
                lock.writeLock().unlock();
            }
        } finally {
            pool.barrier().readLock().unlock();
        }
    }

    // ---- VolumeFs: handles and durability ------------------------------------------------------

    @Override
    public void open(InodeId ino) {
        synchronized (meta) {
            inode(ino.value());
            opens.merge(ino.value(), 1, Integer::sum);
        }
    }

    @Override
    public void release(InodeId ino) {
        synchronized (meta) {
            Integer n = opens.get(ino.value());
            if (n == null) {
                return;
            }
            if (n > 1) {
                opens.put(ino.value(), n - 1);
                return;
            }
            opens.remove(ino.value());
            if (readOnly || meta.dataset(name) == null) {
                return;
            }
            byte[] v = tree.get(get(), Keys.inode(ino.value()));
            if (v != null && InodeRecord.decode(v).nlink == 0) {
                purge(ino.value());
            }
        }
    }

    @Override
    public void fsync(InodeId ino, boolean dataOnly) {
        long needed;
        synchronized (meta) {
            record();
            Long e = (dataOnly ? structEpoch : changedEpoch).get(ino.value());
            needed = e != null && e > meta.durableEpoch() ? e : 0;
            if (changedEpoch.size() > 100_000) {
                long d = meta.durableEpoch();
                changedEpoch.values().removeIf(x -> x <= d);
                structEpoch.values().removeIf(x -> x <= d);
            }
        }
        long[] overwritten = dirtyBlocks.take(ino.value());
        try {
            if (needed > 0) {
                // syncs the blocks the commit references and this file's in-place writes, then commits
                FSYNC_COMMIT.increment();
                meta.commitThrough(needed, overwritten);
            } else {
                // nothing to commit: one data sync of the blocks this file overwrote in place
                FSYNC_DATA.increment();
                blocks.syncBlocks(overwritten, overwritten.length);
            }
        } catch (RuntimeException e) {
            dirtyBlocks.putBack(ino.value(), overwritten);
            throw e;
        }
    }
}
