package io.clonefs.bench;

import io.clonefs.pg.process.Postgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * One PostgreSQL 15 server for {@link PgBench}: a {@link Postgres} on its own free port, with its
 * socket directory and log in {@code RUNDIR/sock-NAME}, its programs run by {@link PgProc#POSTGRES}.
 * {@link #close} stops it ({@link Postgres#close}) and is idempotent.
 */
final class PgCluster implements AutoCloseable {
    private final String name;
    private final Path dataDir;
    private final Path socketDir;
    private final int port;
    private Postgres server;

    PgCluster(String name, Path dataDir, Path runDir) throws IOException {
        this.name = name;
        this.dataDir = dataDir;
        this.socketDir = Files.createDirectories(runDir.resolve("sock-" + name));
        PgProc.run(Duration.ofSeconds(30), "chown", "postgres:postgres", socketDir.toString()).check();
        this.port = Postgres.freePort();
        this.server = server(List.of());
    }

    String name() {
        return name;
    }

    Path dataDir() {
        return dataDir;
    }

    int port() {
        return port;
    }

    /** Creates {@code dir} (mode 0700, owned by postgres) and runs initdb in it; returns the elapsed nanoseconds. */
    static long initdb(Path dir) throws IOException {
        Files.createDirectories(dir);
        PgProc.run(Duration.ofSeconds(30), "chown", "postgres:postgres", dir.toString()).check();
        PgProc.run(Duration.ofSeconds(30), "chmod", "0700", dir.toString()).check();
        return Postgres.initdb(PgProc.POSTGRES, dir, Duration.ofMinutes(10)).nanos();
    }

    /** Starts the server with the given settings ({@code name=value}) and waits until it accepts connections. */
    void start(List<String> settings) {
        server = server(settings);
        try {
            server.start(Duration.ofMinutes(10));
        } catch (Postgres.Failed e) {
            throw new IllegalStateException("PostgreSQL " + name + " did not start: " + e.result().out() + "\n"
                    + server.logTail(200), e);
        }
    }

    private Postgres server(List<String> settings) {
        return Postgres.on(dataDir).name(name).bin(PgProc.PG_BIN).programs(PgProc.POSTGRES).port(port)
                .socketDir(socketDir).log(socketDir.resolve("postgres.log")).settings(settings).build();
    }

    /** Runs a client tool ({@code pgbench}, {@code psql}) as postgres against this server. */
    PgProc.Result tool(Duration timeout, String tool, String... args) {
        return PgProc.Result.of(server.client(timeout, tool, args));
    }

    void sql(String statement) {
        PgProc.Result.of(server.psql(Duration.ofMinutes(10), statement)).check();
    }

    @Override
    public void close() {
        server.close();
    }
}
