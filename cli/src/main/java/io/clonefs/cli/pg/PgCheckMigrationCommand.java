package io.clonefs.cli.pg;

import io.clonefs.api.MigrationApi;
import io.clonefs.base.ClonefsException;
import io.clonefs.base.ErrorKind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code clonefs pg check-migration}: a migration run on a branch, with what it locks and whom it blocks. */
@Command(name = "check-migration", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
    footer = {"  clonefs pg check-migration prod --file migrations/042_add_index.sql",
        "  clonefs pg check-migration prod --file 042.sql --workload app.pgbench \\",
        "      --clients 8 --max-lock 2s",
        "  clonefs pg check-migration prod --file 042.sql --markdown > pr-comment.md",
        "  clonefs pg check-migration prod --file 042.sql --json | jq .violations",
        "  clonefs pg check-migration prod --file 042.sql --keep --name prod-042",
        "  clonefs pg diff prod prod-042 --schema --data   # then pg destroy prod-042",
        "  # in CI: docs/ci/branch-per-pr.sh check PR (exit 7 fails the job)",
        "",
        "Exit codes: 0 passed; 7 a statement failed or a threshold was exceeded; others as for any command."},
    description = {"Try a migration on a branch of SOURCE and report its locks and costs.",
    "Branch SOURCE, run the migration there statement by statement in one session (as psql",
    "would), optionally while a pgbench script (--workload) runs on the branch, sample every 50 ms",
    "which table locks the migration holds and which queries wait behind it, then destroy the",
    "branch (--keep keeps it). The source is not touched beyond the CHECKPOINT of any branch.",
    "The report: duration per statement, each lock that blocks reads or writes of a table and",
    "for how long, the workload's waits and latency before and during, tables rewritten and size",
    "changes, WAL generated, errors and warnings from the server's log."})
final class PgCheckMigrationCommand extends PgSubcommand {
    /** The daemon takes request bodies up to 16 MiB; the migration and workload travel in one (as JSON). */
    static final int MAX_FILES = 15 << 20;

    @Parameters(paramLabel = "SOURCE", description = "The server to branch.")
    String source;

    @Option(names = "--file", required = true, paramLabel = "MIGRATION.sql", description = "The migration: SQL statements.")
    Path file;

    @Option(names = "--workload", paramLabel = "SCRIPT", description = "A pgbench script run on the branch during the migration.")
    Path workload;

    @Option(names = "--clients", paramLabel = "N", description = "pgbench clients of the workload (default 4).")
    Integer clients;

    @Option(names = "--warmup", paramLabel = "DURATION", description = "How long the workload runs before the migration (default 5s).")
    String warmup;

    @Option(names = "--database", paramLabel = "DB", description = "The database to run in (default postgres).")
    String database;

    @Option(names = "--name", paramLabel = "NAME", description = "The branch's name (default SOURCE-check-TIME).")
    String name;

    @Option(names = "--keep", description = "Keep the branch afterwards.")
    boolean keep;

    @Option(names = "--max-lock", paramLabel = "DURATION", description = "Fail when a lock blocks a table's reads or writes longer (default 10s).")
    String maxLock;

    @Option(names = "--max-blocked", paramLabel = "DURATION", description = "Fail when a workload query waits longer (default 1s).")
    String maxBlocked;

    @Option(names = "--max-duration", paramLabel = "DURATION", description = "Fail (and cancel) when the migration runs longer (default 1h).")
    String maxDuration;

    @Option(names = "--markdown", description = "Print the report as Markdown (e.g. for a pull-request comment).")
    boolean markdown;

    @Override
    int run() {
        checkName(source);
        if (name != null) {
            checkName(name);
        }
        String sql = read(file, "migration");
        String script = workload == null ? null : read(workload, "workload");
        if (sql.length() + (script == null ? 0 : script.length()) > MAX_FILES) {
            throw new ClonefsException.InvalidArgument("the migration and workload files together are larger than "
                    + (MAX_FILES >> 20) + " MiB, more than the daemon takes in one request");
        }
        MigrationApi.Report r = client().checkMigration(new MigrationApi.CheckRequest(source, sql,
                file.getFileName().toString(), script, workload == null ? null : workload.getFileName().toString(),
                clients, warmup, database, name, keep, maxLock, maxBlocked, maxDuration));
        if (json()) {
            printJson(r);
        } else {
            out().print(markdown ? MigrationReports.markdown(r) : MigrationReports.text(r));
            out().flush();
        }
        return "pass".equals(r.verdict()) ? ErrorKind.ExitCode.OK : ErrorKind.ExitCode.CHECK_FAILED;
    }

    static String read(Path f, String what) {
        try {
            return Files.readString(f, StandardCharsets.UTF_8);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new ClonefsException.NotFound("no " + what + " file " + f);
        } catch (IOException | RuntimeException e) {
            throw new ClonefsException.InvalidArgument("cannot read the " + what + " file " + f + ": "
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
        }
    }
}
