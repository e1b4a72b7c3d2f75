package io.clonefs.cli.pg;

import io.clonefs.cli.ExitCodes;
import io.clonefs.cli.Sizes;
import io.clonefs.base.ClonefsException;
import io.clonefs.engine.Names;
import io.clonefs.pg.PgApi;
import io.clonefs.pg.PgDurations;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code clonefs pg ...}: PostgreSQL servers on volumes, and their branches. Each is a client of the daemon. */
@Command(name = "pg", mixinStandardHelpOptions = true, sortOptions = false, usageHelpAutoWidth = true,
        description = {"PostgreSQL servers on volumes and their branches: a running, writable copy of a live",
            "database in about a second. Needs the pool's daemon (clonefs mount); servers run as the",
            "postgres OS user on 127.0.0.1, ports from 54400-54499 unless --port (CLONEFS_PG_PORTS)."},
        footerHeading = "%nExamples:%n",
        footer = {"  clonefs pg init src && clonefs pg branch src dev1", "  clonefs pg list --json"},
        subcommands = {
            PgCommand.Init.class, PgCommand.Import.class, PgCommand.Start.class, PgCommand.Stop.class,
            PgCommand.Branch.class, PgCommand.ListServers.class, PgCommand.Reset.class, PgCommand.Destroy.class,
            PgCommand.Protect.class, PgCommand.Unprotect.class, PgCommand.Schedule.class
        })
