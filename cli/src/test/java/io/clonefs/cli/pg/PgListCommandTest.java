package io.clonefs.cli.pg;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.clonefs.api.PgApi;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The LIMITS column of {@code pg list}. */
class PgListCommandTest {
    @Test
    void limitsColumn() {
        assertEquals("-", PgListCommand.limits(null));
        assertEquals("-", PgListCommand.limits(new PgApi.ServerLimits(null, null, Map.of("work_mem", "8MB"), null)));
        assertEquals("512 MiB", PgListCommand.limits(new PgApi.ServerLimits(512L << 20, null, Map.of(), "clonefs/b1")));
        assertEquals("cpu 200", PgListCommand.limits(new PgApi.ServerLimits(null, 200, Map.of(), null)));
        assertEquals("1 GiB, cpu 50", PgListCommand.limits(new PgApi.ServerLimits(1L << 30, 50, Map.of(), null)));
    }
}
