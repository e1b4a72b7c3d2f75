package io.clonefs.cli.pg;

import io.clonefs.api.PgApi;
import io.clonefs.api.PgClient;
import io.clonefs.base.ErrorKind;
import io.clonefs.pg.PgDurations;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code clonefs pg import}: a copy of a running server (pg_basebackup), optionally following it; shows the import's progress while it waits. */
@Command(name = "import", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
    footer = {"  clonefs pg import prod --from 'host=db1 user=replicator' --follow"},
    description = {"pg_basebackup from a running server into VOLUME/data and start the copy;",
    "with --follow the copy stays a streaming standby of that server (branches are then always fresh)."})
final class PgImportCommand extends PgSubcommand {
    @Parameters(paramLabel = "VOLUME")
    String volume;

    @Option(names = "--from", required = true, paramLabel = "CONNINFO",
            description = "Connection string of the server to copy, e.g. 'host=db1 user=replicator'.")
    String from;

    @Option(names = "--follow", description = "Stay a streaming standby of that server.")
    boolean follow;

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
        PgClient c = client();
        CompletableFuture<PgApi.Server> done = CompletableFuture.supplyAsync(() -> c.importFrom(volume, from, follow, port, suspendAfter));
        String last = "";
        while (true) {
            try {
                PgApi.Server s = done.get(500, TimeUnit.MILLISECONDS);
                if (!last.isEmpty()) {
                    err().println();
                }
                if (json()) {
                    printJson(s);
                } else {
                    out().println(s.uri());
                }
                return ErrorKind.ExitCode.OK;
            } catch (TimeoutException e) {
                String line = c.progress(volume).map(PgApi.Progress::line).orElse("");
                if (!line.equals(last) && !line.isEmpty()) {
                    err().print("\r" + line + " ".repeat(Math.max(0, last.length() - line.length())));
                    err().flush();
                    last = line;
                }
            } catch (ExecutionException e) {
                if (!last.isEmpty()) {
                    err().println();
                }
                throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return ErrorKind.ExitCode.GENERAL;
            }
        }
    }
}
