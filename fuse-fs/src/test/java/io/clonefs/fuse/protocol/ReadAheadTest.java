package io.clonefs.fuse.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.clonefs.base.MountTable;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReadAheadTest {
    private static final List<MountTable.Entry> MOUNTINFO = MountTable.parse(List.of(
            "26 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw",
            "44 26 0:39 / /tmp/m1 rw,nosuid,nodev,relatime - fuse.clonefs clonefs rw,user_id=0,group_id=0",
            "45 26 0:40 / /tmp/with\\040space rw,relatime shared:7 - fuse.clonefs clonefs rw",
            "46 26 0:41 / /tmp/m1 rw,nosuid,nodev,relatime - fuse.clonefs clonefs rw,user_id=0,group_id=0",
            "47 26 0:42 / /tmp/tmpfs rw - tmpfs tmpfs rw"));

    @Test
    void theDeviceOfTheTopFuseMountAtThePath() {
        assertEquals("0:41", ReadAhead.deviceOf("/tmp/m1", MOUNTINFO), "the later of two mounts on one path");
        assertEquals("0:40", ReadAhead.deviceOf("/tmp/with space", MOUNTINFO), "octal escapes undone");
        assertNull(ReadAhead.deviceOf("/tmp/tmpfs", MOUNTINFO), "not a FUSE mount");
        assertNull(ReadAhead.deviceOf("/", MOUNTINFO));
        assertNull(ReadAhead.deviceOf("/tmp/none", MOUNTINFO));
    }
}
