package io.clonefs.cli;

import io.clonefs.cli.common.Pools;
import io.clonefs.daemon.PoolService;
import io.clonefs.engine.Names;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** Shared plumbing of the subcommands: global options, output, and reaching the pool. */
abstract class BaseCommand implements Callable<Integer> {
    @ParentCommand
    ClonefsCommand top;

    @Spec
    CommandSpec spec;

    Path pool() {
        return top.pool();
    }

    boolean json() {
        return top.json();
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    /** Runs {@code action} against the pool's daemon, or against the pool opened here. */
    <T> T withPool(Function<PoolService, T> action) {
        try (PoolService s = Pools.connect(pool())) {
            return action.apply(s);
        }
    }

    /** Checks a VOLUME or VOLUME@SNAP argument before anything is opened. */
    static void checkName(String name) {
        if (Names.isSnapshotName(name)) {
            Names.splitSnapshot(name);
        } else {
            Names.checkDataset("volume", name);
        }
    }
}
