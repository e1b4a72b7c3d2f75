package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.it.support.Clonefs;
import io.clonefs.it.support.MountedPool;
import io.clonefs.it.support.Proc;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * `clonefs mount` with and without the kernel's writeback cache, and with the libfuse layout
 * check failing (simulated), through the real launcher.
 */
class MountOptionsIT {
    @RegisterExtension
    final MountedPool pools = MountedPool.daemon("mountopts").unmounted().build();

    private static long writebackMounts(Path log) throws Exception {
        return Files.readAllLines(log).stream().filter(l -> l.contains("FUSE INIT: writeback cache on")).count();
    }

    @Test
    void writebackCacheByDefaultAndNotWithTheNegatedFlag() throws Exception {
        Clonefs cfs = pools.clonefs();
        Path mnt = pools.mnt();
        Path log = cfs.pool().resolve("daemon.log");

        cfs.mount(mnt, "--no-writeback-cache");
        cfs.ok("create", "v");
        Files.write(mnt.resolve("v/a"), new byte[300_000]);
        assertEquals(300_000, Files.size(mnt.resolve("v/a")));
        assertEquals(0, writebackMounts(log), "--no-writeback-cache does not ask for the writeback cache");
        cfs.unmount(mnt);

        cfs.mount(mnt);
        Files.write(mnt.resolve("v/b"), new byte[300_000]);
        assertEquals(300_000, Files.size(mnt.resolve("v/b")));
        assertEquals(300_000, Files.size(mnt.resolve("v/a")), "written before the first unmount");
        assertEquals(1, writebackMounts(log), "the default mount asks for it");
        assertTrue(cfs.run("mount", "--help").out().contains("--[no-]writeback-cache"));
        cfs.unmount(mnt);
    }

    /**
     * The libfuse layout check fails (simulated through JAVA_OPTS, which the launcher hands to the
     * daemon): the daemon logs one WARN line, {@code clonefs mount} says "cache: write-through
     * (libfuse layout check failed: ...)" on stderr (stdout stays the mount point) and in
     * {@code daemon.json}, and the mount works. {@code WriteThroughFallbackIT} shows it is
     * write-through.
     */
    @Test
    void aFailedLibfuseLayoutCheckMountsWriteThroughAndSaysSo() throws Exception {
        Clonefs cfs = pools.clonefs().withEnv(Map.of("JAVA_OPTS", "-Dclonefs.fuse.simulateLayoutCheckFailure=true"));
        Path mnt = pools.mnt();
        Path log = cfs.pool().resolve("daemon.log");
        String expected = "write-through (libfuse layout check failed: simulated by"
                + " -Dclonefs.fuse.simulateLayoutCheckFailure)";
        try {
            Proc.Result r = cfs.run("mount", cfs.pool().toString(), mnt.toString());
            r.check();
            assertEquals(mnt.toAbsolutePath().normalize().toString(), r.out().strip(), r.describe());
            assertTrue(r.err().contains("cache: " + expected), r.describe());
            assertTrue(Files.readString(cfs.pool().resolve("daemon.json")).contains(expected), "daemon.json");
            long warnings = Files.readAllLines(log).stream()
                    .filter(l -> l.contains("WARN") && l.contains("libfuse layout check failed")).count();
            assertEquals(1, warnings, "one WARN line in the daemon's log");
            assertEquals(0, writebackMounts(log));

            cfs.ok("create", "v");
            Path f = mnt.resolve("v/a");
            byte[] data = new byte[300_000];
            new java.util.Random(3).nextBytes(data);
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.wrap(data));
                ch.force(true);
                ch.truncate(123_456);
            }
            assertEquals(123_456, Files.size(f));
            assertArrayEquals(java.util.Arrays.copyOf(data, 123_456), Files.readAllBytes(f));
        } finally {
            cfs.unmount(mnt);
        }
    }
}
