package io.clonefs.pg.limits;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.base.ClonefsException;
import io.clonefs.base.MountTable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Detection of the host's cgroup setup from mountinfo, and groups made in a directory laid out
 * like a cgroup file system (the real v1 hierarchy is used by CgroupsIT).
 */
class CgroupsTest {
    @TempDir
    Path tmp;

    private static List<MountTable.Entry> mounts(String... lines) {
        return MountTable.parse(List.of(lines));
    }

    @Test
    void cgroupV1IsFoundByItsControllersSuperOptions() {
        // this machine: v1 hierarchies, and a cgroup2 mount without controllers
        Cgroups c = Cgroups.detect(mounts(
                "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
                "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu",
                "32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct",
                "33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset",
                "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
                "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw"));
        assertEquals(Cgroups.Version.V1, c.version());
        assertEquals(List.of(Path.of("/sys/fs/cgroup/memory/clonefs/p/b1"), Path.of("/sys/fs/cgroup/cpu/clonefs/p/b1")),
                c.dirs("clonefs/p/b1"));
        // cpu co-mounted with cpuacct (Debian 10 and most v1 hosts)
        Cgroups co = Cgroups.detect(mounts(
                "31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,nosuid,cpu,cpuacct",
                "34 30 0:31 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory"));
        assertEquals(List.of(Path.of("/sys/fs/cgroup/memory/g"), Path.of("/sys/fs/cgroup/cpu,cpuacct/g")), co.dirs("g"));
        assertTrue(co.hasMemory() && co.hasCpu());
    }

    @Test
    void cgroupV2IsFoundWhereItsRootOffersTheControllers() throws IOException {
        Path root = Files.createDirectories(tmp.resolve("cgroup"));
        Files.writeString(root.resolve("cgroup.controllers"), "cpuset cpu io memory hugetlb pids rdma misc\n");
        Cgroups c = Cgroups.detect(mounts("29 23 0:26 / " + root + " rw,nosuid - cgroup2 cgroup2 rw,nsdelegate"));
        assertEquals(Cgroups.Version.V2, c.version());
        assertTrue(c.hasMemory() && c.hasCpu());
        assertEquals(List.of(root.resolve("clonefs/p/b1")), c.dirs("clonefs/p/b1"));
    }

    @Test
    void aHostWithoutUsableCgroupsRefusesEveryLimitWithTheReason() throws IOException {
        Path empty = Files.createDirectories(tmp.resolve("unified"));
        Files.writeString(empty.resolve("cgroup.controllers"), "\n");
        Cgroups none = Cgroups.detect(mounts("40 30 0:37 / " + empty + " rw - cgroup2 cgroup2 rw",
                "22 1 8:1 / / rw - ext4 /dev/vda rw"));
        assertEquals(Cgroups.Version.NONE, none.version());
        ClonefsException e = assertThrows(ClonefsException.InvalidArgument.class,
                () -> none.apply("clonefs/p/b1", new Limits(1L << 30, null, Map.of())));
        assertEquals("cannot limit memory on this host: the cgroup v2 hierarchy at " + empty
                + " offers neither the memory nor the cpu controller", e.getMessage());
        assertThrows(ClonefsException.InvalidArgument.class, () -> none.require(new Limits(null, 50, Map.of())));
        none.require(Limits.NONE); // no limit asked: nothing to refuse
        assertEquals(List.of(), none.apply("clonefs/p/b1", Limits.NONE));
        assertFalse(Files.exists(empty.resolve("clonefs")), "nothing made");

        Cgroups nothing = Cgroups.detect(mounts("22 1 8:1 / / rw - ext4 /dev/vda rw"));
        assertEquals(Cgroups.Version.NONE, nothing.version());
        assertTrue(nothing.missing().startsWith("no cgroup hierarchy is mounted"), nothing.missing());
    }

    @Test
    void aV2HierarchyWithoutTheCpuControllerTakesMemoryLimitsOnly() throws IOException {
        Path root = Files.createDirectories(tmp.resolve("cg"));
        Files.writeString(root.resolve("cgroup.controllers"), "memory pids\n");
        Cgroups c = Cgroups.v2(root);
        c.require(new Limits(1L << 30, null, Map.of()));
        ClonefsException e = assertThrows(ClonefsException.InvalidArgument.class,
                () -> c.apply("clonefs/p/b1", new Limits(1L << 30, 200, Map.of())));
        assertEquals("cannot set a CPU weight on this host: the cgroup v2 hierarchy at " + root + " offers no cpu controller",
                e.getMessage());
        assertFalse(Files.exists(root.resolve("clonefs")), "nothing made");
    }

