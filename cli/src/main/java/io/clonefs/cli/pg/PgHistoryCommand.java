package io.clonefs.cli.pg;

import io.clonefs.api.PgApi;
import io.clonefs.base.ByteSizes;
import io.clonefs.base.ClonefsException;
import io.clonefs.base.ErrorKind;
import io.clonefs.cli.common.Sizes;
import io.clonefs.pg.PgDurations;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code clonefs pg history}: a source's WAL archived into the pool and snapshots on a schedule, for branches at a moment. */
@Command(name = "history", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
    footer = {"  clonefs pg history prod --keep 7d            # on: a 7-day window",
        "  clonefs pg history prod --keep 7d --restart  # and archive from now: restart",
        "  clonefs pg history prod                      # the window, archive, snapshots",
        "  clonefs pg history prod --off                # off: archive, snapshots deleted"},
    description = {"Keep the history of source NAME: its WAL archived into the pool (fsync'd",
    "before PostgreSQL may recycle it) and a snapshot every --every (default 15m) or",
    "every --every-wal of WAL (default 64MiB), both kept for the window --keep.",
    "Archiving needs archive_mode, which PostgreSQL reads at its start: it begins at",
    "the server's next start, or now with --restart (its clients are disconnected).",
    "Without options: print the window. --off: stop archiving and delete the archive",
    "and history snapshots."})
final class PgHistoryCommand extends PgSubcommand {
    @Parameters(paramLabel = "NAME", description = "The source.")
    String name;

    @Option(names = "--keep", paramLabel = "DURATION", description = "The window: how long WAL and snapshots are kept (e.g. 7d); turns history on.")
    String keep;

    @Option(names = "--every", paramLabel = "DURATION", description = "The interval of history snapshots (default 15m).")
    String every;

    @Option(names = "--every-wal", paramLabel = "SIZE", description = {"Also a snapshot once the source has written SIZE of WAL",
        "since the last one (default 64MiB; 0: by time only), so that a branch at a moment",
        "replays at most about that much. Snapshots older than an hour thin out to one",
        "per --every."})
    String everyWal;

    @Option(names = "--restart", description = "Restart a running source now so that it archives at once.")
    boolean restart;

    @Option(names = "--off", description = "Turn history off and delete its archive and snapshots.")
    boolean off;

    @Override
    int run() {
        checkName(name);
        PgApi.History h;
        if (off) {
            if (keep != null || every != null || everyWal != null || restart) {
                throw new ClonefsException.InvalidArgument("--off takes no --keep, --every, --every-wal or --restart");
            }
            h = client().historyOff(name);
        } else if (keep != null) {
            PgDurations.parse(keep);
            if (every != null) {
                PgDurations.parse(every);
            }
            if (everyWal != null) {
                ByteSizes.parse(everyWal);
            }
            h = client().history(name, new PgApi.HistoryRequest(keep, every, restart ? Boolean.TRUE : null, everyWal));
        } else {
            if (every != null || everyWal != null || restart) {
                throw new ClonefsException.InvalidArgument("--every, --every-wal and --restart go with --keep");
            }
            h = client().historyStatus(name);
        }
        if (json()) {
            printJson(h);
            return ErrorKind.ExitCode.OK;
        }
        if (!h.on()) {
            out().println(h.name() + ": history off; archive and history snapshots deleted");
            return ErrorKind.ExitCode.OK;
        }
        out().println(h.name() + ": history on since " + h.since() + ", window " + h.keep() + ", a snapshot every "
                + h.every() + ("off".equals(h.everyWal()) || h.everyWal() == null ? "" : " or " + h.everyWal() + " of WAL"));
        out().println("  reachable: " + (h.oldest() == null ? "nothing yet (the first snapshot is taken once the server archives)"
                : "from " + h.oldest() + (h.oldestLsn() == null ? "" : " (LSN " + h.oldestLsn() + ")") + " to "
                + (h.newest() == null ? "its last archived WAL" : h.newest())));
        if (h.replaying() != null && !h.replaying().isEmpty()) {
            out().println("  replaying: " + String.join(", ", h.replaying()));
        }
        out().println("  archiving: " + (h.archiving() ? "yes" + (h.lastArchivedWal() == null ? ""
                : ", last " + h.lastArchivedWal() + " at " + h.lastArchivedAt()) + (h.failedCount() > 0
                ? ", " + h.failedCount() + " failed attempts" : "")
                : "no: it starts at the server's next start (or run again with --restart)"));
        out().println("  archive: " + Sizes.format(h.walBytes()) + " in " + h.walFiles() + " files; snapshots: "
                + h.snapshots().size() + (h.snapshots().isEmpty() ? "" : " (newest " + h.snapshots().get(0) + ")"));
        return ErrorKind.ExitCode.OK;
    }
}
