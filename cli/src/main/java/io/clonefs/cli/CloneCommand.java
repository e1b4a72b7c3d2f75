package io.clonefs.cli;

import io.clonefs.api.Api;
import io.clonefs.api.RemoteApi;
import io.clonefs.cli.common.Output;
import io.clonefs.engine.Names;
import io.clonefs.remote.RemoteClient;
import io.clonefs.remote.RemoteConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "clone", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  clonefs clone db1@before-migration db1-test", "  clonefs clone db1 db1-copy --json   # snapshots db1 now",
            "  clonefs clone ceph:db1@nightly db1-from-prod   # pushed to remote ceph"},
        description = {"Create a writable volume from a snapshot.",
    "SOURCE is VOLUME@SNAP, or a VOLUME, of which a snapshot named clone-<UTC time> is taken now,",
    "or REMOTE:VOLUME@SNAP, a snapshot pushed to a remote: it is imported as REMOTE.VOLUME@SNAP",
    "(once; no data is copied, blocks are fetched when first read) and cloned."})
final class CloneCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "SOURCE", description = "VOLUME@SNAP or VOLUME.")
    String source;

    @Parameters(index = "1", paramLabel = "NEWVOLUME", description = "Name of the new volume.")
    String name;

    @Override
    public Integer call() {
        int colon = source.indexOf(':');
        if (colon >= 0) {
            return cloneRemote(source.substring(0, colon), source.substring(colon + 1));
        }
        checkName(source);
        Names.checkDataset("volume", name);
        Api.Cloned r = withPool(s -> s.cloneVolume(source, name));
        if (json()) {
            Output.json(out(), r);
        } else {
            Results.clone(out(), r);
        }
        return ExitCodes.OK;
    }

    private int cloneRemote(String remote, String snapshot) {
        RemoteConfig.checkName(remote);
        Names.splitSnapshot(snapshot);
        Names.checkDataset("volume", name);
        RemoteApi.RemoteCloned r;
        try (RemoteClient c = RemoteClient.connect(pool())) {
            r = c.cloneRemote(remote, snapshot, name);
        }
        if (json()) {
            Output.json(out(), r);
        } else {
            out().println("created clone " + r.name() + " from " + r.source() + " (local snapshot " + r.origin()
                    + (r.imported() ? ", imported now: " + r.blocks() + " blocks, fetched when read" : ", imported before")
                    + ") (" + Results.millis(r.elapsedMicros()) + ")");
        }
        return ExitCodes.OK;
    }
}
