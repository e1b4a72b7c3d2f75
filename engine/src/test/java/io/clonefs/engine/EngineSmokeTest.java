package io.clonefs.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.engine.Engine;
import io.clonefs.engine.FsckReport;
import io.clonefs.engine.InodeId;
import io.clonefs.engine.VolumeFs;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One pass through the engine's life: write, snapshot, clone, diverge, destroy, reclaim, reopen. */
class EngineSmokeTest {
    @TempDir
    Path dir;

    private static byte[] read(VolumeFs fs, InodeId ino, int len) {
        ByteBuffer b = ByteBuffer.allocate(len);
        int n = fs.read(ino, 0, b);
        byte[] out = new byte[n];
        b.flip();
        b.get(out);
        return out;
    }

    private static void assertClean(Engine e) {
        FsckReport r = e.fsck();
        assertTrue(r.clean(), () -> String.join("\n", r.problems()));
    }

    @Test
    void lifecycle() {
        Engine.init(dir, 8192);
        byte[] data = new byte[3 * 1024 * 1024 + 123];
        new Random(1).nextBytes(data);
        try (Engine e = Engine.open(dir)) {
            e.createVolume("prod");
            VolumeFs v = e.volume("prod");
            InodeId f = v.create(InodeId.ROOT, "big", 0644, 0, 0).ino();
            v.write(f, 0, ByteBuffer.wrap(data));
            assertArrayEquals(data, read(v, f, data.length + 10));
            e.snapshot("prod", "s1");
            e.cloneVolume("prod@s1", "dev");
            VolumeFs dev = e.volume("dev");
            InodeId g = dev.resolve("big");
            dev.write(g, 5000, ByteBuffer.wrap(new byte[20000]));
            assertArrayEquals(data, read(v, f, data.length));
            assertArrayEquals(data, read(e.snapshotFs("prod@s1"), f, data.length));
            byte[] d2 = read(dev, g, data.length);
            assertEquals(0, d2[5000]);
            assertEquals(data[4999], d2[4999]);
            assertEquals(data[25000], d2[25000]);
            assertClean(e);
            long before = e.space().blocksInUse();
            assertTrue(e.space("dev").uniqueBytes() >= 3 * 8192);
            e.destroy("dev", false);
            assertTrue(e.awaitReclaim(Duration.ofSeconds(10)));
            assertTrue(e.space().blocksInUse() < before);
            assertClean(e);
            e.destroy("prod", true);
            assertTrue(e.awaitReclaim(Duration.ofSeconds(10)));
            assertEquals(0, e.space().blocksInUse());
            assertClean(e);
            e.createVolume("again");
            VolumeFs a = e.volume("again");
            InodeId h = a.create(InodeId.ROOT, "x", 0644, 0, 0).ino();
            a.write(h, 0, ByteBuffer.wrap(data));
        }
        try (Engine e = Engine.open(dir)) {
            VolumeFs a = e.volume("again");
            assertArrayEquals(data, read(a, a.resolve("x"), data.length));
            assertClean(e);
        }
    }
}
