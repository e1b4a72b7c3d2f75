package io.clonefs.cli;

import io.clonefs.api.Api;
import io.clonefs.cli.common.Output;
import picocli.CommandLine.Command;

@Command(name = "fsck", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  clonefs fsck", "  clonefs fsck --json || echo \"problems found\""},
        description = {"Recompute every reference count from every root and compare.",
    "Exit code 6 when it finds problems."})
final class FsckCommand extends BaseCommand {
    @Override
    public Integer call() {
        Api.Fsck r = withPool(s -> s.fsck());
        if (json()) {
            Output.json(out(), r);
        } else if (r.clean()) {
            out().println("pool " + pool() + " is consistent: " + r.roots() + " roots, " + r.nodes() + " nodes, "
                    + r.blocks() + " blocks");
        } else {
            for (String p : r.problems()) {
                out().println(p);
            }
            out().flush();
            spec.commandLine().getErr().println("clonefs: fsck found " + r.problems().size() + " problem"
                    + (r.problems().size() == 1 ? "" : "s") + " in pool " + pool());
        }
        return r.clean() ? ExitCodes.OK : ExitCodes.FSCK_PROBLEMS;
    }
}
