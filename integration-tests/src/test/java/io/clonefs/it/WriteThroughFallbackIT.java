package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.clonefs.engine.Engine;
import io.clonefs.engine.EngineOptions;
import io.clonefs.engine.VolumeFs;
import io.clonefs.fuse.Mount;
import io.clonefs.fuse.MountOptions;
import io.clonefs.it.support.MountedPool;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The fence around the libfuse 2 patch (fuse-fs/README.md, "The INIT patch and its fence"): when
 * the layout check fails (simulated with {@code -Dclonefs.fuse.simulateLayoutCheckFailure=true})
 * a mount that asked for the writeback cache runs write-through at libfuse's own settings, says
 * so ({@link Mount#cacheMode}), and works: write, read, fsync, truncate. Write-through is checked
 * where it shows: a {@code write(2)} is in the engine before the file is closed or synced, which a
 * writeback mount (the control, mounted first) does not do.
 */
class WriteThroughFallbackIT {
    private static final String SIMULATE = "clonefs.fuse.simulateLayoutCheckFailure";
    private static final int SIZE = 256 * 1024;

    @RegisterExtension
    final MountedPool pools = MountedPool.inProcess("fallback").unmounted().build();

    @Test
    void aFailedLayoutCheckMountsWriteThroughAndTheMountWorks() throws Exception {
        assumeTrue(Files.exists(Path.of("/dev/fuse")), "needs /dev/fuse");
        Path pool = pools.pool();
        Engine.init(pool, Engine.DEFAULT_BLOCK_SIZE);
        Engine engine = pools.track(Engine.open(pool, EngineOptions.defaults()));
        engine.createVolume("v");
        VolumeFs fs = engine.volume("v");
        Path mnt = Files.createDirectory(pools.mnt());
        byte[] data = new byte[SIZE];
        new Random(7).nextBytes(data);

        // control: with the writeback cache a write stays in the kernel until close or fsync
        try (Mount m = Mount.mount(engine, mnt, new MountOptions(false, false, true))) {
            assertEquals("writeback", m.cacheMode());
            try (FileChannel ch = FileChannel.open(mnt.resolve("v/wb"), StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE)) {
                write(ch, data, 0);
                assertEquals(0, fs.getattr(fs.resolve("wb")).size(), "writeback: the engine has nothing before close");
            }
            assertEquals(SIZE, fs.getattr(fs.resolve("wb")).size(), "writeback: written back at close");
        }

        Mount m;
        System.setProperty(SIMULATE, "true");
        try {
            m = pools.track(Mount.mount(engine, mnt, new MountOptions(false, false, true)));
        } finally {
            System.clearProperty(SIMULATE);
        }
        assertEquals("write-through (libfuse layout check failed: simulated by -D" + SIMULATE + ")", m.cacheMode());
        Path f = mnt.resolve("v/wt");
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            write(ch, data, 0);
            // write-through: every write(2) reached the engine before it returned
            assertEquals(SIZE, fs.getattr(fs.resolve("wt")).size());
            assertArrayEquals(data, read(fs, "wt", SIZE), "in the engine before close or fsync");
            ByteBuffer back = ByteBuffer.allocate(SIZE);
            while (back.hasRemaining() && ch.read(back, back.position()) > 0) {
                // until full
            }
            assertArrayEquals(data, back.array(), "read back through the mount");
            ch.force(true);
            ch.truncate(100_000);
            assertEquals(100_000, fs.getattr(fs.resolve("wt")).size(), "truncated in the engine at once");
            assertEquals(100_000, ch.size());
            write(ch, new byte[] {1, 2, 3}, 200_000);
            assertEquals(200_003, fs.getattr(fs.resolve("wt")).size(), "a write past the end: in the engine at once");
            ch.force(false);
        }
        byte[] want = Arrays.copyOf(Arrays.copyOf(data, 100_000), 200_003);
        want[200_000] = 1;
        want[200_001] = 2;
        want[200_002] = 3;
        assertArrayEquals(want, Files.readAllBytes(f));
        assertArrayEquals(want, read(fs, "wt", 200_003));
        assertArrayEquals(data, Files.readAllBytes(mnt.resolve("v/wb")), "the control's file");
        m.close();
        assertTrue(engine.fsck().clean(), "fsck");
    }

    private static void write(FileChannel ch, byte[] data, long off) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(data);
        while (b.hasRemaining()) {
            ch.write(b, off + b.position());
        }
    }

    private static byte[] read(VolumeFs fs, String name, int len) {
        ByteBuffer b = ByteBuffer.allocate(len);
        while (b.hasRemaining()) {
            if (fs.read(fs.resolve(name), b.position(), b) <= 0) {
                break;
            }
        }
        return Arrays.copyOf(b.array(), b.position());
    }
}
