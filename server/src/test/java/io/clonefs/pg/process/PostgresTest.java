package io.clonefs.pg.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.base.Command;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
    void settingsWrittenNameEqualsValueAreSplitAtTheFirstEquals() {
        Postgres pg = Postgres.on(Path.of("/tmp/x/data")).port(54401).log(Path.of("/tmp/x.log"))
                .settings(List.of("shared_buffers=128MB", "max_wal_size=1GB", "autovacuum=off", "search_path=a=b"))
                .build();
        assertEquals("-p 54401 -c listen_addresses=127.0.0.1 -c shared_buffers=128MB -c max_wal_size=1GB"
                + " -c autovacuum=off -c search_path='a=b'", pg.options());
        assertThrows(IllegalArgumentException.class, () -> Postgres.on(Path.of("/tmp/x/data")).settings(List.of("on")));
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
    void initdbPutsItsOptionsFirstAndFailsOnANonZeroExit() {
        List<String> ran = new ArrayList<>();
        Postgres.Programs ok = (timeout, tool, args) -> {
            ran.add(timeout.toMinutes() + " " + tool + " " + String.join(" ", args));
            return new Command.Result(List.of(tool), 0, "Success.", "", 42);
        };
        assertEquals(42, Postgres.initdb(ok, Path.of("/v/data"), Duration.ofMinutes(10), "--data-checksums").nanos());
        Postgres.initdb(ok, Path.of("/n/data"), Duration.ofMinutes(3));
        assertEquals(List.of("10 initdb --data-checksums -D /v/data -U postgres --auth=trust -E UTF8 --locale=C",
                "3 initdb -D /n/data -U postgres --auth=trust -E UTF8 --locale=C"), ran);

        Postgres.Programs failing = (timeout, tool, args) -> new Command.Result(List.of(tool), 1,
                "initdb: error: directory \"/v/data\" exists but is not empty", "", 1);
        Postgres.Failed e = assertThrows(Postgres.Failed.class,
                () -> Postgres.initdb(failing, Path.of("/v/data"), Duration.ofMinutes(1)));
        assertEquals(1, e.result().exit());
        assertTrue(e.getMessage().contains("exists but is not empty"), e.getMessage());
    }

    @Test
    void tailKeepsTheLastLines() {
        assertEquals("b\nc", Postgres.tail("a\nb\nc\n", 2));
        assertEquals("", Postgres.tail("  ", 2));
    }
}
