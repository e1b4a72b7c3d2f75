package io.clonefs.pg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.api.PgApi;
import io.clonefs.base.ClonefsException;
import io.clonefs.pg.limits.Cgroups;
import io.clonefs.pg.limits.Limits;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Limits as requests change them, the settings servers get, the state file, and the port range. */
class PgLimitsUnitTest {
    @TempDir
    Path tmp;

    private static PgRecord branch(boolean promote, Limits limits) {
        return new PgRecord("b1", PgRecord.BRANCH, "data", "src", "src@s", true, promote, 54400, "2026-01-01T00:00:00Z", null,
                false, true, false, null, null, false, limits, null, null, null);
    }

    @Test
    void branchesGetSmallDefaultsThatTheirOwnSettingsOverride() {
        assertEquals(Map.of("shared_buffers", "32MB", "max_connections", "50"), PgServerSettings.of(branch(false, null)));
        // cloned from a standby: a hot standby needs at least its primary's max_connections
        assertEquals(Map.of("shared_buffers", "32MB"), PgServerSettings.of(branch(true, null)));
        Map<String, String> own = PgServerSettings.of(branch(false,
                new Limits(null, null, Map.of("max_connections", "200", "work_mem", "8MB"))));
        assertEquals(new LinkedHashMap<>(Map.of("shared_buffers", "32MB", "max_connections", "200", "work_mem", "8MB")), own);
        PgRecord source = new PgRecord("src", PgRecord.SOURCE, "data", null, null, false, false, 54401, "2026-01-01T00:00:00Z",
                null, false, true, false, null, null, false, null, null, null, null);
        assertEquals(Map.of(), PgServerSettings.of(source));
    }

    @Test
    void aRequestChangesWhatItNamesAndLeavesTheRest() {
        Limits base = new Limits(1L << 30, 50, Map.of("work_mem", "8MB", "a", "1"));
        assertEquals(base, PgServerLimits.merge(base, new PgApi.LimitsRequest(null, null, null, null)));
        assertEquals(new Limits(512L << 20, 50, base.settings()),
                PgServerLimits.merge(base, new PgApi.LimitsRequest("512MiB", null, null, null)));
        assertEquals(new Limits(null, null, Map.of("a", "2")),
                PgServerLimits.merge(base, new PgApi.LimitsRequest("none", 0, Map.of("a", "2"), List.of("work_mem"))));
        assertNull(PgServerLimits.ofRequest(new PgApi.LimitsRequest(null, null, null, null)));
        assertEquals(new Limits(null, 7, Map.of()), PgServerLimits.ofRequest(new PgApi.LimitsRequest(null, 7, null, null)));
    }

    @Test
    void aLimitOnAHostWithoutCgroupsIsRefusedBeforeAnythingIsMade() {
        PgLimiter l = new PgLimiter(Cgroups.none("no cgroup hierarchy is mounted"), null, "pool-1", PgOptions.defaults());
        ClonefsException e = assertThrows(ClonefsException.InvalidArgument.class,
                () -> l.check(new Limits(1L << 30, null, Map.of())));
        assertEquals("cannot limit memory on this host: no cgroup hierarchy is mounted", e.getMessage());
        assertThrows(ClonefsException.InvalidArgument.class, () -> l.check(new Limits(1L << 20, null, Map.of())));
        // settings alone need no cgroup
        assertEquals(Map.of("work_mem", "8MB"), l.check(new Limits(null, null, Map.of("work_mem", "8MB"))).settings());
        assertEquals("clonefs/pool-1/b1", l.group("b1"));
        assertEquals("x/y/pool-1/b1", new PgLimiter(Cgroups.none("-"), "/x/y/", "pool-1", PgOptions.defaults()).group("b1"));
        assertThrows(ClonefsException.InvalidArgument.class,
                () -> new PgLimiter(Cgroups.none("-"), "../up", "pool-1", PgOptions.defaults()));
        assertTrue(PgLimiter.poolId(Path.of("/var/lib/clonefs pool")).matches("clonefs_pool-[0-9a-f]{8}"));
    }

