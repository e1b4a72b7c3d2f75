package io.clonefs.cli.pg;

import io.clonefs.api.PgApi;
import io.clonefs.base.ErrorKind;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code clonefs pg protect}: refuses destroy and expiry of a server. */
@Command(name = "protect", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
    footer = {"  clonefs pg protect src"},
    description = "Refuse destroy and expiry of a server.")
final class PgProtectCommand extends PgSubcommand {
    @Parameters(paramLabel = "NAME")
    String name;

    @Override
    int run() {
        checkName(name);
        PgApi.Server s = client().protect(name, true);
        if (json()) {
            printJson(s);
        } else {
            out().println("protected " + s.name());
        }
        return ErrorKind.ExitCode.OK;
    }
}
