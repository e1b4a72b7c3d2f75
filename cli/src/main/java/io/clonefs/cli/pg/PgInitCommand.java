package io.clonefs.cli.pg;

import io.clonefs.api.PgApi;
import io.clonefs.base.ErrorKind;
import io.clonefs.pg.PgDurations;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code clonefs pg init}: a new PostgreSQL cluster on a volume, started. */
@Command(name = "init", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
    footer = {"  clonefs pg init src", "  clonefs pg init src --port 54400 --json"},
    description = {"initdb (with data checksums) in VOLUME/data, creating the volume if missing;",
    "start the server and print its connection URI."})
final class PgInitCommand extends PgSubcommand {
    @Parameters(paramLabel = "VOLUME")
    String volume;

    @Option(names = "--port", paramLabel = "N", description = "TCP port (default: a free one from the range).")
    Integer port;

    @Option(names = "--suspend-after", paramLabel = "DURATION", description = {"Suspend the server after this long without",
        "a client (e.g. 10m; default 0, never); a connection to its port wakes it."})
    String suspendAfter;

    @Override
    int run() {
        checkName(volume);
        checkPort(port);
        if (suspendAfter != null) {
            PgDurations.parseIdle(suspendAfter);
        }
        PgApi.Server s = client().init(volume, port, suspendAfter);
        if (json()) {
            printJson(s);
        } else {
            out().println(s.uri());
        }
        return ErrorKind.ExitCode.OK;
    }
}
