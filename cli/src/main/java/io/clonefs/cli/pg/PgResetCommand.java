package io.clonefs.cli.pg;

import io.clonefs.api.PgApi;
import io.clonefs.base.ClonefsException;
import io.clonefs.base.ErrorKind;
import io.clonefs.pg.PgDurations;
import io.clonefs.pg.PgLsn;
import java.time.Instant;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code clonefs pg reset}: brings a branch back to its snapshot or moment, or to another moment of its source's history. */
@Command(name = "reset", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
    footer = {"  clonefs pg reset pr-42", "  clonefs pg reset incident --at '2026-12-06 14:03:12'",
        "  clonefs pg reset incident --at-lsn 16/B374D848"},
    description = {"Bring a branch back to what it was made from (same port, same URI): its",
        "snapshot, or the moment of its source's history it was made at. With --at or",
        "--at-lsn, to another moment of that history."})
final class PgResetCommand extends PgSubcommand {
    @Parameters(paramLabel = "NAME")
    String name;

    @Option(names = "--at", paramLabel = "TIME", description = {"The source as it was at TIME exactly (every transaction",
        "committed at or before it); needs the source's history (pg history). ISO-8601,",
        "'2025-01-31 12:00' local, or a duration ago such as 2h."})
    String at;

    @Option(names = "--at-lsn", paramLabel = "LSN", description = {"The source with every WAL record that starts before LSN",
        "(e.g. 16/B374D848); needs the source's history."})
    String atLsn;

    @Override
    int run() {
        checkName(name);
        if (at != null && atLsn != null) {
            throw new ClonefsException.InvalidArgument("give --at or --at-lsn, not both");
        }
        String atInstant = at == null ? null : PgDurations.parseMoment(at, Instant.now()).toString();
        if (atLsn != null) {
            PgLsn.parse(atLsn);
        }
        PgApi.Branched b = client().reset(name, atInstant == null && atLsn == null ? null
                : new PgApi.ResetRequest(atInstant, atLsn));
        if (json()) {
            printJson(b);
        } else {
            out().println(b.uri());
            out().flush();
            err().println("branch " + b.name() + " reset to " + b.snapshot() + (at != null ? " at " + atInstant
                    : atLsn != null ? " at LSN " + atLsn.strip() : "") + " in " + b.millis().total() + " ms");
            err().flush();
        }
        return ErrorKind.ExitCode.OK;
    }
}
