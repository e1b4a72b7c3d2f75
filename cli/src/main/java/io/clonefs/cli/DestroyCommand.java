package io.clonefs.cli;

import io.clonefs.api.Api;
import io.clonefs.cli.common.Output;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "destroy", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  clonefs destroy db1-test", "  clonefs destroy -r db1@before-migration   # and its clones"},
        description = {"Destroy a volume or a snapshot (VOLUME@SNAP).",
    "Returns at once; the space comes back in the background."})
final class DestroyCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "VOLUME or VOLUME@SNAP.")
    String name;

    @Option(names = {"-r", "--recursive"},
            description = "Also destroy what depends on it (a volume's snapshots, a snapshot's clones).")
    boolean recursive;

    @Override
    public Integer call() {
        checkName(name);
        Api.Destroyed r = withPool(s -> s.destroy(name, recursive));
        if (json()) {
            Output.json(out(), r);
        } else {
            Results.destroy(out(), r, recursive);
        }
        return ExitCodes.OK;
    }
}
