package io.clonefs.engine;

import io.clonefs.base.ClonefsException;
import io.clonefs.metadata.CowTree;
import io.clonefs.metadata.DatasetRecord;
import io.clonefs.metadata.InodeRecord;
import io.clonefs.metadata.Keys;
import io.clonefs.metadata.MetaStore;
import io.clonefs.metadata.Node;
import io.clonefs.metadata.Schema;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;

/**
 * Walks every root (volumes, snapshots, reclaim-queue entries), recomputes the reference count
 * of every node and block, and compares with LMDB: differences, leaks (stored but unreachable)
 * and dangling references. Also checks each tree's order and its filesystem invariants (links,
 * directory entries, extents within file sizes, block counts).
 *
 * <p>Runs on a quiescent, fully committed state: it commits, then holds the metadata monitor
 * while nothing is left uncommitted.
 */
final class Fsck {
    private static final int MAX_PROBLEMS = 1000;
    private final MetaStore meta;
    private final CowTree tree;
    private final List<String> problems = new ArrayList<>();
    private final HashMap<Long, Long> nodeCounts = new HashMap<>();
    private int[] blockCounts;
    private long highWater;

    Fsck(MetaStore meta, CowTree tree) {
        this.meta = meta;
        this.tree = tree;
    }

    FsckReport run() {
        return meta.quiesced(this::check);
    }

    private void problem(String p) {
        if (problems.size() < MAX_PROBLEMS) {
            problems.add(p);
        }
    }

    private FsckReport check() {
        highWater = meta.lmdb().read(r -> Schema.u64(r.get(Schema.Db.META, Schema.MetaKey.BLOCK_HIGH_WATER.key())));
        blockCounts = new int[(int) highWater];
        List<Long> roots = new ArrayList<>();
        for (DatasetRecord d : meta.datasets()) {
            roots.add(d.root());
        }
        roots.addAll(meta.reclaimQueue());
        ArrayDeque<Long> todo = new ArrayDeque<>();
        for (long r : roots) {
            if (nodeCounts.merge(r, 1L, Long::sum) == 1) {
                todo.add(r);
            }
        }
        while (!todo.isEmpty()) {
            long id = todo.poll();
            Node n;
            try {
                n = meta.load(id);
            } catch (ClonefsException e) {
                problem("node " + id + " is referenced but missing");
                continue;
            }
            for (int i = 0; i < n.count(); i++) {
                // an internal node's first key stands for minus infinity and may be above the
                // next one (see Node#childIndex): its order is not checked
                if (i > (n.isLeaf() ? 0 : 1) && Keys.compare(n.key(i - 1), n.key(i)) >= 0) {
                    problem("node " + id + ": keys out of order at " + i);
                }
                if (n.isLeaf()) {
                    long b = Keys.blockRef(n.key(i), n.value(i));
                    if (b >= highWater) {
                        problem("node " + id + " references block " + b + " past the high-water mark " + highWater);
                    } else if (b >= 0) {
                        blockCounts[(int) b]++;
                    }
                } else if (nodeCounts.merge(n.child(i), 1L, Long::sum) == 1) {
                    todo.add(n.child(i));
                }
            }
        }
        for (Map.Entry<Long, Long> e : nodeCounts.entrySet()) {
            long stored = meta.nodeRefCount(e.getKey());
            if (stored != e.getValue()) {
                problem("node " + e.getKey() + ": stored count " + stored + ", actual " + e.getValue());
            }
        }
        HashSet<Long> free = new HashSet<>();
        meta.lmdb().read(r -> {
            r.forEach(Schema.Db.NODES, (k, v) -> {
                if (!nodeCounts.containsKey(Schema.u64(k))) {
                    problem("node " + Schema.u64(k) + " is stored but unreachable (leak)");
                }
                return true;
            });
            r.forEach(Schema.Db.NODE_REFS, (k, v) -> {
                if (!nodeCounts.containsKey(Schema.u64(k))) {
                    problem("count row for node " + Schema.u64(k) + " that is unreachable");
                }
                return true;
            });
            r.forEach(Schema.Db.FREE_BLOCKS, (k, v) -> {
                long b = Schema.u64(k);
                if (b >= highWater) {
                    problem("free block " + b + " is past the high-water mark " + highWater);
                }
                free.add(b);
                return true;
            });
            r.forEach(Schema.Db.BLOCK_REFS, (k, v) -> {
                long b = Schema.u64(k);
                if (b >= highWater || free.contains(b)) {
                    problem("count row for block " + b + " that is not allocated");
                }
                return true;
            });
            return null;
        });
        long blocks = 0;
        for (int b = 0; b < highWater; b++) {
            int actual = blockCounts[b];
            if (free.contains((long) b)) {
                if (actual != 0) {
                    problem("block " + b + " is free but referenced " + actual + " times");
                }
                continue;
            }
            blocks++;
            if (actual == 0) {
                problem("block " + b + " is allocated but unreferenced (leak)");
            } else {
                long stored = meta.blockRefCount(b);
                if (stored != actual) {
                    problem("block " + b + ": stored count " + stored + ", actual " + actual);
                }
            }
        }
        for (DatasetRecord d : meta.datasets()) {
            checkTree(d);
        }
        return new FsckReport(meta.datasets().size(), nodeCounts.size(), blocks, List.copyOf(problems));
    }

