package io.clonefs.it.pg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.api.PgApi;
import io.clonefs.base.ClonefsException;
import io.clonefs.pg.PgDurations;
import io.clonefs.pg.PgException;
import io.clonefs.pg.PgManager;
import io.clonefs.pg.PgRoutes;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The parsing the pg commands and routes do before anything runs (no PostgreSQL needed). */
class PgDurationsTest {
    @Test
    void durations() {
        assertEquals(Duration.ofSeconds(90), PgDurations.parse("90s"));
        assertEquals(Duration.ofSeconds(90), PgDurations.parse("90"));
        assertEquals(Duration.ofMinutes(15), PgDurations.parse("15m"));
        assertEquals(Duration.ofHours(2), PgDurations.parse("2h"));
        assertEquals(Duration.ofDays(7), PgDurations.parse("7d"));
        assertEquals(Duration.ofDays(14), PgDurations.parse("2w"));
        assertEquals(Duration.ofMinutes(90), PgDurations.parse("PT1H30M"));
        assertThrows(ClonefsException.InvalidArgument.class, () -> PgDurations.parse("0s"));
        assertThrows(ClonefsException.InvalidArgument.class, () -> PgDurations.parse("soon"));
        assertThrows(ClonefsException.InvalidArgument.class, () -> PgDurations.parse(""));
        assertEquals("7d", PgDurations.format(Duration.ofDays(7)));
        assertEquals("2h", PgDurations.format(Duration.ofHours(2)));
        assertEquals("15m", PgDurations.format(Duration.ofMinutes(15)));
        assertEquals("90s", PgDurations.format(Duration.ofSeconds(90)));
    }

    @Test
    void moments() {
        Instant now = Instant.parse("2025-01-31T12:00:00Z");
        assertEquals(Instant.parse("2025-01-30T08:00:00Z"), PgDurations.parseMoment("2025-01-30T08:00:00Z", now));
        assertEquals(Instant.parse("2025-01-30T08:00:00Z"), PgDurations.parseMoment("2025-01-30T09:00:00+01:00", now));
        assertEquals(now.minusSeconds(7200), PgDurations.parseMoment("2h ago", now));
        assertEquals(now.minusSeconds(600), PgDurations.parseMoment("10m", now));
        assertEquals(now, PgDurations.parseMoment("now", now));
        assertThrows(ClonefsException.InvalidArgument.class, () -> PgDurations.parseMoment("yesterday-ish", now));
    }

    @Test
    void branchRequests() {
        PgManager.BranchSpec s = PgRoutes.spec(new PgApi.BranchRequest("src", "b1", 5999, "2h", true, true, "2025-01-30T08:00:00Z", "10m", null));
        assertEquals(Duration.ofHours(2), s.ttl());
        assertEquals(Instant.parse("2025-01-30T08:00:00Z"), s.at());
        assertEquals(5999, s.port());
        assertEquals(Duration.ofMinutes(10), s.suspendAfter());
        assertEquals(Duration.ZERO, PgDurations.parseIdle("0"));
        assertEquals(Duration.ZERO, PgDurations.parseIdle("never"));
        assertEquals(Duration.ofSeconds(90), PgDurations.parseIdle("90s"));
        for (String bad : new String[] {"", "soon", "-5m", "500ms", "10x"}) {
            assertThrows(ClonefsException.InvalidArgument.class, () -> PgDurations.parseIdle(bad), bad);
        }
        assertNull(PgRoutes.idleOrDefault("default"));
        assertThrows(ClonefsException.InvalidArgument.class,
                () -> PgRoutes.spec(new PgApi.BranchRequest("src", "b1", null, null, false, false, null, "sometime", null)));
        PgManager.BranchSpec plain = PgRoutes.spec(new PgApi.BranchRequest("src", "b1", null, null, false, false, null, null, null));
        assertNull(plain.ttl());
        assertNull(plain.at());
        assertNull(plain.suspendAfter());
        assertFalse(plain.checkpoint());
        assertTrue(PgRoutes.spec(new PgApi.BranchRequest("src", "b1", null, null, null, false, null, null, null)).checkpoint(),
                "a request that does not say checkpoints the source first");
        assertThrows(ClonefsException.InvalidArgument.class,
                () -> PgRoutes.spec(new PgApi.BranchRequest("src", "../x", null, null, false, false, null, null, null)));
        assertThrows(ClonefsException.InvalidArgument.class,
                () -> PgRoutes.spec(new PgApi.BranchRequest(null, "b1", null, null, false, false, null, null, null)));
    }

    @Test
    void errorCodesComeBackAsTheirTypes() {
        assertInstanceOf(PgException.PortInUse.class, PgException.fromCode("pg_port_in_use", "m"));
        assertInstanceOf(PgException.Protected.class, PgException.fromCode("pg_protected", "m"));
        assertInstanceOf(PgException.StartFailed.class, PgException.fromCode("pg_start_failed", "m"));
        assertEquals("pg_not_postgres", new PgException.NotPostgres("m").code());
        assertEquals(409, new PgException.PortInUse("m").httpStatus());
        assertNull(PgException.fromCode("not_found", "m"));
    }
}
