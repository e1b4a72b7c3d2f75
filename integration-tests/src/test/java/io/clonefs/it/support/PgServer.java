package io.clonefs.it.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

/**
 * A PostgreSQL 15 server run as the {@code postgres} OS user, with its own TCP port on 127.0.0.1,
 * unix socket directory and log file (both outside the data directory), registered with the
 * workspace so that it is stopped (or killed) in teardown.
 */
public final class PgServer implements AutoCloseable {
    public static final Path BIN = Path.of(System.getProperty("clonefs.it.pgbin", "/usr/lib/postgresql/15/bin"));

    private final Path dataDir;
    private final int port;
    private final Path socketDir;
    private final Path logFile;
    private long postmasterPid = -1;

    public PgServer(Workspace ws, String name, Path dataDir) {
        this.dataDir = dataDir;
        this.port = Ports.free();
        this.socketDir = ws.postgresDir("sock-" + name);
        this.logFile = ws.postgresDir("log-" + name).resolve("postgres.log");
        ws.onClose("stop PostgreSQL " + name, this::close);
    }

    public static String bin(String tool) {
        return BIN.resolve(tool).toString();
    }

    /** {@code initdb --data-checksums} as postgres in an existing directory owned by postgres. */
    public static void initdb(Path dataDir) {
        Proc.runAsPostgres(List.of(bin("initdb"), "--data-checksums", "-D", dataDir.toString(), "-U", "postgres",
                "--auth=trust", "-E", "UTF8", "--locale=C"), Duration.ofMinutes(10)).check();
    }

    public int port() {
        return port;
    }

    public Path dataDir() {
        return dataDir;
    }

    public long pid() {
        return postmasterPid;
    }

    /** Starts the server and waits until it accepts connections (crash recovery included). */
    public void start(String... settings) {
        List<String> opts = new ArrayList<>(List.of("-p", Integer.toString(port), "-k", socketDir.toString(),
                "-c", "listen_addresses=127.0.0.1"));
        for (String s : settings) {
            opts.add("-c");
            opts.add(s);
        }
        Proc.Result r = Proc.runAsPostgres(List.of(bin("pg_ctl"), "-D", dataDir.toString(), "-l", logFile.toString(),
                "-w", "-t", "600", "-o", String.join(" ", opts), "start"), Duration.ofMinutes(11));
        if (!r.ok()) {
            throw new AssertionError("PostgreSQL did not start: " + r.describe() + "\n--- server log\n" + log());
        }
        try {
            postmasterPid = Long.parseLong(Files.readAllLines(dataDir.resolve("postmaster.pid")).get(0).trim());
        } catch (IOException | RuntimeException e) {
            throw new AssertionError("cannot read postmaster.pid", e);
        }
    }

    public boolean running() {
        return postmasterPid > 0 && ProcessHandle.of(postmasterPid).map(ProcessHandle::isAlive).orElse(false);
    }

    /** {@code pg_ctl stop -m fast}. */
    public void stop() {
        if (!running()) {
            postmasterPid = -1;
            return;
        }
        Proc.runAsPostgres(List.of(bin("pg_ctl"), "-D", dataDir.toString(), "-m", "fast", "-w", "-t", "120", "stop"),
                Duration.ofMinutes(3)).check();
        Proc.waitGone(postmasterPid, Duration.ofSeconds(30));
        postmasterPid = -1;
    }

    /** SIGKILL to the postmaster and every backend. */
    public void kill9() {
        if (postmasterPid > 0) {
            Proc.kill9(postmasterPid);
            Proc.waitGone(postmasterPid, Duration.ofSeconds(30));
        }
        postmasterPid = -1;
    }

    /** Runs a client tool ({@code pgbench}, {@code pg_amcheck}, ...) as postgres against this server. */
    public Proc.Result tool(Duration timeout, String tool, String... args) {
        List<String> cmd = new ArrayList<>(List.of(bin(tool), "-h", "127.0.0.1", "-p", Integer.toString(port),
                "-U", "postgres"));
        cmd.addAll(Arrays.asList(args));
        return Proc.runAsPostgres(cmd, timeout);
    }

    /** The same, started in the background (output to {@code out}). */
    public Process toolInBackground(Path out, String tool, String... args) {
        List<String> cmd = new ArrayList<>(List.of(bin(tool), "-h", "127.0.0.1", "-p", Integer.toString(port),
                "-U", "postgres"));
        cmd.addAll(Arrays.asList(args));
        return Proc.start(Proc.asPostgres(cmd), out);
    }

    public Connection connect() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("connectTimeout", "30");
        p.setProperty("socketTimeout", "300");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", p);
    }

    /** First column of the first row of a query. */
    public String query(String sql) throws SQLException {
        try (Connection c = connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    public void execute(String sql) throws SQLException {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    public String log() {
        try {
            return Files.exists(logFile) ? Files.readString(logFile) : "(no log)";
        } catch (IOException e) {
            return "(cannot read log: " + e + ")";
        }
    }

    /** Stops the server if it runs; kills it if it does not stop. */
    @Override
    public void close() {
        if (!running()) {
            return;
        }
        try {
            stop();
        } catch (AssertionError | RuntimeException e) {
            System.err.println("pg_ctl stop failed, killing: " + e);
            kill9();
        }
    }
}
