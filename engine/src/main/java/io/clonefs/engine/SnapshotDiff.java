package io.clonefs.engine;

import io.clonefs.base.ClonefsException;
import io.clonefs.base.SnapshotName;
import io.clonefs.metadata.DatasetRecord;
import io.clonefs.metadata.Keys;
import io.clonefs.metadata.MetaStore;
import io.clonefs.metadata.Node;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Where two snapshots' trees differ, found without walking what they share. Snapshot trees are
 * immutable and share nodes by id (copy-on-write): a node reachable from both trees is the same
 * subtree with the same items, and those items' keys occur nowhere else in either tree. So the
 * walk expands the two trees level by level, dropping every node id that both sides reach, until
 * only leaves are left; the items of those leaves, merged by key, are the difference. It reads
 * O(changed leaves x depth) nodes, not the whole trees.
 *
 * <p>Thread rules: thread-safe. Nodes are loaded under the metadata monitor, one level (or one
 * slice of leaves) at a time, so the pool's writers are not held up by a long diff; each step
 * checks that both snapshots still exist.
 */
final class SnapshotDiff {
    private static final byte[] MIN_KEY = new byte[0];

    /** A node to expand or a leaf to merge, with the lowest key its subtree may hold. */
    private record Entry(long id, byte[] low, Node node) {
    }

    private final Pool pool;
    private final MetaStore meta;

    SnapshotDiff(Pool pool) {
        this.pool = pool;
        this.meta = pool.meta;
    }

    /** Visits every extent key at which the two snapshots differ; returns the number of tree nodes read. */
    long diffExtents(String a, String b, ExtentDiff.Visitor visitor) {
        pool.checkOpen();
        DatasetRecord ra;
        DatasetRecord rb;
        synchronized (meta) {
            ra = snapshot(a);
            rb = snapshot(b);
        }
        List<Entry> pendingA = new ArrayList<>(List.of(new Entry(ra.root(), MIN_KEY, null)));
        List<Entry> pendingB = new ArrayList<>(List.of(new Entry(rb.root(), MIN_KEY, null)));
        List<Entry> leavesA = new ArrayList<>();
        List<Entry> leavesB = new ArrayList<>();
        long read = 0;
        while (true) {
            dropShared(pendingA, leavesA, pendingB, leavesB);
            if (pendingA.isEmpty() && pendingB.isEmpty()) {
                break;
            }
            synchronized (meta) {
                check(a, ra);
                check(b, rb);
                read += pendingA.size() + pendingB.size();
                pendingA = expand(pendingA, leavesA);
                pendingB = expand(pendingB, leavesB);
            }
        }
        merge(leavesA, leavesB, visitor);
        return read;
    }

    /** The block of every block index of a file in a snapshot, -1 for a hole; as long as its last extent. */
    long[] fileBlocks(String snapshot, InodeId ino) {
        pool.checkOpen();
        List<long[]> found = new ArrayList<>();
        synchronized (meta) {
            DatasetRecord r = snapshot(snapshot);
            pool.tree.scan(r.root(), Keys.extent(ino.value(), 0), Keys.extentsTo(ino.value()), (k, v) -> {
                found.add(new long[] {Keys.extentIndex(k), Keys.blockRef(k, v)});
                return true;
            });
        }
        long[] out = new long[found.isEmpty() ? 0 : Math.toIntExact(found.get(found.size() - 1)[0] + 1)];
        Arrays.fill(out, -1);
        for (long[] f : found) {
            out[(int) f[0]] = f[1];
        }
        return out;
    }

    private DatasetRecord snapshot(String name) {
        SnapshotName.parse(name);
        DatasetRecord r = meta.dataset(name);
        if (r == null || !r.snapshot()) {
            throw new ClonefsException.NotFound("snapshot '" + name + "' does not exist");
        }
        return r;
    }

    private void check(String name, DatasetRecord was) {
        DatasetRecord r = meta.dataset(name);
        if (r == null || r.id() != was.id()) {
            throw new ClonefsException.Conflict("snapshot '" + name + "' was destroyed during the diff");
        }
    }

    /** Removes from both sides every node id that both sides reach (pending or leaf). */
    private static void dropShared(List<Entry> pa, List<Entry> la, List<Entry> pb, List<Entry> lb) {
        Set<Long> idsA = new HashSet<>();
        pa.forEach(e -> idsA.add(e.id));
        la.forEach(e -> idsA.add(e.id));
        Set<Long> shared = new HashSet<>();
        for (List<Entry> l : List.of(pb, lb)) {
            for (Entry e : l) {
                if (idsA.contains(e.id)) {
                    shared.add(e.id);
                }
            }
        }
        if (shared.isEmpty()) {
            return;
        }
        for (List<Entry> l : List.of(pa, la, pb, lb)) {
            l.removeIf(e -> shared.contains(e.id));
        }
    }

    /** Loads the pending nodes: leaves join {@code leaves}, internal nodes give their children. */
    private List<Entry> expand(List<Entry> pending, List<Entry> leaves) {
        List<Entry> next = new ArrayList<>();
        for (Entry e : pending) {
            Node n = meta.load(e.id);
            if (n.isLeaf()) {
                leaves.add(new Entry(e.id, e.low, n));
            } else {
                for (int i = 0; i < n.count(); i++) {
                    next.add(new Entry(n.child(i), i == 0 ? e.low : n.key(i), null));
                }
            }
        }
        return next;
    }

    /** Merges the two sides' leaf items by key and visits the extents that differ. */
    private static void merge(List<Entry> leavesA, List<Entry> leavesB, ExtentDiff.Visitor visitor) {
        Comparator<Entry> byLow = (x, y) -> Keys.compare(x.low, y.low);
        leavesA.sort(byLow);
        leavesB.sort(byLow);
        Items ia = new Items(leavesA);
        Items ib = new Items(leavesB);
        while (ia.key() != null || ib.key() != null) {
            int c = ia.key() == null ? 1 : ib.key() == null ? -1 : Keys.compare(ia.key(), ib.key());
            if (c < 0) {
                emit(ia.key(), ia.value(), null, visitor);
                ia.next();
            } else if (c > 0) {
                emit(ib.key(), null, ib.value(), visitor);
                ib.next();
            } else {
                if (!Arrays.equals(ia.value(), ib.value())) {
                    emit(ia.key(), ia.value(), ib.value(), visitor);
                }
                ia.next();
                ib.next();
            }
        }
    }

    private static void emit(byte[] key, byte[] va, byte[] vb, ExtentDiff.Visitor visitor) {
        if (Keys.type(key) != Keys.EXTENT || key.length != 17) {
            return;
        }
        long a = va == null ? -1 : Keys.blockRef(key, va);
        long b = vb == null ? -1 : Keys.blockRef(key, vb);
        if (a != b) {
            visitor.visit(new ExtentDiff(InodeId.of(Keys.ino(key)), Keys.extentIndex(key), a, b));
        }
    }

    /** A cursor over the items of leaves in key order. */
    private static final class Items {
        private final List<Entry> leaves;
        private int leaf;
        private int item;

        Items(List<Entry> leaves) {
            this.leaves = leaves;
            skipEmpty();
        }

        byte[] key() {
            return leaf < leaves.size() ? leaves.get(leaf).node.key(item) : null;
        }

        byte[] value() {
            return leaves.get(leaf).node.value(item);
        }

        void next() {
            item++;
            skipEmpty();
        }

        private void skipEmpty() {
            while (leaf < leaves.size() && item >= leaves.get(leaf).node.count()) {
                leaf++;
                item = 0;
            }
        }
    }
}
