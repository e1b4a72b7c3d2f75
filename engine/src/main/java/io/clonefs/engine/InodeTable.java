package io.clonefs.engine;

import io.clonefs.base.ClonefsException;
import io.clonefs.metadata.CowTree;
import io.clonefs.metadata.InodeRecord;
import io.clonefs.metadata.Keys;
import io.clonefs.metadata.MetaStore;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.function.Consumer;

/**
 * The inode records of one dataset's tree and what is kept per inode beside them: the super
 * record (next inode number, referenced blocks), allocation of inode numbers, attributes
 * (getattr, chmod, chown, utimens), open handle counts, orphan marks (unlinked while open), and
 * the epochs that tell {@code fsync} which metadata change it must wait for.
 *
 * <p>Thread rules: the entry points {@link #getattr}, {@link #chmod}, {@link #chown},
 * {@link #utimens} and {@link #open} take the {@link MetaStore} monitor themselves; every other
 * method is called holding it, which also guards the in-memory maps here.
 */
final class InodeTable {
    private static final byte[] NO_VALUE = new byte[0];

    /** The super record: the next inode number to hand out and the blocks the tree's extents reference. */
    private record SuperRecord(long nextInode, long referencedBlocks) {
    }

    private final MetaStore meta;
    private final CowTree tree;
    private final DatasetRoot root;
    /** Open handles per inode. */
    private final HashMap<Long, Integer> opens = new HashMap<>();
    /** Epoch of the last change of any attribute, and of size/extents/links, per inode. */
    private final HashMap<Long, Long> changedEpoch = new HashMap<>();
    private final HashMap<Long, Long> structEpoch = new HashMap<>();

    InodeTable(VolumeContext pool, DatasetRoot root) {
        this.meta = pool.meta();
        this.tree = pool.tree();
        this.root = root;
    }

    /** Time for inode times, in nanoseconds since the epoch (millisecond clock, sub-millisecond from nanoTime). */
    static long now() {
        long ms = System.currentTimeMillis();
        return ms * 1_000_000L + (System.nanoTime() % 1_000_000L + 1_000_000L) % 1_000_000L;
    }

    static InodeAttr attr(long ino, InodeRecord r) {
        return new InodeAttr(InodeId.of(ino), r.mode, r.nlink, r.uid, r.gid, r.size, r.blocks, r.atimeNs, r.mtimeNs, r.ctimeNs,
                rdev(r));
    }

    /** A device's number, kept in the record's tail (8 bytes); 0 for any other type. */
    static long rdev(InodeRecord r) {
        int t = r.mode & FileType.TYPE_MASK;
        boolean device = t == FileType.CHAR_DEVICE.bits() || t == FileType.BLOCK_DEVICE.bits();
        return device && r.target.length == Long.BYTES ? ByteBuffer.wrap(r.target).getLong() : 0;
    }

    /** The record tail that stores device number {@code rdev}. */
    static byte[] rdevBytes(long rdev) {
        return ByteBuffer.allocate(Long.BYTES).putLong(rdev).array();
    }

    // ---- records (under the monitor) -----------------------------------------------------------

    InodeRecord inode(long ino) {
        byte[] v = tree.get(root.get(), Keys.inode(ino));
        if (v == null) {
            throw new ClonefsException.NotFound("no inode " + ino + " in " + root.name());
        }
        return InodeRecord.decode(v);
    }

    InodeRecord dirInode(long ino) {
        InodeRecord r = inode(ino);
        if ((r.mode & FileType.TYPE_MASK) != FileType.DIRECTORY.bits()) {
            throw new ClonefsException.NotDirectory("inode " + ino + " is not a directory");
        }
        return r;
    }

    /** Stores the record; {@code structural}: its size, extents or links changed (see {@link #epochToSync}). */
    void put(long ino, InodeRecord r, boolean structural) {
        tree.put(root, Keys.inode(ino), r.encode());
        long e = meta.epoch();
        changedEpoch.put(ino, e);
        if (structural) {
            structEpoch.put(ino, e);
        }
    }

    /**
     * The inode's size or extents changed without a structural {@link #put} (a write stores its
     * record as non-structural, since an overwrite in place changes only times): an
     * {@code fdatasync} of it must wait for the current epoch's commit.
     */
    void structuralChange(long ino) {
        structEpoch.put(ino, meta.epoch());
    }

    /** Hands out the next inode number. */
    long allocate() {
        SuperRecord sup = superRecord();
        putSuper(new SuperRecord(sup.nextInode() + 1, sup.referencedBlocks()));
        return sup.nextInode();
    }

    void addReferencedBlocks(long delta) {
        if (delta != 0) {
            SuperRecord s = superRecord();
            putSuper(new SuperRecord(s.nextInode(), s.referencedBlocks() + delta));
        }
    }

    private SuperRecord superRecord() {
        ByteBuffer b = ByteBuffer.wrap(tree.get(root.get(), Keys.superKey()));
        return new SuperRecord(b.getLong(), b.getLong());
    }

