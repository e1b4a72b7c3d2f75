package io.clonefs.cli.pg;

import io.clonefs.api.PgApi;
import io.clonefs.base.ErrorKind;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code clonefs pg destroy}: stops a managed server and destroys its volume. */
@Command(name = "destroy", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
    footer = {"  clonefs pg destroy pr-42"},
    description = {"Stop a managed server and destroy its volume (a snapshot taken for a",
    "branch goes too once nothing uses it). Refused while protected or while it has branches."})
final class PgDestroyCommand extends PgSubcommand {
    @Parameters(paramLabel = "NAME")
    String name;

    @Override
    int run() {
        checkName(name);
        PgApi.Destroyed d = client().destroy(name);
        if (json()) {
            printJson(d);
        } else {
            out().println("destroyed " + d.name() + (d.snapshotDestroyed() == null ? "" : " and " + d.snapshotDestroyed()));
        }
        return ErrorKind.ExitCode.OK;
    }
}