public final class PgCommand implements Runnable {
    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "missing pg command");
    }

    static void checkName(String name) {
        Names.checkDataset("volume", name);
    }

    static void checkPort(Integer port) {
        if (port != null && (port < 1 || port > 65535)) {
            throw new ClonefsException.InvalidArgument("--port " + port + " is not a TCP port");
        }
    }

    @Command(name = "init", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  clonefs pg init src", "  clonefs pg init src --port 54400 --json"},
        description = {"initdb (with data checksums) in VOLUME/data, creating the volume if missing;",
        "start the server and print its connection URI."})
    static final class Init extends PgSubcommand {
        @Parameters(paramLabel = "VOLUME")
        String volume;

        @Option(names = "--port", paramLabel = "N", description = "TCP port (default: a free one from the range).")
        Integer port;

        @Override
        int run() {
            checkName(volume);
            checkPort(port);
            PgApi.Server s = client().init(volume, port);
            if (json()) {
                printJson(s);
            } else {
                out().println(s.uri());
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "import", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  clonefs pg import prod --from 'host=db1 user=replicator' --follow"},
        description = {"pg_basebackup from a running server into VOLUME/data and start the copy;",
        "with --follow the copy stays a streaming standby of that server (branches are then always fresh)."})
    static final class Import extends PgSubcommand {
        @Parameters(paramLabel = "VOLUME")
        String volume;

        @Option(names = "--from", required = true, paramLabel = "CONNINFO",
                description = "Connection string of the server to copy, e.g. 'host=db1 user=replicator'.")
        String from;

        @Option(names = "--follow", description = "Stay a streaming standby of that server.")
        boolean follow;

        @Option(names = "--port", paramLabel = "N", description = "TCP port (default: a free one from the range).")
        Integer port;

        @Override
        int run() {
            checkName(volume);
            checkPort(port);
            PgClient c = client();
            CompletableFuture<PgApi.Server> done = CompletableFuture.supplyAsync(() -> c.importFrom(volume, from, follow, port));
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
                    return ExitCodes.OK;
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
                    return ExitCodes.GENERAL;
                }
            }
        }
    }

    @Command(name = "start", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  clonefs pg start src"},
        description = {"Start a managed server (or adopt a volume holding a PostgreSQL data",
        "directory) and wait until it answers."})
    static final class Start extends PgSubcommand {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        int run() {
            checkName(name);
            PgApi.Server s = client().start(name);
            if (json()) {
                printJson(s);
            } else {
                out().println(s.uri());
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "stop", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  clonefs pg stop pr-42"},
        description = "Stop a managed server (it stays stopped across daemon restarts).")
    static final class Stop extends PgSubcommand {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        int run() {
            checkName(name);
            PgApi.Server s = client().stop(name);
            if (json()) {
                printJson(s);
            } else {
                out().println("stopped " + s.name());
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "branch", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  clonefs pg branch src pr-42 --ttl 8h", "  URI=$(clonefs pg branch src pr-42 --json | jq -r .uri)", "  clonefs pg branch src yesterday --at 24h",
            "  clonefs pg branch ceph:prod@nightly prod-copy   # a snapshot pushed to remote ceph"},
        description = {"Snapshot SOURCE while its server runs, clone it, start a server on the",
        "clone (promoted if SOURCE is a standby) and print its connection URI once it answers.",
        "SOURCE may be REMOTE:VOLUME@SNAP, a snapshot pushed to a remote (clonefs push): it is",
        "imported as REMOTE.VOLUME@SNAP (no data copied; blocks are fetched when read) and branched."})
    static final class Branch extends PgSubcommand {
        @Parameters(index = "0", paramLabel = "SOURCE")
        String source;

        @Parameters(index = "1", paramLabel = "NEWNAME")
        String name;

        @Option(names = "--port", paramLabel = "N", description = "TCP port (default: a free one from the range).")
        Integer port;

        @Option(names = "--ttl", paramLabel = "DURATION", description = "Destroy the branch after this long (e.g. 30m, 8h, 7d).")
        String ttl;

        @Option(names = "--checkpoint", negatable = true, defaultValue = "true", fallbackValue = "true",
                description = "CHECKPOINT on the source first (default): the branch then replays little WAL and starts "
                        + "in about a second instead of tens of seconds on a busy source. --no-checkpoint skips it.")
        boolean checkpoint;

        @Option(names = "--protect", description = "Refuse destroy and expiry until 'clonefs pg unprotect'.")
        boolean protect;

        @Option(names = "--at", paramLabel = "TIME", description = {"Branch from the newest snapshot taken at or before TIME",
            "(ISO-8601, '2025-01-31 12:00' local, or a duration ago such as 2h)."})
        String at;

        @Override
        int run() {
            String atInstant = at == null ? null : PgDurations.parseMoment(at, Instant.now()).toString();
            int colon = source.indexOf(':');
            if (colon >= 0) {
                // REMOTE:VOLUME@SNAP: make it a local snapshot (no data copied), then branch its volume at that snapshot
                if (at != null) {
                    throw new ClonefsException.InvalidArgument("--at applies to local sources, not to " + source);
                }
                io.clonefs.remote.RemoteConfig.checkName(source.substring(0, colon));
                Names.splitSnapshot(source.substring(colon + 1));
                checkName(name);
                io.clonefs.remote.RemoteApi.RemoteImported im;
                try (io.clonefs.remote.RemoteClient rc = io.clonefs.remote.RemoteClient.connect(pool())) {
                    im = rc.importRemote(source.substring(0, colon), source.substring(colon + 1));
                }
                source = im.volume();
                atInstant = Instant.now().toString(); // the newest snapshot of the imported volume: the imported one
            }
            checkName(source);
            checkName(name);
            checkPort(port);
            if (ttl != null) {
                PgDurations.parse(ttl);
            }
            PgApi.Branched b = client().branch(new PgApi.BranchRequest(source, name, port, ttl, checkpoint, protect, atInstant));
            if (json()) {
                printJson(b);
            } else {
                out().println(b.uri());
                out().flush();
                err().println("branch " + b.name() + " of " + b.source() + " (" + b.snapshot() + ") answers after "
                        + b.millis().total() + " ms" + (b.expiresAt() == null ? "" : "; expires " + io.clonefs.cli.Times.local(b.expiresAt())));
                err().flush();
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  clonefs pg list", "  clonefs pg list --json | jq -r '.[] | select(.role==\"branch\") | .name'"},
        description = {"Every managed server: sources and branches, state, port, age, expiry,",
        "and UNIQUE, the bytes only its volume holds (what destroying it frees)."})
    static final class ListServers extends PgSubcommand {
        @Override
        int run() {
            List<PgApi.Server> servers = client().list();
            if (json()) {
                printJson(servers);
                return ExitCodes.OK;
            }
            if (servers.isEmpty()) {
                out().println("no PostgreSQL servers in " + pool());
                return ExitCodes.OK;
            }
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"NAME", "ROLE", "STATE", "PORT", "SOURCE", "AGE", "EXPIRES", "UNIQUE", "URI"});
            for (PgApi.Server s : servers) {
                String role = s.role() + (s.standby() ? " (standby)" : "") + (s.protect() ? " (protected)" : "");
                String source = s.snapshot() != null ? s.snapshot() : s.primary() != null ? s.primary() : "-";
                String expires = s.expiresAt() == null ? "-"
                        : "in " + age(Math.max(0, Duration.between(Instant.now(), Instant.parse(s.expiresAt())).toSeconds()));
                rows.add(new String[] {s.name(), role, s.state(), Integer.toString(s.port()), source, age(s.ageSeconds()),
                    expires, Sizes.format(s.uniqueBytes()), s.uri()});
            }
            table(rows);
            return ExitCodes.OK;
        }
    }

    @Command(name = "reset", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  clonefs pg reset pr-42"},
        description = "Bring a branch back to its snapshot (same port, same URI).")
    static final class Reset extends PgSubcommand {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        int run() {
            checkName(name);
            PgApi.Branched b = client().reset(name);
            if (json()) {
                printJson(b);
            } else {
                out().println(b.uri());
                out().flush();
                err().println("branch " + b.name() + " reset to " + b.snapshot() + " in " + b.millis().total() + " ms");
                err().flush();
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "destroy", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  clonefs pg destroy pr-42"},
        description = {"Stop a managed server and destroy its volume (a snapshot taken for a",
        "branch goes too once nothing uses it). Refused while protected or while it has branches."})
    static final class Destroy extends PgSubcommand {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        int run() {
            checkName(name);
            PgApi.Destroyed d = client().destroy(name);
            if (json()) {
                printJson(d);
            } else {
                out().println("destroyed " + d.name() + (d.snapshotDestroyed() == null ? "" : " and " + d.snapshotDestroyed()));
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "protect", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  clonefs pg protect src"},
        description = "Refuse destroy and expiry of a server.")
    static final class Protect extends PgSubcommand {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        int run() {
            checkName(name);
            PgApi.Server s = client().protect(name, true);
            if (json()) {
                printJson(s);
            } else {
                out().println("protected " + s.name());
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "unprotect", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  clonefs pg unprotect src"},
        description = "Allow destroy (and expiry, if it has a TTL) again.")
    static final class Unprotect extends PgSubcommand {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        int run() {
            checkName(name);
            PgApi.Server s = client().protect(name, false);
            if (json()) {
                printJson(s);
            } else {
                out().println("unprotected " + s.name());
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "schedule", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  clonefs pg schedule src --every 15m --keep 96", "  clonefs pg schedule", "  clonefs pg schedule src --off"},
        description = {"Scheduled snapshots of a source, for 'clonefs pg branch --at':",
        "'schedule SOURCE --every 15m --keep 96' sets one, 'schedule SOURCE --off' removes it,",
        "'schedule' lists them."})
    static final class Schedule extends PgSubcommand {
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
                            io.clonefs.cli.Times.local(s.lastAt()), Integer.toString(s.snapshots().size())});
                    }
                    table(rows);
                }
                return ExitCodes.OK;
            }
            checkName(source);
            if (off) {
                c.unschedule(source);
                if (json()) {
                    printJson(java.util.Map.of("source", source, "scheduled", false));
                } else {
                    out().println("no more scheduled snapshots of " + source);
                }
                return ExitCodes.OK;
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
            return ExitCodes.OK;
        }
    }
}
