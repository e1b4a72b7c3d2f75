package io.clonefs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.base.ClonefsException;
import io.clonefs.engine.Engine;
import io.clonefs.fuse.protocol.FuseLoop;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The libfuse command line and the mount point checks, without mounting. */
class MountOptionsTest {
    @Test
    void optionsAsMeasuredForPostgres() {
        List<String> o = Arrays.asList(Mount.fuseOptions(MountOptions.defaults()).split(","));
        assertTrue(o.containsAll(List.of("allow_other", "default_permissions", "big_writes", "max_write=131072",
                "kernel_cache", "hard_remove", "use_ino", "fsname=clonefs", "subtype=clonefs")), o.toString());
        assertFalse(Mount.fuseOptions(new MountOptions(false, false)).contains("allow_other"));
    }

    @Test
    void dirtyShareFromItsPropertyWhenAPercentageElseTheDefault() {
        String old = System.getProperty(MountOptions.DIRTY_SHARE_PROPERTY);
        try {
            for (String[] c : new String[][] {{"0", "0"}, {" 35 ", "35"}, {"100", "100"}, {"101", "20"}, {"-1", "20"},
                    {"lots", "20"}, {"", "20"}}) {
                System.setProperty(MountOptions.DIRTY_SHARE_PROPERTY, c[0]);
                assertEquals(Integer.parseInt(c[1]), MountOptions.dirtyShare(), "'" + c[0] + "'");
            }
            System.clearProperty(MountOptions.DIRTY_SHARE_PROPERTY);
            assertEquals(MountOptions.DIRTY_SHARE, MountOptions.dirtyShare());
        } finally {
            if (old == null) {
                System.clearProperty(MountOptions.DIRTY_SHARE_PROPERTY);
            } else {
                System.setProperty(MountOptions.DIRTY_SHARE_PROPERTY, old);
            }
        }
    }

    @Test
    void writebackCacheOnByDefaultAndOffByProperty() {
        String old = System.getProperty(MountOptions.WRITEBACK_PROPERTY);
        try {
            System.clearProperty(MountOptions.WRITEBACK_PROPERTY);
            assertTrue(MountOptions.defaults().writebackCache());
            assertEquals(new FuseLoop.Tuning(true, 1 << 20, 1 << 20, 20), MountOptions.defaults().tuning());
            System.setProperty(MountOptions.WRITEBACK_PROPERTY, "false");
            assertFalse(new MountOptions(true, false).writebackCache());
            assertEquals(new FuseLoop.Tuning(false, 0, 1 << 20, 0), MountOptions.defaults().tuning());
        } finally {
            if (old == null) {
                System.clearProperty(MountOptions.WRITEBACK_PROPERTY);
            } else {
                System.setProperty(MountOptions.WRITEBACK_PROPERTY, old);
            }
        }
    }

    @Test
    void foregroundMultithreadedLoop() {
        List<String> a = List.of(Mount.args(Path.of("/mnt/x"), new MountOptions(true, true)));
        assertTrue(a.contains("-f"));
        assertTrue(a.contains("-d"));
        assertFalse(a.contains("-s"), "-s would make libfuse single-threaded");
        assertEquals("/mnt/x", a.get(a.indexOf("-o") - 1));
        assertFalse(List.of(Mount.args(Path.of("/mnt/x"), MountOptions.defaults())).contains("-d"));
    }

    @Test
    void refusesMissingOrNonEmptyMountPoints(@TempDir Path dir) throws Exception {
        Engine.init(dir.resolve("pool"), Engine.DEFAULT_BLOCK_SIZE);
        try (Engine engine = Engine.open(dir.resolve("pool"))) {
            ClonefsException e = assertThrows(ClonefsException.NotFound.class,
                    () -> Mount.mount(engine, dir.resolve("nosuch"), MountOptions.defaults()));
            assertEquals("mount point " + dir.resolve("nosuch") + " does not exist", e.getMessage());
            e = assertThrows(ClonefsException.InvalidArgument.class,
                    () -> Mount.mount(engine, dir, MountOptions.defaults()));
            assertTrue(e.getMessage().endsWith("is not empty"), e.getMessage());
            Files.writeString(dir.resolve("file"), "x");
            e = assertThrows(ClonefsException.InvalidArgument.class,
                    () -> Mount.mount(engine, dir.resolve("file"), MountOptions.defaults()));
            assertTrue(e.getMessage().endsWith("is not a directory"), e.getMessage());
            assertNull(Mount.fuseMountAt(dir));
        }
    }
}
