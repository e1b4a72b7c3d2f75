package io.clonefs.metadata;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The copy-on-write tree against a TreeMap, across snapshots of its root, with reference counts checked. */
class CowTreeTest {
    @TempDir
    Path dir;


    private static byte[] key(int k) {
        return Keys.inode(k);
    }

    @Test
    void randomPutsAndDeletesMatchAModelAcrossSharedRoots() {
        try (Lmdb lmdb = Lmdb.open(dir.resolve("meta").toFile())) {
            MetaStore.format(lmdb, 8192);
            MetaStore st = MetaStore.open(lmdb, new CountingBlockSpace(8192), 1000);
            CowTree tree = new CowTree(st);
            Random rnd = new Random(42);
            List<TestRoot> roots = new ArrayList<>();
            List<TreeMap<Integer, byte[]>> models = new ArrayList<>();
            synchronized (st) {
                roots.add(new TestRoot(st.newTree()));
                models.add(new TreeMap<>());
                for (int step = 0; step < 40_000; step++) {
                    int which = rnd.nextInt(roots.size());
                    TestRoot h = roots.get(which);
                    TreeMap<Integer, byte[]> m = models.get(which);
                    int k = rnd.nextInt(5000);
                    int op = rnd.nextInt(100);
                    if (op < 60) {
                        byte[] v = new byte[rnd.nextInt(60)];
                        rnd.nextBytes(v);
                        byte[] old = tree.put(h, key(k), v);
                        byte[] mold = m.put(k, v);
                        assertArrayEquals(mold, old);
                    } else if (op < 98) {
                        byte[] old = tree.delete(h, key(k));
                        byte[] mold = m.remove(k);
                        assertArrayEquals(mold, old);
                    } else if (roots.size() < 12) {
                        st.incNode(h.root);
                        roots.add(new TestRoot(h.root));
                        models.add(new TreeMap<>(m));
                    }
                    if (step % 2000 == 0) {
                        for (int i = 0; i < roots.size(); i++) {
                            check(tree, roots.get(i), models.get(i));
                        }
                    }
                }
                for (int i = 0; i < roots.size(); i++) {
                    check(tree, roots.get(i), models.get(i));
                }
            }
            st.commit();
            st.close();
        }
    }

    /**
     * An internal node whose first child went away (all its items deleted) keeps the old second
     * child's bound as its first key; smaller keys then fill the new first child, which splits:
     * its separator lies below that first key. Lookups must still find every item.
     */
    @Test
    void lookupsFindItemsAfterTheFirstChildWasEmptiedAndRefilled() {
        try (Lmdb lmdb = Lmdb.open(dir.resolve("meta").toFile())) {
            MetaStore.format(lmdb, 8192);
            MetaStore st = MetaStore.open(lmdb, new CountingBlockSpace(8192), 1000);
            CowTree tree = new CowTree(st);
            synchronized (st) {
                TestRoot h = new TestRoot(st.newTree());
                for (int k = 0; k < 1000; k++) {
                    tree.put(h, key(k), new byte[20]);
                }
                for (int k = 0; k < 400; k++) {
                    tree.delete(h, key(k));
                }
                for (int k = 0; k < 400; k++) {
                    tree.put(h, key(k), new byte[20]);
                }
                for (int k = 0; k < 1000; k++) {
                    assertArrayEquals(new byte[20], tree.get(h.root, key(k)), "item " + k);
                }
            }
            st.close();
        }
    }

