package io.clonefs.compare;

import io.clonefs.pg.process.Postgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A PostgreSQL server of the comparison: a {@link Postgres} on 127.0.0.1 with its socket directory
 * and log in the run directory, its programs run as the {@code postgres} OS user by {@link Sh}
 * (a timeout is a {@link CompareException}). {@link #close()} stops it ({@link Postgres#close}).
 * Plus what the comparison asks of a server: pgbench's tps, a database's size.
 */
final class Pg implements AutoCloseable {
    private static final Pattern TPS = Pattern.compile("tps = ([0-9.]+) \\(without initial connection time\\)");

    private final Path bin;
    private final Path dataDir;
    private final Path runDir;
    private final int port;
    private final Postgres.Programs programs;
    private Postgres server;

    /**
     * @param runDir a directory owned by postgres for the socket and the log
     */
    Pg(Path bin, Path dataDir, Path runDir, int port) {
        this.bin = bin;
        this.dataDir = dataDir;
        this.runDir = runDir;
        this.port = port;
        this.programs = (timeout, tool, args) -> {
            List<String> cmd = new ArrayList<>(List.of(bin.resolve(tool).toString()));
            cmd.addAll(args);
            return Sh.runAsPostgres(cmd, timeout).result();
        };
        this.server = server();
    }

    int port() {
        return port;
    }

    Path dataDir() {
        return dataDir;
    }

    private Postgres server(String... settings) {
        return Postgres.on(dataDir).bin(bin).programs(programs).port(port).socketDir(runDir)
                .log(runDir.resolve("postgres-" + port + ".log")).settings(List.of(settings)).build();
    }

    /** {@code initdb --data-checksums} (the directory's parent must be writable by postgres). */
    void initdb() {
        try {
            Postgres.initdb(programs, dataDir, Duration.ofMinutes(10), "--data-checksums");
        } catch (Postgres.Failed e) {
            throw new CompareException("command failed: " + e.result().describe(), e);
        }
    }

    /** Starts the server ({@code pg_ctl -w}: returns when it accepts connections, recovery included). */
    void start(String... settings) {
        server = server(settings);
        try {
            server.start(Duration.ofMinutes(20));
        } catch (Postgres.Failed e) {
            throw new CompareException("PostgreSQL did not start on " + dataDir + ": " + e.result().describe()
                    + "\n--- log\n" + server.logTail(40), e);
        }
    }

    /** {@link Postgres#close()}: {@code pg_ctl stop -m fast}, then immediate, then SIGKILL. */
    @Override
    public void close() {
        server.close();
    }

    Connection connect(String database) throws SQLException {
        return Postgres.connect(port, database, Duration.ofSeconds(60), Duration.ofSeconds(3600));
    }

    /** First column of the first row. */
    String query(String database, String sql) {
        try (Connection c = connect(database)) {
            return Postgres.query(c, sql);
        } catch (SQLException e) {
            throw new CompareException("query on port " + port + "/" + database + " failed: " + sql + ": " + e.getMessage(), e);
        }
    }

    void execute(String database, String sql) {
        try (Connection c = connect(database)) {
            Postgres.query(c, sql);
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
        return new Sh.Result(server.client(timeout, tool, args));
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
