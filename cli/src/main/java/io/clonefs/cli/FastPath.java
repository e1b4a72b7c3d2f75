package io.clonefs.cli;

import io.clonefs.api.Api;
import io.clonefs.api.ApiErrors;
import io.clonefs.api.ControlException;
import io.clonefs.api.LoopbackHttp;
import io.clonefs.api.PgApi;
import io.clonefs.base.ClonefsException;
import io.clonefs.base.ErrorKind;
import io.clonefs.base.SnapshotName;
import io.clonefs.cli.common.BranchResult;
import io.clonefs.cli.common.Pools;
import io.clonefs.cli.pg.PgCommand;
import io.clonefs.daemon.DaemonFiles;
import io.clonefs.engine.Names;
import io.clonefs.pg.PgDurations;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The fast path of the short commands scripts run most, {@code list}, {@code snapshot},
 * {@code clone}, {@code destroy} and {@code pg branch}, against a running daemon: the command line
 * read by hand, the control API called over {@link LoopbackHttp} with JSON read and written by
 * {@link QuickJson}; no picocli, no Jackson, no lambdas (each of those costs a short command tens of
 * milliseconds of class loading and initialisation). It prints what the picocli commands print
 * ({@link Results}, {@link ErrorLines}) and exits with their codes; {@code FastPathTest} holds both
 * to that.
 *
 * <p>It takes only the plain shapes: {@code [--pool DIR | --pool=DIR | --json | -q | --quiet]...}
 * around {@code list}, {@code snapshot VOLUME@SNAP}, {@code clone SOURCE NEWVOLUME} (not a remote
 * source), {@code destroy [-r | --recursive] NAME} and {@code pg branch SOURCE NEWNAME} (not a
 * remote source; of its own options only {@code --port N}, {@code --ttl D},
 * {@code --suspend-after D}, {@code --at TIME}, {@code --[no-]checkpoint} and {@code --protect},
 * after {@code branch}), each option at most once, no operand that starts with {@code -} or
 * {@code @}, no option value that starts with {@code -} or {@code @} or is a command's name.
 * Anything else ({@code --memory}, {@code --cpu-weight}, {@code --setting} too), names and values
 * that do not validate, and a pool without a published daemon that answers its status probe, is
 * {@link #NOT_HANDLED} before anything was asked of the daemon, and the picocli path runs it from
 * the start (help, usage errors, a pool opened in this process, {@code -v} with its stack traces,
 * remotes).
 */
final class FastPath {
    /** What {@link #run} returns when the picocli path has to run the command line. */
    static final int NOT_HANDLED = -1;
    /** The command of a {@link Line} of {@code pg branch}. */
    static final String PG_BRANCH = "pg branch";

    // DaemonClient's: the first status probe, a command, and HttpJsonClient's connect timeout
    private static final int PROBE_TIMEOUT_MS = 3_000;
    private static final long COMMAND_TIMEOUT_MS = 30 * 60_000L;
    private static final int CONNECT_TIMEOUT_MS = 3_000;

    private FastPath() {
    }

    /** A plain command line: the command, its operands and the options it was given ({@code branch}: pg branch's, or null). */
    record Line(String command, List<String> operands, String pool, boolean json, boolean recursive, Branch branch) {
    }

    /** The options of {@code pg branch} the fast path takes, as {@code PgBranchCommand} has them. */
    static final class Branch {
        Integer port;
        String ttl;
        String suspendAfter;
        String at;
        Boolean checkpoint; // null: not given (true)
        boolean protect;

        boolean checkpoint() {
            return checkpoint == null || checkpoint;
        }

        /** Takes the option at {@code args[i]}: how many more arguments it took (its value), or -1 if it cannot. */
        int option(String[] args, int i) {
            String a = args[i];
            if (a.equals("--checkpoint") || a.equals("--no-checkpoint")) {
                if (checkpoint != null) {
                    return -1;
                }
                checkpoint = a.equals("--checkpoint");
                return 0;
            }
            if (a.equals("--protect")) {
                if (protect) {
                    return -1;
                }
                protect = true;
                return 0;
            }
            String name = a.indexOf('=') < 0 ? a : a.substring(0, a.indexOf('='));
            String v = switch (name) {
                case "--port", "--ttl", "--suspend-after", "--at" -> value(args, i, name);
                default -> null;
            };
            if (v == null) {
                return -1;
            }
            switch (name) {
                case "--port" -> {
                    // what Integer.valueOf and Integer.decode read alike: no sign, no leading zero
                    if (port != null || v.isEmpty() || v.length() > 5 || v.charAt(0) == '0') {
                        return -1;
                    }
                    for (int k = 0; k < v.length(); k++) {
                        if (v.charAt(k) < '0' || v.charAt(k) > '9') {
                            return -1;
                        }
                    }
                    port = Integer.valueOf(v);
                }
                case "--ttl" -> {
                    if (ttl != null) {
                        return -1;
                    }
                    ttl = v;
                }
                case "--suspend-after" -> {
                    if (suspendAfter != null) {
                        return -1;
                    }
                    suspendAfter = v;
                }
                default -> {
                    if (at != null) {
                        return -1;
                    }
                    at = v;
                }
            }
            return a.equals(name) ? 1 : 0;
        }
    }

    /** A daemon that answered its status probe with its pid. */
    record Daemon(long pid, int port, String pool, String token) {
        String peer() {
            return "the clonefs daemon of " + pool + " (pid " + pid + ", port " + port + ")";
        }
    }

    /**
     * Runs {@code args} if they are a plain command line of the five commands and the pool's
     * daemon answers; returns the exit code, or {@link #NOT_HANDLED} (nothing printed, nothing asked).
     * Null writers: picocli's defaults, on System.out and System.err.
     */
    static int run(PrintWriter out, PrintWriter err, String... args) {
        Line line = parse(args);
        if (line == null || !valid(line)) {
            return NOT_HANDLED;
        }
        Path pool;
        try {
            pool = Pools.resolve(line.pool() == null ? null : Path.of(line.pool()));
        } catch (RuntimeException e) {
            return NOT_HANDLED; // a path the OS cannot name: the picocli path says so
        }
        Daemon daemon = find(pool);
        if (daemon == null) {
            return NOT_HANDLED;
        }
        PrintWriter o = out != null ? out : writer(System.out, "sun.stdout.encoding");
        PrintWriter w = err != null ? err : writer(System.err, "sun.stderr.encoding");
        try {
            call(o, w, pool, daemon, line);
            return ExitCodes.OK;
        } catch (RuntimeException e) {
            if (line.branch() != null && e instanceof ClonefsException c && c.kind().domain() == ErrorKind.Domain.POSTGRES) {
                // as PgSubcommand says it: the whole message (a failed start adds the tail of the server's log)
                w.println("clonefs: " + c.getMessage().strip());
                w.flush();
                return c.kind().exitCode();
            }
            w.println("clonefs: " + ErrorLines.message(e));
            w.flush();
            return ExitCodes.of(e);
        }
    }

    /** The plain command line {@code args} are, or null. */
    static Line parse(String... args) {
        String command = null;
        boolean pg = false; // "pg" seen, "branch" not yet
        List<String> operands = new ArrayList<>(2);
        String pool = null;
        boolean json = false;
        boolean quiet = false;
        boolean recursive = false;
        Branch branch = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.startsWith("@")) {
                return null; // an argument file
            }
            if (a.equals("--json")) {
                if (json) {
                    return null;
                }
                json = true;
            } else if (a.equals("-q") || a.equals("--quiet")) {
                if (quiet) {
                    return null;
                }
                quiet = true; // only sets the log level, and nothing here logs
            } else if (a.equals("--pool") || a.startsWith("--pool=")) {
                String value = value(args, i, "--pool");
                if (value == null || pool != null || value.isBlank()) {
                    return null;
                }
                i += a.equals("--pool") ? 1 : 0;
                pool = value;
            } else if (command != null && command.equals("destroy") && (a.equals("-r") || a.equals("--recursive"))) {
                if (recursive) {
                    return null;
                }
                recursive = true;
            } else if (branch != null && a.startsWith("--")) {
                int taken = branch.option(args, i);
                if (taken < 0) {
                    return null; // not one of its plain options, or one given twice
                }
                i += taken;
            } else if (a.startsWith("-")) {
                return null; // help, version, -v, an unknown option, "--", a negative number...
            } else if (pg) {
                if (!a.equals("branch")) {
                    return null;
                }
                pg = false;
                command = PG_BRANCH;
                branch = new Branch();
            } else if (command == null) {
                if (a.equals("pg")) {
                    pg = true;
                    continue;
                }
                if (!a.equals("list") && !a.equals("snapshot") && !a.equals("clone") && !a.equals("destroy")) {
                    return null;
                }
                command = a;
            } else {
                if (branch != null && (a.equalsIgnoreCase("true") || a.equalsIgnoreCase("false"))) {
                    return null; // a boolean option's value, perhaps
                }
                operands.add(a);
            }
        }
        if (command == null) {
            return null;
        }
        int want = switch (command) {
            case "list" -> 0;
            case "clone", PG_BRANCH -> 2;
            default -> 1;
        };
        return operands.size() == want ? new Line(command, operands, pool, json, recursive, branch) : null;
    }

    /**
     * The value of the option {@code name} at {@code args[i]} ({@code NAME VALUE} or {@code NAME=VALUE}),
     * or null when there is none or it is not plainly a value: it starts with {@code -} or {@code @}, or
     * is the name of a command (picocli may take it for one).
     */
    static String value(String[] args, int i, String name) {
        String value;
        if (args[i].equals(name)) {
            if (i + 1 >= args.length) {
                return null;
            }
            value = args[i + 1];
        } else {
            value = args[i].substring(name.length() + 1);
        }
        if (value.startsWith("-") || value.startsWith("@") || ClonefsCommand.SUBCOMMANDS.contains(value)
                || PgCommand.SUBCOMMANDS.contains(value)) {
            return null;
        }
        return value;
    }

    /** True when the operands pass the checks the commands make first (those that fail: the picocli path says why). */
    private static boolean valid(Line line) {
        try {
            switch (line.command()) {
                case "snapshot" -> Names.splitSnapshot(line.operands().get(0));
                case "clone" -> {
                    String source = line.operands().get(0);
                    if (source.indexOf(':') >= 0) {
                        return false; // a remote's snapshot: RemoteClient
                    }
                    BaseCommand.checkName(source);
                    Names.checkDataset("volume", line.operands().get(1));
                }
                case "destroy" -> BaseCommand.checkName(line.operands().get(0));
                case PG_BRANCH -> {
                    // PgBranchCommand's checks
                    Branch b = line.branch();
                    if (b.at != null) {
                        PgDurations.parseMoment(b.at, Instant.now());
                    }
                    String source = line.operands().get(0);
                    if (source.indexOf(':') >= 0) {
                        return false; // a remote's snapshot: imported first
                    }
                    Names.checkDataset("volume", source);
                    Names.checkDataset("volume", line.operands().get(1));
                    if (b.port != null && (b.port < 1 || b.port > 65535)) {
                        return false;
                    }
                    if (b.ttl != null) {
                        PgDurations.parse(b.ttl);
                    }
                    if (b.suspendAfter != null) {
                        PgDurations.parseIdle(b.suspendAfter);
                    }
                }
                default -> {
                    // list: nothing to check
                }
            }
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /**
     * The pool's daemon as {@code DaemonClient.find} finds it (published, alive, its token readable,
     * answering its status probe with its pid), or null. Only the first probe (3 s): a daemon that
     * does not answer it is left to the picocli path, which waits longer.
     */
    static Daemon find(Path pool) {
        String url = System.getenv("CLONEFS_URL");
        if (url != null && !url.isBlank()) {
            return null; // a daemon elsewhere (DaemonClient.find): the picocli path
        }
        try {
            Map<String, Object> info = QuickJson.object(QuickJson.parse(Files.readAllBytes(pool.resolve(DaemonFiles.INFO))));
            long pid = QuickJson.number(info, "pid");
            long port = QuickJson.number(info, "port");
            String published = QuickJson.string(info, "pool");
            if (pid <= 0 || port <= 0 || port > 65535 || !alive(pid)) {
                return null;
            }
            String token = Files.readString(pool.resolve(DaemonFiles.TOKEN), StandardCharsets.US_ASCII).trim();
            Daemon d = new Daemon(pid, (int) port, published, token);
            LoopbackHttp.Reply r = LoopbackHttp.exchange(d.port(), "GET", "/v1/status", headers(d), null,
                    CONNECT_TIMEOUT_MS, PROBE_TIMEOUT_MS);
            if (r.status() / 100 != 2 || QuickJson.number(QuickJson.object(QuickJson.parse(r.body())), "pid") != pid) {
                return null;
            }
            return d;
        } catch (IOException | QuickJson.Malformed | RuntimeException e) {
            return null;
        }
    }

    private static boolean alive(long pid) {
        Optional<ProcessHandle> p = ProcessHandle.of(pid);
        return p.isPresent() && p.get().isAlive();
    }

    private static String[] headers(Daemon d) {
        return new String[] {"Authorization", "Bearer " + d.token(), "Content-Type", "application/json",
            "Accept", "application/json"};
    }

    /** The command against the daemon, its result printed; a failure is thrown as the picocli path's client throws it. */
    private static void call(PrintWriter out, PrintWriter err, Path pool, Daemon d, Line line) {
        List<String> ops = line.operands();
        switch (line.command()) {
            case "list" -> {
                Api.Datasets r;
                try {
                    r = QuickJson.datasets(request(d, "GET", "datasets", null));
                } catch (QuickJson.Malformed e) {
                    throw badReply(e);
                }
                if (line.json()) {
                    json(out, QuickJson.pretty(r));
                } else {
                    Results.list(out, pool, r);
                }
            }
            case "snapshot" -> {
                SnapshotName vs = Names.splitSnapshot(ops.get(0));
                Api.Created r;
                try {
                    r = QuickJson.created(request(d, "POST", "snapshots",
                            QuickJson.request("volume", vs.volume(), "snapshot", vs.snapshot())));
                } catch (QuickJson.Malformed e) {
                    throw badReply(e);
                }
                if (line.json()) {
                    json(out, QuickJson.pretty(r));
                } else {
                    Results.snapshot(out, r);
                }
            }
            case "clone" -> {
                Api.Cloned r;
                try {
                    r = QuickJson.cloned(request(d, "POST", "clones", QuickJson.request("source", ops.get(0), "name", ops.get(1))));
                } catch (QuickJson.Malformed e) {
                    throw badReply(e);
                }
                if (line.json()) {
                    json(out, QuickJson.pretty(r));
                } else {
                    Results.clone(out, r);
                }
            }
            case "destroy" -> {
                String path = "datasets/" + URLEncoder.encode(ops.get(0), StandardCharsets.UTF_8).replace("+", "%20")
                        + "?recursive=" + line.recursive();
                Api.Destroyed r;
                try {
                    r = QuickJson.destroyed(request(d, "DELETE", path, null));
                } catch (QuickJson.Malformed e) {
                    throw badReply(e);
                }
                if (line.json()) {
                    json(out, QuickJson.pretty(r));
                } else {
                    Results.destroy(out, r, line.recursive());
                }
            }
            case PG_BRANCH -> {
                Branch b = line.branch();
                String at = b.at == null ? null : PgDurations.parseMoment(b.at, Instant.now()).toString();
                PgApi.Branched r;
                try {
                    r = QuickJson.branched(request(d, "POST", "pg/branches", QuickJson.branchRequest(ops.get(0), ops.get(1),
                            b.port, b.ttl, b.checkpoint(), b.protect, at, b.suspendAfter)));
                } catch (QuickJson.Malformed e) {
                    throw badReply(e);
                }
                if (line.json()) {
                    json(out, QuickJson.pretty(r));
                } else {
                    BranchResult.print(out, err, r);
                }
            }
            default -> throw new IllegalStateException(line.command());
        }
    }

    /** {@code METHOD /v1/PATH} as HttpJsonClient makes it: the parsed reply, or the exception of its error. */
    private static Object request(Daemon d, String method, String path, byte[] body) throws QuickJson.Malformed {
        LoopbackHttp.Reply r;
        try {
            r = LoopbackHttp.exchange(d.port(), method, "/v1/" + path, headers(d), body, CONNECT_TIMEOUT_MS, COMMAND_TIMEOUT_MS);
        } catch (IOException e) {
            throw new ControlException(ErrorKind.UNREACHABLE, d.peer() + " does not answer: " + e, e);
        }
        if (r.status() / 100 != 2) {
            throw ApiErrors.toException(r.status(), QuickJson.error(r.body()));
        }
        return QuickJson.parse(r.body());
    }

    private static ControlException badReply(QuickJson.Malformed e) {
        return new ControlException(ErrorKind.BAD_REPLY, "unexpected reply from the daemon: " + e.getMessage(), e);
    }

    private static void json(PrintWriter out, String text) {
        out.println(text);
        out.flush();
    }

    /** The writer picocli makes for a stream: the encoding its system property names (cp65001 is UTF-8), else the default. */
    private static PrintWriter writer(OutputStream stream, String encodingProperty) {
        String name = System.getProperty(encodingProperty);
        Charset cs;
        if (name == null) {
            cs = Charset.defaultCharset();
        } else {
            try {
                cs = Charset.forName(name.equalsIgnoreCase("cp65001") ? "UTF-8" : name);
            } catch (RuntimeException e) {
                cs = Charset.defaultCharset();
            }
        }
        return new PrintWriter(new BufferedWriter(new OutputStreamWriter(stream, cs)), true);
    }
}
