package io.clonefs.pg.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.base.Command;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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

    @Test
    void startReturnsOnceThePidFileSaysReadyWithoutWaitingForPgCtl(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("data");
        Files.createDirectories(data);
        // a stand-in postmaster: a live process whose working directory is the data directory
        Process postmaster = new ProcessBuilder("sleep", "60").directory(data.toFile()).start();
        CountDownLatch ctlRelease = new CountDownLatch(1);
        try {
            Postgres.Programs slowCtl = (timeout, tool, args) -> {
                // pg_ctl start -w: the server comes up at once, pg_ctl notices only much later
                try {
                    Files.writeString(data.resolve("postmaster.pid"), postmaster.pid() + "\n" + data + "\n1\n54400\n"
                            + tmp + "\n127.0.0.1\n  1  2\nready   \n");
                    ctlRelease.await(30, TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                return new Command.Result(List.of(tool), 0, "server started", "", 1);
            };
            Postgres pg = Postgres.on(data).port(54400).log(tmp.resolve("pg.log")).programs(slowCtl).build();
            long t0 = System.nanoTime();
            pg.start(Duration.ofMinutes(1));
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(20), "start waited for pg_ctl to exit");
            assertEquals(1, ctlRelease.getCount(), "pg_ctl is still waiting");
        } finally {
            ctlRelease.countDown();
            postmaster.destroyForcibly().waitFor();
        }
    }

    @Test
    void startWaitsForPgCtlWhileThePidFileSaysStartingAndReportsItsFailure(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("data");
        Files.createDirectories(data);
        Process postmaster = new ProcessBuilder("sleep", "60").directory(data.toFile()).start();
        try {
            Postgres.Programs failingCtl = (timeout, tool, args) -> {
                try {
                    Files.writeString(data.resolve("postmaster.pid"), postmaster.pid() + "\n" + data + "\n1\n54400\n"
                            + tmp + "\n127.0.0.1\n  1  2\nstarting\n");
                    Thread.sleep(300);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                return new Command.Result(List.of(tool), 1, "pg_ctl: could not start server", "", 1);
            };
            Postgres pg = Postgres.on(data).port(54400).log(tmp.resolve("pg.log")).programs(failingCtl).build();
            Postgres.Failed e = assertThrows(Postgres.Failed.class, () -> pg.start(Duration.ofMinutes(1)));
            assertTrue(e.result().out().contains("could not start server"), e.getMessage());
        } finally {
            postmaster.destroyForcibly().waitFor();
        }
    }

    @Test
    void aRememberedPostmasterIsCheckedByItsPidStartTimeAndWorkingDirectory(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("data");
        Files.createDirectories(data);
        Process postmaster = new ProcessBuilder("sleep", "60").directory(data.toFile()).start();
        long pid = postmaster.pid();
        long started;
        try {
            Files.writeString(data.resolve("postmaster.pid"), pid + "\n" + data + "\n");
            assertEquals(pid, Postgres.livePostmaster(data));
            started = Postgres.startTicks(pid);
            assertTrue(started > 0, "start time of " + pid);
            assertTrue(Postgres.stillRunsIn(pid, started, data));
            assertFalse(Postgres.stillRunsIn(pid, started + 1, data), "a recycled pid starts at another time");
            assertFalse(Postgres.stillRunsIn(pid, started, tmp), "another data directory");
        } finally {
            postmaster.destroyForcibly().waitFor();
        }
        assertEquals(-1, Postgres.startTicks(pid));
        assertFalse(Postgres.stillRunsIn(pid, started, data), "it exited");
    }
}
