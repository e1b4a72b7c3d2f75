package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.base.ErrorKind;
import io.clonefs.it.support.Clonefs;
import io.clonefs.it.support.KernelMounts;
import io.clonefs.it.support.Proc;
import io.clonefs.it.support.Workspace;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The daemon's port range ({@code CLONEFS_PG_PORTS}) through the real launcher: a malformed or
 * reversed range fails {@code clonefs mount} with one line before any daemon starts; a range
 * holding a port another program listens on leaves the pool mounted but its PostgreSQL servers
 * unavailable, every pg command answering with the reason and nothing started; the daemon's own
 * control port in the range does not count.
 */
class PgPortRangeIT {
    private Workspace ws;

    @AfterEach
    void teardown() {
        if (ws != null) {
            ws.close();
        }
    }

    private static void oneLine(Proc.Result r, String expect) {
        String err = r.err().strip();
        assertFalse(err.contains("\n"), "one line: " + r.describe());
        assertTrue(err.startsWith("clonefs: "), r.describe());
        assertTrue(err.contains(expect), "should say '" + expect + "': " + r.describe());
    }

    @Test
    void aBadRangeIsRefusedClearly() throws Exception {
        ws = Workspace.create("pgports");
        Clonefs plain = new Clonefs(ws, ws.root().resolve("pool"));
        plain.init();
        Path mnt = ws.dir("mnt");
        for (String[] bad : new String[][] {
            {"54400", "CLONEFS_PG_PORTS must be FIRST-LAST, e.g. 54400-55399, not '54400'"},
            {"55000-54000", "CLONEFS_PG_PORTS 55000-54000 is reversed: FIRST must not be above LAST"},
            {"1-70000", "CLONEFS_PG_PORTS 1-70000 is not a range of TCP ports (1-65535)"}}) {
            Proc.Result r = plain.withEnv(Map.of("CLONEFS_PG_PORTS", bad[0])).run("mount", plain.pool().toString(), mnt.toString());
            assertEquals(ErrorKind.ExitCode.USAGE, r.exit(), r.describe());
            oneLine(r, bad[1]);
            assertFalse(KernelMounts.isMounted(mnt), "nothing mounted");
        }
        Proc.Result floor = plain.withEnv(Map.of("CLONEFS_PG_MEMORY_FLOOR", "lots")).run("mount", plain.pool().toString(),
                mnt.toString());
        assertEquals(ErrorKind.ExitCode.USAGE, floor.exit(), floor.describe());
        oneLine(floor, "CLONEFS_PG_MEMORY_FLOOR: 'lots' is not a memory floor (a size such as 1GiB, 0 for off, or auto)");
        assertFalse(KernelMounts.isMounted(mnt), "nothing mounted");

        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int p = taken.getLocalPort();
            Clonefs cfs = plain.withEnv(Map.of("CLONEFS_PG_PORTS", (p - 3) + "-" + (p + 3)));
            cfs.mount(mnt);
            Proc.Result init = cfs.run("pg", "init", "src");
            assertEquals(ErrorKind.PG_PORT_IN_USE.exitCode(), init.exit(), init.describe());
            oneLine(init, "CLONEFS_PG_PORTS " + (p - 3) + "-" + (p + 3) + " overlaps port " + p
                    + " in use by other programs on 127.0.0.1; choose a range without them");
            assertFalse(cfs.run("list").out().contains("src"), "no volume made");
        }
    }

    @Test
    void theDaemonsOwnControlPortInTheRangeDoesNotCount() throws Exception {
        ws = Workspace.create("pgportsown");
        int p;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            p = free.getLocalPort();
        }
        Clonefs cfs = new Clonefs(ws, ws.root().resolve("pool")).withEnv(Map.of("CLONEFS_PG_PORTS", p + "-" + (p + 2)));
        cfs.init();
        cfs.mount(ws.dir("mnt"), "--port", Integer.toString(p));
        assertEquals(p, cfs.daemonInfo().get("port").asInt(), "the control port lies in the range");
        var src = cfs.json("pg", "init", "src");
        assertEquals("running", src.get("state").asText());
        assertTrue(src.get("port").asInt() != p && src.get("port").asInt() <= p + 2,
                "a server gets a port of the range other than the daemon's: " + src);
        // p came from the kernel's ephemeral range: the daemon reserved the range, so no outgoing
        // connection takes one of its ports as its local port (it would keep a server from binding it)
        String reserved;
        try (var in = java.nio.file.Files.newInputStream(java.nio.file.Path.of("/proc/sys/net/ipv4/ip_local_reserved_ports"))) {
            reserved = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).trim(); // procfs: read to EOF
        }
        boolean covered = false;
        for (String part : reserved.split(",")) {
            String[] ab = part.trim().split("-");
            if (!part.isBlank() && Integer.parseInt(ab[0]) <= p && p + 2 <= Integer.parseInt(ab[ab.length - 1])) {
                covered = true;
            }
        }
        assertTrue(covered, "ports " + p + "-" + (p + 2) + " reserved: " + reserved);
    }
}
