package io.clonefs.cli.pg;

import io.clonefs.api.PgApi;
import io.clonefs.base.ErrorKind;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code clonefs pg suspend}: stops a running server cleanly; a connection to its port starts it again. */
@Command(name = "suspend", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
    footer = {"  clonefs pg suspend pr-42"},
    description = {"Suspend a running server now, as if it had been idle for its idle time: a clean",
    "stop (pg_ctl stop -m fast); the daemon listens on its port, and the next connection starts",
    "it and is served. Its port, URI, expiry and protection stay."})
final class PgSuspendCommand extends PgSubcommand {
    @Parameters(paramLabel = "NAME")
    String name;

    @Override
    int run() {
        checkName(name);
        PgApi.Server s = client().suspend(name);
        if (json()) {
            printJson(s);
        } else {
            out().println("suspended " + s.name() + "; a connection to port " + s.port() + " wakes it");
        }
        return ErrorKind.ExitCode.OK;
    }
}
