package io.clonefs.it.support;

import io.clonefs.base.Command;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * {@link Command} the way the tests use it: run in {@code /tmp}, a failure to run or a timeout is
 * an {@link AssertionError} (so that teardown code catching test failures catches it too), and
 * {@link Result#check()} fails the test on a non-zero exit. Plus waiting for and killing pids.
 */
public final class Proc {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(5);
    private static final Path CWD = Path.of("/tmp");

    private Proc() {
    }

    /** A finished command ({@link Command.Result}) that can fail the test. */
    public record Result(Command.Result result) {
        public int exit() {
            return result.exit();
        }

        public String out() {
            return result.out();
        }

        public String err() {
            return result.err();
        }

        public boolean ok() {
            return result.ok();
        }

        public String describe() {
            return result.describe();
        }

        /** Fails unless the command exited 0. */
        public Result check() {
            if (!ok()) {
                throw new AssertionError(describe());
            }
            return this;
        }
    }

    public static Result run(List<String> cmd) {
        return run(cmd, Map.of(), DEFAULT_TIMEOUT);
    }

    public static Result run(List<String> cmd, Map<String, String> env, Duration timeout) {
        return run(Command.of(cmd).env(env).timeout(timeout));
    }

    public static Result runAsPostgres(List<String> cmd, Duration timeout) {
        return run(Command.of(cmd).asUser("postgres").timeout(timeout));
    }

    private static Result run(Command c) {
        try {
            return new Result(c.directory(CWD).run());
        } catch (Command.Aborted e) {
            throw new AssertionError(e.getMessage() + ": " + c.command() + "\n" + e.output(), e);
        }
    }

    /** The same command run as the {@code postgres} OS user ({@link Command#asUser}). */
    public static List<String> asPostgres(List<String> cmd) {
        return Command.of(cmd).asUser("postgres").command();
    }

    /** Starts a command in the background, output appended to {@code log}. */
    public static Process start(List<String> cmd, Path log) {
        return Command.of(cmd).directory(CWD).start(log);
    }

    /** SIGKILL to a process and all its descendants. */
    public static void kill9(long pid) {
        ProcessHandle.of(pid).ifPresent(Command::killTree);
    }

    public static boolean waitGone(long pid, Duration timeout) {
        return Command.waitGone(pid, timeout);
    }

    public static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
