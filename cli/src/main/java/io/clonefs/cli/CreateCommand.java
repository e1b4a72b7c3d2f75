package io.clonefs.cli;

import io.clonefs.api.Api;
import io.clonefs.cli.common.Output;
import io.clonefs.engine.Names;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "create", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  clonefs create db1", "  clonefs --pool /srv/pool create db1 --json"},
        description = "Create an empty volume.")
final class CreateCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "VOLUME", description = "Name: [A-Za-z0-9][A-Za-z0-9_.-]{0,62}.")
    String name;

    @Override
    public Integer call() {
        Names.checkDataset("volume", name);
        Api.Created r = withPool(s -> s.createVolume(name));
        if (json()) {
            Output.json(out(), r);
        } else {
            out().println("created volume " + r.name());
        }
        return ExitCodes.OK;
    }
}
