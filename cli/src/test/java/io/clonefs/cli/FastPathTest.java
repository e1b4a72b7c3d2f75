package io.clonefs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.api.Api;
import io.clonefs.daemon.ControlServer;
import io.clonefs.daemon.DaemonFiles;
import io.clonefs.daemon.DaemonInfo;
import io.clonefs.daemon.EngineService;
import io.clonefs.engine.Engine;
import io.clonefs.remote.RemoteClient;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The fast path ({@link FastPath}) against a pool served by a real control API in this process:
 * every command line it takes prints what the picocli commands print for it (output, error line,
 * exit code), the ones it does not take are left to picocli before anything is asked, and a
 * {@code clonefs list} in a JVM of its own loads neither picocli's command model nor Jackson.
 */
class FastPathTest {
    @TempDir
    Path tmp;

    private Path pool;
    private String p;
    private String token;
    private EngineService service;
    private ControlServer server;

    record Run(int code, String out, String err) {
        Run replace(String from, String to) {
            return new Run(code, out.replace(from, to), err.replace(from, to));
        }

        /** Elapsed times and the names of snapshots taken now vary from run to run. */
        Run normalized() {
            return new Run(code, norm(out), norm(err));
        }

        private static String norm(String s) {
            return s.replaceAll("\\(\\d+(\\.\\d)? ms\\)", "(T ms)").replaceAll("\"elapsedMicros\" : \\d+", "\"elapsedMicros\" : T")
                    .replaceAll("clone-[0-9TZ.:-]+", "clone-TIME");
        }
    }

