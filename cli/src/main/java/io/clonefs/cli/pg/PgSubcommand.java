package io.clonefs.cli.pg;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.clonefs.cli.ExitCodes;
import io.clonefs.cli.Pools;
import io.clonefs.pg.PgException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Spec;

/**
 * Plumbing of the {@code clonefs pg} subcommands: the inherited global options ({@code --pool},
 * {@code --json}), the daemon's client, output, and the one-place handling of {@link PgException}s:
 * their whole message (a failed start carries the tail of the server's log on further lines) and
 * an exit code from {@link ExitCodes}. Other exceptions go to the CLI's own handler.
 */
abstract class PgSubcommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Spec
    CommandSpec spec;

    /** The command's work; returns an exit code. */
    abstract int run();

    @Override
    public final Integer call() {
        try {
            return run();
        } catch (PgException e) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("clonefs: " + e.getMessage().strip());
            err.flush();
            return exitCode(e);
        }
    }

    static int exitCode(PgException e) {
        if (e instanceof PgException.PortInUse || e instanceof PgException.NoFreePort || e instanceof PgException.Protected) {
            return ExitCodes.CONFLICT;
        } else if (e instanceof PgException.NotPostgres) {
            return ExitCodes.USAGE;
        }
        return ExitCodes.GENERAL;
    }

    PgClient client() {
        return PgClient.connect(pool());
    }

    Path pool() {
        return Pools.resolve((Path) inherited("--pool"));
    }

    boolean json() {
        return Boolean.TRUE.equals(inherited("--json"));
    }

    /** The value of a global option, wherever on the command line it was given. */
    private Object inherited(String name) {
        for (CommandSpec s = spec; s != null; s = s.parent()) {
            OptionSpec o = s.findOption(name);
            if (o != null && o.getValue() != null && !Boolean.FALSE.equals(o.getValue())) {
                return o.getValue();
            }
        }
        return null;
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    void printJson(Object value) {
        try {
            out().println(JSON.writeValueAsString(value));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        out().flush();
    }

    /** Rows as left-aligned columns separated by two spaces. */
    void table(List<String[]> rows) {
        if (rows.isEmpty()) {
            return;
        }
        int[] w = new int[rows.get(0).length];
        for (String[] r : rows) {
            for (int i = 0; i < w.length; i++) {
                w[i] = Math.max(w[i], r[i].length());
            }
        }
        for (String[] r : rows) {
            List<String> cells = new ArrayList<>();
            for (int i = 0; i < w.length; i++) {
                cells.add(i == w.length - 1 ? r[i] : String.format("%-" + w[i] + "s", r[i]));
            }
            out().println(String.join("  ", cells).stripTrailing());
        }
        out().flush();
    }

    static String age(long seconds) {
        if (seconds < 120) {
            return seconds + "s";
        } else if (seconds < 7200) {
            return seconds / 60 + "m";
        } else if (seconds < 2 * 86400) {
            return seconds / 3600 + "h";
        }
        return seconds / 86400 + "d";
    }
}