    private void putSuper(SuperRecord s) {
        tree.put(root, Keys.superKey(), ByteBuffer.allocate(16).putLong(s.nextInode()).putLong(s.referencedBlocks()).array());
    }

    /** Builds the tree of a new, empty volume: super record and root directory. */
    void format() {
        long t = now();
        putSuper(new SuperRecord(InodeId.ROOT.value() + 1, 0));
        InodeRecord rootDir = new InodeRecord();
        rootDir.mode = FileType.DIRECTORY.bits() | 0755;
        rootDir.nlink = 2;
        rootDir.parent = InodeId.ROOT.value();
        rootDir.atimeNs = t;
        rootDir.mtimeNs = t;
        rootDir.ctimeNs = t;
        put(InodeId.ROOT.value(), rootDir, true);
    }

    /**
     * Deletes the record of an inode with no links left and its orphan mark, and takes
     * {@code removedBlocks} (its extents, already deleted) off the referenced blocks.
     */
    void remove(long ino, long removedBlocks) {
        tree.delete(root, Keys.inode(ino));
        tree.delete(root, Keys.orphan(ino));
        addReferencedBlocks(-removedBlocks);
        changedEpoch.remove(ino);
        structEpoch.put(ino, meta.epoch());
    }

    // ---- attributes ----------------------------------------------------------------------------

    InodeAttr getattr(InodeId ino) {
        synchronized (meta) {
            return attr(ino.value(), inode(ino.value()));
        }
    }

    InodeAttr chmod(InodeId ino, int mode) {
        return update(ino, true, r -> r.mode = (r.mode & FileType.TYPE_MASK) | (mode & FileType.PERMISSION_MASK));
    }

    InodeAttr chown(InodeId ino, int uid, int gid) {
        return update(ino, true, r -> {
            if (uid != -1) {
                r.uid = uid;
            }
            if (gid != -1) {
                r.gid = gid;
            }
        });
    }

    InodeAttr utimens(InodeId ino, long atimeNs, long mtimeNs) {
        return update(ino, false, r -> {
            r.atimeNs = atimeNs;
            r.mtimeNs = mtimeNs;
        });
    }

    /** Changes attributes of an inode in one critical section; ctime is set. */
    private InodeAttr update(InodeId ino, boolean structural, Consumer<InodeRecord> change) {
        synchronized (meta) {
            InodeRecord r = inode(ino.value());
            change.accept(r);
            r.ctimeNs = now();
            put(ino.value(), r, structural);
            return attr(ino.value(), r);
        }
    }

    // ---- open handles and orphans --------------------------------------------------------------

    void open(InodeId ino) {
        synchronized (meta) {
            inode(ino.value());
            opens.merge(ino.value(), 1, Integer::sum);
        }
    }

    boolean isOpen(long ino) {
        return opens.getOrDefault(ino, 0) > 0;
    }

    /**
     * Under the monitor: closes one handle; true if that was the last one of an inode with no
     * links left in a writable tree that still exists, which must now be purged.
     */
    boolean closeLast(long ino) {
        Integer n = opens.get(ino);
        if (n == null) {
            return false;
        }
        if (n > 1) {
            opens.put(ino, n - 1);
            return false;
        }
        opens.remove(ino);
        if (root.readOnly() || !root.nameExists()) {
            return false;
        }
        byte[] v = tree.get(root.get(), Keys.inode(ino));
        return v != null && InodeRecord.decode(v).nlink == 0;
    }

    /** Marks an inode unlinked while open, so that a crash before its last close leaves it to {@link #orphans}. */
    void markOrphan(long ino) {
        tree.put(root, Keys.orphan(ino), NO_VALUE);
    }

    /** Inodes that were unlinked while open when this tree was last written. */
    List<Long> orphans() {
        List<Long> inos = new ArrayList<>();
        tree.scan(root.get(), Keys.orphansFrom(), Keys.orphansTo(), (k, v) -> inos.add(Keys.orphanIno(k)));
        return inos;
    }

    // ---- epochs --------------------------------------------------------------------------------

    /**
     * Under the monitor: the epoch whose commit an fsync of the inode must wait for (any change,
     * or for {@code dataOnly} only size, extents and links), or 0 if that is already durable.
     */
    long epochToSync(long ino, boolean dataOnly) {
        // a structural change without an inode put (a copy-on-write by a write that keeps the
        // file's times) is not in changedEpoch: a full fsync waits for it too
        Long s = structEpoch.get(ino);
        Long c = dataOnly ? null : changedEpoch.get(ino);
        long e = Math.max(s == null ? 0 : s, c == null ? 0 : c);
        long needed = e > meta.durableEpoch() ? e : 0;
        if (changedEpoch.size() > 100_000) {
            long d = meta.durableEpoch();
            changedEpoch.values().removeIf(x -> x <= d);
            structEpoch.values().removeIf(x -> x <= d);
        }
        return needed;
    }
}