    @BeforeEach
    void serve() throws IOException {
        pool = tmp.resolve("pool");
        p = pool.toString();
        assertEquals(0, Main.run(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()), "init", p));
        token = DaemonFiles.newToken();
        DaemonFiles.writePrivate(DaemonFiles.token(pool), (token + "\n").getBytes(StandardCharsets.US_ASCII));
        long pid = ProcessHandle.current().pid();
        service = new EngineService(Engine.open(pool, RemoteClient.engineOptions(pool)), () -> { }, true);
        server = new ControlServer(service, token, 0, () -> new Api.Status(p, p + "-mnt", pid, "test"), () -> { });
        server.start();
        publish(pid, server.port());
    }

    private void publish(long pid, int port) {
        DaemonFiles.writeJson(DaemonFiles.info(pool), new DaemonInfo(pid, port, p, p + "-mnt", Instant.now().toString(), "test"));
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        if (service != null) {
            service.close();
        }
    }

    private static Run fast(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = FastPath.run(new PrintWriter(out), new PrintWriter(err), args);
        assertNotEquals(FastPath.NOT_HANDLED, code, "not taken by the fast path: clonefs " + String.join(" ", args));
        return new Run(code, out.toString(), err.toString());
    }

    private static Run picocli(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    /** The same command line both ways, on the same state (it changes nothing, or fails). */
    private static void same(String... args) {
        Run want = picocli(args);
        assertEquals(want, fast(args), "clonefs " + String.join(" ", args));
    }

    /** A command that changes the pool: once fast with "fast" in its names, once on picocli with "slow". */
    private static Run both(String... fastArgs) {
        String[] slowArgs = new String[fastArgs.length];
        for (int i = 0; i < fastArgs.length; i++) {
            slowArgs[i] = fastArgs[i].replace("fast", "slow");
        }
        Run f = fast(fastArgs).replace("fast", "slow").normalized();
        Run s = picocli(slowArgs).normalized();
        assertEquals(s, f, "clonefs " + String.join(" ", fastArgs));
        return f;
    }

    @Test
    void everyCommandPrintsWhatItsPicocliCommandPrints() {
        same("--pool", p, "list");
        same("--pool", p, "--json", "list");
        assertEquals(ExitCodes.OK, picocli("--pool", p, "create", "db").code());
        assertEquals(ExitCodes.OK, picocli("--pool", p, "create", "other").code());

        assertEquals(0, both("--pool", p, "snapshot", "db@fast1").code());
        assertEquals(0, both("--pool=" + p, "--json", "snapshot", "db@fast2").code());
        assertEquals(0, both("snapshot", "other@fast3", "-q", "--pool", p).code());
        assertEquals(0, both("--pool", p, "clone", "db@fast1", "fast-c1").code());
        assertEquals(0, both("--pool", p, "clone", "db@fast2", "fast-c2", "--json").code());
        assertTrue(both("--pool", p, "clone", "db", "fast-c3").out().contains("(snapshot taken now)"));
        assertEquals(0, both("--pool", p, "--json", "clone", "other", "fast-c4").code());
        assertEquals(0, both("--pool", p, "snapshot", "fast-c1@s").code());
        for (String[] l : new String[][] {{"list"}, {"--json", "list"}, {"list", "--json"}, {"-q", "list"}, {"list", "--quiet"}}) {
            List<String> args = new ArrayList<>(List.of("--pool", p));
            args.addAll(List.of(l));
            same(args.toArray(String[]::new));
        }
        same("list", "--pool=" + p);

        // what the daemon refuses: the same line and exit code
        same("--pool", p, "destroy", "nosuch");
        same("--pool", p, "destroy", "-r", "db@nosuch");
        same("--pool", p, "--json", "snapshot", "nosuch@s");
        same("--pool", p, "snapshot", "db@fast1");
        same("--pool", p, "clone", "db@nosuch", "x");
        same("--pool", p, "clone", "db@fast1", "other");
        same("--pool", p, "destroy", "db@fast1");
        same("--pool", p, "destroy", "db");
        same("--pool", p, "destroy", "list"); // operands named like commands are operands
        same("--pool", p, "snapshot", "clone@list");
        same("--pool", p, "clone", "destroy@x", "snapshot");

        assertEquals(0, both("--pool", p, "destroy", "fast-c2").code());
        assertEquals(0, both("--pool", p, "--json", "destroy", "fast-c4").code());
        assertEquals(0, both("--pool", p, "destroy", "--recursive", "fast-c1").code());
        assertEquals(0, both("-q", "destroy", "-r", "--json", "db@fast2", "--pool", p).code());
        same("--pool", p, "list");
        same("--pool", p, "--json", "list");
    }

    @Test
    void unusualLinesAndUncheckedNamesAreLeftToPicocli() {
        for (String[] args : new String[][] {{"--pool", p, "list", "--help"}, {"--pool", p, "-v", "list"}, {"--pool", p, "list", "-h"},
            {"--pool", p, "list", "x"}, {"--pool", p, "--json", "--json", "list"}, {"--pool", p, "--pool", p, "list"},
            {"--pool", p, "list", "--pool", p}, {"--pool", p, "destroy", "-r", "-r", "x"}, {"--pool", p, "destroy", "-rq", "x"},
            {"--pool", p, "snapshot"}, {"--pool", p, "snapshot", "a@b", "c"}, {"--pool", p, "snapshot", "a"}, {"--pool", p, "snapshot", "a@"},
            {"--pool", p, "snapshot", "-x@y"}, {"--pool", p, "clone", "ceph:a@s", "b"}, {"--pool", p, "clone", "a@s", "b/c"},
            {"--pool", p, "clone", "a@s"}, {"--pool", p, "destroy", "a b"}, {"--pool", p, "destroy", "--", "x"},
            {"--pool", p, "-r", "destroy", "x"}, {"--pool", p, "create", "x"}, {"--pool", p, "space"}, {"--pool", p, "pg", "list"},
            {"--pool", p, "@file", "list"}, {"--pool", "@" + p, "list"}, {"--pool", "", "list"}, {"--pool", " ", "list"},
            {"--pool", p + "\u0000", "list"}, {"--pool", "list", "list"}, {"--pool", "-x", "list"}, {"--pool"}, {"list", "--pool"},
            {"--pool", p, "--version"}, {"--pool", p, "--json=true", "list"}, {"--pool", p, "LIST"}, {"--pool", p}, {}}) {
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            assertEquals(FastPath.NOT_HANDLED, FastPath.run(new PrintWriter(out), new PrintWriter(err), args), String.join(" ", args));
            assertEquals("", out.toString() + err.toString(), String.join(" ", args));
        }
        // and they print through Main what the whole tree prints
        assertEquals(picocli("--pool", p, "destroy", "a b"), viaMain("--pool", p, "destroy", "a b"));
        assertEquals(picocli("--pool", p, "list", "x"), viaMain("--pool", p, "list", "x"));
    }

    private static Run viaMain(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void aDaemonThatDoesNotAnswerAsPublishedIsLeftToPicocli() throws IOException {
        assertNotNull(FastPath.find(pool));
        try (ServerSocket closed = new ServerSocket(0)) {
            int port = closed.getLocalPort();
            closed.close();
            publish(ProcessHandle.current().pid(), port); // nothing listens there
            assertNull(FastPath.find(pool));
        }
        publish(ProcessHandle.current().pid() + 1_000_000, server.port()); // no such process
        assertNull(FastPath.find(pool));
        publish(ProcessHandle.current().pid(), server.port());
        assertNotNull(FastPath.find(pool));
        Files.writeString(DaemonFiles.token(pool), "wrong\n"); // the daemon answers 401
        assertNull(FastPath.find(pool));
        Files.writeString(DaemonFiles.token(pool), token + "\n");
        Files.writeString(DaemonFiles.info(pool), "{\"pid\": "); // half written
        assertNull(FastPath.find(pool));
        Files.delete(DaemonFiles.info(pool));
        assertNull(FastPath.find(pool));
        assertEquals(FastPath.NOT_HANDLED, FastPath.run(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()),
                "--pool", p, "list"));
    }

    /** The point of it: a short command's JVM does not load picocli's command model, Jackson or logback. */
    @Test
    void listInAJvmOfItsOwnLoadsNeitherPicocliNorJackson() throws Exception {
        assertEquals(ExitCodes.OK, picocli("--pool", p, "create", "db").code());
        Path log = tmp.resolve("classes.log");
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xshare:auto", "-Xlog:class+load=info:file=" + log, "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "--pool", p, "list");
        Process proc = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(proc.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, proc.exitValue(), out);
        assertEquals(picocli("--pool", p, "list").out(), out);
        String classes = Files.readString(log);
        assertTrue(classes.contains("io.clonefs.cli.FastPath "), "no fast path");
        for (String not : new String[] {"picocli.CommandLine ", "picocli.CommandLine$Model", "com.fasterxml.jackson", "ch.qos.logback",
            "java.time.format.DateTimeFormatter ", "java.net.http"}) {
            assertFalse(classes.contains(not), "loaded " + not);
        }
    }
}
