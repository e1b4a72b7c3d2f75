package io.clonefs.compare;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A PostgreSQL server on 127.0.0.1 run as the {@code postgres} OS user with {@code pg_ctl}, its
 * socket directory and log outside its data directory. {@link #close()} stops it (fast, then kill).
 */
final class Pg implements AutoCloseable {
    private static final Pattern TPS = Pattern.compile("tps = ([0-9.]+) \\(without initial connection time\\)");

    private final Path bin;
    private final Path dataDir;
    private final Path runDir;
    private final int port;
    private long pid = -1;

    /**
     * @param runDir a directory owned by postgres for the socket and the log
     */
    Pg(Path bin, Path dataDir, Path runDir, int port) {
        this.bin = bin;
        this.dataDir = dataDir;
        this.runDir = runDir;
        this.port = port;
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    int port() {
        return port;
    }

    Path dataDir() {
        return dataDir;
    }

    String tool(String name) {
        return bin.resolve(name).toString();
    }

    /** {@code initdb --data-checksums} (the directory's parent must be writable by postgres). */
    void initdb() {
        Sh.runAsPostgres(List.of(tool("initdb"), "--data-checksums", "-D", dataDir.toString(), "-U", "postgres",
                "--auth=trust", "-E", "UTF8", "--locale=C"), Duration.ofMinutes(10)).check();
    }

    /** Starts the server ({@code pg_ctl -w}: returns when it accepts connections, recovery included). */
    void start(String... settings) {
        List<String> opts = new ArrayList<>(List.of("-p", Integer.toString(port), "-k", runDir.toString(),
                "-c", "listen_addresses=127.0.0.1"));
        for (String s : settings) {
            opts.add("-c");
            opts.add(s);
        }
        Sh.Result r = Sh.runAsPostgres(List.of(tool("pg_ctl"), "-D", dataDir.toString(), "-l", log().toString(),
                "-w", "-t", "1200", "-o", String.join(" ", opts), "start"), Duration.ofMinutes(21));
        if (!r.ok()) {
            throw new CompareException("PostgreSQL did not start on " + dataDir + ": " + r.describe() + "\n--- log\n"
                    + logTail());
        }
        try {
            pid = Long.parseLong(Files.readAllLines(dataDir.resolve("postmaster.pid")).get(0).trim());
        } catch (IOException | RuntimeException e) {
            throw new CompareException("cannot read " + dataDir.resolve("postmaster.pid"), e);
        }
    }

    Path log() {
        return runDir.resolve("postgres-" + port + ".log");
    }

    String logTail() {
        try {
            String s = Files.exists(log()) ? Files.readString(log()) : "(no log)";
            return s.length() > 3000 ? s.substring(s.length() - 3000) : s;
        } catch (IOException e) {
            return "(cannot read the log: " + e + ")";
        }
    }

    boolean running() {
        return pid > 0 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    /** {@code pg_ctl stop -m fast}; SIGKILL of the postmaster and its children if that fails. */
    @Override
    public void close() {
        if (!running()) {
            return;
        }
        Sh.Result r = null;
        try {
            r = Sh.runAsPostgres(List.of(tool("pg_ctl"), "-D", dataDir.toString(), "-m", "fast", "-w", "-t", "120",
                    "stop"), Duration.ofMinutes(3));
        } catch (RuntimeException e) {
            System.err.println("pg_ctl stop failed: " + e.getMessage());
        }
        if (r == null || !r.ok() || !Sh.waitGone(pid, Duration.ofSeconds(30))) {
            ProcessHandle.of(pid).ifPresent(ph -> {
                List<ProcessHandle> kids = ph.descendants().toList();
                ph.destroyForcibly();
                kids.forEach(ProcessHandle::destroyForcibly);
            });
            Sh.waitGone(pid, Duration.ofSeconds(30));
        }
        pid = -1;
    }

    Connection connect(String database) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("connectTimeout", "60");
        p.setProperty("socketTimeout", "3600");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database, p);
    }

    /** First column of the first row. */
    String query(String database, String sql) {
        try (Connection c = connect(database); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        } catch (SQLException e) {
            throw new CompareException("query on port " + port + "/" + database + " failed: " + sql + ": " + e.getMessage(), e);
        }
    }

    void execute(String database, String sql) {
        try (Connection c = connect(database); Statement st = c.createStatement()) {
            st.execute(sql);
        } catch (SQLException e) {
            throw new CompareException("statement on port " + port + "/" + database + " failed: " + sql + ": "
                    + e.getMessage(), e);
        }
    }

    /** The query a benchmark user would run first: a count over the accounts' branches table. */
    void firstQuery(String database) {
        String n = query(database, "select count(*) from pgbench_branches");
        if (n == null || Long.parseLong(n) < 1) {
            throw new CompareException("no pgbench data in " + database + " on port " + port);
        }
    }

    /** A client tool ({@code pgbench}, {@code pg_dump}, ...) as postgres against this server. */
    Sh.Result client(Duration timeout, String tool, String... args) {
        List<String> cmd = new ArrayList<>(List.of(tool(tool), "-h", "127.0.0.1", "-p", Integer.toString(port),
                "-U", "postgres"));
        cmd.addAll(List.of(args));
        return Sh.runAsPostgres(cmd, timeout);
    }

    /** Transactions per second of a pgbench run ({@code -S} for select-only), 2 threads. */
    double tps(String database, boolean selectOnly, int clients, int seconds) {
        List<String> a = new ArrayList<>(List.of("-c", Integer.toString(clients), "-j", "2", "-T",
                Integer.toString(seconds), "-n"));
        if (selectOnly) {
            a.add("-S");
        }
        a.add(database);
        Sh.Result r = client(Duration.ofSeconds(seconds + 600L), "pgbench", a.toArray(String[]::new)).check();
        Matcher m = TPS.matcher(r.out());
        if (!m.find()) {
            throw new CompareException("no tps in pgbench output: " + r.describe());
        }
        return Double.parseDouble(m.group(1));
    }

    /** Bytes of a database's directory {@code base/OID} ({@code du}). */
    long databaseDirBytes(String database) {
        String oid = query("postgres", "select oid from pg_database where datname = '" + database + "'");
        return Sh.du(dataDir.resolve("base").resolve(oid));
    }

    long databaseSize(String database) {
        return Long.parseLong(query("postgres", "select pg_database_size('" + database + "')"));
    }
}
