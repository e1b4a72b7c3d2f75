package io.clonefs.cli.pg;

import java.util.List;
import picocli.CommandLine.Command;

/** {@code clonefs pg ...}: PostgreSQL servers on volumes, and their branches. Each is a client of the daemon. */
@Command(name = "pg", mixinStandardHelpOptions = true, sortOptions = false, usageHelpAutoWidth = true,
        description = {"PostgreSQL servers on volumes and their branches: a running, writable copy of a live",
            "database in about a second. Needs the pool's daemon (clonefs mount); servers run as the",
            "postgres OS user on 127.0.0.1, ports from 54400-55399 unless --port (CLONEFS_PG_PORTS)."},
        footerHeading = "%nExamples:%n",
        footer = {"  clonefs pg init src && clonefs pg branch src dev1", "  clonefs pg list --json"})
public final class PgCommand implements Runnable {
    /** The subcommands' names, in the order {@code clonefs pg --help} lists them (added like the top level's). */
    public static final List<String> SUBCOMMANDS = List.of("init", "import", "start", "stop", "branch", "list", "reset",
            "destroy", "protect", "unprotect", "ttl", "limit", "suspend", "suspend-after", "schedule", "history", "check-migration", "diff", "mask");

    /** A new instance of the subcommand {@code name} (one of {@link #SUBCOMMANDS}), or null. */
    public static Object subcommand(String name) {
        return switch (name) {
            case "init" -> new PgInitCommand();
            case "import" -> new PgImportCommand();
            case "start" -> new PgStartCommand();
            case "stop" -> new PgStopCommand();
            case "branch" -> new PgBranchCommand();
            case "list" -> new PgListCommand();
            case "check-migration" -> new PgCheckMigrationCommand();
            case "reset" -> new PgResetCommand();
            case "destroy" -> new PgDestroyCommand();
            case "protect" -> new PgProtectCommand();
            case "unprotect" -> new PgUnprotectCommand();
            case "ttl" -> new PgTtlCommand();
            case "limit" -> new PgLimitCommand();
            case "suspend" -> new PgSuspendCommand();
            case "suspend-after" -> new PgSuspendAfterCommand();
            case "schedule" -> new PgScheduleCommand();
            case "diff" -> new PgDiffCommand();
            case "history" -> new PgHistoryCommand();
            case "mask" -> new PgMaskCommand();
            default -> null;
        };
    }

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "missing pg command");
    }
}
