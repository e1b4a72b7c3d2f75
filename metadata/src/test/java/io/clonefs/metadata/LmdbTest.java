package io.clonefs.metadata;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LmdbTest {
    @TempDir
    Path dir;

    @Test
    void mapGrowsOnDemandAndKeepsEverything() {
        long initial = 1L << 20;
        byte[] value = new byte[3000];
        try (Lmdb lmdb = Lmdb.open(dir.toFile(), initial)) {
            for (int batch = 0; batch < 20; batch++) {
                int b = batch;
                lmdb.write(w -> {
                    for (int i = 0; i < 500; i++) {
                        value[0] = (byte) i;
                        w.put(Schema.Db.NODES, Schema.u64(b * 1000L + i), value.clone());
                    }
                });
            }
            assertTrue(lmdb.mapSize() > initial, "map should have grown from " + initial);
        }
        try (Lmdb lmdb = Lmdb.open(dir.toFile(), initial)) {
            byte[] v = lmdb.read(r -> r.get(Schema.Db.NODES, Schema.u64(19 * 1000L + 499)));
            value[0] = (byte) 499;
            assertArrayEquals(value, v);
        }
    }
}
