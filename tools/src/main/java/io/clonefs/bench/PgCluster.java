package io.clonefs.bench;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One PostgreSQL 15 server for {@link PgBench}, run as the {@code postgres} OS user on its own
 * port (127.0.0.1) with its socket directory and log outside the data directory. {@link #close}
 * stops it (fast, then immediate, then SIGKILL of its postmaster PID) and is idempotent.
 */
final class PgCluster implements AutoCloseable {
    private final String name;
    private final Path dataDir;
    private final Path socketDir;
    private final Path logFile;
    private final int port;
    private volatile long pid = -1;

    PgCluster(String name, Path dataDir, Path runDir) throws IOException {
        this.name = name;
        this.dataDir = dataDir;
        this.socketDir = Files.createDirectories(runDir.resolve("sock-" + name));
        PgProc.run(Duration.ofSeconds(30), "chown", "postgres:postgres", socketDir.toString()).check();
        this.logFile = socketDir.resolve("postgres.log");
        this.port = freePort();
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
        return PgProc.runAsPostgres(Duration.ofMinutes(10), List.of(PgProc.pgTool("initdb"), "-D", dir.toString(),
                "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C")).check().nanos();
    }

    /** Starts the server with the given settings ({@code name=value}) and waits until it accepts connections. */
    void start(List<String> settings) {
        List<String> opts = new ArrayList<>(List.of("-p", Integer.toString(port), "-k", socketDir.toString(),
                "-c", "listen_addresses=127.0.0.1"));
        for (String s : settings) {
            opts.add("-c");
            opts.add(s);
        }
        PgProc.Result r = PgProc.runAsPostgres(Duration.ofMinutes(11), List.of(PgProc.pgTool("pg_ctl"), "-D",
                dataDir.toString(), "-l", logFile.toString(), "-w", "-t", "600", "-o", String.join(" ", opts), "start"));
        readPid();
        if (!r.ok()) {
            throw new IllegalStateException("PostgreSQL " + name + " did not start: " + r.output() + "\n" + log());
        }
    }

    private void readPid() {
        try {
            pid = Long.parseLong(Files.readAllLines(dataDir.resolve("postmaster.pid")).get(0).trim());
        } catch (IOException | RuntimeException e) {
            // not started
        }
    }

    /** Runs a client tool ({@code pgbench}, {@code psql}) as postgres against this server. */
    PgProc.Result tool(Duration timeout, String tool, String... args) {
        List<String> cmd = new ArrayList<>(List.of(PgProc.pgTool(tool), "-h", "127.0.0.1", "-p",
                Integer.toString(port), "-U", "postgres"));
        cmd.addAll(Arrays.asList(args));
        return PgProc.runAsPostgres(timeout, cmd);
    }

    void sql(String statement) {
        tool(Duration.ofMinutes(10), "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", statement, "postgres").check();
    }

    String log() {
        try {
            return Files.exists(logFile) ? Files.readString(logFile) : "(no log)";
        } catch (IOException e) {
            return "(cannot read log: " + e + ")";
        }
    }

    boolean running() {
        long p = pid;
        return p > 0 && ProcessHandle.of(p).map(ProcessHandle::isAlive).orElse(false);
    }

    @Override
    public void close() {
        if (!running()) {
            pid = -1;
            return;
        }
        for (String mode : List.of("fast", "immediate")) {
            PgProc.runAsPostgres(Duration.ofSeconds(90), List.of(PgProc.pgTool("pg_ctl"), "-D", dataDir.toString(),
                    "-m", mode, "-w", "-t", "60", "stop"));
            if (!running()) {
                pid = -1;
                return;
            }
        }
        ProcessHandle.of(pid).ifPresent(h -> {
            h.descendants().forEach(ProcessHandle::destroyForcibly);
            h.destroyForcibly();
        });
        pid = -1;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
