package io.clonefs.cli.pg;

import io.clonefs.api.PgApi;
import io.clonefs.base.ErrorKind;
import io.clonefs.pg.PgRoutes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code clonefs pg suspend-after}: sets how long a server may be idle before it is suspended. */
@Command(name = "suspend-after", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
    footer = {"  clonefs pg suspend-after pr-42 10m", "  clonefs pg suspend-after src 0", "  clonefs pg suspend-after pr-42 default"},
    description = {"Set how long server NAME may have no client connection before it is suspended",
    "(stopped cleanly; a connection to its port wakes it): a DURATION such as 10m, 0 for never,",
    "or default for the pool's (CLONEFS_PG_SUSPEND_AFTER of the daemon, which applies to branches)."})
final class PgSuspendAfterCommand extends PgSubcommand {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Parameters(index = "1", paramLabel = "DURATION|0|default")
    String after;

    @Override
    int run() {
        checkName(name);
        PgRoutes.idleOrDefault(after);
        PgApi.Server s = client().suspendAfter(name, after);
        if (json()) {
            printJson(s);
        } else {
            out().println(s.name() + ": " + (s.suspendAfter() == null ? "never suspended" : "suspended after "
                    + s.suspendAfter() + " without a client"));
        }
        return ErrorKind.ExitCode.OK;
    }
}
