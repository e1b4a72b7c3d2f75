package io.clonefs.cli;

import io.clonefs.api.Api;
import io.clonefs.base.SnapshotName;
import io.clonefs.cli.common.Output;
import io.clonefs.engine.Names;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "snapshot", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  clonefs snapshot db1@before-migration", "  clonefs snapshot db1@nightly --json"},
        description = {"Take a read-only, crash-consistent snapshot of a volume now.",
    "Through a daemon, the mount's dirty pages are flushed first (everything fsync'ed is in it)."})
final class SnapshotCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "VOLUME@SNAP", description = "Volume and new snapshot name.")
    String name;

    @Override
    public Integer call() {
        SnapshotName vs = Names.splitSnapshot(name);
        Api.Created r = withPool(s -> s.snapshot(vs.volume(), vs.snapshot()));
        if (json()) {
            Output.json(out(), r);
        } else {
            Results.snapshot(out(), r);
        }
        return ExitCodes.OK;
    }
}
