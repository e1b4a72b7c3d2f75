package io.clonefs.metadata;

/**
 * Copy-on-write B+tree operations over the nodes of a {@link MetaStore}, after O. Rodeh,
 * "B-trees, Shadowing, and Clones" (ACM TOS 2008), with lazy reference counting:
 * <ul>
 * <li>a node's count is the number of parents (nodes, dataset roots, reclaim-queue entries)
 *     pointing at it; a block's count is the number of leaf items pointing at it;</li>
 * <li>a write walks from the root down; a node with count 1 under an owned parent is owned and
 *     changed in place; a node with count &gt; 1 is copied (count 1), each child of the copy gains
 *     one reference, the original loses one, and the owned parent is pointed at the copy;</li>
 * <li>when a count reaches 0 the node's children (nodes and blocks) each lose one reference.</li>
 * </ul>
 * A snapshot therefore touches nothing below the root. Underfull nodes are not merged; empty ones
 * are removed, and a root with one child is collapsed.
 *
 * <p>Thread rules: every method must be called holding the {@link MetaStore} monitor.
 */
public final class CowTree {
    private static final int MAX_DEPTH = 32;
    private final MetaStore st;

    public CowTree(MetaStore st) {
        this.st = st;
    }

    /** Where a tree's root id is kept (a dataset record); setting it moves the holder's reference. */
    public interface RootRef {
        long get();

        void set(long newRoot);
    }

    /** Visits items in key order; returns false to stop. */
    @FunctionalInterface
    public interface ItemVisitor {
        boolean visit(byte[] key, byte[] value);
    }

    public byte[] get(long root, byte[] key) {
        Node n = st.load(root);
        while (!n.leaf) {
            n = st.load(n.children[n.childIndex(key)]);
        }
        int i = n.search(key);
        return i >= 0 ? n.values[i] : null;
    }

    /** Visits items with {@code from <= key < to} ({@code to == null}: no upper bound). Do not change the tree meanwhile. */
    public void scan(long root, byte[] from, byte[] to, ItemVisitor v) {
        scanNode(st.load(root), from, to, v);
    }

