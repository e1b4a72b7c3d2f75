package io.clonefs.it.support;

import io.clonefs.pg.process.Postgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A PostgreSQL 15 server for the tests: a {@link Postgres} run as the {@code postgres} OS user,
 * with its own TCP port on 127.0.0.1, unix socket directory and log file (both outside the data
 * directory), its programs run by {@link Proc} (a timeout fails the test), registered with the
 * workspace so that it is stopped (or killed) in teardown.
 */
public final class PgServer implements AutoCloseable {
    public static final Path BIN = Path.of(System.getProperty("clonefs.it.pgbin", "/usr/lib/postgresql/15/bin"));
    /** {@code BIN/tool} as postgres through {@link Proc}. */
    private static final Postgres.Programs PROGRAMS = (timeout, tool, args) -> {
        List<String> cmd = new ArrayList<>(List.of(bin(tool)));
        cmd.addAll(args);
        return Proc.runAsPostgres(cmd, timeout).result();
    };

    private final String name;
    private final Path dataDir;
    private final int port;
    private final Path socketDir;
    private final Path logFile;
    private Postgres server;

    public PgServer(Workspace ws, String name, Path dataDir) {
        this.name = name;
        this.dataDir = dataDir;
        this.port = Ports.free();
        this.socketDir = ws.postgresDir("sock-" + name);
        this.logFile = ws.postgresDir("log-" + name).resolve("postgres.log");
        this.server = server();
        ws.onClose("stop PostgreSQL " + name, this::close);
    }

    public static String bin(String tool) {
        return BIN.resolve(tool).toString();
    }

    /** {@code initdb --data-checksums} as postgres in an existing directory owned by postgres. */
    public static void initdb(Path dataDir) {
        try {
            Postgres.initdb(PROGRAMS, dataDir, Duration.ofMinutes(10), "--data-checksums");
        } catch (Postgres.Failed e) {
            throw new AssertionError(e.result().describe(), e);
        }
    }

    private Postgres server(String... settings) {
        return Postgres.on(dataDir).name(name).bin(BIN).programs(PROGRAMS).port(port).socketDir(socketDir)
                .log(logFile).settings(List.of(settings)).build();
    }

    public int port() {
        return port;
    }

    public Path dataDir() {
        return dataDir;
    }

    /** The postmaster's pid, or -1 when it does not run. */
    public long pid() {
        return server.pid();
    }

    /** Starts the server and waits until it accepts connections (crash recovery included). */
    public void start(String... settings) {
        server = server(settings);
        try {
            server.start(Duration.ofMinutes(10));
        } catch (Postgres.Failed e) {
            throw new AssertionError("PostgreSQL did not start: " + e.result().describe() + "\n--- server log\n"
                    + log(), e);
        }
    }

    public boolean running() {
        return server.running();
    }

    /** {@code pg_ctl stop -m fast} ({@link Postgres#stop}). */
    public void stop() {
        server.stop(Postgres.StopMode.FAST);
    }

    /** SIGKILL to the postmaster and every backend; returns once the postmaster is gone. */
    public void kill9() {
        long pid = server.pid();
        server.kill();
        if (pid > 0) {
            Proc.waitGone(pid, Duration.ofSeconds(30));
        }
    }

    /** Runs a client tool ({@code pgbench}, {@code pg_amcheck}, ...) as postgres against this server. */
    public Proc.Result tool(Duration timeout, String tool, String... args) {
        return new Proc.Result(server.client(timeout, tool, args));
    }

    /** The same, started in the background (output to {@code out}). */
    public Process toolInBackground(Path out, String tool, String... args) {
        return Proc.start(Proc.asPostgres(toolCommand(port, tool, args)), out);
    }

    /** {@code BIN/tool -h 127.0.0.1 -p PORT -U postgres args...}, for a client started in the background. */
    public static List<String> toolCommand(int port, String tool, String... args) {
        List<String> cmd = new ArrayList<>(List.of(bin(tool), "-h", "127.0.0.1", "-p", Integer.toString(port),
                "-U", "postgres"));
        cmd.addAll(Arrays.asList(args));
        return cmd;
    }

    public Connection connect() throws SQLException {
        return connect(port);
    }

    /** A connection to database postgres on 127.0.0.1:{@code port} (30 s to connect, 300 s per read). */
    public static Connection connect(int port) throws SQLException {
        return Postgres.connect(port, "postgres", Duration.ofSeconds(30), Duration.ofSeconds(300));
    }

    /** First column of the first row of a query. */
    public String query(String sql) throws SQLException {
        try (Connection c = connect()) {
            return Postgres.query(c, sql);
        }
    }

    public void execute(String sql) throws SQLException {
        query(sql);
    }

    public String log() {
        try {
            return Files.exists(logFile) ? Files.readString(logFile) : "(no log)";
        } catch (IOException e) {
            return "(cannot read log: " + e + ")";
        }
    }

    /** Stops the server if it runs ({@link Postgres#close}: fast, then immediate, then SIGKILL). */
    @Override
    public void close() {
        server.close();
    }
}
