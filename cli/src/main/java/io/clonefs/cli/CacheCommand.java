package io.clonefs.cli;

import io.clonefs.api.RemoteApi;
import io.clonefs.cli.common.Output;
import io.clonefs.cli.common.Sizes;
import io.clonefs.remote.RemoteClient;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code clonefs cache status|evict}: the local copies of blocks cloned from remotes. */
@Command(name = "cache", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  clonefs cache status --json", "  clonefs cache evict --keep 10GiB"},
        description = {"Show or shrink the local cache of blocks of snapshots cloned from remotes."},
        subcommands = {CacheCommand.Status.class, CacheCommand.Evict.class})
final class CacheCommand extends BaseCommand {
    @Override
    public Integer call() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "missing command: status or evict");
    }

    abstract static class Sub implements Callable<Integer> {
        @ParentCommand
        CacheCommand parent;

        @Spec
        CommandSpec spec;
    }

    @Command(name = "status", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
            footer = {"  clonefs cache status", "  clonefs cache status --json"}, description = "Remote-backed blocks, how many are cached, fetch counters.")
    static final class Status extends Sub {
        @Override
        public Integer call() {
            RemoteApi.Cache c;
            try (RemoteClient rc = RemoteClient.connect(parent.pool())) {
                c = rc.cache();
            }
            if (parent.json()) {
                Output.json(spec.commandLine().getOut(), c);
            } else {
                print(spec.commandLine().getOut(), c);
            }
            return ExitCodes.OK;
        }
    }

    static void print(PrintWriter out, RemoteApi.Cache c) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"remote-backed blocks", Long.toString(c.remoteBlocks())});
        rows.add(new String[] {"cached blocks", c.cachedBlocks() + " (" + Sizes.format(c.cachedBytes()) + ")"});
        rows.add(new String[] {"fetches", c.fetches() + " (" + Sizes.format(c.fetchedBytes()) + ")"});
        rows.add(new String[] {"fetch errors", Long.toString(c.fetchErrors())});
        Output.table(out, rows);
    }

    @Command(name = "evict", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
            footer = {"  clonefs cache evict            # drop every cached block", "  clonefs cache evict --keep 10GiB"},
            description = {"Drop cached copies of remote blocks (they are fetched again when read)."})
    static final class Evict extends Sub {
        @Option(names = "--keep", paramLabel = "SIZE", description = "Keep up to SIZE cached (e.g. 10GiB; default 0).")
        String keep;

        @Override
        public Integer call() {
            long k = keep == null ? 0 : Sizes.parse(keep);
            RemoteApi.Evicted e;
            try (RemoteClient rc = RemoteClient.connect(parent.pool())) {
                e = rc.evict(k);
            }
            if (parent.json()) {
                Output.json(spec.commandLine().getOut(), e);
            } else {
                spec.commandLine().getOut().println("evicted " + Sizes.format(e.freedBytes()) + "; "
                        + Sizes.format(e.cache().cachedBytes()) + " still cached");
            }
            return ExitCodes.OK;
        }
    }
}
