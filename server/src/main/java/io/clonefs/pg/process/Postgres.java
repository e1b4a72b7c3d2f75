package io.clonefs.pg.process;

import io.clonefs.base.ClonefsException;
import io.clonefs.base.Command;
import io.clonefs.base.ErrorKind;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One PostgreSQL server on one data directory, run with {@code pg_ctl} as the PostgreSQL OS user:
 * start it (listening on 127.0.0.1 only, on its port, with its socket directory and log outside
 * the data directory and its settings on the command line), wait until it answers, query it, stop
 * it. The one PostgreSQL runner of clonefs: the branch manager, the benchmarks and the
 * integration tests all start servers through it.
 *
 * <pre>{@code
 * try (Postgres pg = Postgres.on(dataDir).port(5433).socketDir(runDir).log(runDir.resolve("pg.log"))
 *         .setting("shared_buffers", "128MB").build()) {
 *     pg.start(Duration.ofMinutes(10));
 *     pg.awaitReady(Duration.ofMinutes(10));
 *     String n = pg.query("SELECT count(*) FROM pg_class");
 * } // close(): pg_ctl stop -m fast (then immediate, then SIGKILL)
 * }</pre>
 *
 * <p>Whether the server runs is never remembered but probed ({@link #livePostmaster(Path)}), so a
 * runner may be made for a server some other process started. Programs run through
 * {@link Programs} (by default {@link Programs#asUser}: {@link Command}, {@code runuser}, standard
 * error merged, no {@code PGPASSWORD}); a non-zero exit of {@code pg_ctl} is a {@link Failed}, a
 * timeout is whatever the {@link Programs} throws ({@link Command.Aborted} by default).
 *
 * <p>Thread rules: immutable configuration; the probes are thread-safe, but callers serialise
 * {@link #start}, {@link #promote} and {@link #stop} of one data directory.
 */
public final class Postgres implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Postgres.class);
    /** PostgreSQL 15 as Debian installs it. */
    public static final Path DEFAULT_BIN = Path.of("/usr/lib/postgresql/15/bin");
    /** The OS user servers run as (PostgreSQL refuses root). */
    public static final String DEFAULT_USER = "postgres";
    /** How long {@code pg_ctl stop} may wait for the server to go ({@code -t}). */
    public static final Duration STOP_TIMEOUT = Duration.ofMinutes(2);
    /** Setting values written as they are on the {@code -o} line; others are shell-quoted. */
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_.:/,+@-]+");
    /** How often {@link #start} looks whether the server accepts connections. */
    static final long READY_POLL_MILLIS = 5;
    /** The line of {@code postmaster.pid} with the postmaster's status (PostgreSQL 10 and later). */
    private static final int PID_FILE_STATUS_LINE = 8;
    /** Runs {@code pg_ctl start -w} while {@link #start} watches the pid file. */
    private static final ExecutorService STARTERS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "pg_ctl-start");
        t.setDaemon(true);
        return t;
    });

    /** How {@code pg_ctl stop} ends the server's sessions. */
    public enum StopMode {
        /** Roll back open transactions, disconnect, checkpoint. */
        FAST,
        /** Quit at once: crash recovery on the next start. */
        IMMEDIATE;

        /** The {@code -m} argument. */
        public String arg() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * How a PostgreSQL program ({@code pg_ctl}, {@code initdb}, {@code psql}, ...) is run as the
     * server's OS user: to its end, standard error merged into {@link Command.Result#out()}.
     */
    @FunctionalInterface
    public interface Programs {
        Command.Result run(Duration timeout, String tool, List<String> args);

        /** {@code BIN/tool} through {@link Command} as {@code user}, without {@code PGPASSWORD}. */
        static Programs asUser(Path bin, String user) {
            return (timeout, tool, args) -> {
                List<String> cmd = new ArrayList<>();
                cmd.add(bin.resolve(tool).toString());
                cmd.addAll(args);
                return Command.of(cmd).unsetEnv("PGPASSWORD").mergeStderr().timeout(timeout).asUser(user).run();
            };
        }
    }

    /** {@code pg_ctl} exited with an error ({@link #result()}), or the wait for the server was interrupted (null). */
    public static final class Failed extends ClonefsException {
        private static final long serialVersionUID = 1L;
        private final transient Command.Result result;

        public Failed(String message, Command.Result result) {
            super(ErrorKind.IO_FAILURE, message);
            this.result = result;
        }

        /** The failed program, or null for an interrupt. */
        public Command.Result result() {
            return result;
        }
    }

    private final Path dataDir;
    private final String name;
    private final Programs programs;
    private final Path bin;
    private final String user;
    private final int port;
    private final Path socketDir;
    private final Path log;
    private final Map<String, String> settings;

    private Postgres(Builder b) {
        this.dataDir = b.dataDir;
        this.name = b.name != null ? b.name : b.dataDir.toString();
        this.bin = b.bin;
        this.user = b.user;
        this.programs = b.programs != null ? b.programs : Programs.asUser(b.bin, b.user);
        this.port = b.port > 0 ? b.port : freePort();
        this.socketDir = b.socketDir;
        this.log = Objects.requireNonNull(b.log, "the server's log file");
        this.settings = Collections.unmodifiableMap(new LinkedHashMap<>(b.settings));
    }

    /** A runner for the server on {@code dataDir}; see {@link Builder} for what can be set. */
    public static Builder on(Path dataDir) {
        return new Builder(dataDir);
    }

    /** What a {@link Postgres} is made of; every setter is optional except {@link #log}. */
    public static final class Builder {
        private final Path dataDir;
        private String name;
        private Path bin = DEFAULT_BIN;
        private String user = DEFAULT_USER;
        private Programs programs;
        private int port;
        private Path socketDir;
        private Path log;
        private final LinkedHashMap<String, String> settings = new LinkedHashMap<>();

        private Builder(Path dataDir) {
            this.dataDir = dataDir.toAbsolutePath().normalize();
            settings.put("listen_addresses", "127.0.0.1");
        }

        /** The name used in messages (the data directory's path unless told). */
        public Builder name(String n) {
            name = n;
            return this;
        }

        /** Directory of {@code pg_ctl} and the other programs ({@link #DEFAULT_BIN} unless told). */
        public Builder bin(Path dir) {
            bin = dir;
            return this;
        }

        /** The OS user the programs run as ({@link #DEFAULT_USER} unless told). */
        public Builder user(String u) {
            user = u;
            return this;
        }

        /** Runs the programs some other way (the default is {@link Programs#asUser}{@code (bin, user)}). */
        public Builder programs(Programs p) {
            programs = p;
            return this;
        }

        /** The TCP port on 127.0.0.1 (a free one, chosen by {@link #build()}, unless told). */
        public Builder port(int p) {
            port = p;
            return this;
        }

        /** Where the unix socket goes ({@code -k}); PostgreSQL's default unless told. */
        public Builder socketDir(Path dir) {
            socketDir = dir;
            return this;
        }

        /** The server's log file ({@code pg_ctl -l}): required. */
        public Builder log(Path file) {
            log = file;
            return this;
        }

        /**
         * A server setting passed as {@code -c name=value}, in the order given;
         * {@code listen_addresses=127.0.0.1} comes first unless replaced.
         */
        public Builder setting(String name, String value) {
            settings.put(name, value);
            return this;
        }

        /** Settings written {@code name=value}, each as {@link #setting(String, String)}, in the order given. */
        public Builder settings(List<String> nameEqualsValue) {
            for (String s : nameEqualsValue) {
                int eq = s.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("not name=value: " + s);
                }
                setting(s.substring(0, eq), s.substring(eq + 1));
            }
            return this;
        }

        public Postgres build() {
            return new Postgres(this);
        }
    }

    public Path dataDir() {
        return dataDir;
    }

    public int port() {
        return port;
    }

    public Path log() {
        return log;
    }

    /** {@code postgresql://postgres@127.0.0.1:PORT/postgres}. */
    public String uri() {
        return uri(port);
    }

    /** The server options {@code pg_ctl -o} passes (through a shell) to {@code postgres}. */
    public String options() {
        StringBuilder o = new StringBuilder();
        o.append("-p ").append(port);
        if (socketDir != null) {
            o.append(" -k ").append(shellQuote(socketDir.toString()));
        }
        for (Map.Entry<String, String> s : settings.entrySet()) {
            String v = s.getValue();
            o.append(" -c ").append(s.getKey()).append('=').append(PLAIN.matcher(v).matches() ? v : shellQuote(v));
        }
        return o.toString();
    }

    // ---- initdb, start, promote, stop --------------------------------------------------------

    /**
     * {@code initdb OPTIONS -D DATADIR -U postgres --auth=trust -E UTF8 --locale=C}, run with
     * {@code programs} (as the server's OS user): a new cluster with superuser {@code postgres},
     * trusted local connections, UTF-8 and the C locale. The data directory must be creatable by
     * that user, or exist, empty and owned by it.
     *
     * @param options more initdb options, before the others (e.g. {@code --data-checksums})
     * @return the finished initdb (its {@link Command.Result#nanos()} is the time it took)
     * @throws Failed when initdb exits non-zero
     */
    public static Command.Result initdb(Programs programs, Path dataDir, Duration timeout, String... options) {
        List<String> args = new ArrayList<>(List.of(options));
        args.addAll(List.of("-D", dataDir.toString(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"));
        Command.Result r = programs.run(timeout, "initdb", args);
        if (!r.ok()) {
            throw new Failed("initdb in " + dataDir + " failed: " + tail(r.out(), 12), r);
        }
        return r;
    }


    /**
     * {@code pg_ctl start -w -t TIMEOUT}: returns once the server accepts connections (crash
     * recovery included). Does nothing when it already runs; removes a {@code postmaster.pid}
     * that no live postmaster owns (a crash, or a copy). {@code pg_ctl} looks at the server every
     * 100 ms; this method also watches {@code postmaster.pid} itself every
     * {@value #READY_POLL_MILLIS} ms and returns as soon as it says ready, leaving {@code pg_ctl}
     * to exit on its own (a failure it reports after that is logged).
     *
     * @throws Failed when {@code pg_ctl} fails (the server's log says why: {@link #logTail(int)})
     */
    public void start(Duration timeout) {
        start(timeout, null);
    }

    /**
     * {@link #start(Duration)}, running {@code onLockFile} as soon as the new postmaster has
     * created its {@code postmaster.pid} (it reads its configuration and checks the data directory
     * first; it binds its listening sockets a few milliseconds after): what lets the daemon keep
     * listening on a suspended server's port for as long as possible ({@code onLockFile} closes
     * that listener). It also runs when {@code pg_ctl} ends before any lock file was seen. A
     * postmaster that found the port still taken fails ("could not create any TCP/IP sockets");
     * the caller may start it again.
     */
    public void start(Duration timeout, Runnable onLockFile) {
        if (running()) {
            if (onLockFile != null) {
                onLockFile.run();
            }
            return;
        }
        Path pid = dataDir.resolve("postmaster.pid");
        try {
            Files.deleteIfExists(pid);
        } catch (IOException e) {
            throw new ClonefsException.IoFailure("cannot remove the stale " + pid + ": " + e.getMessage(), e);
        }
        List<String> args = List.of("start", "-D", dataDir.toString(), "-l", log.toString(), "-w", "-t",
                Long.toString(timeout.toSeconds()), "-o", options());
        CompletableFuture<Command.Result> ctl = CompletableFuture.supplyAsync(
                () -> programs.run(timeout.plusMinutes(1), "pg_ctl", args), STARTERS);
        Command.Result r;
        Runnable pending = onLockFile;
        while (true) {
            try {
                if (pending != null) {
                    try {
                        r = ctl.get(1, TimeUnit.MILLISECONDS);
                        break;
                    } catch (TimeoutException e) {
                        if (Files.exists(pid)) {
                            pending.run();
                            pending = null;
                        }
                        continue;
                    }
                }
                r = ctl.get(READY_POLL_MILLIS, TimeUnit.MILLISECONDS);
                break;
            } catch (TimeoutException e) {
                if (acceptsConnections(dataDir)) {
                    // ready before pg_ctl's next look (it sleeps 100 ms between two): it exits on its own
                    ctl.whenComplete((res, err) -> {
                        if (err != null || !res.ok()) {
                            LOG.warn("pg_ctl start of {} failed after the server was ready: {}", name,
                                    err != null ? err.toString() : tail(res.out(), 5));
                        }
                    });
                    return;
                }
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RuntimeException re) {
                    throw re;
                }
                throw new IllegalStateException(e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Failed("interrupted while waiting for PostgreSQL " + name + " to start", null);
            }
        }
        if (pending != null) {
            pending.run();
        }
        if (!r.ok()) {
            throw new Failed("PostgreSQL " + name + " did not start (" + log + ")", r);
        }
    }

    /**
     * True when the postmaster of {@code dataDir} runs and its {@code postmaster.pid} says it
     * accepts connections ({@code ready}, or {@code standby} for a hot standby): what
     * {@code pg_ctl start -w} waits for, looked at every {@value #READY_POLL_MILLIS} ms instead of
     * every 100 ms.
     */
    static boolean acceptsConnections(Path dataDir) {
        List<String> lines;
        try {
            lines = Files.readAllLines(dataDir.resolve("postmaster.pid"), StandardCharsets.UTF_8);
        } catch (IOException | UncheckedIOException e) {
            return false;
        }
        if (lines.size() < PID_FILE_STATUS_LINE) {
            return false;
        }
        String status = lines.get(PID_FILE_STATUS_LINE - 1).strip();
        return (status.equals("ready") || status.equals("standby")) && livePostmaster(dataDir) > 0;
    }

    /**
     * Waits until the server answers {@code SELECT 1}. An authentication failure also proves it
     * answers (a server may check passwords). Fails as soon as the postmaster is gone.
     */
    public void awaitReady(Duration timeout) throws SQLException {
        awaitReady(port, dataDir, timeout);
    }

    /** Whether the server is in recovery (a standby, or a clone of one not promoted yet). */
    public boolean inRecovery() throws SQLException {
        return "t".equals(query("SELECT pg_is_in_recovery()"));
    }

    /**
     * {@code pg_ctl promote -w}: ends recovery of a standby.
     *
     * @throws Failed when {@code pg_ctl} fails
     */
    public void promote(Duration timeout) {
        Command.Result r = programs.run(timeout, "pg_ctl", List.of("promote", "-D", dataDir.toString(), "-w", "-t",
                Long.toString(timeout.toSeconds())));
        if (!r.ok()) {
            throw new Failed("PostgreSQL " + name + " could not be promoted", r);
        }
    }

    /** The pid of the server's postmaster, or -1 when it does not run. */
    public long pid() {
        return livePostmaster(dataDir);
    }

    public boolean running() {
        return pid() > 0;
    }

    /**
     * {@code pg_ctl stop -m MODE} (falling back to {@code immediate} if that fails), then waits
     * until the postmaster process is gone (and its open files with it), killing it and its
     * children after 30 seconds. Does nothing when the server does not run.
     */
    public void stop(StopMode mode) {
        long pid = pid();
        if (pid < 0) {
            return;
        }
        Command.Result r = programs.run(STOP_TIMEOUT.plusSeconds(30), "pg_ctl", List.of("stop", "-D", dataDir.toString(),
                "-m", mode.arg(), "-w", "-t", Long.toString(STOP_TIMEOUT.toSeconds())));
        if (!r.ok() && pid() > 0) {
            LOG.warn("pg_ctl stop -m {} of {} failed ({}); stopping it immediately", mode.arg(), name, tail(r.out(), 12));
            programs.run(STOP_TIMEOUT, "pg_ctl", List.of("stop", "-D", dataDir.toString(), "-m", "immediate", "-w"));
        }
        // pg_ctl returns once the pid file is gone; wait for the process (and its open files) too
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!exited(pid) && System.nanoTime() < deadline) {
            sleep(10);
        }
        if (!exited(pid)) {
            LOG.warn("postmaster {} of {} does not exit; killing it", pid, name);
            ProcessHandle.of(pid).ifPresent(Command::killTree);
        }
    }

    /** SIGKILL to the postmaster and every backend (a crash, for tests). */
    public void kill() {
        long pid = pid();
        if (pid > 0) {
            ProcessHandle.of(pid).ifPresent(Command::killTree);
        }
    }

    /** {@link #stop}{@code (FAST)}, logging rather than throwing a failure. Idempotent. */
    @Override
    public void close() {
        try {
            stop(StopMode.FAST);
        } catch (RuntimeException e) {
            LOG.warn("cannot stop PostgreSQL {}: {}", name, e.getMessage());
        }
    }

    // ---- talking to it -------------------------------------------------------------------------

    /** A JDBC connection to database {@code postgres} as user {@code postgres}. */
    public Connection connect() throws SQLException {
        return connect(port, Duration.ofSeconds(10));
    }

    /** Runs one statement and returns the first column of the first row (or null). */
    public String query(String sql) throws SQLException {
        return query(port, sql);
    }

    /** A client program ({@code psql}, {@code pgbench}, ...) against this server as user postgres. */
    public Command.Result client(Duration timeout, String tool, String... args) {
        List<String> a = new ArrayList<>(List.of("-h", "127.0.0.1", "-p", Integer.toString(port), "-U", "postgres"));
        a.addAll(List.of(args));
        return programs.run(timeout, tool, a);
    }

    /** {@code psql -X -q -v ON_ERROR_STOP=1 -c SQL postgres}. */
    public Command.Result psql(Duration timeout, String sql) {
        return client(timeout, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql, "postgres");
    }

    /** The last {@code lines} lines of the server's log ("" when there is none). */
    public String logTail(int lines) {
        return tailOfFile(log, lines);
    }

    @Override
    public String toString() {
        return "PostgreSQL " + name + " (" + dataDir + ", port " + port + ", " + bin + " as " + user + ")";
    }

    // ---- probes --------------------------------------------------------------------------------

    public static String uri(int port) {
        return "postgresql://postgres@127.0.0.1:" + port + "/postgres";
    }

    public static String jdbcUrl(int port) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    }

    /**
     * The pid of the postmaster that runs on {@code dataDir}, if one does (else -1): the pid in
     * {@code postmaster.pid} belongs to a live process whose working directory is the data
     * directory (a postmaster changes into it), so a stale file or a recycled pid is not mistaken
     * for a server.
     */
    public static long livePostmaster(Path dataDir) {
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
     * Whether process {@code pid}, started at {@code startTicks} ({@link #startTicks}), still runs
     * with its working directory at {@code dataDir}: the same process, found by {@code /proc} alone.
     * A recycled pid has another start time. What a caller that remembers the postmaster
     * {@link #livePostmaster} found asks instead of reading {@code postmaster.pid} again (on a
     * clonefs mount that read is a FUSE round trip per server).
     */
    public static boolean stillRunsIn(long pid, long startTicks, Path dataDir) {
        if (pid <= 0 || startTicks < 0 || startTicks(pid) != startTicks) {
            return false;
        }
        try {
            Path cwd = Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "cwd"));
            return cwd.equals(dataDir.toAbsolutePath().normalize());
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * When a live process started, in clock ticks since boot (field 22 of {@code /proc/PID/stat}),
     * or -1 when it has exited (gone or a zombie, as {@link #exited}) or cannot be read.
     */
    public static long startTicks(long pid) {
        String[] f = stat(pid);
        if (gone(f) || f.length < 20) {
            return -1;
        }
        try {
            return Long.parseLong(f[19]);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * The fields of {@code /proc/PID/stat} after the command's {@code ")"} (state, field 3, first),
     * or null when the process is gone or the file cannot be read.
     */
    private static String[] stat(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.US_ASCII);
            int close = stat.lastIndexOf(')');
            return close < 0 ? null : stat.substring(close + 1).trim().split(" ");
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * True when a process has exited: gone, or a zombie (an orphaned postmaster is reaped by
     * whatever runs as pid 1, which may take its time).
     */
    public static boolean exited(long pid) {
        return gone(stat(pid));
    }

    /** Whether {@link #stat} fields say the process has exited: none (gone), a zombie or dead. */
    private static boolean gone(String[] f) {
        return f == null || f[0].isEmpty() || f[0].equals("Z") || f[0].equals("X");
    }

    private static long pidFromFile(Path dataDir) {
        try {
            List<String> lines = Files.readAllLines(dataDir.resolve("postmaster.pid"), StandardCharsets.UTF_8);
            return lines.isEmpty() ? -1 : Long.parseLong(lines.get(0).trim());
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    /**
     * True when nothing listens on 127.0.0.1:{@code port} (checked by binding it). With
     * SO_REUSEADDR, as PostgreSQL binds: connections of a stopped server left in TIME_WAIT do not
     * count, a listening socket does.
     */
    public static boolean portFree(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** A port on 127.0.0.1 that nothing listens on now (the kernel's choice). */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A JDBC connection to 127.0.0.1:{@code port}, database and user {@code postgres}. */
    public static Connection connect(int port, Duration timeout) throws SQLException {
        return connect(port, "postgres", timeout, Duration.ofSeconds(600));
    }

    /**
     * A JDBC connection to {@code database} on 127.0.0.1:{@code port} as user {@code postgres}:
     * {@code connectTimeout} bounds connecting and logging in, {@code socketTimeout} each read
     * (a statement that runs longer fails).
     */
    public static Connection connect(int port, String database, Duration connectTimeout, Duration socketTimeout)
            throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("connectTimeout", Long.toString(Math.max(1, connectTimeout.toSeconds())));
        p.setProperty("socketTimeout", Long.toString(socketTimeout.toSeconds()));
        p.setProperty("ApplicationName", "clonefs");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database, p);
    }

    /** Runs one statement on 127.0.0.1:{@code port} and returns the first column of the first row (or null). */
    public static String query(int port, String sql) throws SQLException {
        try (Connection c = connect(port, Duration.ofSeconds(10))) {
            return query(c, sql);
        }
    }

    /** Runs one statement on {@code c} and returns the first column of the first row (or null: no rows, or not a query). */
    public static String query(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            boolean rows = st.execute(sql);
            if (!rows) {
                return null;
            }
            try (ResultSet rs = st.getResultSet()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /** {@link #awaitReady(Duration)} of the server on {@code dataDir} listening on {@code port}. */
    public static void awaitReady(int port, Path dataDir, Duration timeout) throws SQLException {
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

    /** The last {@code lines} lines of a text ("" for none). */
    public static String tail(String text, int lines) {
        if (text == null || text.isBlank()) {
            return "";
        }
        List<String> all = text.strip().lines().toList();
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    /** The last {@code lines} lines of a file, read from its last 16 KiB ("" when it does not exist). */
    public static String tailOfFile(Path file, int lines) {
        try {
            if (!Files.exists(file)) {
                return "";
            }
            long size = Files.size(file);
            try (FileChannel ch = FileChannel.open(file)) {
                long from = Math.max(0, size - 16 * 1024);
                ByteBuffer b = ByteBuffer.allocate((int) (size - from));
                ch.read(b, from);
                return tail(new String(b.array(), 0, b.position(), StandardCharsets.UTF_8), lines);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failed("interrupted", null);
        }
    }

    private static String shellQuote(String s) {
        return "'" + s.replace("'", "'\"'\"'") + "'";
    }
}
