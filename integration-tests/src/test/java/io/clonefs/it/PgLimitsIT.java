package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.api.PgApi;
import io.clonefs.base.ClonefsException;
import io.clonefs.it.pg.PgHarness;
import io.clonefs.pg.PgManager;
import io.clonefs.pg.PgManager.BranchSpec;
import io.clonefs.pg.limits.Cgroups;
import io.clonefs.pg.limits.Limits;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Limits per server on the host's real cgroups (v1 here: memory and cpu hierarchies under
 * /sys/fs/cgroup; v2 where the host has it), as root: a process joins a group and stays in it
 * with the limits written; a branch started with a memory limit and a CPU weight runs in its own
 * group (postmaster and backends), keeps it across stop/start and a daemon restart, has its
 * limits changed live, refuses bad limits without changing anything, and leaves no group behind
 * after stop and destroy. A suspended branch has no group (it has no processes) and wakes inside
 * it again, also after a daemon restart.
 */
class PgLimitsIT {
    private PgHarness h;

    @AfterEach
    void teardown() {
        if (h != null) {
            h.close();
        }
    }

    private static Cgroups hostCgroups() {
        Cgroups c = Cgroups.detect();
        Assumptions.assumeTrue(c.version() != Cgroups.Version.NONE, "this host has no usable cgroups: " + c.missing());
        assertTrue(c.hasMemory() && c.hasCpu(), "memory and cpu controllers: " + c);
        return c;
    }

    /** The groups a process is in, as {@code /proc/PID/cgroup} lists them (one line per hierarchy). */
    private static List<String> cgroupsOf(long pid) throws IOException {
        return Files.readAllLines(Path.of("/proc", Long.toString(pid), "cgroup"));
    }

    private static boolean inGroup(long pid, String group) throws IOException {
        return cgroupsOf(pid).stream().anyMatch(l -> l.endsWith(":/" + group));
    }

    private static String read(Path file) throws IOException {
        return Files.readString(file).strip();
    }

    private static Path memoryFile(Cgroups c, String group, String v1, String v2) {
        Path dir = c.dirs(group).get(0);
        return dir.resolve(c.version() == Cgroups.Version.V1 ? v1 : v2);
    }

    private static Path cpuFile(Cgroups c, String group, String v1, String v2) {
        List<Path> dirs = c.dirs(group);
        return dirs.get(dirs.size() - 1).resolve(c.version() == Cgroups.Version.V1 ? v1 : v2);
    }

    @Test
    void aProcessStartedInAGroupRunsThereWithItsLimits() throws Exception {
        Cgroups c = hostCgroups();
        String group = "clonefs-it/" + UUID.randomUUID().toString().substring(0, 8) + "/g1";
        Process p = null;
        try {
            List<Path> procs = c.apply(group, new Limits(256L << 20, 50, Map.of()));
            assertEquals(c.version() == Cgroups.Version.V1 ? 2 : 1, procs.size());
            // as PgLimiter starts pg_ctl: the shell joins the groups, then execs; its children are born inside
            List<String> cmd = new ArrayList<>(List.of("sh", "-c",
                    "for f in \"$@\"; do echo $$ > \"$f\" || exit 125; done; sleep 60 & wait", "join"));
            procs.forEach(f -> cmd.add(f.toString()));
            p = new ProcessBuilder(cmd).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (p.children().findAny().isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            long child = p.children().findFirst().orElseThrow().pid();
            assertTrue(inGroup(p.pid(), group), cgroupsOf(p.pid()).toString());
            assertTrue(inGroup(child, group), "a child is born in its parent's group: " + cgroupsOf(child));
            assertTrue(c.pids(group).contains(p.pid()), "cgroup.procs lists it: " + c.pids(group));
            assertEquals(Long.toString(256L << 20), read(memoryFile(c, group, "memory.limit_in_bytes", "memory.max")));
            assertEquals(c.version() == Cgroups.Version.V1 ? "512" : "50", read(cpuFile(c, group, "cpu.shares", "cpu.weight")));

            assertFalse(c.remove(group, 0, 200), "a group with processes cannot be removed");
            p.destroyForcibly().waitFor();
            ProcessHandle.of(child).ifPresent(ProcessHandle::destroyForcibly);
            assertTrue(c.remove(group, 0, 5000));
        } finally {
            if (p != null) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly().waitFor();
            }
            c.remove(group, 0, 5000);
        }
        for (Path d : c.dirs(group)) {
            assertFalse(Files.exists(d), d + " removed");
            assertFalse(Files.exists(d.getParent()), "its empty parent too");
            assertFalse(Files.exists(d.getParent().getParent()), "and the test's top group (keep depth 0)");
        }
    }