    /** Filesystem invariants of one tree. */
    private void checkTree(DatasetRecord d) {
        String where = d.name() + ": ";
        HashMap<Long, InodeRecord> inodes = new HashMap<>();
        HashMap<Long, Integer> links = new HashMap<>();
        HashMap<Long, Integer> subdirs = new HashMap<>();
        HashMap<Long, Long> extents = new HashMap<>();
        HashSet<Long> orphans = new HashSet<>();
        List<long[]> dirents = new ArrayList<>();
        List<long[]> extentList = new ArrayList<>();
        long[] sup = new long[2];
        long[] total = {0};
        tree.scan(d.root(), new byte[0], null, (k, v) -> {
            long ino = Keys.ino(k);
            switch (Keys.type(k)) {
                case Keys.SUPER -> {
                    ByteBuffer b = ByteBuffer.wrap(v);
                    sup[0] = b.getLong();
                    sup[1] = b.getLong();
                }
                case Keys.INODE -> inodes.put(ino, InodeRecord.decode(v));
                case Keys.DIRENT -> dirents.add(new long[] {ino, ByteBuffer.wrap(v).getLong(), (v[8] & 0xffL) << 12});
                case Keys.EXTENT -> {
                    extentList.add(new long[] {ino, Keys.extentIndex(k)});
                    total[0]++;
                }
                case Keys.ORPHAN -> orphans.add(Keys.orphanIno(k));
                default -> problem(where + "unknown item type " + Keys.type(k));
            }
            return true;
        });
        for (long[] de : dirents) {
            InodeRecord parent = inodes.get(de[0]);
            InodeRecord child = inodes.get(de[1]);
            if (parent == null || (parent.mode & FileType.TYPE_MASK) != FileType.DIRECTORY.bits()) {
                problem(where + "directory entry in inode " + de[0] + ", which is not a directory");
            }
            if (child == null) {
                problem(where + "directory entry in " + de[0] + " points at missing inode " + de[1]);
                continue;
            }
            links.merge(de[1], 1, Integer::sum);
            if ((child.mode & FileType.TYPE_MASK) == FileType.DIRECTORY.bits()) {
                subdirs.merge(de[0], 1, Integer::sum);
            }
        }
        for (long[] ex : extentList) {
            InodeRecord r = inodes.get(ex[0]);
            if (r == null) {
                problem(where + "extent of missing inode " + ex[0]);
            } else if (ex[1] * meta.blockSize() >= r.size) {
                problem(where + "inode " + ex[0] + " has a block at index " + ex[1] + " past its size " + r.size);
            }
            extents.merge(ex[0], 1L, Long::sum);
        }
        long maxIno = 0;
        for (Map.Entry<Long, InodeRecord> e : inodes.entrySet()) {
            long ino = e.getKey();
            InodeRecord r = e.getValue();
            maxIno = Math.max(maxIno, ino);
            boolean dir = (r.mode & FileType.TYPE_MASK) == FileType.DIRECTORY.bits();
            String typeProblem = typeProblem(ino, r);
            if (typeProblem != null) {
                problem(where + typeProblem);
            }
            int expected = dir ? 2 + subdirs.getOrDefault(ino, 0) : links.getOrDefault(ino, 0);
            if (ino == InodeId.ROOT.value() && links.containsKey(ino)) {
                problem(where + "the root directory has a directory entry");
            }
            if (dir && ino != InodeId.ROOT.value() && links.getOrDefault(ino, 0) != 1) {
                problem(where + "directory " + ino + " has " + links.getOrDefault(ino, 0) + " entries naming it");
            }
            if (r.nlink != expected) {
                problem(where + "inode " + ino + " has nlink " + r.nlink + ", expected " + expected);
            }
            if (r.nlink == 0 && !orphans.contains(ino)) {
                problem(where + "inode " + ino + " has no links and is not an orphan");
            }
            if (r.blocks != extents.getOrDefault(ino, 0L)) {
                problem(where + "inode " + ino + " counts " + r.blocks + " blocks, has " + extents.getOrDefault(ino, 0L));
            }
        }
        for (long[] de : dirents) {
            InodeRecord child = inodes.get(de[1]);
            if (child != null && de[2] != (child.mode & FileType.TYPE_MASK)) {
                problem(where + "directory entry in " + de[0] + " gives inode " + de[1] + " type 0"
                        + Long.toOctalString(de[2]) + ", the inode has 0" + Integer.toOctalString(child.mode & FileType.TYPE_MASK));
            }
        }
        if (!inodes.containsKey(InodeId.ROOT.value())) {
            problem(where + "no root directory");
        }
        if (sup[0] <= maxIno) {
            problem(where + "next inode number " + sup[0] + " is not above the largest inode " + maxIno);
        }
        if (sup[1] != total[0]) {
            problem(where + "super record counts " + sup[1] + " blocks, tree has " + total[0]);
        }
    }

    /**
     * A known type; a FIFO, device or socket has no size, no blocks and no tail but a device's
     * 8-byte number; a regular file or directory has no tail. Null when the record is right.
     */
    static String typeProblem(long ino, InodeRecord r) {
        FileType t;
        try {
            t = FileType.ofMode(r.mode);
        } catch (ClonefsException e) {
            return "inode " + ino + " has unknown type in mode 0" + Integer.toOctalString(r.mode);
        }
        if (t.special() && (r.size != 0 || r.blocks != 0)) {
            return t + " inode " + ino + " has size " + r.size + " and " + r.blocks + " blocks";
        }
        int tail = t.device() ? Long.BYTES : t == FileType.SYMLINK ? r.target.length : 0;
        if (r.target.length != tail || (t == FileType.SYMLINK && (tail == 0 || r.size != tail))) {
            return t + " inode " + ino + " has a tail of " + r.target.length + " bytes (size " + r.size + ")";
        }
        return null;
    }
}
