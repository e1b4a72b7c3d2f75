package io.clonefs.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MountsTest {
    @Test
    void parsesMountinfoWithOptionalFieldsAndEscapes() {
        Mounts.Entry e = Mounts.parse("36 35 0:45 / /tmp/my\\040mnt rw,nosuid,nodev shared:1 master:2 - fuse clonefs rw,user_id=0");
        assertEquals("/tmp/my mnt", e.mountpoint());
        assertEquals("fuse", e.fstype());
        assertTrue(e.fuse());
        Mounts.Entry f = Mounts.parse("22 1 8:1 / / rw,relatime - ext4 /dev/vda rw");
        assertEquals("/", f.mountpoint());
        assertEquals("ext4", f.fstype());
    }

    @Test
    void findsTheRootMount() {
        assertTrue(Mounts.find(java.nio.file.Path.of("/")).isPresent());
    }
}
