package io.clonefs.cli;

import io.clonefs.api.Api;
import io.clonefs.api.PgApi;
import io.clonefs.base.ClonefsException;
import io.clonefs.base.ErrorKind;
import io.clonefs.base.FileTrees;
import io.clonefs.daemon.ControlServer;
import io.clonefs.daemon.DaemonFiles;
import io.clonefs.daemon.DaemonInfo;
import io.clonefs.daemon.EngineService;
import io.clonefs.engine.Engine;
import io.clonefs.remote.RemoteClient;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The training run of the class-data-sharing archive ({@code clonefs.jsa}, made by
 * {@code scripts/cds-archive.sh} for {@code make build} and {@code make install}: this run lists the
 * classes it loads with {@code -XX:DumpLoadedClassList}, then {@code -Xshare:dump} archives them).
 * A short command maps the classes this run loaded, so it runs the usual commands the way a user
 * does, in one JVM: help, version, usage errors, and {@code list}, {@code create}, {@code snapshot},
 * {@code clone}, {@code destroy}, {@code space} against a pool served by a control API. That server
 * runs in a child JVM ({@code --serve}: the pool opened there, no mount, no root needed), so that
 * the archive holds the client's classes only: the JVM maps and relocates the whole archive at
 * start, and a smaller one starts sooner. Nothing the commands print matters; the run fails only
 * if one of them does.
 *
 * <p>With {@code --quick}, the training of the second, smaller archive ({@code clonefs-quick.jsa}):
 * only the commands of the fast path ({@link FastPath}), which load neither picocli nor Jackson.
 * Its {@code pg branch} is answered by a stand-in of the pg routes ({@link #pgStandIn}: no
 * PostgreSQL here), as the daemon answers it: a branch, or a failed start.
 *
 * <p>Usage: {@code java -cp clonefs.jar io.clonefs.cli.CdsTraining [--quick] WORKDIR} (WORKDIR is created and removed).
 */
final class CdsTraining {
    private CdsTraining() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 2 && args[0].equals("--serve")) {
            serve(Path.of(args[1]));
            return;
        }
        boolean quick = args.length == 2 && args[0].equals("--quick");
        if (args.length != 1 && !quick) {
            System.err.println("usage: CdsTraining [--quick] WORKDIR");
            System.exit(2);
        }
        Path work = Path.of(args[args.length - 1]).toAbsolutePath().normalize();
        Files.createDirectories(work);
        Path pool = work.resolve("pool");
        try {
            if (!quick) {
                run(0, "--help");
                run(0, "--version");
                run(0, "list", "--help");
                run(ExitCodes.USAGE, "lst");
                run(ExitCodes.USAGE, "list", "--bogus");
                run(ExitCodes.NOT_FOUND, "--pool", work.resolve("none").toString(), "list");
            }
            Process server = startServer(pool);
            try {
                if (quick) {
                    quickCommands(pool.toString());
                } else {
                    commands(pool.toString());
                }
            } finally {
                server.getOutputStream().close(); // its cue to stop
                if (!server.waitFor(60, TimeUnit.SECONDS)) {
                    server.destroyForcibly();
                }
            }
        } finally {
            FileTrees.delete(work);
        }
        System.exit(0);
    }

    /**
     * The fast path's commands only ({@link FastPath}: no picocli, no Jackson in this JVM), for the
     * small archive the launchers map for {@code list}, {@code snapshot}, {@code clone},
     * {@code destroy} and {@code pg branch}: the JVM maps and relocates a whole archive at start,
     * and one of the fast path's classes alone is half the size of the one of every command.
     */
    private static void quickCommands(String p) {
        for (int round = 0; round < 2; round++) {
            run(0, "--pool", p, "list");
            run(0, "--pool", p, "--json", "list");
            run(0, "--pool", p, "snapshot", "q@s" + round);
            run(0, "--pool", p, "--json", "snapshot", "q@j" + round);
            run(0, "--pool", p, "clone", "q@s" + round, "c" + round);
            run(0, "--pool", p, "--json", "clone", "q@j" + round, "d" + round);
            run(0, "--pool", p, "clone", "q", "e" + round);
            run(0, "-q", "--pool", p, "list");
            run(0, "--pool", p, "destroy", "c" + round);
            run(0, "--pool", p, "--json", "destroy", "-r", "q@j" + round);
            run(ExitCodes.NOT_FOUND, "--pool", p, "destroy", "nosuch");
            run(ExitCodes.CONFLICT, "--pool", p, "snapshot", "q@s" + round);
            run(0, "--pool", p, "pg", "branch", "q", "b" + round);
            run(0, "--pool", p, "--json", "pg", "branch", "q", "j" + round, "--ttl", "8h", "--suspend-after", "10m");
            run(ExitCodes.GENERAL, "--pool", p, "pg", "branch", "q", "fails");
        }
    }

    /** The client commands, twice (the second round as a warm process would not matter: same classes). */
    private static void commands(String p) {
        for (int round = 0; round < 2; round++) {
            String v = "v" + round;
            run(0, "--pool", p, "create", v);
            run(0, "--pool", p, "snapshot", v + "@s");
            run(0, "--pool", p, "clone", v + "@s", v + "-c");
            run(0, "--pool", p, "list");
            run(0, "--pool", p, "list", "--json");
            run(0, "--pool", p, "space");
            run(0, "--pool", p, "--json", "destroy", v + "-c");
            run(0, "--pool", p, "destroy", "-r", v);
            run(ExitCodes.NOT_FOUND, "--pool", p, "destroy", v);
            run(ExitCodes.USAGE, "--pool", p, "snapshot", v);
        }
    }

    /** Starts the child that inits the pool and serves it; returns once the pool is published as served. */
    private static Process startServer(Path pool) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // what the engine needs (lmdbjava's opens) and starts quickly with; set here rather than read
        // from this JVM's arguments, whose management beans would land in the archive
        cmd.addAll(List.of("--add-opens", "java.base/java.nio=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"));
        cmd.addAll(List.of("-Xshare:auto", "-cp", System.getProperty("java.class.path"), CdsTraining.class.getName(),
                "--serve", pool.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        StringBuilder seen = new StringBuilder();
        for (String line; (line = out.readLine()) != null; ) {
            if (line.equals("serving")) {
                Thread drain = new Thread(() -> {
                    try {
                        out.transferTo(Writer.nullWriter());
                    } catch (IOException ignored) {
                        // the child is gone
                    }
                }, "training-server-output");
                drain.setDaemon(true);
                drain.start();
                return p;
            }
            seen.append(line).append('\n');
        }
        p.waitFor(10, TimeUnit.SECONDS);
        throw new IllegalStateException("the training server did not start: " + seen.toString().strip());
    }

    /** The child: a pool, its control API on an ephemeral port, published as its daemon until stdin closes. */
    private static void serve(Path pool) throws Exception {
        if (Main.run(new PrintWriter(Writer.nullWriter()), new PrintWriter(System.out, true), "init", pool.toString()) != 0) {
            System.exit(1);
        }
        String p = pool.toString();
        String token = DaemonFiles.newToken();
        DaemonFiles.writePrivate(DaemonFiles.token(pool), (token + "\n").getBytes(StandardCharsets.US_ASCII));
        long pid = ProcessHandle.current().pid();
        try (EngineService service = new EngineService(Engine.open(pool, RemoteClient.engineOptions(pool)), () -> { }, true);
             ControlServer server = new ControlServer(service, token, 0,
                     () -> new Api.Status(p, p + "-mnt", pid, "training"), () -> { })) {
            server.extend("pg", CdsTraining::pgStandIn);
            server.start();
            service.createVolume("q"); // for the quick training, which runs the fast path only
            DaemonFiles.writeJson(DaemonFiles.info(pool),
                    new DaemonInfo(pid, server.port(), p, p + "-mnt", Instant.now().toString(), "training", null, "writeback"));
            System.out.println("serving");
            System.out.flush();
            System.in.transferTo(OutputStream.nullOutputStream());
        } finally {
            DaemonFiles.deleteQuietly(DaemonFiles.info(pool));
        }
        System.exit(0);
    }

    /** {@code POST /v1/pg/branches} as the daemon answers it, without a PostgreSQL: a branch, or (named fails) a failed start. */
    private static ControlServer.Reply pgStandIn(ControlServer.Request r) {
        PgApi.BranchRequest b = r.body(PgApi.BranchRequest.class);
        if (b.name().equals("fails")) {
            throw ClonefsException.of(ErrorKind.PG_START_FAILED, "pg_start_failed",
                    "PostgreSQL 'fails' did not start (training)\n  FATAL:  training\n");
        }
        return new ControlServer.Reply(201, new PgApi.Branched(b.name(), "postgresql://postgres@127.0.0.1:54400/postgres", 54400,
                b.source(), b.source() + "@pgb-training", true, b.ttl() == null ? null : Instant.now().toString(),
                new PgApi.Timings(1, 1, 1, 1, 1, 0, 1, 6)));
    }

    private static void run(int expected, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
        if (code != expected) {
            throw new IllegalStateException("clonefs " + String.join(" ", args) + " exited " + code + ", not " + expected
                    + ": " + err.toString().strip());
        }
    }
}
