package io.clonefs.cli.pg;

import io.clonefs.api.PgApi;
import io.clonefs.base.ErrorKind;
import io.clonefs.pg.PgRoutes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code clonefs pg ttl}: sets a server's time to live from now, or none. */
@Command(name = "ttl", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
    footer = {"  clonefs pg ttl pr-42 8h", "  clonefs pg ttl pr-42 none"},
    description = {"Set the time to live of server NAME: it is destroyed DURATION from now (e.g. 30m, 8h,",
    "7d; longer or shorter than it had), or never with none. A protected server is not destroyed",
    "either way. The same as 'pg branch --ttl' for a branch that exists."})
final class PgTtlCommand extends PgSubcommand {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Parameters(index = "1", paramLabel = "DURATION|none")
    String ttl;

    @Override
    int run() {
        checkName(name);
        PgRoutes.ttlOrNone(ttl); // a bad duration is a usage error before the daemon is asked
        PgApi.Server s = client().ttl(name, ttl);
        if (json()) {
            printJson(s);
        } else {
            out().println(s.name() + ": " + (s.expiresAt() == null ? "never expires" : "expires at " + s.expiresAt()));
        }
        return ErrorKind.ExitCode.OK;
    }
}
