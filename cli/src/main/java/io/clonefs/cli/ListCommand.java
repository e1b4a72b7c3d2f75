package io.clonefs.cli;

import io.clonefs.api.Api;
import io.clonefs.cli.common.Output;
import picocli.CommandLine.Command;

@Command(name = "list", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  clonefs list", "  clonefs list --json | jq -r '.volumes[].name'"},
        description = {"List volumes and their snapshots, with origins and space.",
    "REFER: bytes of blocks referenced; UNIQUE: bytes only it references (what destroying it frees)."})
final class ListCommand extends BaseCommand {
    @Override
    public Integer call() {
        Api.Datasets d = withPool(s -> s.list());
        if (json()) {
            Output.json(out(), d);
            return ExitCodes.OK;
        }
        Results.list(out(), pool(), d);
        return ExitCodes.OK;
    }
}
