package io.clonefs.cli.pg;

import io.clonefs.api.MaskApi;
import io.clonefs.base.ClonefsException;
import io.clonefs.base.ErrorKind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code clonefs pg mask}: a masked copy of a source whose original values are provably gone. */
@Command(name = "mask", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
    footer = {"  clonefs pg mask prod --rules masking.rules --into prod-masked",
        "  clonefs pg branch prod-masked alice          # hand out masked branches",
        "  clonefs pg mask prod --rules masking.rules --into prod-masked --json | jq .verify",
        "",
        "A rules file:",
        "  # [schema.]table.column = SQL expression over the row's columns",
        "  customers.email = 'customer' || id || '@example.invalid'",
        "  customers.phone = NULL",
        "  [sql]",
        "  DELETE FROM audit_log;",
        "",
        "Exit codes: 0 masked; 7 original values were found (nothing kept); others as for any command."},
    description = {"Make NAME, a copy of SOURCE with its personal data masked, to hand out.",
    "Branch SOURCE as NAME, apply the rules (one UPDATE per table, then the free SQL after",
    "[sql]), rewrite every table the mask changed and the statistics (VACUUM FULL: no old row",
    "versions), stop the server cleanly, remove all WAL written before (pg_resetwal) and empty its",
    "logs, take the snapshot NAME@masked-TIME and mark NAME masked: `pg list` shows the mark, and",
    "branches of NAME inherit it. --verify (on by default) first searches every byte of the",
    "snapshot's files for original values sampled from the masked text columns; a hit fails the",
    "command naming the column, file and offset (never the value), and NAME is destroyed.",
    "The source is not touched beyond the CHECKPOINT of any branch."})
final class PgMaskCommand extends PgSubcommand {
    @Parameters(paramLabel = "SOURCE", description = "The server to mask a copy of.")
    String source;

    @Option(names = "--rules", required = true, paramLabel = "RULES", description = "The rules file.")
    Path rules;

    @Option(names = "--into", required = true, paramLabel = "NAME", description = "The masked server's name (new).")
    String into;

    @Option(names = "--database", paramLabel = "DB", description = "The database the rules apply to (default postgres).")
    String database;

    @Option(names = "--verify", negatable = true, defaultValue = "true", fallbackValue = "true",
        description = "Search the masked snapshot for sampled original values (default; --no-verify skips it and marks the copy unverified).")
    boolean verify;

    @Option(names = "--samples", paramLabel = "N", description = "Original values sampled per text column for --verify (default 1000).")
    Integer samples;

    @Option(names = "--no-rewrite", hidden = true, description = "Unsafe, for showing what --verify catches: do not rewrite the masked tables.")
    boolean noRewrite;

    @Option(names = "--keep-wal", hidden = true, description = "Unsafe, for showing what --verify catches: keep the WAL written before the mask.")
    boolean keepWal;

    @Override
    int run() {
        checkName(source);
        checkName(into);
        String text = PgCheckMigrationCommand.read(rules, "rules");
        if (text.length() > PgCheckMigrationCommand.MAX_FILES) {
            throw new ClonefsException.InvalidArgument("the rules file is larger than "
                    + (PgCheckMigrationCommand.MAX_FILES >> 20) + " MiB, more than the daemon takes in one request");
        }
        MaskApi.Report r = client().mask(new MaskApi.MaskRequest(source, text, rules.getFileName().toString(), into,
                database, verify, samples, noRewrite ? Boolean.FALSE : null, keepWal ? Boolean.TRUE : null));
        if (json()) {
            printJson(r);
        } else {
            out().print(MaskReports.text(r));
            out().flush();
        }
        return "masked".equals(r.verdict()) ? ErrorKind.ExitCode.OK : ErrorKind.ExitCode.CHECK_FAILED;
    }
}
