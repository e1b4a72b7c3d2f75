package io.clonefs.cli;

import io.clonefs.cli.common.CliException;
import io.clonefs.cli.common.Output;
import io.clonefs.cli.common.Times;
import io.clonefs.daemon.DaemonClient;
import io.clonefs.daemon.EventLog;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "events", mixinStandardHelpOptions = true, description = {"Print the daemon's event log: PostgreSQL branches created, reset,",
    "destroyed or expired, oldest first (also in POOL/events.log, one JSON object a line)."},
        footerHeading = "%nExamples:%n",
        footer = {"  clonefs events",
            "  clonefs events --since 42 --json     # what happened after event 42"})
final class EventsCommand extends BaseCommand {
    @Option(names = "--since", paramLabel = "SEQ", defaultValue = "0",
            description = "Only events after this sequence number (default: all that are kept).")
    long since;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "1000", description = "At most N events (default: 1000).")
    int limit;

    @Override
    public Integer call() {
        if (since < 0 || limit < 1 || limit > 10_000) {
            throw new CliException(ExitCodes.USAGE, "--since must be >= 0 and --limit from 1 to 10000");
        }
        DaemonClient d = DaemonClient.find(pool()).orElseThrow(() -> new CliException(ExitCodes.GENERAL,
                "no daemon serves pool " + pool() + " (start one with 'clonefs mount')"));
        EventLog.Page page = d.events(since, limit);
        if (json()) {
            Output.json(out(), page);
            return ExitCodes.OK;
        }
        if (page.events().isEmpty()) {
            out().println("no events after " + since);
            return ExitCodes.OK;
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"SEQ", "TIME", "EVENT", "KIND", "NAME", "DETAILS"});
        for (EventLog.Event e : page.events()) {
            rows.add(new String[] {Long.toString(e.seq()), Times.local(e.time()), e.type(), e.kind(), e.name(),
                details(e.details())});
        }
        Output.table(out(), rows);
        return ExitCodes.OK;
    }

    private static String details(Map<String, Object> d) {
        List<String> parts = new ArrayList<>();
        d.forEach((k, v) -> {
            if (v != null) {
                parts.add(k + "=" + v);
            }
        });
        return String.join(" ", parts);
    }
}
