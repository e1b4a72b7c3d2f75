package io.clonefs.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * External commands for {@link PgBench}: run with a timeout, output (stdout and stderr merged)
 * captured in a temporary file, optionally as the {@code postgres} OS user
 * ({@code runuser -u postgres --}). A command that outlives its timeout is killed (its PID only).
 */
final class PgProc {
    static final Path PG_BIN = Path.of(System.getProperty("bench.pg.bin", "/usr/lib/postgresql/15/bin"));

    /** Outcome of one command. */
    record Result(List<String> command, int exit, String output, long nanos) {
        boolean ok() {
            return exit == 0;
        }

        Result check() {
            if (exit != 0) {
                throw new IllegalStateException("command failed (exit " + exit + "): " + String.join(" ", command)
                        + "\n" + output);
            }
            return this;
        }
    }

    private PgProc() {
    }

    static String pgTool(String tool) {
        return PG_BIN.resolve(tool).toString();
    }

    static List<String> asPostgres(List<String> cmd) {
        List<String> c = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
        c.addAll(cmd);
        return c;
    }

    static Result runAsPostgres(Duration timeout, List<String> cmd) {
        return run(timeout, asPostgres(cmd));
    }

    static Result run(Duration timeout, String... cmd) {
        return run(timeout, List.of(cmd));
    }

    /** Runs a command in {@code /tmp} (readable by every user) and waits for it. */
    static Result run(Duration timeout, List<String> cmd) {
        Path out = null;
        try {
            out = Files.createTempFile("clonefs-bench-pg-", ".out");
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(Path.of("/tmp").toFile())
                    .redirectErrorStream(true).redirectOutput(out.toFile());
            long t0 = System.nanoTime();
            Process p = pb.start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
                return new Result(cmd, -1, "timed out after " + timeout + "\n" + read(out), System.nanoTime() - t0);
            }
            long nanos = System.nanoTime() - t0;
            return new Result(cmd, p.exitValue(), read(out), nanos);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + String.join(" ", cmd), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + String.join(" ", cmd), e);
        } finally {
            if (out != null) {
                try {
                    Files.deleteIfExists(out);
                } catch (IOException ignored) {
                    // a temp file left behind is harmless
                }
            }
        }
    }

    /** The trimmed output of a quick command, or null if it failed. */
    static String quiet(String... cmd) {
        try {
            Result r = run(Duration.ofSeconds(30), cmd);
            return r.ok() ? r.output().trim() : null;
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static String read(Path p) throws IOException {
        return Files.readString(p, StandardCharsets.UTF_8);
    }
}
