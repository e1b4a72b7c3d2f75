package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.api.PgApi;
import io.clonefs.it.pg.PgHarness;
import io.clonefs.it.support.Proc;
import io.clonefs.metrics.Metrics;
import io.clonefs.pg.PgException;
import io.clonefs.pg.PgManager;
import io.clonefs.pg.PgManager.BranchSpec;
import io.clonefs.pg.PgMemory;
import io.clonefs.pg.process.Postgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Admission (issue 16 part 4), with real PostgreSQL 15 on a real mount: when a starting server
 * would leave the host less available memory than the floor, idle branches are suspended first,
 * least recently used first; when that cannot cover it, a new branch or a wake is refused with the
 * reason and nothing is changed. The host's memory is read from a file laid out like
 * {@code /proc/meminfo} that the test writes (so the shortage is exact); the servers, their
 * processes and their memory (Pss from {@code /proc}) are real.
 */
class PgAdmissionIT {
    private static final long GIB = 1L << 30;
    private static final long MIB = 1L << 20;
    private static final long FLOOR = GIB;

    private PgHarness h;
    private Path meminfo;

    @AfterEach
    void teardown() {
        if (h != null) {
            h.close();
        }
    }

    private void available(long bytes) throws IOException {
        Path tmp = meminfo.resolveSibling("meminfo.tmp");
        Files.writeString(tmp, "MemTotal:       " + (24 * GIB >> 10) + " kB\nMemFree:        " + (bytes >> 10)
                + " kB\nMemAvailable:   " + (bytes >> 10) + " kB\n");
        Files.move(tmp, meminfo, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    @Test
    void idleBranchesMakeRoomLeastRecentlyUsedFirstAndAShortageIsRefused() throws Exception {
        Path dir = Files.createTempDirectory("clonefs-meminfo");
        meminfo = dir.resolve("meminfo");
        available(20 * GIB);
        h = PgHarness.start("pgadmission",
                o -> o.withMemory(new PgMemory(FLOOR, PgMemory.DEFAULT_PER_SERVER, meminfo)));
        h.ws().onClose("remove the meminfo file", () -> removeQuietly(dir));
        PgManager pg = h.pg();
        pg.init("src", null);
        PgApi.Branched b1 = pg.branch(BranchSpec.of("src", "b1"));
        PgApi.Branched b2 = pg.branch(BranchSpec.of("src", "b2"));
        PgApi.Branched never = pg.branch(BranchSpec.of("src", "never").withSuspendAfter(Duration.ZERO));
        PgHarness.execute(b1.port(), "create table t as select 1 as x");
        // b2 had a client last: b1 is the least recently used (the ticks see clients every 200 ms)
        Proc.sleep(600);
        try (Connection c = PgHarness.connect(b2.port())) {
            Proc.sleep(800);
            assertEquals("1", Postgres.query(c, "select 1"));
        }
        Proc.sleep(600);

        // 1 MiB short: one idle branch covers it, the least recently used; "never" is not a candidate
        available(FLOOR + PgMemory.DEFAULT_PER_SERVER - MIB);
        long suspendsBefore = counter("clonefs_pg_admission_suspends_total");
        long refusedBefore = counter("clonefs_pg_admission_refused_total");
        pg.branch(BranchSpec.of("src", "b3"));
        assertEquals(suspendsBefore + 1, counter("clonefs_pg_admission_suspends_total"));
        assertEquals("suspended", pg.get("b1").state(), "the least recently used idle branch made room");
        assertEquals("running", pg.get("b2").state());
        assertEquals("running", pg.get("never").state(), "a branch told never to suspend is not suspended");
        assertEquals("running", pg.get("b3").state());
        assertEquals("running", pg.get("src").state(), "sources are not suspended for room");

        // far short: suspending every idle branch would not cover it: refused, nothing changed
        available(300 * MIB);
        PgException.NoMemory e = assertThrows(PgException.NoMemory.class, () -> pg.branch(BranchSpec.of("src", "b4")));
        System.out.println("refused: " + e.getMessage());
        assertTrue(e.getMessage().contains("not enough memory for PostgreSQL server 'b4'"), e.getMessage());
        assertTrue(e.getMessage().contains("300 MiB of memory available"), e.getMessage());
        assertTrue(e.getMessage().contains("1 GiB is kept free (CLONEFS_PG_MEMORY_FLOOR)"), e.getMessage());
        assertEquals("pg_no_memory", e.code());
        assertFalse(pg.list().stream().anyMatch(s -> s.name().equals("b4")), "no record");
        assertFalse(h.engine().volumes().stream().anyMatch(v -> v.name().startsWith("b4")), "no volume");
        assertFalse(h.engine().snapshots().stream().anyMatch(s -> s.name().contains("b4")), "no snapshot");
        for (String n : List.of("b2", "never", "b3", "src")) {
            assertEquals("running", pg.get(n).state(), n + " was not suspended for a start that was refused anyway");
        }

        // a wake that the host cannot take: the client gets the reason as a PostgreSQL error, b1 sleeps on
        SQLException wake = assertThrows(SQLException.class, () -> PgHarness.query(b1.port(), "select x from t"));
        System.out.println("wake refused: " + wake.getMessage());
        assertTrue(wake.getMessage().contains("could not start suspended PostgreSQL server 'b1': not enough memory"), wake.getMessage());
        assertTrue(wake.getMessage().contains("kept free"), wake.getMessage());
        assertEquals("suspended", pg.get("b1").state());
        // pg start alike
        assertThrows(PgException.NoMemory.class, () -> pg.start("b1"));
        assertEquals("suspended", pg.get("b1").state());

        assertEquals(refusedBefore + 3, counter("clonefs_pg_admission_refused_total"), "the branch, the wake, the start");

        // memory again: the same port wakes it, data intact
        available(20 * GIB);
        assertEquals("1", PgHarness.query(b1.port(), "select x from t"));
        assertEquals("running", pg.get("b1").state());
    }

    @Test
    void aFloorOfZeroTurnsAdmissionOff() throws Exception {
        Path dir = Files.createTempDirectory("clonefs-meminfo");
        meminfo = dir.resolve("meminfo");
        available(10 * MIB);
        h = PgHarness.start("pgadmissionoff", o -> o.withMemory(new PgMemory(0, PgMemory.DEFAULT_PER_SERVER, meminfo)));
        h.ws().onClose("remove the meminfo file", () -> removeQuietly(dir));
        h.pg().init("src", null);
        h.pg().branch(BranchSpec.of("src", "b1"));
        assertEquals("running", h.pg().get("b1").state(), "a floor of 0 admits whatever MemAvailable says");
    }

    private static long counter(String name) {
        return Metrics.process().counter(name, "", null, null).sum();
    }

    private static void removeQuietly(Path dir) {
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temporary file left behind
        }
    }
}
