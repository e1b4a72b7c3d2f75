package io.clonefs.cli.pg;

import io.clonefs.api.PgApi;
import io.clonefs.base.ErrorKind;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code clonefs pg unprotect}: allows destroy and expiry again. */
@Command(name = "unprotect", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
    footer = {"  clonefs pg unprotect src"},
    description = "Allow destroy (and expiry, if it has a TTL) again.")
final class PgUnprotectCommand extends PgSubcommand {
    @Parameters(paramLabel = "NAME")
    String name;

    @Override
    int run() {
        checkName(name);
        PgApi.Server s = client().protect(name, false);
        if (json()) {
            printJson(s);
        } else {
            out().println("unprotected " + s.name());
        }
        return ErrorKind.ExitCode.OK;
    }
}
