package io.clonefs.pg;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
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
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The PostgreSQL programs the manager runs, always as {@link PgOptions#osUser()} through
 * {@code runuser}, and the probes it makes of a server: is its postmaster alive, does it answer a
 * query, is a port free. Stateless and thread-safe.
 */
final class PgTools {
    /** A finished program: exit code and its output (stdout and stderr together). */
    record Result(List<String> command, int exit, String output) {
        boolean ok() {
            return exit == 0;
        }

        /** The last few lines of the output, for error messages. */
        String tail() {
            return PgTools.tail(output, 12);
        }
    }

    private final PgOptions options;

    PgTools(PgOptions options) {
        this.options = options;
    }

    String bin(String tool) {
        return options.binDir().resolve(tool).toString();
    }

    /** Runs {@code tool args...} as the PostgreSQL OS user and waits for it (killing it at the timeout). */
    Result run(Duration timeout, String tool, List<String> args) {
        return run(timeout, tool, args, null);
    }

    /**
     * The same, passing every line of output ({@code \r} ends a line too, as in pg_basebackup's
     * progress) to {@code lines} as it comes.
     */
    Result run(Duration timeout, String tool, List<String> args, Consumer<String> lines) {
        List<String> cmd = new ArrayList<>(List.of("runuser", "-u", options.osUser(), "--", bin(tool)));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(new File("/"))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true);
        pb.environment().remove("PGPASSWORD");
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new PgException.Setup("cannot run " + tool + " as " + options.osUser() + ": " + e.getMessage());
        }
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        Thread reader = new Thread(() -> drain(p.getInputStream(), all, lines), "clonefs-pg-" + tool);
        reader.setDaemon(true);
        reader.start();
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
                reader.join(1000);
                throw new PgException.ToolFailed(tool + " did not finish within " + human(timeout) + ": "
                        + tail(string(all), 5));
            }
            reader.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new PgException.ToolFailed("interrupted while running " + tool);
        }
        return new Result(cmd, p.exitValue(), string(all));
    }

    private static String string(ByteArrayOutputStream b) {
        synchronized (b) {
            return b.toString(StandardCharsets.UTF_8);
        }
    }

    private static void drain(InputStream in, ByteArrayOutputStream all, Consumer<String> lines) {
        StringBuilder line = new StringBuilder();
        byte[] buf = new byte[8192];
        try (in) {
            int n;
            while ((n = in.read(buf)) > 0) {
                synchronized (all) {
                    all.write(buf, 0, n);
                }
                if (lines == null) {
                    continue;
                }
                String s = new String(buf, 0, n, StandardCharsets.UTF_8);
                for (int i = 0; i < s.length(); i++) {
                    char c = s.charAt(i);
                    if (c == '\n' || c == '\r') {
                        if (line.length() > 0) {
                            lines.accept(line.toString().strip());
                            line.setLength(0);
                        }
                    } else {
                        line.append(c);
                    }
                }
            }
            if (lines != null && line.length() > 0) {
                lines.accept(line.toString().strip());
            }
        } catch (IOException e) {
            // the process is gone; what was read is kept
        }
    }

    // ---- probes ------------------------------------------------------------------------------

    /**
     * The pid of the postmaster that runs on {@code dataDir}, if one does: the pid in
     * {@code postmaster.pid} belongs to a live process whose working directory is the data
     * directory (a postmaster changes into it), so a stale file or a recycled pid is not mistaken
     * for a server.
     */
    static long livePostmaster(Path dataDir) {
        long pid = pidFromFile(dataDir);
        if (pid <= 0 || exited(pid)) {
            return -1;
        }
        try {
            Path cwd = Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "cwd"));
            return cwd.equals(dataDir.toAbsolutePath().normalize()) ? pid : -1;
        } catch (IOException e) {
            return -1;
        }
    }

    /**
     * True when a process has exited: gone, or a zombie (an orphaned postmaster is reaped by
     * whatever runs as pid 1, which may take its time).
     */
    static boolean exited(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.US_ASCII);
            int close = stat.lastIndexOf(')');
            char state = close >= 0 && close + 2 < stat.length() ? stat.charAt(close + 2) : 'X';
            return state == 'Z' || state == 'X';
        } catch (IOException e) {
            return true;
        }
    }

    static long pidFromFile(Path dataDir) {
        try {
            List<String> lines = Files.readAllLines(dataDir.resolve("postmaster.pid"), StandardCharsets.UTF_8);
            return lines.isEmpty() ? -1 : Long.parseLong(lines.get(0).trim());
        } catch (NoSuchFileException e) {
            return -1;
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    static Connection connect(int port, Duration timeout) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("connectTimeout", Long.toString(Math.max(1, timeout.toSeconds())));
        p.setProperty("socketTimeout", "600");
        p.setProperty("ApplicationName", "clonefs");
        return DriverManager.getConnection(jdbcUrl(port), p);
    }

    static String jdbcUrl(int port) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    }

    /** Runs one statement and returns the first column of the first row (or null). */
    static String query(int port, String sql) throws SQLException {
        try (Connection c = connect(port, Duration.ofSeconds(10)); Statement st = c.createStatement()) {
            boolean rows = st.execute(sql);
            if (!rows) {
                return null;
            }
            try (ResultSet rs = st.getResultSet()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /**
     * Waits until the server on {@code port} answers {@code SELECT 1}. An authentication failure
     * also proves it answers (an imported server keeps its own pg_hba.conf). Fails as soon as the
     * postmaster is gone.
     */
    static void awaitQuery(int port, Path dataDir, Duration timeout) throws SQLException {
        long deadline = System.nanoTime() + timeout.toNanos();
        SQLException last = null;
        while (System.nanoTime() < deadline) {
            try {
                query(port, "SELECT 1");
                return;
            } catch (SQLException e) {
                String state = e.getSQLState() == null ? "" : e.getSQLState();
                if (state.startsWith("28")) {
                    return; // invalid authorization: the server is up and checks passwords
                }
                last = e;
            }
            if (livePostmaster(dataDir) < 0) {
                throw last;
            }
            sleep(20);
        }
        throw last != null ? last : new SQLException("timed out");
    }

    /**
     * True when nothing listens on 127.0.0.1:{@code port} (checked by binding it). With
     * SO_REUSEADDR, as PostgreSQL binds: connections of a stopped server left in TIME_WAIT do not
     * count, a listening socket does.
     */
    static boolean portFree(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static String tail(String text, int lines) {
        if (text == null || text.isBlank()) {
            return "";
        }
        List<String> all = text.strip().lines().toList();
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    static String tailOfFile(Path file, int lines) {
        try {
            if (!Files.exists(file)) {
                return "";
            }
            long size = Files.size(file);
            try (var ch = java.nio.channels.FileChannel.open(file)) {
                long from = Math.max(0, size - 16 * 1024);
                java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate((int) (size - from));
                ch.read(b, from);
                return tail(new String(b.array(), 0, b.position(), StandardCharsets.UTF_8), lines);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PgException.ToolFailed("interrupted");
        }
    }

    static String human(Duration d) {
        long s = d.toSeconds();
        return s % 3600 == 0 && s > 0 ? s / 3600 + " h" : s % 60 == 0 && s > 0 ? s / 60 + " min" : s + " s";
    }
}