    private boolean scanNode(Node n, byte[] from, byte[] to, ItemVisitor v) {
        if (n.leaf) {
            int i = n.search(from);
            if (i < 0) {
                i = -i - 1;
            }
            for (; i < n.count; i++) {
                if (to != null && Keys.compare(n.keys[i], to) >= 0) {
                    return false;
                }
                if (!v.visit(n.keys[i], n.values[i])) {
                    return false;
                }
            }
            return true;
        }
        for (int i = n.childIndex(from); i < n.count; i++) {
            if (i > 0 && to != null && Keys.compare(n.keys[i], to) >= 0) {
                return false;
            }
            if (!scanNode(st.load(n.children[i]), from, to, v)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Looks up the block an extent item names and whether this tree alone owns it: the root, every
     * node on the path and the block all have count 1. Such a block may be overwritten in place.
     *
     * @return null if absent, else {@code {blockId, exclusive ? 1 : 0}}
     */
    public long[] probeBlock(long root, byte[] key) {
        boolean exclusive = st.nodeRef(root) == 1;
        Node n = st.load(root);
        while (!n.leaf) {
            long c = n.children[n.childIndex(key)];
            if (exclusive && st.nodeRef(c) != 1) {
                exclusive = false;
            }
            n = st.load(c);
        }
        int i = n.search(key);
        if (i < 0) {
            return null;
        }
        long b = Keys.blockRef(key, n.values[i]);
        if (exclusive && st.blockRefs.get(b) != 1) {
            exclusive = false;
        }
        return new long[] {b, exclusive ? 1 : 0};
    }

    /** Visits the items of a range with what {@link #probeBlock} answers for each. */
    @FunctionalInterface
    public interface BlockVisitor {
        /**
         * @param block     the block the item references, or -1
         * @param exclusive whether this tree alone owns it (root, every node on the path and the block have count 1)
         */
        void visit(byte[] key, byte[] value, long block, boolean exclusive);
    }

    /**
     * {@link #probeBlock} for every item with {@code from <= key < to}, in key order, in one walk:
     * each node's count is looked up once for all the items under it, not once per item. Do not
     * change the tree meanwhile.
     */
    public void probeRange(long root, byte[] from, byte[] to, BlockVisitor v) {
        probeNode(st.load(root), st.nodeRef(root) == 1, from, to, v);
    }

    private boolean probeNode(Node n, boolean exclusive, byte[] from, byte[] to, BlockVisitor v) {
        if (n.leaf) {
            int i = n.search(from);
            if (i < 0) {
                i = -i - 1;
            }
            for (; i < n.count; i++) {
                if (Keys.compare(n.keys[i], to) >= 0) {
                    return false;
                }
                long b = Keys.blockRef(n.keys[i], n.values[i]);
                v.visit(n.keys[i], n.values[i], b, exclusive && b >= 0 && st.blockRefs.get(b) == 1);
            }
            return true;
        }
        for (int i = n.childIndex(from); i < n.count; i++) {
            if (i > 0 && Keys.compare(n.keys[i], to) >= 0) {
                return false;
            }
            long c = n.children[i];
            if (!probeNode(st.load(c), exclusive && st.nodeRef(c) == 1, from, to, v)) {
                return false;
            }
        }
        return true;
    }

    /**
     * {@link #put} of each {@code (keys[i], values[i])}, keys strictly ascending: one walk down
     * (copying shared nodes) per leaf the keys fall in, not one per key. Returns the previous
     * values (null where there was none).
     */
    public byte[][] putRun(RootRef root, byte[][] keys, byte[][] values, int count) {
        byte[][] old = new byte[count][];
        int i = 0;
        while (i < count) {
            OwnedPath p = ownPath(root, keys[i]);
            Node n = p.leaf;
            // the leaf holds keys below the first separator to its right on the path
            byte[] bound = null;
            for (int level = p.depth - 1; level >= 0 && bound == null; level--) {
                Node parent = p.nodes[level];
                if (p.slots[level] + 1 < parent.count) {
                    bound = parent.keys[p.slots[level] + 1];
                }
            }
            st.markDirty(n);
            do {
                old[i] = putInLeaf(n, keys[i], values[i]);
                i++;
            } while (i < count && n.bytes <= Node.MAX_BYTES && (bound == null || Keys.compare(keys[i], bound) < 0));
            if (n.bytes > Node.MAX_BYTES) {
                splitUp(root, p.nodes, p.slots, p.depth, n);
            }
        }
        return old;
    }

    /**
     * Sets the item in an owned leaf, marked dirty, that covers the key; moves the block
     * references. Returns the previous value.
     */
    private byte[] putInLeaf(Node n, byte[] key, byte[] value) {
        long newBlock = Keys.blockRef(key, value);
        int i = n.search(key);
        byte[] old = null;
        if (i >= 0) {
            old = n.values[i];
            n.setValue(i, value);
        } else {
            n.insertLeaf(-i - 1, key, value);
        }
        long oldBlock = old == null ? -1 : Keys.blockRef(key, old);
        if (newBlock >= 0 && newBlock != oldBlock) {
            st.confirmBlock(newBlock);
        }
        if (oldBlock >= 0 && oldBlock != newBlock) {
            st.decBlock(oldBlock);
        }
        return old;
    }

    /**
     * Inserts or replaces an item, copying shared nodes on the way down. A value that references
     * a new block (an extent) must name a block from {@link MetaStore#allocateBlock}; it is
     * confirmed here. A replaced block reference is dropped.
     *
     * @return the previous value, or null
     */
    public byte[] put(RootRef root, byte[] key, byte[] value) {
        OwnedPath p = ownPath(root, key);
        Node n = p.leaf;
        st.markDirty(n);
        byte[] old = putInLeaf(n, key, value);
        if (n.bytes > Node.MAX_BYTES) {
            splitUp(root, p.nodes, p.slots, p.depth, n);
        }
        return old;
    }

    /**
     * Removes an item, copying shared nodes on the way down; drops the block it referenced.
     *
     * @return the removed value, or null if there was none (then nothing is copied)
     */
    public byte[] delete(RootRef root, byte[] key) {
        if (get(root.get(), key) == null) {
            return null;
        }
        OwnedPath p = ownPath(root, key);
        Node n = p.leaf;
        int i = n.search(key);
        byte[] old = n.values[i];
        n.remove(i);
        st.markDirty(n);
        long oldBlock = Keys.blockRef(key, old);
        if (oldBlock >= 0) {
            st.decBlock(oldBlock);
        }
        Node child = n;
        int level = p.depth - 1;
        while (child.count == 0 && level >= 0) {
            Node parent = p.nodes[level];
            parent.remove(p.slots[level]);
            st.markDirty(parent);
            st.deleteNode(child.id);
            child = parent;
            level--;
        }
        collapseRoot(root);
        return old;
    }

    /** The nodes from the root down to the leaf for {@code key}, each made owned (copied if shared). */
    private static final class OwnedPath {
        final Node[] nodes = new Node[MAX_DEPTH];
        final int[] slots = new int[MAX_DEPTH];
        int depth;
        Node leaf;
    }

    private OwnedPath ownPath(RootRef root, byte[] key) {
        OwnedPath p = new OwnedPath();
        Node n = ownRoot(root);
        while (!n.leaf) {
            int ci = n.childIndex(key);
            p.nodes[p.depth] = n;
            p.slots[p.depth] = ci;
            p.depth++;
            n = ownChild(n, ci);
        }
        p.leaf = n;
        return p;
    }

    private void collapseRoot(RootRef root) {
        Node r = st.load(root.get());
        while (!r.leaf && r.count <= 1 && st.nodeRef(r.id) == 1) {
            if (r.count == 0) {
                Node leaf = st.newNode(true);
                st.deleteNode(r.id);
                root.set(leaf.id);
                return;
            }
            // the holder takes over the root's reference to its only child
            long only = r.children[0];
            st.deleteNode(r.id);
            root.set(only);
            r = st.load(only);
        }
    }

    private void splitUp(RootRef root, Node[] path, int[] slot, int depth, Node n) {
        Node child = n;
        int level = depth - 1;
        while (child.bytes > Node.MAX_BYTES) {
            Node right = st.newNode(child.leaf);
            child.splitInto(right);
            st.markDirty(child);
            byte[] sep = right.keys[0];
            if (level < 0) {
                Node top = st.newNode(false);
                top.insertChild(0, child.keys[0], child.id);
                top.insertChild(1, sep, right.id);
                root.set(top.id);
                return;
            }
            Node parent = path[level];
            parent.insertChild(slot[level] + 1, sep, right.id);
            st.markDirty(parent);
            child = parent;
            level--;
        }
    }

    private Node ownRoot(RootRef root) {
        long id = root.get();
        Node n = st.load(id);
        long rc = st.nodeRef(id);
        if (rc == 1) {
            return n;
        }
        Node c = copyOf(n);
        st.setNodeRef(id, rc - 1);
        root.set(c.id);
        return c;
    }

    private Node ownChild(Node parent, int ci) {
        long id = parent.children[ci];
        Node n = st.load(id);
        long rc = st.nodeRef(id);
        if (rc == 1) {
            return n;
        }
        Node c = copyOf(n);
        st.setNodeRef(id, rc - 1);
        parent.children[ci] = c.id;
        st.markDirty(parent);
        return c;
    }

    private Node copyOf(Node n) {
        Node c = n.copy(st.newNodeIdForCopy());
        st.markDirty(c);
        if (c.leaf) {
            for (int i = 0; i < c.count; i++) {
                long b = Keys.blockRef(c.keys[i], c.values[i]);
                if (b >= 0) {
                    st.incBlock(b);
                }
            }
        } else {
            for (int i = 0; i < c.count; i++) {
                st.incNode(c.children[i]);
            }
        }
        return c;
    }

    /**
     * Drops one reference to a node (a destroyed root or a reclaim-queue entry). At zero, a leaf
     * drops its blocks and an internal node queues its children; the node is freed.
     */
    public void dropReference(long id) {
        long rc = st.nodeRef(id);
        if (rc > 1) {
            st.setNodeRef(id, rc - 1);
            return;
        }
        Node n = st.load(id);
        for (int i = 0; i < n.count; i++) {
            if (n.leaf) {
                long b = Keys.blockRef(n.keys[i], n.values[i]);
                if (b >= 0) {
                    st.decBlock(b);
                }
            } else {
                st.enqueueReclaim(n.children[i]);
            }
        }
        st.deleteNode(id);
    }
}
