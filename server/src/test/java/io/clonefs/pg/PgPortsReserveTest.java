package io.clonefs.pg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PgPortsReserveTest {
    @Test
    void rangesAreAddedMergedAndSortedOnlyWhenNotCoveredYet() {
        assertEquals("54400-55399", PgPorts.mergeReserved("", 54400, 55399));
        assertEquals("8080,54400-55399", PgPorts.mergeReserved("8080", 54400, 55399));
        assertEquals("8080,9148-9149", PgPorts.mergeReserved("8080,9148-9149", 9148, 9149), "already covered: as it was");
        assertEquals("40000-40030", PgPorts.mergeReserved("40000-40010,40020-40030", 40011, 40019));
        assertEquals("1000,40000-40030", PgPorts.mergeReserved("40020-40030,1000", 40000, 40025));
        assertEquals("45000", PgPorts.mergeReserved("", 45000, 45000));
    }

    @Test
    void onlyThePartInsideTheEphemeralRangeIsReserved(@TempDir Path tmp) throws Exception {
        Path eph = Files.writeString(tmp.resolve("ip_local_port_range"), "32768\t60999\n");
        Path res = Files.writeString(tmp.resolve("ip_local_reserved_ports"), "8080\n");
        PgPorts.Reservation r = PgPorts.reserve(30000, 33767, eph, res);
        assertEquals("8080,32768-33767", Files.readString(res).trim());
        assertTrue(r.message().contains("32768-33767") && !r.warning(), r.toString());
        assertNull(PgPorts.reserve(32800, 32900, eph, res), "already reserved: nothing to do");
        assertNull(PgPorts.reserve(5433, 5532, eph, res), "outside the ephemeral range: nothing to do");
        assertNull(PgPorts.reserve(61000, 61010, eph, tmp.resolve("missing")), "no such file (not Linux): nothing to do");
    }
}
