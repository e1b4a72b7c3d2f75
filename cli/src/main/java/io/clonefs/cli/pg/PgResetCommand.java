package io.clonefs.cli.pg;

import io.clonefs.api.PgApi;
import io.clonefs.base.ErrorKind;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code clonefs pg reset}: brings a branch back to its snapshot. */
@Command(name = "reset", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
    footer = {"  clonefs pg reset pr-42"},
    description = "Bring a branch back to its snapshot (same port, same URI).")
final class PgResetCommand extends PgSubcommand {
    @Parameters(paramLabel = "NAME")
    String name;

    @Override
    int run() {
        checkName(name);
        PgApi.Branched b = client().reset(name);
        if (json()) {
            printJson(b);
        } else {
            out().println(b.uri());
            out().flush();
            err().println("branch " + b.name() + " reset to " + b.snapshot() + " in " + b.millis().total() + " ms");
            err().flush();
        }
        return ErrorKind.ExitCode.OK;
    }
}
