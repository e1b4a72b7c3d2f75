package io.clonefs.cli;

import io.clonefs.cli.common.Pools;
import io.clonefs.cli.pg.PgCommand;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The top-level {@code clonefs} command and the options every subcommand inherits. Its subcommands
 * are {@link #SUBCOMMANDS}, added by {@link Main} (all of them, or only the one a command line runs).
 */
@Command(name = "clonefs", mixinStandardHelpOptions = true, versionProvider = ClonefsCommand.Version.class,
        sortOptions = false, usageHelpAutoWidth = true,
        description = "Copy-on-write filesystem that clones PostgreSQL databases in O(1).",
        footerHeading = "%nExamples:%n",
        footer = {"  clonefs init /var/lib/clonefs && clonefs mount /var/lib/clonefs /mnt/clonefs",
            "  clonefs create db1 && clonefs snapshot db1@s1 && clonefs clone db1@s1 db1-test",
            "  clonefs list --json",
            "  source <(clonefs completion)",
            "",
            "Exit codes (docs/cli.md): 0 ok, 1 error, 2 usage or invalid name, 3 not found,",
            "4 exists, conflict or in use, 5 no space, 6 fsck found problems,",
            "7 a check failed (pg check-migration, pg mask, doctor)."})
public final class ClonefsCommand implements Runnable {
    /** The subcommands' names, in the order {@code clonefs --help} lists them. */
    static final List<String> SUBCOMMANDS = List.of("init", "mount", "umount", "create", "snapshot", "clone", "destroy",
            "list", "space", "fsck", "remote", "push", "cache", "pg", "events", "webhook", "token", "doctor", "ui", "completion");

    @Spec
    private CommandSpec spec;
    private Path pool;
    private boolean json;
    private boolean verbose;
    private boolean quiet;

    @Option(names = "--pool", paramLabel = "DIR", scope = ScopeType.INHERIT,
            description = "Pool directory (default: $CLONEFS_POOL, else /var/lib/clonefs).")
    void setPool(Path pool) {
        if (pool.toString().isBlank()) {
            // An empty --pool would otherwise resolve to the working directory.
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--pool needs a pool directory, not an empty string");
        }
        this.pool = pool;
    }

    @Option(names = "--json", scope = ScopeType.INHERIT, description = "Print results as JSON.")
    void setJson(boolean json) {
        this.json = json;
    }

    @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT,
            description = "Log more and print stack traces of errors.")
    void setVerbose(boolean verbose) {
        this.verbose = verbose;
        if (verbose) {
            Logging.level("io.clonefs", "DEBUG");
        }
    }

    @Option(names = {"-q", "--quiet"}, scope = ScopeType.INHERIT,
            description = "Log errors only (the daemon too, when it runs in the foreground).")
    void setQuiet(boolean quiet) {
        this.quiet = quiet;
        if (quiet) {
            Logging.level("io.clonefs", "ERROR");
        }
    }

    /** {@code --pool} as given, null when it was not. */
    Path poolOption() {
        return pool;
    }

    boolean quiet() {
        return quiet;
    }

    /** The pool: {@code --pool}, else {@code $CLONEFS_POOL}, else {@code /var/lib/clonefs}. */
    Path pool() {
        return Pools.resolve(pool);
    }

    boolean json() {
        return json;
    }

    boolean verbose() {
        return verbose;
    }

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "missing command");
    }

    /** A new instance of the subcommand {@code name} (one of {@link #SUBCOMMANDS}), or null. */
    static Object subcommand(String name) {
        return switch (name) {
            case "init" -> new InitCommand();
            case "mount" -> new MountCommand();
            case "umount" -> new UmountCommand();
            case "create" -> new CreateCommand();
            case "snapshot" -> new SnapshotCommand();
            case "clone" -> new CloneCommand();
            case "destroy" -> new DestroyCommand();
            case "list" -> new ListCommand();
            case "space" -> new SpaceCommand();
            case "fsck" -> new FsckCommand();
            case "remote" -> new RemoteCommand();
            case "push" -> new PushCommand();
            case "cache" -> new CacheCommand();
            case "pg" -> new PgCommand();
            case "events" -> new EventsCommand();
            case "webhook" -> new WebhookCommand();
            case "token" -> new TokenCommand();
            case "doctor" -> new DoctorCommand();
            case "ui" -> new UiCommand();
            case "completion" -> new CompletionCommand();
            default -> null;
        };
    }

    /** {@code clonefs --version}: the version the jar was built as. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = ClonefsCommand.class.getPackage().getImplementationVersion();
            return new String[] {"clonefs " + (v == null ? "dev" : v)
                    + " (Java " + Runtime.version() + ", " + System.getProperty("os.name") + ")"};
        }
    }
}
