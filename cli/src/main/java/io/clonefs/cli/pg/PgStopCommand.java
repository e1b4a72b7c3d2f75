package io.clonefs.cli.pg;

import io.clonefs.api.PgApi;
import io.clonefs.base.ErrorKind;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code clonefs pg stop}: stops a managed server. */
@Command(name = "stop", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
    footer = {"  clonefs pg stop pr-42"},
    description = "Stop a managed server (it stays stopped across daemon restarts).")
final class PgStopCommand extends PgSubcommand {
    @Parameters(paramLabel = "NAME")
    String name;

    @Override
    int run() {
        checkName(name);
        PgApi.Server s = client().stop(name);
        if (json()) {
            printJson(s);
        } else {
            out().println("stopped " + s.name());
        }
        return ErrorKind.ExitCode.OK;
    }
}
