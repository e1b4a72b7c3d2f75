package io.clonefs.compare;

import java.io.ByteArrayOutputStream;
import java.io.File;
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
import java.util.concurrent.TimeoutException;

/** Runs external commands with a timeout, capturing their output; optionally as the {@code postgres} OS user. */
final class Sh {
    private Sh() {
    }

    /** Exit code, output and wall time of a finished command. */
    record Result(List<String> command, int exit, String out, String err, long nanos) {
        boolean ok() {
            return exit == 0;
        }

        String describe() {
            return String.join(" ", command) + " -> exit " + exit + "\n--- stdout\n" + tail(out) + "\n--- stderr\n"
                    + tail(err);
        }

        Result check() {
            if (exit != 0) {
                throw new CompareException("command failed: " + describe());
            }
            return this;
        }

        private static String tail(String s) {
            return s.length() > 4000 ? "..." + s.substring(s.length() - 4000) : s;
        }
    }

    static Result run(List<String> cmd, Map<String, String> env, Duration timeout) {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(new File("/tmp"));
        pb.environment().putAll(env);
        pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        long t0 = System.nanoTime();
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
                throw new CompareException("timed out after " + timeout + ": " + String.join(" ", cmd));
            }
            long nanos = System.nanoTime() - t0;
            return new Result(cmd, p.exitValue(), out.get(30, TimeUnit.SECONDS), err.get(30, TimeUnit.SECONDS), nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new CompareException("interrupted: " + cmd, e);
        } catch (ExecutionException | TimeoutException e) {
            throw new CompareException("cannot read the output of " + cmd, e);
        }
    }

    static Result run(Duration timeout, String... cmd) {
        return run(List.of(cmd), Map.of(), timeout);
    }

    /** The same command run as the {@code postgres} OS user. */
    static List<String> asPostgres(List<String> cmd) {
        List<String> c = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
        c.addAll(cmd);
        return c;
    }

    static Result runAsPostgres(List<String> cmd, Duration timeout) {
        return run(asPostgres(cmd), Map.of(), timeout);
    }

    /** Bytes allocated under {@code p} ({@code du -s -B1}). */
    static long du(Path p) {
        Result r = run(Duration.ofMinutes(10), "du", "-s", "-B1", p.toString()).check();
        return Long.parseLong(r.out().trim().split("\\s+")[0]);
    }

    static void chownPostgres(Path p) {
        run(Duration.ofMinutes(2), "chown", "-R", "postgres:postgres", p.toString()).check();
    }

    /** Removes a tree with {@code rm -rf} (files of the postgres user included). */
    static void removeTree(Path p) {
        if (p != null && p.isAbsolute() && p.getNameCount() > 2) {
            run(Duration.ofMinutes(10), "rm", "-rf", "--one-file-system", p.toString());
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CompareException("interrupted", e);
        }
    }

    static boolean waitGone(long pid, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (ProcessHandle.of(pid).map(ph -> !ph.isAlive()).orElse(true)) {
                return true;
            }
            sleep(50);
        }
        return false;
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