    @Test
    void recordsWrittenBeforeLimitsExistedAreReadAndLimitsAreKept() throws Exception {
        Path file = tmp.resolve("state.json");
        Files.writeString(file, """
                {"version":1,"servers":[{"name":"b1","role":"branch","dataDir":"data","source":"src","snapshot":"src@s",
                "snapshotOwned":true,"promote":false,"port":54400,"createdAt":"2026-01-01T00:00:00Z","expiresAt":null,
                "protected":false,"running":true,"standby":false,"primary":null}],"schedules":[]}
                """);
        PgStateStore store = new PgStateStore(file);
        PgRecord old = store.load().servers().get(0);
        assertNull(old.limits());
        assertNull(old.suspendAfter());
        assertFalse(old.suspended());
        PgRecord limited = old.withLimits(new Limits(512L << 20, 200, Map.of("work_mem", "8MB")));
        store.save(new PgStateStore.State(PgStateStore.VERSION, List.of(limited), List.of()));
        assertEquals(limited, store.load().servers().get(0));
        // suspending (and setting an idle time) keeps the limits, and the other way round
        PgRecord asleep = limited.withSuspendAfter(600L).withSuspended(true);
        assertEquals(limited.limits(), asleep.limits());
        assertEquals(asleep, asleep.withLimits(asleep.limits()));
        store.save(new PgStateStore.State(PgStateStore.VERSION, List.of(asleep), List.of()));
        assertEquals(asleep, store.load().servers().get(0));
        assertTrue(asleep.withLimits(null).suspended());
        assertNull(limited.withLimits(Limits.NONE).limits(), "no limits and no settings: nothing kept");
    }

    @Test
    void portRangesAreParsedAndChecked() throws Exception {
        assertEquals(List.of(54400, 55399), List.of(PgPorts.parseRange("R", "54400-55399")[0], PgPorts.parseRange("R", " 54400 - 55399 ")[1]));
        assertEquals("R must be FIRST-LAST, e.g. 54400-55399, not '54400'",
                assertThrows(ClonefsException.InvalidArgument.class, () -> PgPorts.parseRange("R", "54400")).getMessage());
        for (String bad : new String[] {"", "a-b", "1-2-3", "-5", "54400-", "54400:54500"}) {
            assertThrows(ClonefsException.InvalidArgument.class, () -> PgPorts.parseRange("R", bad), bad);
        }
        assertEquals("R 55000-54000 is reversed: FIRST must not be above LAST",
                assertThrows(ClonefsException.InvalidArgument.class, () -> PgPorts.parseRange("R", "55000-54000")).getMessage());
        assertEquals("R 0-100 is not a range of TCP ports (1-65535)",
                assertThrows(ClonefsException.InvalidArgument.class, () -> PgPorts.parseRange("R", "0-100")).getMessage());
        assertThrows(ClonefsException.InvalidArgument.class, () -> PgPorts.parseRange("R", "65000-70000"));
        assertThrows(ClonefsException.InvalidArgument.class, () -> PgOptions.defaults().withPorts(5, 4));
        assertTrue(PgOptions.defaults().lastPort() - PgOptions.defaults().firstPort() + 1 >= 500, "room for hundreds");

        try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int p = busy.getLocalPort();
            PgException e = assertThrows(PgException.PortInUse.class, () -> PgPorts.checkFree("R", p - 2, p + 2, Set.of()));
            assertEquals("R " + (p - 2) + "-" + (p + 2) + " overlaps port " + p
                    + " in use by other programs on 127.0.0.1; choose a range without them", e.getMessage());
            PgPorts.checkFree("R", p, p, Set.of(p)); // one of the pool's own servers: fine
        }
        assertEquals(Set.of(8080, 5432, 9000, 7000), PgPorts.listening(List.of(
                "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
                "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1",
                "   1: 00000000:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1",
                "   2: 0500000A:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1",
                "   3: 0100007F:A000 0100007F:1538 01 00000000:00000000 00:00000000 00000000     0        0 4 1",
                "   0: 00000000000000000000000000000000:2328 00000000000000000000000000000000:0000 0A 0 0 0 0 0",
                "   1: 00000000000000000000000001000000:2329 00000000000000000000000000000000:0000 0A 0 0 0 0 0",
                "   2: 0000000000000000FFFF00000100007F:1B58 00000000000000000000000000000000:0000 0A 0 0 0 0 0")),
                "listeners on 127.0.0.1, 0.0.0.0, :: and ::ffff:127.0.0.1; not 10.0.0.5, ::1 or a connection");
        PgException two = assertThrows(PgException.PortInUse.class,
                () -> PgPorts.checkFree("R", 100, 200, Set.of(150), Set.of(99, 101, 150, 102, 201)));
        assertEquals("R 100-200 overlaps ports 101, 102 in use by other programs on 127.0.0.1; choose a range without them",
                two.getMessage());
    }
}
