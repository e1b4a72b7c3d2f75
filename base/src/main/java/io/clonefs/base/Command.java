package io.clonefs.base;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The one way clonefs runs an external program (PostgreSQL's tools, {@code fusermount},
 * {@code runuser}, {@code du}, ...): standard input from {@code /dev/null}, a working directory, a
 * timeout after which the program and all its descendants are killed, and its output captured
 * (standard error apart or merged, optionally streamed line by line as it comes).
 *
 * <pre>{@code
 * Command.Result r = Command.of("pg_ctl", "-D", dir, "stop").asUser("postgres").timeout(Duration.ofMinutes(1)).run();
 * }</pre>
 *
 * <p>Failures to start throw {@link UncheckedIOException}; a timeout or an interrupt throws
 * {@link Aborted} after the process tree is gone. A non-zero exit is a {@link Result}, not an
 * exception: callers decide what it means ({@link Result#ok()}).
 */
public final class Command {
    private final List<String> command;
    private final Map<String, String> env = new LinkedHashMap<>();
    private final List<String> unset = new ArrayList<>();
    private File directory = new File("/");
    private Duration timeout = Duration.ofMinutes(10);
    private boolean mergeErr;
    private Consumer<String> lines;

    private Command(List<String> command) {
        this.command = List.copyOf(command);
    }

    public static Command of(List<String> command) {
        return new Command(command);
    }

    public static Command of(String... command) {
        return new Command(List.of(command));
    }

    /** The same command run as another OS user ({@code runuser -u USER --}). */
    public Command asUser(String user) {
        List<String> c = new ArrayList<>(List.of("runuser", "-u", user, "--"));
        c.addAll(command);
        Command n = new Command(c);
        n.env.putAll(env);
        n.unset.addAll(unset);
        n.directory = directory;
        n.timeout = timeout;
        n.mergeErr = mergeErr;
        n.lines = lines;
        return n;
    }

    public Command env(Map<String, String> vars) {
        env.putAll(vars);
        return this;
    }

    public Command env(String name, String value) {
        env.put(name, value);
        return this;
    }

    /** Removes a variable inherited from this process's environment. */
    public Command unsetEnv(String name) {
        unset.add(name);
        return this;
    }

    /** The working directory ({@code /} unless told). */
    public Command directory(Path dir) {
        directory = dir.toFile();
        return this;
    }

    public Command timeout(Duration t) {
        timeout = Objects.requireNonNull(t);
        return this;
    }

    /** Standard error into {@link Result#out()} (and into the line consumer), in order. */
    public Command mergeStderr() {
        mergeErr = true;
        return this;
    }

    /** Each line of standard output (of both streams after {@link #mergeStderr()}), as it is written. */
    public Command onLine(Consumer<String> consumer) {
        lines = consumer;
        return this;
    }

    public List<String> command() {
        return command;
    }

    /** Runs the program to its end and returns what it printed and its exit code. */
    public Result run() {
        ProcessBuilder pb = builder();
        long t0 = System.nanoTime();
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command.get(0) + ": " + e.getMessage(), e);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Thread outReader = drainer(p.getInputStream(), out, lines, "out");
        Thread errReader = mergeErr ? null : drainer(p.getErrorStream(), err, null, "err");
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                killTree(p.toHandle());
                p.waitFor(10, TimeUnit.SECONDS);
                join(outReader, errReader, 1000);
                throw new Aborted(command.get(0) + " did not finish within " + human(timeout), string(out) + string(err));
            }
            join(outReader, errReader, 10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            killTree(p.toHandle());
            throw new Aborted("interrupted while running " + command.get(0), string(out) + string(err));
        }
        return new Result(command, p.exitValue(), string(out), string(err), System.nanoTime() - t0);
    }

    /** Starts the program in the background, both streams appended to {@code log}. */
    public Process start(Path log) {
        ProcessBuilder pb = builder().redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        try {
            return pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command.get(0) + ": " + e.getMessage(), e);
        }
    }

    /** Waits until process {@code pid} is gone; false if it still runs after {@code timeout}. */
    public static boolean waitGone(long pid, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (ProcessHandle.of(pid).map(ph -> !ph.isAlive()).orElse(true)) {
                return true;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return false;
    }

    /** SIGKILL to a process and every descendant it has. */
    public static void killTree(ProcessHandle h) {
        List<ProcessHandle> kids = h.descendants().toList();
        h.destroyForcibly();
        kids.forEach(ProcessHandle::destroyForcibly);
    }

    private ProcessBuilder builder() {
        ProcessBuilder pb = new ProcessBuilder(command).directory(directory)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(mergeErr);
        unset.forEach(pb.environment()::remove);
        pb.environment().putAll(env);
        return pb;
    }

    private Thread drainer(InputStream in, ByteArrayOutputStream all, Consumer<String> each, String stream) {
        Thread t = new Thread(() -> drain(in, all, each), "clonefs-cmd-" + stream + "-" + new File(command.get(0)).getName());
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void drain(InputStream in, ByteArrayOutputStream all, Consumer<String> each) {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try (in) {
            int n;
            while ((n = in.read(buf)) > 0) {
                synchronized (all) {
                    all.write(buf, 0, n);
                }
                if (each != null) {
                    for (int i = 0; i < n; i++) {
                        if (buf[i] == '\n') {
                            each.accept(line.toString(StandardCharsets.UTF_8));
                            line.reset();
                        } else {
                            line.write(buf[i]);
                        }
                    }
                }
            }
            if (each != null && line.size() > 0) {
                each.accept(line.toString(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            // the process is gone; what was read is kept
        }
    }

    private static void join(Thread a, Thread b, long millis) throws InterruptedException {
        a.join(millis);
        if (b != null) {
            b.join(millis);
        }
    }

    private static String string(ByteArrayOutputStream b) {
        synchronized (b) {
            return b.toString(StandardCharsets.UTF_8);
        }
    }

    private static String human(Duration d) {
        long s = d.toSeconds();
        return s >= 120 ? s / 60 + " min" : s >= 1 ? s + " s" : d.toMillis() + " ms";
    }

    /** Exit code, output and wall time of a finished program. */
    public record Result(List<String> command, int exit, String out, String err, long nanos) {
        public boolean ok() {
            return exit == 0;
        }

        /** The command, its exit code and the tails of both streams, for an error message. */
        public String describe() {
            return String.join(" ", command) + " -> exit " + exit + "\n--- stdout\n" + tail(out, 4000)
                    + "\n--- stderr\n" + tail(err, 4000);
        }

        /** The last {@code n} lines of the output (both streams), for a one-line error. */
        public String lastLines(int n) {
            String all = (out + (err.isEmpty() ? "" : "\n" + err)).strip();
            String[] l = all.split("\n");
            return String.join("\n", Arrays.copyOfRange(l, Math.max(0, l.length - n), l.length));
        }

        private static String tail(String s, int max) {
            return s.length() > max ? "..." + s.substring(s.length() - max) : s;
        }
    }

    /** The program was killed: it ran past its timeout, or the caller was interrupted. */
    public static final class Aborted extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final String output;

        Aborted(String message, String output) {
            super(message);
            this.output = output;
        }

        /** What the program printed before it was killed. */
        public String output() {
            return output;
        }
    }
}