    @Test
    void aBranchWithLimitsRunsInItsOwnGroupUntilItIsDestroyed() throws Exception {
        Cgroups c = hostCgroups();
        h = PgHarness.start("pglimits");
        PgManager pg = h.pg();
        List<String> events = new java.util.concurrent.CopyOnWriteArrayList<>();
        pg.listener((type, rec, details) -> events.add(type + " " + rec.name() + " " + details));
        PgApi.Server src = pg.init("src", null);
        assertNull(src.limits());
        PgHarness.execute(src.port(), "CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g");

        // bad limits: one-line errors, nothing made
        ClonefsException small = assertThrows(ClonefsException.InvalidArgument.class, () ->
                pg.branch(BranchSpec.of("src", "bad").withLimits(new Limits(32L << 20, null, Map.of()))));
        assertEquals("--memory 32 MiB is too small: a server needs at least 64 MiB", small.getMessage());
        assertThrows(ClonefsException.InvalidArgument.class, () ->
                pg.branch(BranchSpec.of("src", "bad").withLimits(new Limits(null, 10_001, Map.of()))));
        assertThrows(ClonefsException.InvalidArgument.class, () ->
                pg.branch(BranchSpec.of("src", "bad").withLimits(new Limits(Limits.hostMemory() + (1L << 30), null, Map.of()))));
        assertThrows(ClonefsException.InvalidArgument.class, () ->
                pg.branch(BranchSpec.of("src", "bad").withLimits(new Limits(null, null, Map.of("port", "1")))));
        assertFalse(h.engine().volumes().stream().anyMatch(v -> v.name().equals("bad")), "no volume made");
        assertEquals(1, pg.list().size());

        PgApi.Branched b = pg.branch(BranchSpec.of("src", "b1")
                .withLimits(new Limits(256L << 20, 50, Map.of("work_mem", "7MB"))));
        PgApi.Server s = pg.get("b1");
        assertNotNull(s.limits());
        String group = s.limits().cgroup();
        assertNotNull(group, "a running branch with limits has its group");
        assertTrue(group.startsWith("clonefs/pool-") && group.endsWith("/b1"), group);
        assertEquals(256L << 20, s.limits().memory());
        assertEquals(50, s.limits().cpuWeight());
        assertEquals(Long.toString(256L << 20), read(memoryFile(c, group, "memory.limit_in_bytes", "memory.max")));
        assertEquals(c.version() == Cgroups.Version.V1 ? "512" : "50", read(cpuFile(c, group, "cpu.shares", "cpu.weight")));
        // the postmaster and every backend, a new connection's included, run in it
        try (var conn = PgHarness.connect(b.port())) {
            long backend = Long.parseLong(io.clonefs.pg.process.Postgres.query(conn, "SELECT pg_backend_pid()"));
            assertTrue(inGroup(backend, group), "backend " + backend + ": " + cgroupsOf(backend));
        }
        assertTrue(inGroup(s.pid(), group), "postmaster: " + cgroupsOf(s.pid()));
        List<Long> pids = c.pids(group);
        assertTrue(pids.contains(s.pid()), pids.toString());
        ProcessHandle.of(s.pid()).orElseThrow().descendants()
                .forEach(d -> assertTrue(pids.contains(d.pid()), "child " + d.pid() + " of the postmaster in " + pids));
        long charged = Long.parseLong(read(memoryFile(c, group, "memory.usage_in_bytes", "memory.current")));
        assertTrue(charged > 1 << 20 && charged <= 256L << 20, "the server's memory is charged to its group: " + charged);
        assertFalse(inGroup(pg.get("src").pid(), group));
        assertFalse(cgroupsOf(pg.get("src").pid()).stream().anyMatch(l -> l.contains("clonefs/pool-")),
                "the source has no limits and no group");
        // settings: its own, and the small-branch defaults
        assertEquals("7MB", PgHarness.query(b.port(), "SHOW work_mem"));
        assertEquals("32MB", PgHarness.query(b.port(), "SHOW shared_buffers"));
        assertEquals("50", PgHarness.query(b.port(), "SHOW max_connections"));
        assertEquals("1000", PgHarness.query(b.port(), "SELECT count(*) FROM t"));

        // changed live; a bad change changes nothing
        pg.limits("b1", new PgApi.LimitsRequest("512MiB", 200, Map.of("max_connections", "80"), null));
        assertEquals(Long.toString(512L << 20), read(memoryFile(c, group, "memory.limit_in_bytes", "memory.max")));
        assertEquals(c.version() == Cgroups.Version.V1 ? "2048" : "200", read(cpuFile(c, group, "cpu.shares", "cpu.weight")));
        assertThrows(ClonefsException.InvalidArgument.class,
                () -> pg.limits("b1", new PgApi.LimitsRequest("1MiB", 300, null, null)));
        assertThrows(ClonefsException.InvalidArgument.class,
                () -> pg.limits("b1", new PgApi.LimitsRequest(null, 20_000, null, null)));
        assertEquals(512L << 20, pg.get("b1").limits().memory());
        assertEquals(List.of("limits b1 {memory=536870912, cpuWeight=200, settings={max_connections=80, work_mem=7MB}, running=true}"),
                events.stream().filter(e -> e.startsWith("limits")).toList(), "one event, for the change that was made");
        assertEquals(200, pg.get("b1").limits().cpuWeight());
        assertEquals(Long.toString(512L << 20), read(memoryFile(c, group, "memory.limit_in_bytes", "memory.max")));

        // stopped: no group; started again: in it again, with its settings
        pg.stop("b1");
        for (Path d : c.dirs(group)) {
            assertFalse(Files.exists(d), d + " removed when the server stopped");
        }
        assertNull(pg.get("b1").limits().cgroup());
        PgApi.Server again = pg.start("b1");
        assertTrue(inGroup(again.pid(), group));
        assertEquals("80", PgHarness.query(b.port(), "SHOW max_connections"));

        // a daemon restart: the limits were saved with the record and apply when it is restored
        h.restart();
        PgManager pg2 = h.pg();
        pg2.restoreAll();
        PgApi.Server restored = pg2.get("b1");
        assertEquals("running", restored.state());
        assertTrue(inGroup(restored.pid(), group), cgroupsOf(restored.pid()).toString());
        assertEquals(Long.toString(512L << 20), read(memoryFile(c, group, "memory.limit_in_bytes", "memory.max")));

        // a limit given to a server running without one: its processes are moved in
        PgApi.Server srcLimited = pg2.limits("src", new PgApi.LimitsRequest("1GiB", null, null, null));
        String srcGroup = srcLimited.limits().cgroup();
        assertNotNull(srcGroup);
        assertTrue(inGroup(srcLimited.pid(), srcGroup));

        // destroyed: its group is gone, and the pool's once no server has one
        pg2.destroy("b1");
        for (Path d : c.dirs(group)) {
            assertFalse(Files.exists(d), d + " removed on destroy");
        }
        pg2.limits("src", new PgApi.LimitsRequest("none", null, null, null));
        pg2.stop("src");
        for (Path d : c.dirs(srcGroup)) {
            assertFalse(Files.exists(d), d + " removed on stop");
            assertFalse(Files.exists(d.getParent()), "the pool's group " + d.getParent() + " removed once empty");
        }
    }

