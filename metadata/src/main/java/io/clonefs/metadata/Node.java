package io.clonefs.metadata;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * One node of a copy-on-write B+tree. A leaf holds sorted (key, value) items; an internal node
 * holds sorted (lower-bound key, child node id) pairs, where child {@code i} covers keys in
 * {@code [keys[i], keys[i+1])} and {@code keys[0]} acts as minus infinity.
 *
 * <p>Encoding: {@code [leaf:u8][count:u16]} then per item {@code [klen:u16][key]} followed by
 * {@code [vlen:u16][value]} (leaf) or {@code [child:u64]} (internal).
 *
 * <p>A node is changed in place only by the tree, only while its reference count is 1 and every
 * node above it is owned by the same writable root; otherwise the tree writes a copy.
 */
public final class Node {
    /** Nodes are split above this encoded size, so one fits an LMDB overflow page. */
    public static final int MAX_BYTES = 4000;
    private static final int HEADER = 3;

    final long id;
    final boolean leaf;
    int count;
    byte[][] keys;
    byte[][] values;
    long[] children;
    int bytes;
    /** Batch epoch in which this node was last changed; 0 when clean. */
    long dirtyEpoch;

    Node(long id, boolean leaf, int capacity) {
        this.id = id;
        this.leaf = leaf;
        this.keys = new byte[Math.max(capacity, 4)][];
        if (leaf) {
            this.values = new byte[keys.length][];
        } else {
            this.children = new long[keys.length];
        }
        this.bytes = HEADER;
    }

    /** A copy with another id (for copy-on-write). */
    Node copy(long newId) {
        Node n = new Node(newId, leaf, count);
        n.count = count;
        System.arraycopy(keys, 0, n.keys, 0, count);
        if (leaf) {
            System.arraycopy(values, 0, n.values, 0, count);
        } else {
            System.arraycopy(children, 0, n.children, 0, count);
        }
        n.bytes = bytes;
        return n;
    }

    public long id() {
        return id;
    }

    public boolean isLeaf() {
        return leaf;
    }

    public int count() {
        return count;
    }

    public byte[] key(int i) {
        return keys[i];
    }

    public byte[] value(int i) {
        return values[i];
    }

    public long child(int i) {
        return children[i];
    }

    /** Index of {@code key} if present, else {@code -(insertion point) - 1}. */
    int search(byte[] key) {
        return binarySearch(0, key);
    }

    /**
     * For an internal node: the child whose range holds {@code key}: the last {@code i >= 1} with
     * {@code keys[i] <= key}, else 0. {@code keys[0]} is not looked at: it acts as minus infinity,
     * and after the first child is removed (its items all deleted) it is the old second child's
     * bound, which may be above separators inserted later (that child's splits), so the keys are
     * sorted only from index 1 on.
     */
    int childIndex(byte[] key) {
        int i = binarySearch(1, key);
        return i >= 0 ? i : -i - 2;
    }

    /** Binary search of {@code keys[from..count)}: the index of {@code key}, else {@code -(insertion point) - 1}. */
    private int binarySearch(int from, byte[] key) {
        int lo = from;
        int hi = count - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int c = Keys.compare(keys[mid], key);
            if (c < 0) {
                lo = mid + 1;
            } else if (c > 0) {
                hi = mid - 1;
            } else {
                return mid;
            }
        }
        return -(lo + 1);
    }

    private int itemBytes(int i) {
        return 2 + keys[i].length + (leaf ? 2 + values[i].length : 8);
    }

    private void grow() {
        int n = keys.length * 2;
        keys = Arrays.copyOf(keys, n);
        if (leaf) {
            values = Arrays.copyOf(values, n);
        } else {
            children = Arrays.copyOf(children, n);
        }
    }

    void insertLeaf(int at, byte[] key, byte[] value) {
        if (count == keys.length) {
            grow();
        }
        System.arraycopy(keys, at, keys, at + 1, count - at);
        System.arraycopy(values, at, values, at + 1, count - at);
        keys[at] = key;
        values[at] = value;
        count++;
        bytes += itemBytes(at);
    }

    void insertChild(int at, byte[] key, long child) {
        if (count == keys.length) {
            grow();
        }
        System.arraycopy(keys, at, keys, at + 1, count - at);
        System.arraycopy(children, at, children, at + 1, count - at);
        keys[at] = key;
        children[at] = child;
        count++;
        bytes += itemBytes(at);
    }

    void setValue(int at, byte[] value) {
        bytes += value.length - values[at].length;
        values[at] = value;
    }

    void remove(int at) {
        bytes -= itemBytes(at);
        System.arraycopy(keys, at + 1, keys, at, count - at - 1);
        if (leaf) {
            System.arraycopy(values, at + 1, values, at, count - at - 1);
            values[count - 1] = null;
        } else {
            System.arraycopy(children, at + 1, children, at, count - at - 1);
        }
        keys[count - 1] = null;
        count--;
    }

    /** Moves the upper half (by bytes) of this node's items into {@code right}. */
    void splitInto(Node right) {
        int half = bytes / 2;
        int acc = HEADER;
        int at = 0;
        while (at < count - 1 && acc + itemBytes(at) <= half) {
            acc += itemBytes(at);
            at++;
        }
        if (at == 0) {
            at = 1;
        }
        for (int i = at; i < count; i++) {
            if (leaf) {
                right.insertLeaf(right.count, keys[i], values[i]);
            } else {
                right.insertChild(right.count, keys[i], children[i]);
            }
        }
        while (count > at) {
            remove(count - 1);
        }
    }

    byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate(bytes);
        b.put((byte) (leaf ? 1 : 0)).putShort((short) count);
        for (int i = 0; i < count; i++) {
            b.putShort((short) keys[i].length).put(keys[i]);
            if (leaf) {
                b.putShort((short) values[i].length).put(values[i]);
            } else {
                b.putLong(children[i]);
            }
        }
        return b.array();
    }

    static Node decode(long id, byte[] data) {
        ByteBuffer b = ByteBuffer.wrap(data);
        boolean leaf = b.get() == 1;
        int n = b.getShort() & 0xffff;
        Node node = new Node(id, leaf, n);
        for (int i = 0; i < n; i++) {
            byte[] k = new byte[b.getShort() & 0xffff];
            b.get(k);
            if (leaf) {
                byte[] v = new byte[b.getShort() & 0xffff];
                b.get(v);
                node.insertLeaf(i, k, v);
            } else {
                node.insertChild(i, k, b.getLong());
            }
        }
        return node;
    }
}
