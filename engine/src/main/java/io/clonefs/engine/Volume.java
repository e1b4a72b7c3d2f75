package io.clonefs.engine;

import io.clonefs.base.ClonefsException;
import io.clonefs.base.Errno;
import io.clonefs.metadata.DatasetRecord;
import io.clonefs.metadata.MetaStore;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * {@link VolumeFs} of one dataset: a volume (writable) or a snapshot (read-only). A facade: it
 * checks arguments and that the dataset is writable, takes the locks, and hands each operation to
 * the part that answers it: {@link InodeTable} (inode records, attributes, open handles, orphans),
 * {@link Directories} (names), {@link FileData} (file bytes, with {@link CopyOnWrite} deciding
 * where each block is written).
 *
 * <p>Locking, always in this order: the engine's snapshot barrier (read side, held by writes and
 * truncates, whose data I/O spans several steps), then the inode's lock from {@link InodeLocks},
 * then the {@link MetaStore} monitor, held only around in-memory tree work. Block reads and
 * writes happen with the monitor released. Namespace operations (create, rename, ...) are one
 * critical section under the monitor and so are atomic with respect to snapshots. The barrier and
 * inode locks are taken here; the parts take the monitor.
 */
final class Volume implements VolumeFs {
    private static final long MAX_FILE_SIZE = 1L << 50;

    private final VolumeContext pool;
    private final MetaStore meta;
    private final DatasetRoot root;
    private final InodeTable inodes;
    private final FileData data;
    private final Directories dirs;

    Volume(VolumeContext pool, DatasetRecord rec) {
        this.pool = pool;
        this.meta = pool.meta();
        this.root = new DatasetRoot(meta, rec);
        this.inodes = new InodeTable(pool, root);
        this.data = new FileData(pool, root, inodes, new CopyOnWrite(pool, root, inodes));
        this.dirs = new Directories(pool, root, inodes, data);
    }

    long datasetId() {
        return root.datasetId();
    }

    @Override
    public String name() {
        return root.name();
    }

    @Override
    public boolean readOnly() {
        return root.readOnly();
    }

    private void checkWritable() {
        if (root.readOnly()) {
            throw new ClonefsException.ReadOnly("snapshot '" + root.name() + "' is read-only");
        }
    }

    // ---- for Engine (under the meta monitor) ---------------------------------------------------

    /** Under the monitor: puts one item of an imported tree as it is (see {@code Engine.importSnapshot}). */
    void importItem(byte[] key, byte[] value) {
        pool.tree().put(root, key, value);
    }

    /** Under the monitor: builds the tree of a new, empty volume: super record and root directory. */
    void format() {
        inodes.format();
    }

    /** Under the monitor: removes inodes that were unlinked while open when this tree was last written. */
    void purgeOrphans() {
        for (long ino : inodes.orphans()) {
            data.purge(ino);
        }
    }

    // ---- locks ---------------------------------------------------------------------------------

    /** Takes the barrier's read side, then the inode's write lock; returns the latter for {@link #unlockWrite}. */
    private ReentrantReadWriteLock.WriteLock lockWrite(InodeId ino) {
        pool.barrier().readLock().lock();
        try {
            ReentrantReadWriteLock.WriteLock lock = pool.inodeLocks().of(root.datasetId(), ino.value()).writeLock();
            lock.lock();
            return lock;
        } catch (RuntimeException | Error e) {
            pool.barrier().readLock().unlock();
            throw e;
        }
    }

    private void unlockWrite(ReentrantReadWriteLock.WriteLock lock) {
        try {
            lock.unlock();
        } finally {
            pool.barrier().readLock().unlock();
        }
    }

    // ---- VolumeFs: lookups ---------------------------------------------------------------------

    @Override
    public InodeAttr getattr(InodeId ino) {
        return inodes.getattr(ino);
    }

    @Override
    public InodeId lookup(InodeId dir, String fileName) {
        return dirs.lookup(dir, fileName);
    }

    @Override
    public InodeId resolve(String relativePath) {
        return dirs.resolve(relativePath);
    }

    @Override
    public List<DirEntry> readdir(InodeId dir) {
        return dirs.readdir(dir);
    }

    @Override
    public String readlink(InodeId ino) {
        return dirs.readlink(ino);
    }

    // ---- VolumeFs: namespace changes -----------------------------------------------------------

    @Override
    public InodeAttr create(InodeId dir, String fileName, int mode, int uid, int gid) {
        int type = mode & FileType.TYPE_MASK;
        if (type != 0 && type != FileType.REGULAR.bits()) {
            throw new ClonefsException.InvalidArgument("create makes regular files only");
        }
        checkWritable();
        return dirs.newInode(dir, fileName, FileType.REGULAR.bits() | (mode & FileType.PERMISSION_MASK), uid, gid, null);
    }

    @Override
    public InodeAttr mkdir(InodeId dir, String fileName, int mode, int uid, int gid) {
        checkWritable();
        return dirs.newInode(dir, fileName, FileType.DIRECTORY.bits() | (mode & FileType.PERMISSION_MASK), uid, gid, null);
    }

