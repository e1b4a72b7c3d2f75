package io.clonefs.compare;

import io.clonefs.base.Command;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * {@link Command} the way the comparison uses it: run in {@code /tmp}, a failure to run, a timeout
 * or a non-zero exit under {@link Result#check()} is a {@link CompareException}; plus the few shell
 * steps it needs ({@code du}, {@code chown}, {@code rm -rf}).
 */
final class Sh {
    private static final Path CWD = Path.of("/tmp");

    private Sh() {
    }

    /** A finished command ({@link Command.Result}) whose failure ends the comparison. */
    record Result(Command.Result result) {
        int exit() {
            return result.exit();
        }

        String out() {
            return result.out();
        }

        String err() {
            return result.err();
        }

        long nanos() {
            return result.nanos();
        }

        boolean ok() {
            return result.ok();
        }

        String describe() {
            return result.describe();
        }

        Result check() {
            if (!ok()) {
                throw new CompareException("command failed: " + describe());
            }
            return this;
        }
    }

    static Result run(List<String> cmd, Map<String, String> env, Duration timeout) {
        return run(Command.of(cmd).env(env).timeout(timeout));
    }

    static Result run(Duration timeout, String... cmd) {
        return run(List.of(cmd), Map.of(), timeout);
    }

    static Result runAsPostgres(List<String> cmd, Duration timeout) {
        return run(Command.of(cmd).asUser("postgres").timeout(timeout));
    }

    private static Result run(Command c) {
        try {
            return new Result(c.directory(CWD).run());
        } catch (Command.Aborted e) {
            throw new CompareException(e.getMessage() + ": " + String.join(" ", c.command()), e);
        }
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
        return Command.waitGone(pid, timeout);
    }
}
