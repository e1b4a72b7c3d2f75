package io.clonefs.base;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class MountTableTest {
    @Test
    void parsesMountinfoWithOptionalFieldsAndEscapes() {
        MountTable.Entry e = MountTable.parse("36 35 0:45 / /tmp/my\\040mnt rw,nosuid,nodev shared:1 master:2 - fuse clonefs rw,user_id=0");
        assertEquals("/tmp/my mnt", e.mountpoint());
        assertEquals("fuse", e.fstype());
        assertEquals("0:45", e.device());
        assertTrue(e.fuse());
        MountTable.Entry f = MountTable.parse("22 1 8:1 / / rw,relatime - ext4 /dev/vda rw");
        assertEquals("/", f.mountpoint());
        assertEquals("ext4", f.fstype());
    }

    @Test
    void theLastMountAtAPathWins() {
        List<MountTable.Entry> t = MountTable.parse(List.of(
                "44 26 0:39 / /tmp/m1 rw - fuse.clonefs clonefs rw",
                "46 26 0:41 / /tmp/m1 rw - fuse.clonefs clonefs rw",
                "garbage"));
        assertEquals(2, t.size());
        assertEquals("0:41", MountTable.at("/tmp/m1", t).orElseThrow().device());
        assertTrue(MountTable.at("/tmp/none", t).isEmpty());
    }

    @Test
    void findsTheRootMount() {
        assertTrue(MountTable.at("/").isPresent());
    }

    @Test
    void unescape() {
        assertEquals("a b\tc\\d", MountTable.unescape("a\\040b\\011c\\134d"));
        assertEquals("trailing\\04", MountTable.unescape("trailing\\04"));
    }

    @Test
    void superOptionsNameACgroupV1HierarchysControllers() {
        MountTable.Entry e = MountTable.parse("31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct");
        assertEquals("rw,cpu,cpuacct", e.superOptions());
        assertTrue(e.hasSuperOption("cpu"));
        assertTrue(e.hasSuperOption("cpuacct"));
        assertTrue(!e.hasSuperOption("cpuset"));
        assertEquals("", new MountTable.Entry("0:1", "/", "ext4", "/dev/vda").superOptions());
    }
}
