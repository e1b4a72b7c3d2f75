package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.it.support.Clonefs;
import io.clonefs.it.support.MountedPool;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** `clonefs mount` with and without the kernel's writeback cache, through the real launcher. */
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
}
