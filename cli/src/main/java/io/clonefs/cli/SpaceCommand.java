package io.clonefs.cli;

import io.clonefs.api.Api;
import io.clonefs.cli.common.Output;
import io.clonefs.cli.common.Sizes;
import java.util.List;
import picocli.CommandLine.Command;

@Command(name = "space", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  clonefs space", "  clonefs space --json | jq .freeBytes"},
        description = "Show the space of the pool.")
final class SpaceCommand extends BaseCommand {
    @Override
    public Integer call() {
        Api.Space s = withPool(p -> p.space());
        if (json()) {
            Output.json(out(), s);
            return ExitCodes.OK;
        }
        Output.table(out(), List.of(
                new String[] {"pool", pool().toString()},
                new String[] {"block size", Sizes.format(s.blockSize())},
                new String[] {"used", Sizes.format(s.usedBytes()) + " (" + s.blocksInUse() + " blocks in use, metadata "
                    + Sizes.format(s.metadataBytes()) + ")"},
                new String[] {"free", Sizes.format(s.freeBytes()) + " (" + s.blocksFree() + " free blocks in the block files)"},
                new String[] {"reclaim backlog", s.reclaimBacklog() + " nodes"}));
        return ExitCodes.OK;
    }
}
