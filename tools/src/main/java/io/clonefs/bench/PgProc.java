package io.clonefs.bench;

import io.clonefs.base.Command;
import io.clonefs.pg.process.Postgres;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * External commands for {@link PgBench}, {@link BranchBench} and {@link RemoteBench} through
 * {@link Command}: run with a timeout, stdout and stderr merged, optionally as the {@code postgres}
 * OS user; a timeout is a result (exit -1), not an exception. {@link #POSTGRES} runs the
 * PostgreSQL programs of {@link Postgres} (servers of {@link PgCluster}) the same way.
 */
final class PgProc {
    static final Path PG_BIN = Path.of(System.getProperty("bench.pg.bin", "/usr/lib/postgresql/15/bin"));
    /** {@code PG_BIN/tool} as postgres, the way every other command here runs. */
    static final Postgres.Programs POSTGRES = (timeout, tool, args) -> {
        List<String> cmd = new ArrayList<>(List.of(pgTool(tool)));
        cmd.addAll(args);
        return exec(timeout, Command.of(cmd).asUser("postgres"));
    };

    /** Outcome of one command. */
    record Result(List<String> command, int exit, String output, long nanos) {
        static Result of(Command.Result r) {
            return new Result(r.command(), r.exit(), r.out(), r.nanos());
        }

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

    static Result runAsPostgres(Duration timeout, List<String> cmd) {
        return Result.of(exec(timeout, Command.of(cmd).asUser("postgres")));
    }

    static Result run(Duration timeout, String... cmd) {
        return run(timeout, List.of(cmd));
    }

    /**
     * Runs a command in {@code /tmp} (readable by every user) and waits for it; one that outlives
     * its timeout is killed and reported as exit -1.
     */
    static Result run(Duration timeout, List<String> cmd) {
        return run(timeout, cmd, Map.of());
    }

    /** {@link #run(Duration, List)} with more environment. */
    static Result run(Duration timeout, List<String> cmd, Map<String, String> env) {
        return Result.of(exec(timeout, Command.of(cmd).env(env)));
    }

    private static Command.Result exec(Duration timeout, Command c) {
        long t0 = System.nanoTime();
        try {
            return c.directory(Path.of("/tmp")).mergeStderr().timeout(timeout).run();
        } catch (Command.Aborted e) {
            if (Thread.currentThread().isInterrupted()) {
                throw new IllegalStateException("interrupted while running " + String.join(" ", c.command()), e);
            }
            return new Command.Result(c.command(), -1, "timed out after " + timeout + "\n" + e.output(), "",
                    System.nanoTime() - t0);
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
}
