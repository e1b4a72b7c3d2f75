package io.clonefs.cli.pg;

import io.clonefs.api.PgClient;
import io.clonefs.base.ClonefsException;
import io.clonefs.base.ErrorKind;
import io.clonefs.cli.common.Output;
import io.clonefs.cli.common.Pools;
import io.clonefs.daemon.DaemonClient;
import io.clonefs.engine.Names;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Spec;

/**
 * Plumbing of the {@code clonefs pg} subcommands: the inherited global options ({@code --pool},
 * {@code --json}), the daemon's client, output, argument checks, and the one-place handling of the
 * PostgreSQL kinds of errors ({@link ErrorKind.Domain#POSTGRES}): their whole message (a failed start
 * carries the tail of the server's log on further lines) and their exit code from the table. Other
 * exceptions go to the CLI's own handler.
 */
abstract class PgSubcommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    /** The command's work; returns an exit code. */
    abstract int run();

    @Override
    public final Integer call() {
        try {
            return run();
        } catch (ClonefsException e) {
            if (e.kind().domain() != ErrorKind.Domain.POSTGRES) {
                throw e;
            }
            PrintWriter err = spec.commandLine().getErr();
            err.println("clonefs: " + e.getMessage().strip());
            err.flush();
            return e.kind().exitCode();
        }
    }

    /** The client of the pool's running daemon; refuses clearly when none runs. */
    PgClient client() {
        Path pool = pool();
        Optional<DaemonClient> d = DaemonClient.find(pool);
        if (d.isEmpty()) {
            throw new ClonefsException.NotFound("no clonefs daemon runs for pool " + pool
                    + "; PostgreSQL servers run on its mount: start it with 'clonefs mount " + pool + " MOUNTPOINT'");
        }
        return new PgClient(d.get().http());
    }

    static void checkName(String name) {
        Names.checkDataset("volume", name);
    }

    static void checkPort(Integer port) {
        if (port != null && (port < 1 || port > 65535)) {
            throw new ClonefsException.InvalidArgument("--port " + port + " is not a TCP port");
        }
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
        Output.json(out(), value);
    }

    /** Rows as left-aligned columns separated by two spaces. */
    void table(List<String[]> rows) {
        Output.table(out(), rows);
    }

    /** An age or a time to go, in its largest unit: {@code 90s}, {@code 5m}, {@code 3h}, {@code 2d}. */
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
