package io.clonefs.cli;

import io.clonefs.daemon.Api;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "clone", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  clonefs clone db1@before-migration db1-test", "  clonefs clone db1 db1-copy --json   # snapshots db1 now"},
        description = {"Create a writable volume from a snapshot.",
    "SOURCE is VOLUME@SNAP, or a VOLUME, of which a snapshot named clone-<UTC time> is taken now."})
final class CloneCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "SOURCE", description = "VOLUME@SNAP or VOLUME.")
    String source;

    @Parameters(index = "1", paramLabel = "NEWVOLUME", description = "Name of the new volume.")
    String name;

    @Override
    public Integer call() {
        checkName(source);
        io.clonefs.engine.Names.checkDataset("volume", name);
        Api.Cloned r = withPool(s -> s.cloneVolume(source, name));
        if (json()) {
            Output.json(out(), r);
        } else {
            out().println("created clone " + r.name() + " from " + r.origin()
                    + (r.snapshotCreated() ? " (snapshot taken now)" : "") + " (" + millis(r.elapsedMicros()) + ")");
        }
        return ExitCodes.OK;
    }
}
