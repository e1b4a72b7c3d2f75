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