    /**
     * putRun (runs of ascending extent keys, some present, across leaf boundaries and shared
     * roots) against a model, and probeRange against probeBlock key by key.
     */
    @Test
    void runsOfPutsAndRangeProbesMatchSingleOnes() {
        try (Lmdb lmdb = Lmdb.open(dir.resolve("meta").toFile())) {
            MetaStore.format(lmdb, 8192);
            MetaStore st = MetaStore.open(lmdb, new CountingBlockSpace(8192), 1000);
            CowTree tree = new CowTree(st);
            Random rnd = new Random(7);
            List<TestRoot> roots = new ArrayList<>();
            List<TreeMap<Long, Long>> models = new ArrayList<>();
            synchronized (st) {
                roots.add(new TestRoot(st.newTree()));
                models.add(new TreeMap<>());
                for (int step = 0; step < 3000; step++) {
                    int which = rnd.nextInt(roots.size());
                    TestRoot h = roots.get(which);
                    TreeMap<Long, Long> m = models.get(which);
                    int op = rnd.nextInt(100);
                    if (op < 70) {
                        int n = 1 + rnd.nextInt(rnd.nextBoolean() ? 8 : 300);
                        long first = rnd.nextInt(4000);
                        byte[][] keys = new byte[n][];
                        byte[][] values = new byte[n][];
                        long[] idx = new long[n];
                        long at = first;
                        for (int i = 0; i < n; i++) {
                            at += rnd.nextInt(10) == 0 ? 1 + rnd.nextInt(5) : (i == 0 ? 0 : 1);
                            idx[i] = at;
                            keys[i] = Keys.extent(1, at);
                            values[i] = Schema.u64(st.allocateBlock().value());
                        }
                        byte[][] old = tree.putRun(h, keys, values, n);
                        for (int i = 0; i < n; i++) {
                            Long mold = m.put(idx[i], Schema.u64(values[i]));
                            assertEquals(mold, old[i] == null ? null : Schema.u64(old[i]), "previous value at " + idx[i]);
                        }
                    } else if (op < 95) {
                        long k = rnd.nextInt(4300);
                        byte[] old = tree.delete(h, Keys.extent(1, k));
                        Long mold = m.remove(k);
                        assertEquals(mold, old == null ? null : Schema.u64(old));
                    } else if (roots.size() < 8) {
                        st.incNode(h.root);
                        roots.add(new TestRoot(h.root));
                        models.add(new TreeMap<>(m));
                    }
                    if (step % 100 == 0) {
                        for (int i = 0; i < roots.size(); i++) {
                            checkExtents(tree, roots.get(i), models.get(i), rnd);
                        }
                    }
                }
                for (int i = 0; i < roots.size(); i++) {
                    checkExtents(tree, roots.get(i), models.get(i), rnd);
                }
            }
            st.commit();
            st.close();
        }
    }

    private static void checkExtents(CowTree tree, TestRoot h, TreeMap<Long, Long> m, Random rnd) {
        List<Long> seen = new ArrayList<>();
        tree.scan(h.root, new byte[0], null, (k, v) -> {
            seen.add(Keys.extentIndex(k));
            assertEquals(m.get(Keys.extentIndex(k)), Schema.u64(v));
            assertArrayEquals(v, tree.get(h.root, k), "get of " + Keys.extentIndex(k));
            return true;
        });
        assertEquals(new ArrayList<>(m.keySet()), seen);
        long from = rnd.nextInt(4300);
        long to = from + rnd.nextInt(400);
        List<Long> probed = new ArrayList<>();
        tree.probeRange(h.root, Keys.extent(1, from), Keys.extent(1, to), (k, v, block, exclusive) -> {
            long[] one = tree.probeBlock(h.root, k);
            assertEquals(one[0], block);
            assertEquals(one[1] == 1, exclusive, "exclusive at " + Keys.extentIndex(k));
            probed.add(Keys.extentIndex(k));
        });
        assertEquals(new ArrayList<>(m.subMap(from, to).keySet()), probed);
    }

    private static void check(CowTree tree, TestRoot h, TreeMap<Integer, byte[]> m) {
        List<byte[]> seen = new ArrayList<>();
        tree.scan(h.root, new byte[0], null, (k, v) -> {
            seen.add(k);
            return true;
        });
        assertEquals(m.size(), seen.size());
        int i = 0;
        for (Map.Entry<Integer, byte[]> e : m.entrySet()) {
            assertArrayEquals(key(e.getKey()), seen.get(i++));
            assertArrayEquals(e.getValue(), tree.get(h.root, key(e.getKey())));
        }
        assertNull(tree.get(h.root, key(999_999)));
    }
}
