package io.clonefs.pg;

import io.clonefs.base.Command;
import io.clonefs.pg.process.Postgres;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The PostgreSQL programs the manager runs ({@code initdb}, {@code pg_basebackup}, {@code pg_ctl}),
 * always as {@link PgOptions#osUser()} through {@link Command}, with failures to run one mapped to
 * {@link PgException}: a program that cannot be started is {@link PgException.Setup}, one that runs
 * past its timeout or is interrupted is {@link PgException.ToolFailed}. A non-zero exit is a
 * {@link Command.Result}; callers decide what it means. Stateless and thread-safe.
 */
final class PgTools implements Postgres.Programs {
    private final PgOptions options;

    PgTools(PgOptions options) {
        this.options = options;
    }

    String bin(String tool) {
        return options.binDir().resolve(tool).toString();
    }

    /** Runs {@code tool args...} as the PostgreSQL OS user and waits for it (killing it at the timeout). */
    @Override
    public Command.Result run(Duration timeout, String tool, List<String> args) {
        return run(timeout, tool, args, null);
    }

    /**
     * The same, passing every non-empty line of output ({@code \r} ends a line too, as in
     * pg_basebackup's progress), stripped, to {@code lines} as it comes.
     */
    Command.Result run(Duration timeout, String tool, List<String> args, Consumer<String> lines) {
        List<String> cmd = new ArrayList<>();
        cmd.add(bin(tool));
        cmd.addAll(args);
        Command c = Command.of(cmd).unsetEnv("PGPASSWORD").mergeStderr().timeout(timeout);
        if (lines != null) {
            c.onLine(line -> {
                for (String part : line.split("\r")) {
                    if (!part.isEmpty()) {
                        lines.accept(part.strip());
                    }
                }
            });
        }
        try {
            return c.asUser(options.osUser()).run();
        } catch (UncheckedIOException e) {
            String why = e.getCause() != null ? e.getCause().getMessage() : e.getMessage();
            throw new PgException.Setup("cannot run " + tool + " as " + options.osUser() + ": " + why);
        } catch (Command.Aborted e) {
            if (Thread.currentThread().isInterrupted()) {
                throw new PgException.ToolFailed("interrupted while running " + tool);
            }
            throw new PgException.ToolFailed(tool + " did not finish within " + human(timeout) + ": "
                    + Postgres.tail(e.output(), 5));
        }
    }

    /** The last few lines of a program's output, for error messages. */
    static String tail(Command.Result r) {
        return Postgres.tail(r.out(), 12);
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
