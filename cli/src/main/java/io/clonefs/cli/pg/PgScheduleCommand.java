package io.clonefs.cli.pg;

import io.clonefs.api.PgApi;
import io.clonefs.api.PgClient;
import io.clonefs.base.ClonefsException;
import io.clonefs.base.ErrorKind;
import io.clonefs.cli.common.Times;
import io.clonefs.pg.PgDurations;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code clonefs pg schedule}: sets, removes or lists scheduled snapshots of sources. */
@Command(name = "schedule", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
    footer = {"  clonefs pg schedule src --every 15m --keep 96", "  clonefs pg schedule", "  clonefs pg schedule src --off"},
    description = {"Scheduled snapshots of a source, for 'clonefs pg branch --at':",
    "'schedule SOURCE --every 15m --keep 96' sets one, 'schedule SOURCE --off' removes it,",
    "'schedule' lists them."})
final class PgScheduleCommand extends PgSubcommand {
    @Parameters(paramLabel = "SOURCE", arity = "0..1")
    String source;

    @Option(names = "--every", paramLabel = "DURATION", description = "Interval (e.g. 15m, 1h).")
    String every;

    @Option(names = "--keep", paramLabel = "K", description = "How many scheduled snapshots to keep (default: 24).")
    Integer keep;

    @Option(names = "--off", description = "Stop the schedule (its snapshots stay).")
    boolean off;

    @Override
    int run() {
        PgClient c = client();
        if (source == null) {
            if (every != null || keep != null || off) {
                throw new ClonefsException.InvalidArgument("give the SOURCE to schedule");
            }
            List<PgApi.Schedule> all = c.schedules();
            if (json()) {
                printJson(all);
            } else if (all.isEmpty()) {
                out().println("no snapshot schedules");
            } else {
                List<String[]> rows = new ArrayList<>();
                rows.add(new String[] {"SOURCE", "EVERY", "KEEP", "LAST", "SNAPSHOTS"});
                for (PgApi.Schedule s : all) {
                    rows.add(new String[] {s.source(), s.every(), Integer.toString(s.keep()),
                        Times.local(s.lastAt()), Integer.toString(s.snapshots().size())});
                }
                table(rows);
            }
            return ErrorKind.ExitCode.OK;
        }
        checkName(source);
        if (off) {
            c.unschedule(source);
            if (json()) {
                printJson(Map.of("source", source, "scheduled", false));
            } else {
                out().println("no more scheduled snapshots of " + source);
            }
            return ErrorKind.ExitCode.OK;
        }
        if (every == null) {
            throw new ClonefsException.InvalidArgument("give --every DURATION (or --off)");
        }
        PgDurations.parse(every);
        PgApi.Schedule s = c.schedule(source, every, keep == null ? 24 : keep);
        if (json()) {
            printJson(s);
        } else {
            out().println("snapshot of " + s.source() + " every " + s.every() + ", keeping " + s.keep());
        }
        return ErrorKind.ExitCode.OK;
    }
}
