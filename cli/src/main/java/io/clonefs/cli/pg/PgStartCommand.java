package io.clonefs.cli.pg;

import io.clonefs.api.PgApi;
import io.clonefs.base.ErrorKind;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code clonefs pg start}: starts a managed server, or adopts a volume holding a data directory. */
@Command(name = "start", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
    footer = {"  clonefs pg start src"},
    description = {"Start a managed server (or adopt a volume holding a PostgreSQL data",
    "directory) and wait until it answers."})
final class PgStartCommand extends PgSubcommand {
    @Parameters(paramLabel = "NAME")
    String name;

    @Override
    int run() {
        checkName(name);
        PgApi.Server s = client().start(name);
        if (json()) {
            printJson(s);
        } else {
            out().println(s.uri());
        }
        return ErrorKind.ExitCode.OK;
    }
}
