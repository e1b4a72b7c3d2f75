package io.clonefs.pg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link PgProcesses#pid}: the postmaster it remembers is only a hint, so a server that stopped or
 * was replaced is never listed with the old pid (stand-in postmasters: {@code sleep} in the data
 * directory, with a {@code postmaster.pid} naming it).
 */
class PgProcessesPidTest {
    @Test
    void aStoppedOrReplacedPostmasterIsSeenAtOnce(@TempDir Path tmp) throws Exception {
        Path mnt = tmp.resolve("mnt");
        Path data = mnt.resolve("b1").resolve("data");
        Files.createDirectories(data);
        PgProcesses processes = new PgProcesses(null, null, mnt, tmp.resolve("run"), tmp.resolve("log"), null, null);
        PgRecord rec = new PgRecord("b1", PgRecord.BRANCH, "data", "src", null, false, false, 54400,
                Instant.now().toString(), null, false, true, false, null, null, false, null, null, null, null);
        assertEquals(-1, processes.pid(rec));

        Process first = new ProcessBuilder("sleep", "60").directory(data.toFile()).start();
        Process second = null;
        try {
            Files.writeString(data.resolve("postmaster.pid"), first.pid() + "\n" + data + "\n");
            assertEquals(first.pid(), processes.pid(rec));
            // asked again, the file is not read (on a clonefs mount a FUSE round trip per server):
            // moved away here, the answer still comes from /proc
            Files.move(data.resolve("postmaster.pid"), tmp.resolve("postmaster.pid"));
            assertEquals(first.pid(), processes.pid(rec), "asked again: the remembered postmaster");
            Files.move(tmp.resolve("postmaster.pid"), data.resolve("postmaster.pid"));
            assertTrue(processes.running(rec));

            first.destroyForcibly().waitFor();
            // a stale pid file (a crash): not running, though the file still names it
            assertEquals(-1, processes.pid(rec));
            assertFalse(processes.running(rec));

            second = new ProcessBuilder("sleep", "60").directory(data.toFile()).start();
            Files.writeString(data.resolve("postmaster.pid"), second.pid() + "\n" + data + "\n");
            assertEquals(second.pid(), processes.pid(rec), "started again: the new postmaster");
            Files.delete(data.resolve("postmaster.pid"));
            second.destroyForcibly().waitFor();
            assertEquals(-1, processes.pid(rec), "stopped");
        } finally {
            first.destroyForcibly().waitFor();
            if (second != null) {
                second.destroyForcibly().waitFor();
            }
        }
    }
}