    @Test
    void aSuspendedBranchHasNoGroupAndWakesInsideItsGroupAgain() throws Exception {
        Cgroups c = hostCgroups();
        h = PgHarness.start("pglimitsleep");
        PgManager pg = h.pg();
        PgHarness.execute(pg.init("src", null).port(), "CREATE TABLE t AS SELECT g FROM generate_series(1, 100) g");
        PgApi.Branched b = pg.branch(BranchSpec.of("src", "b1")
                .withLimits(new Limits(256L << 20, 50, Map.of("work_mem", "6MB"))));
        String group = pg.get("b1").limits().cgroup();
        assertNotNull(group);
        assertTrue(inGroup(pg.get("b1").pid(), group));

        // suspended: no processes, so no group; its limits stay with it
        assertEquals("suspended", pg.suspend("b1").state());
        for (Path d : c.dirs(group)) {
            assertFalse(Files.exists(d), d + " removed when the server was suspended");
        }
        assertNull(pg.get("b1").limits().cgroup());
        assertEquals(256L << 20, pg.get("b1").limits().memory());
        // a change while it sleeps is kept for its wake, and makes no group now
        assertEquals("suspended", pg.limits("b1", new PgApi.LimitsRequest("384MiB", null, null, null)).state());
        for (Path d : c.dirs(group)) {
            assertFalse(Files.exists(d), d + " not made for a suspended server");
        }

        // a connection wakes it: postmaster and backends in its group again, with the new limit and its settings
        assertWokenInGroup(pg, c, group, b.port(), 384L << 20);

        // suspended for being idle, then woken after a daemon restart: the same
        pg.suspendAfter("b1", Duration.ofSeconds(1));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!pg.get("b1").state().equals("suspended") && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertEquals("suspended", pg.get("b1").state());
        for (Path d : c.dirs(group)) {
            assertFalse(Files.exists(d), d + " removed on an idle suspend");
        }
        pg.suspendAfter("b1", Duration.ZERO);
        h.restart();
        PgManager pg2 = h.pg();
        pg2.restoreAll();
        assertEquals("suspended", pg2.get("b1").state());
        assertWokenInGroup(pg2, c, group, b.port(), 384L << 20);

        // destroyed while suspended: nothing left
        pg2.suspend("b1");
        pg2.destroy("b1");
        for (Path d : c.dirs(group)) {
            assertFalse(Files.exists(d), d + " absent after destroy");
        }
    }

