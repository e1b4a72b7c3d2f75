package io.clonefs.cli;

import io.clonefs.api.PushResult;
import io.clonefs.cli.common.Output;
import io.clonefs.cli.common.Sizes;
import io.clonefs.engine.Names;
import io.clonefs.remote.RemoteClient;
import io.clonefs.remote.RemoteConfig;
import java.io.PrintWriter;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code clonefs push VOLUME@SNAP REMOTE}. */
@Command(name = "push", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  clonefs push db1@nightly ceph", "  clonefs push db1@nightly ceph --json"},
        description = {"Upload a snapshot to a remote, so that other pools can clone it.",
            "Only blocks the remote does not hold yet are uploaded; an interrupted push resumes",
            "where it stopped. Progress goes to stderr every second."})
final class PushCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "VOLUME@SNAP")
    String snapshot;

    @Parameters(index = "1", paramLabel = "REMOTE")
    String remote;

    @Override
    public Integer call() {
        Names.splitSnapshot(snapshot);
        RemoteConfig.checkName(remote);
        PrintWriter err = spec.commandLine().getErr();
        boolean tty = System.console() != null;
        int[] last = {0};
        PushResult r;
        try (RemoteClient c = RemoteClient.connect(pool())) {
            r = c.push(snapshot, remote, v -> {
                if (top.quiet()) {
                    return;
                }
                String line = v.line();
                if (tty) {
                    err.print("\r" + line + " ".repeat(Math.max(0, last[0] - line.length())));
                } else {
                    err.println(line);
                }
                err.flush();
                last[0] = line.length();
            });
        } finally {
            if (tty && last[0] > 0) {
                err.println();
                err.flush();
            }
        }
        if (json()) {
            Output.json(out(), r);
        } else if (r.alreadyPushed()) {
            out().println(r.snapshot() + " is already on remote " + r.remote() + " (" + r.manifest() + "): nothing to do");
        } else {
            out().println(String.format(Locale.ROOT, "pushed %s to %s: %d blocks, %d uploaded (%s) in %d packs%s, %.1f s",
                    r.snapshot(), r.remote(), r.blocks(), r.uploadedBlocks(), Sizes.format(r.uploadedBytes()), r.packs(),
                    r.resumedPacks() > 0 ? " (" + r.resumedPacks() + " packs from an interrupted push reused)" : "", r.seconds()));
        }
        return ExitCodes.OK;
    }
}
