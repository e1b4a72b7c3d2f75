package io.clonefs.pg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.base.ClonefsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The logic of admission: which idle branches make room, the floor, reading meminfo. */
class PgAdmissionTest {
    private static final long MIB = 1L << 20;

    private static PgAdmission.Candidate c(String name, long mib, long lastUsed) {
        return new PgAdmission.Candidate(name, mib * MIB, lastUsed);
    }

    @Test
    void leastRecentlyUsedFirstAndOnlyAsManyAsNeeded() {
        List<PgAdmission.Candidate> idle = List.of(c("new", 20, 300), c("old", 20, 100), c("mid", 20, 200));
        assertEquals(List.of("old"), names(PgAdmission.choose(idle, 1 * MIB)));
        assertEquals(List.of("old"), names(PgAdmission.choose(idle, 20 * MIB)));
        assertEquals(List.of("old", "mid"), names(PgAdmission.choose(idle, 21 * MIB)));
        assertEquals(List.of("old", "mid", "new"), names(PgAdmission.choose(idle, 60 * MIB)));
        assertNull(PgAdmission.choose(idle, 61 * MIB), "all of them do not cover it: none is chosen");
        assertNull(PgAdmission.choose(List.of(), 1), "nothing idle");
        assertEquals(List.of(), names(PgAdmission.choose(idle, 0)), "no shortfall, nothing suspended");
    }

    @Test
    void sameLastUseOrderedByName() {
        assertEquals(List.of("a", "b"), names(PgAdmission.choose(List.of(c("b", 1, 5), c("a", 1, 5)), 2 * MIB)));
    }

    @Test
    void automaticFloorIsFivePercentBetween256MiBAnd2GiB() {
        PgMemory m = PgMemory.defaults();
        assertEquals(256 * MIB, m.floorFor(1L << 30));
        assertEquals((24L << 30) / 20, m.floorFor(24L << 30));
        assertEquals(2L << 30, m.floorFor(512L << 30));
        assertEquals(5 * MIB, m.withFloor(5 * MIB).floorFor(24L << 30));
        assertEquals(0, m.withFloor(0).floorFor(24L << 30));
    }

    @Test
    void floorsAsWritten() {
        assertEquals(PgMemory.AUTO, PgMemory.parseFloor("auto"));
        assertEquals(1L << 30, PgMemory.parseFloor("1GiB"));
        assertEquals(512 * MIB, PgMemory.parseFloor(" 512M "));
        assertEquals(0, PgMemory.parseFloor("0"));
        ClonefsException e = assertThrows(ClonefsException.InvalidArgument.class, () -> PgMemory.parseFloor("lots"));
        assertTrue(e.getMessage().contains("'lots' is not a memory floor"), e.getMessage());
        assertThrows(ClonefsException.InvalidArgument.class, () -> PgMemory.parseFloor("-1G"));
    }

    @Test
    void readsMeminfo(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("meminfo");
        Files.writeString(f, "MemTotal:       24576000 kB\nMemFree:         1000 kB\nMemAvailable:   20000000 kB\n"
                + "Buffers:          100 kB\n");
        assertArrayEquals(new long[] {24576000L << 10, 20000000L << 10}, PgAdmission.readMeminfo(f));
        Files.writeString(f, "MemTotal:       24576000 kB\n");
        assertNull(PgAdmission.readMeminfo(f), "no MemAvailable (a kernel before 3.14): no check");
        assertNull(PgAdmission.readMeminfo(dir.resolve("missing")));
        long[] real = PgAdmission.readMeminfo(PgMemory.PROC_MEMINFO);
        assertTrue(real != null && real[0] > 0 && real[1] > 0 && real[1] <= real[0], "this host's /proc/meminfo");
    }

    private static List<String> names(List<PgAdmission.Candidate> cs) {
        return cs.stream().map(PgAdmission.Candidate::name).toList();
    }
}