    /** Connects to a (suspended) branch and checks that its postmaster and the backend run in {@code group}. */
    private static void assertWokenInGroup(PgManager pg, Cgroups c, String group, int port, long memory) throws Exception {
        try (var conn = PgHarness.connect(port)) {
            long backend = Long.parseLong(io.clonefs.pg.process.Postgres.query(conn, "SELECT pg_backend_pid()"));
            assertEquals("6MB", io.clonefs.pg.process.Postgres.query(conn, "SHOW work_mem"));
            assertEquals("100", io.clonefs.pg.process.Postgres.query(conn, "SELECT count(*) FROM t"));
            PgApi.Server s = pg.get("b1");
            assertEquals("running", s.state());
            assertEquals(group, s.limits().cgroup());
            assertTrue(inGroup(s.pid(), group), "woken postmaster: " + cgroupsOf(s.pid()));
            assertTrue(inGroup(backend, group), "backend after a wake: " + cgroupsOf(backend));
            assertEquals(Long.toString(memory), read(memoryFile(c, group, "memory.limit_in_bytes", "memory.max")));
        }
    }

    /** A manager whose cgroups are under {@code root} (clonefs.cgroup.root), as another host's would be. */
    private PgManager managerWithCgroupsAt(String name, Path root) {
        System.setProperty("clonefs.cgroup.root", root.toString());
        try {
            h = PgHarness.start(name);
        } finally {
            System.clearProperty("clonefs.cgroup.root");
        }
        return h.pg();
    }

    @Test
    void onACgroupV2LayoutTheBranchsGroupGetsItsLimitsAndItsStarter() throws Exception {
        Path root = Files.createTempDirectory("clonefs-cgroup2-");
        try {
            Files.writeString(root.resolve("cgroup.controllers"), "cpuset cpu io memory pids\n");
            PgManager pg = managerWithCgroupsAt("pglimits2", root);
            pg.init("src", null);
            PgApi.Branched b = pg.branch(BranchSpec.of("src", "b1").withLimits(new Limits(128L << 20, 300, Map.of())));
            String group = pg.get("b1").limits().cgroup();
            Path leaf = root.resolve(group);
            assertEquals("+memory +cpu", read(root.resolve("cgroup.subtree_control")));
            assertEquals("+memory +cpu", read(leaf.getParent().resolve("cgroup.subtree_control")));
            assertEquals(Long.toString(128L << 20), read(leaf.resolve("memory.max")));
            assertEquals("300", read(leaf.resolve("cpu.weight")));
            // the starting shell wrote its pid (a plain file here: nothing moved, but the pid is pg_ctl's starter's)
            assertTrue(read(leaf.resolve("cgroup.procs")).matches("\\d+"), read(leaf.resolve("cgroup.procs")));
            assertEquals("1", PgHarness.query(b.port(), "SELECT 1"));
            pg.destroy("b1");
            assertFalse(Files.exists(leaf), "removed with the branch");
            assertFalse(Files.exists(leaf.getParent()), "and the pool's group");
            assertTrue(Files.isDirectory(root.resolve("clonefs")), "the shared parent stays");
        } finally {
            if (h != null) {
                h.close();
                h = null;
            }
            try (var files = Files.walk(root)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    @Test
    void aHostWithoutCgroupsRefusesLimitsAndChangesNothing() throws Exception {
        Path root = Files.createTempDirectory("clonefs-nocgroup-");
        try {
            PgManager pg = managerWithCgroupsAt("pgnolimits", root);
            pg.init("src", null);
            ClonefsException e = assertThrows(ClonefsException.InvalidArgument.class, () ->
                    pg.branch(BranchSpec.of("src", "b1").withLimits(new Limits(256L << 20, null, Map.of()))));
            assertEquals("cannot limit memory on this host: no cgroup hierarchy at " + root
                    + " (neither cgroup.controllers nor memory/ or cpu/)", e.getMessage());
            assertFalse(h.engine().volumes().stream().anyMatch(v -> v.name().equals("b1")), "no volume made");
            assertEquals(1, pg.list().size());
            assertThrows(ClonefsException.InvalidArgument.class,
                    () -> pg.limits("src", new PgApi.LimitsRequest(null, 200, null, null)));
            assertNull(pg.get("src").limits(), "nothing changed");
            // settings need no cgroup
            PgApi.Branched b = pg.branch(BranchSpec.of("src", "b2").withLimits(new Limits(null, null, Map.of("work_mem", "5MB"))));
            assertEquals("5MB", PgHarness.query(b.port(), "SHOW work_mem"));
            try (var files = Files.list(root)) {
                assertEquals(0, files.count(), "nothing written under the cgroup root");
            }
        } finally {
            if (h != null) {
                h.close();
                h = null;
            }
            Files.deleteIfExists(root);
        }
    }
}
