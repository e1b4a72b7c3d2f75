package io.clonefs.cli.pg;

import io.clonefs.api.PgApi;
import io.clonefs.base.ClonefsException;
import io.clonefs.base.ErrorKind;
import io.clonefs.cli.common.BranchResult;
import io.clonefs.engine.Names;
import io.clonefs.pg.PgDurations;
import io.clonefs.pg.PgLsn;
import io.clonefs.remote.RemoteConfig;
import java.time.Instant;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code clonefs pg branch}: a running, writable branch of a source server (or of a snapshot pushed to a remote). */
@Command(name = "branch", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
    footer = {"  clonefs pg branch src pr-42 --ttl 8h --suspend-after 10m", "  clonefs pg branch src pr-43 --memory 512MiB --cpu-weight 50 --setting work_mem=8MB", "  URI=$(clonefs pg branch src pr-42 --json | jq -r .uri)", "  clonefs pg branch src yesterday --at 24h",
        "  clonefs pg branch ceph:prod@nightly prod-copy   # a snapshot pushed to remote ceph"},
    description = {"Snapshot SOURCE while its server runs, clone it, start a server on the",
    "clone (promoted if SOURCE is a standby) and print its connection URI once it answers.",
    "SOURCE may be REMOTE:VOLUME@SNAP, a snapshot pushed to a remote (clonefs push): it is",
    "imported as REMOTE.VOLUME@SNAP (no data copied; blocks are fetched when read) and branched."})
final class PgBranchCommand extends PgSubcommand {
    @Parameters(index = "0", paramLabel = "SOURCE")
    String source;

    @Parameters(index = "1", paramLabel = "NEWNAME")
    String name;

    @Option(names = "--port", paramLabel = "N", description = "TCP port (default: a free one from the range).")
    Integer port;

    @Option(names = "--ttl", paramLabel = "DURATION", description = "Destroy the branch after this long (e.g. 30m, 8h, 7d).")
    String ttl;

    @Option(names = "--suspend-after", paramLabel = "DURATION", description = {"Suspend the server after this long without",
        "a client (e.g. 10m; 0 never); a connection to its port wakes it. Default: the pool's",
        "(CLONEFS_PG_SUSPEND_AFTER of the daemon; never unless set)."})
    String suspendAfter;

    @Option(names = "--checkpoint", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "CHECKPOINT on the source first (default): the branch then replays little WAL and starts "
                    + "in about a second instead of tens of seconds on a busy source. --no-checkpoint skips it.")
    boolean checkpoint;

    @Option(names = "--protect", description = "Refuse destroy and expiry until 'clonefs pg unprotect'.")
    boolean protect;

    @Option(names = "--at", paramLabel = "TIME", description = {"The source as it was at TIME exactly if its history is on",
        "(pg history), else from the newest snapshot taken at or before TIME (ISO-8601,",
        "'2025-01-31 12:00' local, or a duration ago such as 2h)."})
    String at;

    @Option(names = "--at-lsn", paramLabel = "LSN", description = {"The source with every WAL record that starts before LSN",
        "(e.g. 16/B374D848, as pg_current_wal_lsn() prints it); needs its history (pg history)."})
    String atLsn;

    @Option(names = "--memory", paramLabel = "SIZE", description = {"Limit the memory of the branch's server (its postmaster and",
        "every backend together) to SIZE, e.g. 512MiB, 2GiB: at least 64MiB, at most the host's RAM.",
        "Through its own cgroup (v2, or v1's memory controller); refused on a host without one."})
    String memory;

    @Option(names = "--cpu-weight", paramLabel = "N", description = {"Its share of CPU time when the CPUs are busy, 1..10000",
        "(100 is every other process's default): cgroup cpu.weight, or cpu.shares (N*1024/100) on cgroup v1."})
    Integer cpuWeight;

    @Option(names = "--setting", paramLabel = "NAME=VALUE", description = {"A PostgreSQL setting of its own, passed as -c NAME=VALUE",
        "at every start (repeatable); overrides the branch defaults shared_buffers=32MB, max_connections=50."})
    java.util.List<String> settings;

    @Override
    int run() {
        String atInstant = at == null ? null : PgDurations.parseMoment(at, Instant.now()).toString();
        int colon = source.indexOf(':');
        if (colon >= 0) {
            // REMOTE:VOLUME@SNAP: the daemon imports it (no data copied) and branches the imported snapshot
            if (at != null || atLsn != null) {
                throw new ClonefsException.InvalidArgument((at != null ? "--at" : "--at-lsn") + " applies to local sources, not to "
                        + source);
            }
            RemoteConfig.checkName(source.substring(0, colon));
            Names.splitSnapshot(source.substring(colon + 1));
        } else {
            checkName(source);
        }
        checkName(name);
        checkPort(port);
        if (ttl != null) {
            PgDurations.parse(ttl);
        }
        if (suspendAfter != null) {
            PgDurations.parseIdle(suspendAfter);
        }
        PgApi.LimitsRequest limits = PgLimitCommand.request(memory, cpuWeight, settings, null);
        if (at != null && atLsn != null) {
            throw new ClonefsException.InvalidArgument("give --at or --at-lsn, not both");
        }
        if (atLsn != null) {
            PgLsn.parse(atLsn);
        }
        PgApi.Branched b = client().branch(new PgApi.BranchRequest(source, name, port, ttl, checkpoint, protect, atInstant,
                suspendAfter, limits, atLsn));
        if (json()) {
            printJson(b);
        } else {
            BranchResult.print(out(), err(), b); // shared with the fast path (FastPath)
        }
        return ErrorKind.ExitCode.OK;
    }
}