    @Test
    void aV2GroupGetsItsControllersEnabledFromTheRootDownAndItsLimitsWritten() throws IOException {
        Path root = Files.createDirectories(tmp.resolve("cg"));
        Files.writeString(root.resolve("cgroup.controllers"), "cpuset cpu io memory pids\n");
        Files.writeString(root.resolve("cgroup.subtree_control"), "cpu\n"); // enabled already: only memory is added
        Cgroups c = Cgroups.v2(root);
        List<Path> procs = c.apply("clonefs/pool-1/b1", new Limits(512L << 20, 50, Map.of("work_mem", "8MB")));
        Path leaf = root.resolve("clonefs/pool-1/b1");
        assertEquals(List.of(leaf.resolve("cgroup.procs")), procs);
        assertEquals("+memory\n", Files.readString(root.resolve("cgroup.subtree_control")));
        assertEquals("+memory +cpu\n", Files.readString(root.resolve("clonefs/cgroup.subtree_control")));
        assertEquals("+memory +cpu\n", Files.readString(root.resolve("clonefs/pool-1/cgroup.subtree_control")));
        assertFalse(Files.exists(leaf.resolve("cgroup.subtree_control")), "the leaf holds the processes: no children");
        assertEquals("536870912\n", Files.readString(leaf.resolve("memory.max")));
        assertEquals("50\n", Files.readString(leaf.resolve("cpu.weight")));

        // a second server under the same pool; then limits lifted on the first: back to max and the default weight
        c.apply("clonefs/pool-1/b2", new Limits(null, 300, Map.of()));
        assertEquals("max\n", Files.readString(root.resolve("clonefs/pool-1/b2/memory.max")));
        c.apply("clonefs/pool-1/b1", Limits.NONE);
        assertEquals("max\n", Files.readString(leaf.resolve("memory.max")));
        assertEquals("100\n", Files.readString(leaf.resolve("cpu.weight")));

        // removal: the group, then its pool's group once empty; the shared parent stays
        assertTrue(c.remove("clonefs/pool-1/b1", 1, 0));
        assertFalse(Files.exists(leaf));
        assertTrue(Files.isDirectory(root.resolve("clonefs/pool-1")), "b2 is still there");
        assertTrue(c.remove("clonefs/pool-1/b2", 1, 0));
        assertFalse(Files.exists(root.resolve("clonefs/pool-1")));
        assertTrue(Files.isDirectory(root.resolve("clonefs")));
        assertTrue(c.remove("clonefs/pool-1/b2", 1, 0), "removing what is gone is fine");
    }

    @Test
    void aV1GroupIsMadeInTheMemoryAndCpuHierarchies() throws IOException {
        Path mem = Files.createDirectories(tmp.resolve("memory"));
        Path cpu = Files.createDirectories(tmp.resolve("cpu,cpuacct"));
        Cgroups c = Cgroups.v1(mem, cpu);
        List<Path> procs = c.apply("clonefs/p/b1", new Limits(256L << 20, 200, Map.of()));
        assertEquals(List.of(mem.resolve("clonefs/p/b1/cgroup.procs"), cpu.resolve("clonefs/p/b1/cgroup.procs")), procs);
        assertEquals("268435456\n", Files.readString(mem.resolve("clonefs/p/b1/memory.limit_in_bytes")));
        assertEquals("2048\n", Files.readString(cpu.resolve("clonefs/p/b1/cpu.shares")));
        // a weight alone makes no memory group
        List<Path> only = c.apply("clonefs/p/b2", new Limits(null, 10, Map.of()));
        assertEquals(List.of(cpu.resolve("clonefs/p/b2/cgroup.procs")), only);
        assertFalse(Files.exists(mem.resolve("clonefs/p/b2")));
        assertTrue(c.remove("clonefs/p/b1", 1, 0));
        assertTrue(c.remove("clonefs/p/b2", 1, 0));
        assertFalse(Files.exists(mem.resolve("clonefs/p")));
        assertFalse(Files.exists(cpu.resolve("clonefs/p")));
    }

    @Test
    void aDirectoryNamedInsteadOfTheMountTableIsReadTheSameWay() throws IOException {
        Path v2 = Files.createDirectories(tmp.resolve("v2"));
        Files.writeString(v2.resolve("cgroup.controllers"), "cpu memory\n");
        assertEquals(Cgroups.Version.V2, Cgroups.at(v2).version());
        Path v1 = Files.createDirectories(tmp.resolve("v1"));
        Files.createDirectories(v1.resolve("memory"));
        Files.createDirectories(v1.resolve("cpu,cpuacct"));
        Cgroups c = Cgroups.at(v1);
        assertEquals(Cgroups.Version.V1, c.version());
        assertEquals(List.of(v1.resolve("memory/g"), v1.resolve("cpu,cpuacct/g")), c.dirs("g"));
        Cgroups none = Cgroups.at(Files.createDirectories(tmp.resolve("empty")));
        assertEquals(Cgroups.Version.NONE, none.version());
        assertTrue(none.missing().startsWith("no cgroup hierarchy at "), none.missing());
    }
}
