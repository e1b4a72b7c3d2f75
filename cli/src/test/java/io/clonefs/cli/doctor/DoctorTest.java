package io.clonefs.cli.doctor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.base.MountTable;
import io.clonefs.cli.doctor.Doctor.Check;
import io.clonefs.cli.doctor.Doctor.Status;
import io.clonefs.pg.limits.Cgroups;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each check's logic, then the whole doctor on a host made of files in a temp dir. */
class DoctorTest {
    @TempDir
    Path tmp;

    private static MountTable.Entry mount(String mountpoint, String type) {
        return new MountTable.Entry("0:1", mountpoint, type, "src");
    }

    @Test
    void fuseDeviceMustExistAndOpen() throws IOException {
        assertEquals(Status.FAIL, Doctor.fuseDevice(tmp.resolve("fuse")).status());
        Path unreadable = Files.createFile(tmp.resolve("dev"));
        Files.setPosixFilePermissions(unreadable, PosixFilePermissions.fromString("---------"));
        boolean root = "root".equals(System.getProperty("user.name"));
        // root opens any file; anyone else is refused
        assertEquals(root ? Status.OK : Status.FAIL, Doctor.fuseDevice(unreadable).status());
    }

    @Test
    void userAllowOtherIsNeededOnlyWhenNotRoot() {
        Path conf = Path.of("/etc/fuse.conf");
        List<String> commented = List.of("# user_allow_other", "#user_allow_other");
        assertEquals(Status.FAIL, Doctor.fuseConf(commented, conf, false).status());
        Check asRoot = Doctor.fuseConf(commented, conf, true);
        assertEquals(Status.OK, asRoot.status());
        assertTrue(asRoot.detail().contains("root does not need it"), asRoot.detail());
        assertEquals(Status.OK, Doctor.fuseConf(List.of("mount_max = 1000", " user_allow_other "), conf, false).status());
        assertEquals(Status.FAIL, Doctor.fuseConf(List.of(), conf, false).status(), "no file");
    }

    @Test
    void fusermountLibfuseAndJava() {
        assertEquals(Status.FAIL, Doctor.fusermount(Optional.empty(), false).status());
        assertEquals(Status.WARN, Doctor.fusermount(Optional.empty(), true).status());
        assertEquals(Status.OK, Doctor.fusermount(Optional.of(Path.of("/usr/bin/fusermount")), false).status());
        Check lib = Doctor.libfuse(Optional.of("libfuse.so.2: cannot open shared object file"));
        assertEquals(Status.FAIL, lib.status());
        assertTrue(lib.fix().contains("libfuse2"), lib.fix());
        assertEquals(Status.OK, Doctor.libfuse(Optional.empty()).status());
        assertEquals(Status.FAIL, Doctor.java(11).status());
        assertEquals(Status.OK, Doctor.java(17).status());
    }

