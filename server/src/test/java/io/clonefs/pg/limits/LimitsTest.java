package io.clonefs.pg.limits;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.base.ClonefsException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Parsing and checking of a server's limits, and the weight-to-shares conversion. */
class LimitsTest {
    private static final long GIB = 1L << 30;

    @Test
    void memorySizesAreBinaryWithOrWithoutIbOrB() {
        assertEquals(512L << 20, Limits.parseMemory("512MiB"));
        assertEquals(512L << 20, Limits.parseMemory("512M"));
        assertEquals(512L << 20, Limits.parseMemory("512mb"));
        assertEquals(2 * GIB, Limits.parseMemory(" 2 GiB "));
        assertEquals(1L << 40, Limits.parseMemory("1t"));
        assertEquals(67108864L, Limits.parseMemory("67108864"));
        for (String bad : new String[] {"", "-1G", "1.5G", "512 megs", "G", "99999999999999999999", "9999999999T"}) {
            ClonefsException e = assertThrows(ClonefsException.InvalidArgument.class, () -> Limits.parseMemory(bad), bad);
            assertTrue(e.getMessage().startsWith("--memory '"), e.getMessage());
        }
    }

    @Test
    void memoryBelowTheFloorOrAboveTheHostsRamIsRefused() {
        long host = 24 * GIB;
        Limits.check(64L << 20, null, Map.of(), host);
        Limits.check(host, null, Map.of(), host);
        ClonefsException small = assertThrows(ClonefsException.InvalidArgument.class,
                () -> Limits.check(32L << 20, null, Map.of(), host));
        assertEquals("--memory 32 MiB is too small: a server needs at least 64 MiB", small.getMessage());
        ClonefsException big = assertThrows(ClonefsException.InvalidArgument.class,
                () -> Limits.check(25 * GIB, null, Map.of(), host));
        assertEquals("--memory 25 GiB is more than this host's 24 GiB of RAM", big.getMessage());
        Limits.check(100 * GIB, null, Map.of(), 0); // RAM unknown: not checked
        assertThrows(ClonefsException.InvalidArgument.class, () -> new Limits(100 * GIB * 1024, null, null).validate());
    }

    @Test
    void weightsOutside1To10000AreRefused() {
        Limits.check(null, 1, Map.of(), 0);
        Limits.check(null, 10_000, Map.of(), 0);
        for (int w : new int[] {0, -5, 10_001}) {
            ClonefsException e = assertThrows(ClonefsException.InvalidArgument.class, () -> Limits.check(null, w, Map.of(), 0));
            assertEquals("--cpu-weight " + w + " is outside 1..10000 (100 is the default share)", e.getMessage());
        }
    }

    @Test
    void weightsBecomeSharesAsSystemdConvertsThem() {
        assertEquals(1024, Limits.cpuShares(100)); // both defaults
        assertEquals(10, Limits.cpuShares(1));
        assertEquals(512, Limits.cpuShares(50));
        assertEquals(2048, Limits.cpuShares(200));
        assertEquals(102_400, Limits.cpuShares(10_000));
        assertEquals(2, Limits.cpuShares(0)); // clamped to cpu.shares' minimum
    }

    @Test
    void settingsAreNameEqualsValueAndNotTheManagersOwn() {
        assertEquals(Map.entry("work_mem", "64MB"), Limits.parseSetting("work_mem=64MB"));
        assertEquals(Map.entry("search_path", "a=b"), Limits.parseSetting("search_path=a=b"));
        assertEquals(Map.entry("application_name", ""), Limits.parseSetting("application_name="));
        assertEquals(Map.entry("auto_explain.log_min_duration", "1s"), Limits.parseSetting("auto_explain.log_min_duration=1s"));
        for (String bad : new String[] {"work_mem", "=1", "work mem=1", "1x=2", "a;b=1"}) {
            assertThrows(ClonefsException.InvalidArgument.class, () -> Limits.parseSetting(bad), bad);
        }
        for (String managed : new String[] {"port=5432", "listen_addresses=*", "archive_mode=on", "PORT=1"}) {
            ClonefsException e = assertThrows(ClonefsException.InvalidArgument.class, () -> Limits.parseSetting(managed));
            assertTrue(e.getMessage().endsWith("is set by clonefs itself and cannot be changed"), e.getMessage());
        }
        assertThrows(ClonefsException.InvalidArgument.class, () -> Limits.parseSetting("work_mem=1\n2"));
    }

    @Test
    void changesMakeCopies() {
        Limits l = Limits.NONE.withMemory(GIB).withCpuWeight(50).withSettings(Map.of("work_mem", "8MB", "a", "1"));
        assertEquals(new Limits(GIB, 50, Map.of("a", "1", "work_mem", "8MB")), l);
        assertEquals(Map.of("work_mem", "8MB"), l.withoutSettings(java.util.List.of("a", "b")).settings());
        assertTrue(Limits.NONE.none());
        assertTrue(Limits.of(null).none());
        assertEquals("512 MiB", Limits.human(512L << 20));
        assertEquals("1.5 MiB", Limits.human(3L << 19));
    }
}
