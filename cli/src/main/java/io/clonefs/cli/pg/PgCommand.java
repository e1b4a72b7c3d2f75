package io.clonefs.cli.pg;

import picocli.CommandLine.Command;

/** {@code clonefs pg ...}: PostgreSQL servers on volumes, and their branches. Each is a client of the daemon. */
@Command(name = "pg", mixinStandardHelpOptions = true, sortOptions = false, usageHelpAutoWidth = true,
        description = {"PostgreSQL servers on volumes and their branches: a running, writable copy of a live",
            "database in about a second. Needs the pool's daemon (clonefs mount); servers run as the",
            "postgres OS user on 127.0.0.1, ports from 54400-54499 unless --port (CLONEFS_PG_PORTS)."},
        footerHeading = "%nExamples:%n",
        footer = {"  clonefs pg init src && clonefs pg branch src dev1", "  clonefs pg list --json"},
        subcommands = {
            PgInitCommand.class, PgImportCommand.class, PgStartCommand.class, PgStopCommand.class,
            PgBranchCommand.class, PgListCommand.class, PgResetCommand.class, PgDestroyCommand.class,
            PgProtectCommand.class, PgUnprotectCommand.class, PgScheduleCommand.class
        })
public final class PgCommand implements Runnable {
    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "missing pg command");
    }
}
