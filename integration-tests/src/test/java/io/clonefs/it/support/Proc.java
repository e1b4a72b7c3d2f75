package io.clonefs.it.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/** Runs external commands with a timeout, capturing their output. */
public final class Proc {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(5);

    private Proc() {
    }

    /** Exit code and output of a finished command. */
    public record Result(List<String> command, int exit, String out, String err) {
        public boolean ok() {
            return exit == 0;
        }

        public String describe() {
            return String.join(" ", command) + " -> exit " + exit + "\n--- stdout\n" + out + "\n--- stderr\n" + err;
        }

        /** Fails unless the command exited 0. */
        public Result check() {
            if (exit != 0) {
                throw new AssertionError(describe());
            }
            return this;
        }
    }

    public static Result run(List<String> cmd) {
        return run(cmd, Map.of(), DEFAULT_TIMEOUT);
    }

    public static Result run(List<String> cmd, Map<String, String> env, Duration timeout) {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(Path.of("/tmp").toFile());
        pb.environment().putAll(env);
        pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + cmd, e);
        }
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> drain(p.getInputStream()));
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> drain(p.getErrorStream()));
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError("timed out after " + timeout + ": " + cmd);
            }
            return new Result(cmd, p.exitValue(), out.get(30, TimeUnit.SECONDS), err.get(30, TimeUnit.SECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new AssertionError("interrupted: " + cmd, e);
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new AssertionError("cannot read the output of " + cmd, e);
        }
    }

    /** The same command run as the {@code postgres} OS user ({@code runuser -u postgres --}). */
    public static List<String> asPostgres(List<String> cmd) {
        List<String> c = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
        c.addAll(cmd);
        return c;
    }

    public static Result runAsPostgres(List<String> cmd, Duration timeout) {
        return run(asPostgres(cmd), Map.of(), timeout);
    }

    /** Starts a command in the background, output appended to {@code log}. */
    public static Process start(List<String> cmd, Path log) {
        try {
            return new ProcessBuilder(cmd).directory(Path.of("/tmp").toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + cmd, e);
        }
    }

    /** SIGKILL to a process and all its descendants. */
    public static void kill9(long pid) {
        ProcessHandle.of(pid).ifPresent(ph -> {
            List<ProcessHandle> kids = ph.descendants().toList();
            ph.destroyForcibly();
            kids.forEach(ProcessHandle::destroyForcibly);
        });
    }

    public static boolean waitGone(long pid, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (ProcessHandle.of(pid).map(ph -> !ph.isAlive()).orElse(true)) {
                return true;
            }
            sleep(50);
        }
        return false;
    }

    public static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private static String drain(InputStream in) {
        try (in) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            in.transferTo(b);
            return b.toString(StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
