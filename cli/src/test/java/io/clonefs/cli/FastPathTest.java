package io.clonefs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.api.Api;
import io.clonefs.api.PgApi;
import io.clonefs.base.ClonefsException;
import io.clonefs.base.ErrorKind;
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
import java.util.concurrent.CopyOnWriteArrayList;
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
    /** The bodies of the {@code POST /v1/pg/branches} requests the stand-in of the pg routes was sent. */
    private final List<String> branchRequests = new CopyOnWriteArrayList<>();

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
        server.extend("pg", this::pgBranches);
        server.start();
        publish(pid, server.port());
    }

    /**
     * A stand-in of the daemon's pg routes (no PostgreSQL here): {@code POST /v1/pg/branches} answers as
     * the daemon does for a new branch, or with the error its new name asks for.
     */
    private ControlServer.Reply pgBranches(ControlServer.Request r) {
        if (!r.method().equals("POST") || !r.path().equals("/branches")) {
            throw new ClonefsException.NotFound("no such pg route in this test: " + r.method() + " " + r.path());
        }
        branchRequests.add(new String(r.body(), StandardCharsets.UTF_8));
        PgApi.BranchRequest b = r.body(PgApi.BranchRequest.class);
        switch (b.name()) {
            case "start-fails" -> throw ClonefsException.of(ErrorKind.PG_START_FAILED, "pg_start_failed",
                    "PostgreSQL 'start-fails' did not start (/var/log/x.log)\n  FATAL:  could not map anonymous shared memory\n"
                    + "  LOG:  database system is shut down\n");
            case "port-taken" -> throw ClonefsException.of(ErrorKind.PG_PORT_IN_USE, "pg_port_in_use",
                    "port " + b.port() + " is in use on 127.0.0.1 by another program");
            case "exists" -> throw new ClonefsException.AlreadyExists("'exists' already exists\nand says more");
            case "bad-reply" -> {
                return new ControlServer.Reply(201, List.of("not", "a", "branch"));
            }
            default -> {
                int port = b.port() == null ? 54_401 : b.port();
                String expires = b.ttl() == null ? null : "2026-12-06T18:10:00.123456Z";
                String snapshot = b.source() + (b.name().equals("odd") ? "@\"odd\"\ttab \u00e9\u0001" : "@pgb-20261206T161900.123Z");
                return new ControlServer.Reply(201, new PgApi.Branched(b.name(), "postgresql://postgres@127.0.0.1:" + port + "/postgres",
                        port, b.source(), snapshot, b.at() == null, expires,
                        new PgApi.Timings(b.checkpoint() ? 91 : 0, 2, 1, 12, 301, 0, 55, 463)));
            }
        }
    }

    private void publish(long pid, int port) {
        DaemonFiles.writeJson(DaemonFiles.info(pool), new DaemonInfo(pid, port, p, p + "-mnt", Instant.now().toString(), "test", null, "writeback"));
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

    /** The same pg branch line both ways: output, error and exit code, and the request the daemon was sent. */
    private Run sameBranch(String... args) {
        int before = branchRequests.size();
        Run r = picocli(args);
        same(args);
        assertEquals(before + 3, branchRequests.size(), "clonefs " + String.join(" ", args) + " sent no request");
        String want = branchRequests.get(before + 1).replaceAll("\"at\":\"[^\"]*\"", "\"at\":T");
        assertEquals(want, branchRequests.get(before + 2).replaceAll("\"at\":\"[^\"]*\"", "\"at\":T"));
        return r;
    }

    @Test
    void pgBranchPrintsAndAsksWhatItsPicocliCommandDoes() {
        Run plain = sameBranch("--pool", p, "pg", "branch", "src", "dev1");
        assertEquals(new Run(0, "postgresql://postgres@127.0.0.1:54401/postgres" + System.lineSeparator(),
                "branch dev1 of src (src@pgb-20261206T161900.123Z) answers after 463 ms" + System.lineSeparator()), plain);
        assertTrue(sameBranch("--pool", p, "--json", "pg", "branch", "src", "dev1").out().contains("\"millis\" : {"));
        sameBranch("pg", "--pool=" + p, "branch", "src", "dev2", "--json", "-q");
        assertTrue(sameBranch("pg", "branch", "--pool", p, "src", "dev3", "--ttl", "8h", "--port=54999").err().contains("; expires "));
        sameBranch("--pool", p, "pg", "branch", "--no-checkpoint", "--protect", "src", "dev4", "--suspend-after=10m", "--json");
        sameBranch("--pool", p, "pg", "branch", "src", "dev5", "--checkpoint", "--at", "2026-01-31T12:00:00Z", "--ttl=30m");
        sameBranch("--pool", p, "pg", "branch", "src", "dev6", "--at=2026-01-31 12:00", "--port", "54400", "--suspend-after", "0");
        sameBranch("--pool", p, "pg", "branch", "src", "dev7", "--at", "24h");
        sameBranch("--quiet", "--pool", p, "pg", "branch", "list", "branch"); // operands named like commands are operands
        assertTrue(sameBranch("--pool", p, "--json", "pg", "branch", "src", "odd").out().contains("\\\"odd\\\"\\t")); // JSON escapes

        // what the daemon refuses: the same lines and exit codes
        Run failed = sameBranch("--pool", p, "pg", "branch", "src", "start-fails");
        assertEquals(ExitCodes.GENERAL, failed.code());
        assertTrue(failed.err().contains("\n  LOG:  database system is shut down"), failed.err()); // the whole message
        assertEquals(ExitCodes.CONFLICT, sameBranch("--pool", p, "pg", "branch", "src", "port-taken", "--port", "5432").code());
        assertEquals(ExitCodes.CONFLICT, sameBranch("--pool", p, "--json", "pg", "branch", "src", "exists").code());
        // a reply that is no branch: the same code and line, but for the parser's words
        Run badSlow = picocli("--pool", p, "pg", "branch", "src", "bad-reply");
        Run badFast = fast("--pool", p, "pg", "branch", "src", "bad-reply");
        assertEquals(ExitCodes.GENERAL, badSlow.code());
        assertEquals(badSlow.code(), badFast.code());
        for (Run r : List.of(badSlow, badFast)) {
            assertEquals("", r.out());
            assertTrue(r.err().startsWith("clonefs: unexpected reply from the daemon: "), r.err());
        }
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
            {"--pool", p, "--version"}, {"--pool", p, "--json=true", "list"}, {"--pool", p, "LIST"}, {"--pool", p}, {},
            {"--pool", p, "pg"}, {"--pool", p, "pg", "branch"}, {"--pool", p, "pg", "branch", "a"}, {"--pool", p, "pg", "branch", "a", "b", "c"},
            {"--pool", p, "pg", "list"}, {"--pool", p, "pg", "x", "branch", "a", "b"}, {"--pool", p, "branch", "a", "b"},
            {"--pool", p, "pg", "--ttl", "1h", "branch", "a", "b"}, {"--pool", p, "pg", "branch", "a", "b", "-h"},
            {"--pool", p, "pg", "branch", "a", "b", "--help"}, {"--pool", p, "-v", "pg", "branch", "a", "b"},
            {"--pool", p, "pg", "branch", "ceph:a@s", "b"}, {"--pool", p, "pg", "branch", "a/b", "c"}, {"--pool", p, "pg", "branch", "a", "b@s"},
            {"--pool", p, "pg", "branch", "a", "b", "--memory", "1GiB"}, {"--pool", p, "pg", "branch", "a", "b", "--cpu-weight", "5"},
            {"--pool", p, "pg", "branch", "a", "b", "--setting", "work_mem=8MB"}, {"--pool", p, "pg", "branch", "a", "b", "--ttl", "1h", "--ttl", "2h"},
            {"--pool", p, "pg", "branch", "a", "b", "--ttl"}, {"--pool", p, "pg", "branch", "a", "b", "--ttl", "bogus"},
            {"--pool", p, "pg", "branch", "a", "b", "--ttl", "list"}, {"--pool", p, "pg", "branch", "a", "b", "--ttl", "-1"},
            {"--pool", p, "pg", "branch", "a", "b", "--suspend-after", "x"}, {"--pool", p, "pg", "branch", "a", "b", "--at", "not a time"},
            {"--pool", p, "pg", "branch", "a", "b", "--port", "0"}, {"--pool", p, "pg", "branch", "a", "b", "--port", "065535"},
            {"--pool", p, "pg", "branch", "a", "b", "--port", "70000"}, {"--pool", p, "pg", "branch", "a", "b", "--port", "+5"},
            {"--pool", p, "pg", "branch", "a", "b", "--port", "0x10"}, {"--pool", p, "pg", "branch", "a", "b", "--port="},
            {"--pool", p, "pg", "branch", "a", "b", "--checkpoint", "--no-checkpoint"}, {"--pool", p, "pg", "branch", "a", "b", "--checkpoint=false"},
            {"--pool", p, "pg", "branch", "a", "b", "--protect", "--protect"}, {"--pool", p, "pg", "branch", "a", "--protect", "true", "b"},
            {"--pool", p, "pg", "branch", "--checkpoint", "false", "a", "b"}, {"--pool", p, "pg", "branch", "a", "b", "--port", "@f"},
            {"--pool", p, "pg", "branch", "a", "b", "--pool", p}, {"--pool", p, "pg", "--json", "branch", "a", "b", "--json"},
            {"--pool", p, "pg", "branch", "a", "b", "-r"}, {"--pool", p, "pg", "branch", "a", "b", "--"}, {"--pool", "branch", "pg", "branch", "a", "b"}}) {
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            assertEquals(FastPath.NOT_HANDLED, FastPath.run(new PrintWriter(out), new PrintWriter(err), args), String.join(" ", args));
            assertEquals("", out.toString() + err.toString(), String.join(" ", args));
        }
        // and they print through Main what the whole tree prints
        assertEquals(picocli("--pool", p, "destroy", "a b"), viaMain("--pool", p, "destroy", "a b"));
        assertEquals(picocli("--pool", p, "list", "x"), viaMain("--pool", p, "list", "x"));
        assertEquals(picocli("--pool", p, "pg", "branch", "a", "b", "--ttl", "bogus"), viaMain("--pool", p, "pg", "branch", "a", "b", "--ttl", "bogus"));
        assertEquals(0, branchRequests.size(), "a line left to picocli asked the daemon");
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
        assertOwnJvmIsFast("--pool", p, "list");
    }

    @Test
    void pgBranchInAJvmOfItsOwnLoadsNeitherPicocliNorJackson() throws Exception {
        assertOwnJvmIsFast("--pool", p, "pg", "branch", "src", "dev1", "--ttl", "8h");
        assertOwnJvmIsFast("--pool", p, "--json", "pg", "branch", "src", "dev2");
    }

    private void assertOwnJvmIsFast(String... args) throws Exception {
        Path log = tmp.resolve("classes.log");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xshare:auto", "-Xlog:class+load=info:file=" + log, "-cp", System.getProperty("java.class.path"),
                Main.class.getName()));
        cmd.addAll(List.of(args));
        Process proc = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(proc.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, proc.exitValue(), out);
        assertEquals(picocli(args).out(), out);
        String classes = Files.readString(log);
        assertTrue(classes.contains("io.clonefs.cli.FastPath "), "no fast path");
        for (String not : new String[] {"picocli.CommandLine ", "picocli.CommandLine$Model", "com.fasterxml.jackson", "ch.qos.logback",
            "java.time.format.DateTimeFormatter ", "java.net.http"}) {
            assertFalse(classes.contains(not), "loaded " + not);
        }
    }
}