    private Path binDir(String... programs) throws IOException {
        Path bin = Files.createTempDirectory(tmp, "bin");
        for (String p : programs) {
            Path f = Files.writeString(bin.resolve(p), "#!/bin/sh\n");
            Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        return bin;
    }

    @Test
    void postgresqlNeedsTheProgramsTheManagerRuns() throws IOException {
        Check none = Doctor.postgresql(binDir("initdb", "postgres"), true);
        assertEquals(Status.FAIL, none.status());
        assertTrue(none.detail().startsWith("no pg_ctl, pg_basebackup in "), none.detail());
        assertTrue(none.detail().contains("(CLONEFS_PG_BIN)"), none.detail());
        Check some = Doctor.postgresql(binDir("initdb", "pg_ctl", "pg_basebackup", "postgres"), false);
        assertEquals(Status.WARN, some.status(), some.detail());
        assertTrue(some.detail().contains("pg_dump"), some.detail());
        assertEquals(Status.OK, Doctor.postgresql(binDir("initdb", "pg_ctl", "pg_basebackup", "postgres", "pg_dump",
                "pg_resetwal", "pg_controldata", "psql"), false).status());
    }

    @Test
    void postgresRunsAsItsUserThroughRunuserAsRoot() {
        List<String> passwd = List.of("root:x:0:0::/root:/bin/bash", "postgres:x:104:110::/var/lib/postgresql:/bin/bash");
        Optional<Path> runuser = Optional.of(Path.of("/usr/sbin/runuser"));
        assertEquals(Status.OK, Doctor.postgresUser(true, runuser, passwd).status());
        assertEquals(Status.FAIL, Doctor.postgresUser(true, Optional.empty(), passwd).status());
        assertEquals(Status.FAIL, Doctor.postgresUser(true, runuser, passwd.subList(0, 1)).status());
        assertEquals(Status.WARN, Doctor.postgresUser(false, runuser, passwd).status());
    }

    @Test
    void portsInUseWarnInTheDefaultRangeAndFailInAConfiguredOne() {
        assertEquals(Status.OK, Doctor.ports(null, Set.of(5432, 8080)).status());
        Check taken = Doctor.ports(null, Set.of(54400, 54401));
        assertEquals(Status.WARN, taken.status());
        assertTrue(taken.detail().contains("54400, 54401"), taken.detail());
        assertEquals(Status.FAIL, Doctor.ports("6000-6010", Set.of(6005)).status());
        assertEquals(Status.OK, Doctor.ports("6000-6010", Set.of(6011)).status());
        assertEquals(Status.FAIL, Doctor.ports("6010-6000", Set.of()).status(), "reversed");
        assertEquals(Status.FAIL, Doctor.ports("many", Set.of()).status());
        Set<Integer> all = java.util.stream.IntStream.rangeClosed(54400, 55399).boxed().collect(Collectors.toSet());
        assertEquals(Status.FAIL, Doctor.ports(null, all).status(), "every port taken");
    }

    private Path meminfo(long totalKib, long availableKib) throws IOException {
        return Files.writeString(Files.createTempFile(tmp, "meminfo", ""), "MemTotal: " + totalKib + " kB\nMemAvailable: "
                + availableKib + " kB\n");
    }

    @Test
    void memoryMustLeaveRoomAboveTheAdmissionFloor() throws IOException {
        // 16 GiB of RAM: the floor is 5 %, 819 MiB
        Check plenty = Doctor.memory(null, meminfo(16L << 20, 8L << 20));
        assertEquals(Status.OK, plenty.status(), plenty.line());
        assertTrue(plenty.detail().contains("819 MiB kept free"), plenty.detail());
        assertEquals(Status.WARN, Doctor.memory(null, meminfo(16L << 20, 1000L << 10)).status(), "2 servers");
        assertEquals(Status.FAIL, Doctor.memory(null, meminfo(16L << 20, 850L << 10)).status());
        assertEquals(Status.OK, Doctor.memory("0", meminfo(16L << 20, 1L << 10)).status(), "floor off");
        assertEquals(Status.OK, Doctor.memory("100MiB", meminfo(16L << 20, 600L << 10)).status());
        assertEquals(Status.FAIL, Doctor.memory("lots", meminfo(16L << 20, 8L << 20)).status());
        assertEquals(Status.WARN, Doctor.memory(null, tmp.resolve("none")).status(), "unreadable");
    }

    @Test
    void cgroupsReuseTheLimitsDetection() throws IOException {
        Path v2 = Files.createDirectory(tmp.resolve("v2"));
        Files.writeString(v2.resolve("cgroup.controllers"), "cpuset cpu io memory pids\n");
        assertEquals(Status.OK, Doctor.cgroups(Cgroups.at(v2)).status());
        Files.writeString(v2.resolve("cgroup.controllers"), "cpuset cpu io pids\n");
        Check noMemory = Doctor.cgroups(Cgroups.at(v2));
        assertEquals(Status.WARN, noMemory.status());
        assertTrue(noMemory.detail().contains("--memory is refused"), noMemory.detail());
        assertEquals(Status.WARN, Doctor.cgroups(Cgroups.at(Files.createDirectory(tmp.resolve("empty")))).status());
        assertEquals(Status.OK, Doctor.cgroups(Cgroups.detect(List.of(new MountTable.Entry("0:1", "/sys/fs/cgroup/memory",
                "cgroup", "cgroup", "rw,memory"), new MountTable.Entry("0:2", "/sys/fs/cgroup/cpu,cpuacct", "cgroup",
                "cgroup", "rw,cpu,cpuacct")))).status());
    }

    @Test
    void thePoolsFilesystemIsTheLongestMountAboveIt() {
        List<MountTable.Entry> mounts = List.of(mount("/", "ext4"), mount("/srv", "nfs4"), mount("/srv/local", "xfs"),
                mount("/srv2", "tmpfs"));
        assertEquals("nfs4", Doctor.mountOf(Path.of("/srv/pool"), mounts).orElseThrow().fstype());
        assertEquals("xfs", Doctor.mountOf(Path.of("/srv/local/pool"), mounts).orElseThrow().fstype());
        assertEquals("ext4", Doctor.mountOf(Path.of("/srvx/pool"), mounts).orElseThrow().fstype(), "not a path prefix");
        assertEquals("tmpfs", Doctor.mountOf(Path.of("/srv2"), mounts).orElseThrow().fstype());
        Function<String, Status> fs = t -> Doctor.filesystem("pool", Optional.of(mount("/x", t))).status();
        assertEquals(Status.OK, fs.apply("ext4"));
        assertEquals(Status.OK, fs.apply("xfs"));
        assertEquals(Status.WARN, fs.apply("tmpfs"));
        assertEquals(Status.WARN, fs.apply("overlay"));
        assertEquals(Status.WARN, fs.apply("fuse.clonefs"));
        assertEquals(Status.FAIL, fs.apply("nfs4"));
        assertEquals(Status.FAIL, fs.apply("cifs"));
        assertEquals(Status.FAIL, fs.apply("fuse.sshfs"));
        assertEquals(Status.WARN, Doctor.filesystem("pool", Optional.empty()).status());
    }

    @Test
    void freeSpace() {
        assertEquals(Status.FAIL, Doctor.freeSpace(tmp, 100L << 20).status());
        assertEquals(Status.WARN, Doctor.freeSpace(tmp, 1L << 30).status());
        assertEquals(Status.OK, Doctor.freeSpace(tmp, 10L << 30).status());
        assertTrue(Doctor.freeSpace(tmp, 10L << 30).detail().startsWith("10.0 GiB free on "));
    }

    /** A host whose every part is a file here: a check fails where the file says so. */
    private Host fakeHost(Map<String, String> env, long uid, String poolFs) throws IOException {
        Path mountinfo = Files.writeString(tmp.resolve("mountinfo"),
                "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
                + "23 22 0:40 / " + tmp + " rw,relatime shared:2 - " + poolFs + " server:/export rw\n");
        Path tcp = Files.writeString(tmp.resolve("tcp"),
                "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
                + "   0: 0100007F:D480 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1\n");
        Path passwd = Files.writeString(tmp.resolve("passwd"), "root:x:0:0::/root:/bin/bash\n");
        Path meminfo = Files.writeString(tmp.resolve("meminfo"), "MemTotal:        2000000 kB\nMemFree:          100000 kB\n"
                + "MemAvailable:     300000 kB\n");
        return new Host(tmp.resolve("no-fuse"), tmp.resolve("no-fuse.conf"), mountinfo, List.of(tcp), passwd, meminfo, env, uid,
                17, () -> Optional.of("libfuse.so.2: cannot open shared object file"));
    }

    @Test
    void aHostMadeOfFilesFailsWhereTheyDo() throws IOException {
        Path pool = Files.createDirectory(tmp.resolve("pool"));
        Path bin = binDir("initdb");
        Host host = fakeHost(Map.of("PATH", bin.toString(), "CLONEFS_PG_BIN", bin.toString(),
                "CLONEFS_PG_PORTS", "54400-54410", "CLONEFS_CGROUP_ROOT", tmp.resolve("no-cgroups").toString()), 0, "nfs4");
        Doctor.Report r = new Doctor(host).run(pool, true);
        Map<String, Check> by = r.checks().stream().collect(Collectors.toMap(Check::name, c -> c));
        assertFalse(r.ok());
        assertEquals(Status.FAIL, by.get("fuse-device").status());
        assertEquals(Status.OK, by.get("allow-other").status(), "root");
        assertEquals(Status.WARN, by.get("fusermount").status());
        assertEquals(Status.FAIL, by.get("libfuse2").status());
        assertEquals(Status.FAIL, by.get("postgresql").status());
        assertEquals(Status.FAIL, by.get("pg-user").status(), "no runuser on PATH");
        Check ports = by.get("ports");
        assertEquals(Status.FAIL, ports.status(), ports.line()); // 0xD480 = 54400 listens on 127.0.0.1
        assertTrue(ports.detail().contains("54400"), ports.detail());
        assertEquals(Status.WARN, by.get("cgroups").status());
        assertEquals(Status.FAIL, by.get("memory").status(), "293 MiB available, 256 MiB kept free");
        Check disk = by.get("pool-disk");
        assertEquals(Status.FAIL, disk.status(), disk.line());
        assertTrue(disk.detail().contains("nfs4"), disk.detail());
        assertEquals(r.checks().stream().filter(c -> c.status() == Status.FAIL).count(), r.blockers());
        for (Check c : r.checks()) {
            assertTrue(c.line().startsWith(c.status() + " "), c.line());
            // a blocker says what to fix; an OK line has nothing to fix
            assertEquals(c.status() == Status.FAIL || c.status() == Status.WARN, c.fix() != null, c.line());
        }

        // not root: user_allow_other is needed; no pool and none named: its disk is not checked
        Doctor.Report user = new Doctor(fakeHost(Map.of(), 1000, "ext4")).run(tmp.resolve("absent"), false);
        Map<String, Check> u = user.checks().stream().collect(Collectors.toMap(Check::name, c -> c));
        assertEquals(Status.FAIL, u.get("allow-other").status());
        assertEquals(Status.FAIL, u.get("fusermount").status());
        assertEquals(Status.WARN, u.get("pg-user").status());
        assertEquals(Status.OK, u.get("pool").status());
        assertFalse(u.containsKey("pool-disk"));
        // a pool named but not made yet: the disk it would go on
        Doctor.Report named = new Doctor(fakeHost(Map.of(), 0, "tmpfs")).run(tmp.resolve("new/pool"), true);
        Check where = named.checks().stream().filter(c -> c.name().equals("pool-disk")).findFirst().orElseThrow();
        assertEquals(Status.WARN, where.status(), where.line());
        assertTrue(where.detail().contains("no pool at " + tmp.resolve("new/pool") + " yet; " + tmp), where.detail());
    }
}
