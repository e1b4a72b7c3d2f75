package io.clonefs.cli;

import io.clonefs.base.ClonefsException;
import io.clonefs.cli.common.Output;
import io.clonefs.cli.common.Sizes;
import io.clonefs.engine.Engine;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "init", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  clonefs init /var/lib/clonefs", "  clonefs init /srv/pool --block-size 64K --json"},
        description = "Create an empty pool in DIR (created if missing; must be empty).")
final class InitCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "POOL", description = "Pool directory.")
    Path dir;

    @Option(names = "--block-size", paramLabel = "SIZE", defaultValue = "8K",
            description = "Block size, e.g. 8K (default), 64k; fixed for the pool's life.")
    String blockSize;

    @Override
    public Integer call() {
        long bs = Sizes.parse(blockSize);
        if (bs <= 0 || bs > Integer.MAX_VALUE) {
            throw new ClonefsException.InvalidArgument("block size " + blockSize + " is out of range");
        }
        Path p = dir.toAbsolutePath().normalize();
        Engine.init(p, (int) bs);
        if (json()) {
            Output.json(out(), Map.of("pool", p.toString(), "blockSize", bs));
        } else {
            out().println("initialized pool " + p + " (block size " + Sizes.format(bs) + ")");
        }
        return ExitCodes.OK;
    }
}
