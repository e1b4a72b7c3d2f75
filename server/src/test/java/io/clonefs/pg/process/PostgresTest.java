package io.clonefs.pg.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The runner's command line and probes, without running PostgreSQL. */
class PostgresTest {
    @Test
    void optionsKeepTheOrderGivenAndQuoteWhatTheShellWouldSplit() {
        Postgres pg = Postgres.on(Path.of("/tmp/x/data")).port(54400).socketDir(Path.of("/pool/pg/run"))
                .log(Path.of("/pool/pg/log/b1.log")).setting("cluster_name", "b1")
                .setting("synchronous_standby_names", "").setting("shared_buffers", "128MB")
                .setting("application_name", "it's").build();
        assertEquals("-p 54400 -k '/pool/pg/run' -c listen_addresses=127.0.0.1 -c cluster_name=b1"
                + " -c synchronous_standby_names='' -c shared_buffers=128MB -c application_name='it'\"'\"'s'", pg.options());
        assertEquals("postgresql://postgres@127.0.0.1:54400/postgres", pg.uri());
    }

    @Test
    void listenAddressesCanBeReplacedAndThePortChosen() {
        Postgres pg = Postgres.on(Path.of("/tmp/x/data")).log(Path.of("/tmp/x.log")).setting("listen_addresses", "*").build();
        assertTrue(pg.port() > 0);
        assertEquals("-p " + pg.port() + " -c listen_addresses='*'", pg.options());
    }

    @Test
    void aLogFileIsRequired() {
        assertThrows(NullPointerException.class, () -> Postgres.on(Path.of("/tmp/x/data")).build());
    }

    @Test
    void noServerRunsOnADirectoryWithoutAPidFile() {
        Postgres pg = Postgres.on(Path.of("/nonexistent/data")).log(Path.of("/tmp/x.log")).build();
        assertFalse(pg.running());
        assertEquals(-1, pg.pid());
        pg.stop(Postgres.StopMode.FAST); // nothing to stop
    }

    @Test
    void aListeningPortIsNotFree() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            assertFalse(Postgres.portFree(s.getLocalPort()));
        }
    }

    @Test
    void tailKeepsTheLastLines() {
        assertEquals("b\nc", Postgres.tail("a\nb\nc\n", 2));
        assertEquals("", Postgres.tail("  ", 2));
    }
}