    @Override
    public InodeAttr symlink(InodeId dir, String fileName, String target, int uid, int gid) {
        byte[] t = target.getBytes(StandardCharsets.UTF_8);
        if (t.length == 0 || t.length > 4095) {
            throw new ClonefsException.InvalidArgument("symbolic link target must be 1 to 4095 bytes");
        }
        checkWritable();
        return dirs.newInode(dir, fileName, FileType.SYMLINK.bits() | 0777, uid, gid, t);
    }

    @Override
    public InodeAttr mknod(InodeId dir, String fileName, int mode, long rdev, int uid, int gid) {
        int type = mode & FileType.TYPE_MASK;
        if (type == 0 || type == FileType.REGULAR.bits()) {
            return create(dir, fileName, mode & FileType.PERMISSION_MASK, uid, gid);
        }
        FileType t;
        try {
            t = FileType.ofMode(mode);
        } catch (ClonefsException.InvalidArgument e) {
            t = null;
        }
        if (t == null || !t.special()) {
            // as mknod(2): a directory or symlink is not made by mknod
            throw new ClonefsException.InvalidArgument("mknod makes FIFOs, devices, sockets and regular files only, not mode 0"
                    + Integer.toOctalString(mode));
        }
        checkWritable();
        return dirs.newInode(dir, fileName, t.bits() | (mode & FileType.PERMISSION_MASK), uid, gid,
                t.device() ? InodeTable.rdevBytes(rdev) : null);
    }

    @Override
    public InodeAttr link(InodeId ino, InodeId newDir, String newName) {
        checkWritable();
        return dirs.link(ino, newDir, newName);
    }

    @Override
    public void unlink(InodeId dir, String fileName) {
        checkWritable();
        dirs.unlink(dir, fileName);
    }

    @Override
    public void rmdir(InodeId dir, String fileName) {
        checkWritable();
        dirs.rmdir(dir, fileName);
    }

    @Override
    public void rename(InodeId srcDir, String srcName, InodeId dstDir, String dstName) {
        checkWritable();
        dirs.rename(srcDir, srcName, dstDir, dstName);
    }

    // ---- VolumeFs: attributes ------------------------------------------------------------------

    @Override
    public InodeAttr chmod(InodeId ino, int mode) {
        checkWritable();
        return inodes.chmod(ino, mode);
    }

    @Override
    public InodeAttr chown(InodeId ino, int uid, int gid) {
        checkWritable();
        return inodes.chown(ino, uid, gid);
    }

    @Override
    public InodeAttr utimens(InodeId ino, long atimeNs, long mtimeNs) {
        checkWritable();
        return inodes.utimens(ino, atimeNs, mtimeNs);
    }

    // ---- VolumeFs: data ------------------------------------------------------------------------

    @Override
    public int read(InodeId ino, long offset, ByteBuffer dst) {
        if (offset < 0) {
            throw new ClonefsException.InvalidArgument("negative offset");
        }
        ReentrantReadWriteLock lock = pool.inodeLocks().of(root.datasetId(), ino.value());
        lock.readLock().lock();
        try {
            return data.read(ino.value(), offset, dst);
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public int write(InodeId ino, long offset, ByteBuffer src) {
        int len = checkWrite(offset, src);
        if (len == 0) {
            return 0; // POSIX: a zero-length write changes nothing, not even the size
        }
        ReentrantReadWriteLock.WriteLock lock = lockWrite(ino);
        try {
            data.write(ino.value(), offset, src);
            pool.afterChange().run();
            return len;
        } finally {
            unlockWrite(lock);
        }
    }

    @Override
    public int writeKeepingTimes(InodeId ino, long offset, ByteBuffer src) {
        int len = checkWrite(offset, src);
        if (len == 0) {
            return 0; // as write
        }
        ReentrantReadWriteLock.WriteLock lock = lockWrite(ino);
        try {
            data.writeKeepingTimes(ino.value(), offset, src);
            pool.afterChange().run();
            return len;
        } finally {
            unlockWrite(lock);
        }
    }

    /** Checks a write's dataset and range; returns its length. */
    private int checkWrite(long offset, ByteBuffer src) {
        checkWritable();
        int len = src.remaining();
        if (offset < 0) {
            throw new ClonefsException.InvalidArgument("negative offset");
        }
        if (offset + len > MAX_FILE_SIZE) {
            throw new ClonefsException(Errno.EFBIG, "write beyond the largest file size");
        }
        return len;
    }

    @Override
    public InodeAttr truncate(InodeId ino, long size) {
        checkWritable();
        if (size < 0 || size > MAX_FILE_SIZE) {
            throw new ClonefsException.InvalidArgument("invalid file size " + size);
        }
        ReentrantReadWriteLock.WriteLock lock = lockWrite(ino);
        try {
            return data.truncate(ino.value(), size);
        } finally {
            unlockWrite(lock);
        }
    }

    // ---- VolumeFs: handles and durability ------------------------------------------------------

    @Override
    public void open(InodeId ino) {
        inodes.open(ino);
    }

    @Override
    public void release(InodeId ino) {
        synchronized (meta) {
            // the last close of an unlinked file deletes it
            if (inodes.closeLast(ino.value())) {
                data.purge(ino.value());
            }
        }
    }

    @Override
    public void fsync(InodeId ino, boolean dataOnly) {
        data.fsync(ino.value(), dataOnly);
    }

    @Override
    public void fsyncDir(InodeId dir) {
        data.fsyncAll();
    }
}
