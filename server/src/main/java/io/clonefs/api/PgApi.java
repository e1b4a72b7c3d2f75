package io.clonefs.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;

/**
 * What the branch manager returns and what the control API carries under {@code /v1/pg}: plain
 * values only (times are ISO-8601 strings, durations are strings such as {@code 2h}).
 */
public final class PgApi {
    private PgApi() {
    }

    /**
     * A managed server as listed.
     *
     * @param state       {@code running}, {@code stopped}, {@code suspended} (stopped for being
     *                    idle; a connection to its port starts it), {@code waking} (a connection
     *                    is starting it) or {@code missing} (its volume was destroyed behind the
     *                    manager's back)
     * @param pid         the postmaster's process id, or -1 when it does not run
     * @param ageSeconds  seconds since it was created
     * @param uniqueBytes bytes of blocks only its volume references (what destroying it frees)
     * @param standby     a streaming standby following {@code primary}
     * @param suspendAfter how long it may have no client before it is suspended ({@code 10m}), or
     *                    null for never
     * @param limits      its memory limit, CPU weight and settings of its own, or null for none
     * @param masked      the mark of masked data ({@code pg mask}), or null
     * @param history     its history ({@code pg history}), or null when off
     */
    public record Server(String name, String role, String uri, String source, String snapshot, int port, String state, long pid,
                         String createdAt, long ageSeconds, String expiresAt, @JsonProperty("protected") boolean protect,
                         boolean standby, String primary, long uniqueBytes, String dataDir, String log,
                         String suspendAfter, ServerLimits limits, Masked masked, HistorySummary history, Moment moment) {
    }

    /**
     * The moment of its source's history a branch was recovered to ({@code pg branch --at} on a
     * source with history): a time or an LSN, the other null.
     */
    public record Moment(String time, String lsn) {
    }

    /** A source's history as listed: its window and the bytes of WAL it keeps in the pool (see {@link History}). */
    public record HistorySummary(String keep, String every, long walBytes) {
    }

    /**
     * The mark of a server whose data is masked ({@code pg mask}): made by it, or branched from one.
     *
     * @param snapshot the masked snapshot it comes from ({@code volume@masked-TIME})
     * @param verified that snapshot's files were searched for sampled original values, none found
     * @param at       when the mask was made (ISO-8601)
     */
    public record Masked(String snapshot, boolean verified, String at) {
    }

    /**
     * A server's limits as listed.
     *
     * @param memory    bytes its processes may use together (its cgroup's memory limit), or null: no limit
     * @param cpuWeight its CPU weight, 1..10000 (100 is everyone's default), or null: the default
     * @param settings  PostgreSQL settings of its own, passed as {@code -c NAME=VALUE} at its start
     * @param cgroup    its cgroup while it runs with a limit (relative to the hierarchy root), else null
     */
    public record ServerLimits(Long memory, Integer cpuWeight, Map<String, String> settings, String cgroup) {
    }

    /**
     * Where the time of a branch (or reset) went, in milliseconds. {@code total} runs from the
     * request to the first answered query.
     */
    public record Timings(long checkpoint, long snapshot, long cloneVolume, long prepare, long start, long promote,
                          long firstQuery, long total) {
    }

    /** A branch that was created (or reset) and answers queries. */
    public record Branched(String name, String uri, int port, String source, String snapshot, boolean snapshotCreated,
                           String expiresAt, Timings millis) {
    }

    /** A server that was destroyed, and the snapshot destroyed with it (or null). */
    public record Destroyed(String name, String snapshotDestroyed) {
    }

    /**
     * A source's history ({@code pg history}): its WAL archived into the pool and snapshots on a
     * schedule, kept for a window, from which a branch can start at any moment of it.
     *
     * @param on              history is on
     * @param keep            the window, e.g. {@code 7d}
     * @param every           the interval of its snapshots, e.g. {@code 15m}
     * @param since           when history was turned on (ISO-8601)
     * @param oldest          the oldest moment a branch can start at (its oldest snapshot), or null
     *                        before the first snapshot (taken once the server archives)
     * @param newest          {@code now} while the server archives, else null
     * @param walBytes        bytes of archived WAL in the pool
     * @param walFiles        archived files
     * @param snapshots       its history snapshots, newest first
     * @param archiving       the server runs and archives (its {@code archive_mode} is on: set at
     *                        its start after history was turned on)
     * @param lastArchivedWal the last file the server archived ({@code pg_stat_archiver}), or null
     * @param lastArchivedAt  when, or null
     * @param failedCount     failed archive attempts since the server's statistics were reset
     * @param oldestLsn       the oldest LSN a branch can start at ({@code --at-lsn}), or null
     * @param replaying       branches recovering from this history now (it cannot be turned off
     *                        until they answer)
     * @param everyWal        also a snapshot once this much WAL was written since the last one
     *                        (e.g. {@code 64 MiB}), or {@code off}
     */
    public record History(String name, boolean on, String keep, String every, String since, String oldest, String newest,
                          long walBytes, long walFiles, List<String> snapshots, boolean archiving, String lastArchivedWal,
                          String lastArchivedAt, long failedCount, String oldestLsn, List<String> replaying,
                          String everyWal) {
    }

    /**
     * {@code POST /v1/pg/servers/NAME/history}: the window ({@code 7d}), the snapshot interval
     * (default 15m), the WAL written after which a snapshot is taken sooner ({@code 64MiB}, the
     * default; {@code 0}: by time only; null: as it was), restart now.
     */
    public record HistoryRequest(String keep, String every, Boolean restart, String everyWal) {
        @com.fasterxml.jackson.annotation.JsonCreator
        public HistoryRequest {
        }

        /** Without {@code everyWal}. */
        public HistoryRequest(String keep, String every, Boolean restart) {
            this(keep, every, restart, null);
        }
    }

    /** A schedule of snapshots and the scheduled snapshots it keeps now. */
    public record Schedule(String source, String every, int keep, String lastAt, List<String> snapshots) {
    }

    /** What {@code restoreAll} did for one server: {@code started}, {@code running} or {@code failed: ...}. */
    public record Restored(String name, String outcome) {
    }

    /** The latest progress line of a long operation (an import), and whether it is over. */
    public record Progress(String name, String line, boolean done) {
    }

    // ---- requests ----------------------------------------------------------------------------

    /**
     * {@code POST /v1/pg/init}: port may be null (taken from the range); {@code suspendAfter} the
     * idle time before the server is suspended ({@code 10m}, {@code 0} never) or null for never.
     */
    public record InitRequest(String volume, Integer port, String suspendAfter) {
    }

    /** {@code POST /v1/pg/import}; {@code suspendAfter} as for init. */
    public record ImportRequest(String volume, String from, boolean follow, Integer port, String suspendAfter) {
    }

    /**
     * {@code POST /v1/pg/branches}. {@code ttl} like {@code 30m}/{@code 2h}/{@code 7d} or null;
     * {@code at} an ISO-8601 instant or null: on a source whose history is on, the source as it was
     * then (every transaction committed at or before it), else the newest snapshot taken at or
     * before it; {@code atLsn} an LSN ({@code 16/B374D848}) of a source whose history is on: every
     * WAL record that starts before it;
     * {@code suspendAfter} the idle time before a suspend ({@code 10m}, {@code 0} never) or null for
     * the pool's default.
     */
    public record BranchRequest(String source, String name, Integer port, String ttl, Boolean checkpoint,
                                @JsonProperty("protected") boolean protect, String at, String suspendAfter,
                                LimitsRequest limits, String atLsn) {
        @com.fasterxml.jackson.annotation.JsonCreator
        public BranchRequest {
        }

        /** Without {@code atLsn}. */
        public BranchRequest(String source, String name, Integer port, String ttl, Boolean checkpoint, boolean protect,
                             String at, String suspendAfter, LimitsRequest limits) {
            this(source, name, port, ttl, checkpoint, protect, at, suspendAfter, limits, null);
        }
    }

    /**
     * {@code POST /v1/pg/servers/NAME/reset} (the body is optional): without a moment, the branch
     * goes back to what it was made from (its snapshot, or the moment of its source's history it
     * was recovered to); with {@code at} (ISO-8601) or {@code atLsn} ({@code 16/B374D848}), to that
     * moment of its source's history.
     */
    public record ResetRequest(String at, String atLsn) {
    }

    /**
     * {@code POST /v1/pg/servers/NAME/suspend-after}: {@code after} like {@code 10m}, {@code 0} for
     * never, or {@code default} for the pool's default.
     */
    public record SuspendAfterRequest(String after) {
    }

    /**
     * {@code POST /v1/pg/servers/NAME/ttl}: {@code ttl} like {@code 2h} (it expires that long from
     * now), or {@code none} (it never expires).
     */
    public record TtlRequest(String ttl) {
    }

    /**
     * A server's limits, for {@code POST /v1/pg/branches} ({@code limits}) and
     * {@code POST /v1/pg/servers/NAME/limits} (a change: what is left out stays as it is).
     *
     * @param memory    a size such as {@code 512MiB}, {@code 2GiB} (at least 64MiB, at most the
     *                  host's RAM), or {@code none} for no limit
     * @param cpuWeight 1..10000 (100 is the default share), or 0 for the default
     * @param settings  PostgreSQL settings {@code NAME: VALUE} to add or replace
     * @param unset     names of settings of its own to remove
     */
    public record LimitsRequest(String memory, Integer cpuWeight, Map<String, String> settings, List<String> unset) {
    }

    /** {@code POST /v1/pg/schedules}: {@code every} like {@code 15m}. */
    public record ScheduleRequest(String source, String every, int keep) {
    }
    /**
     * {@code POST /v1/pg/diff}: what differs between {@code a} and {@code b} (managed servers,
     * volumes holding a data directory, or snapshots {@code volume@snap}, of one lineage).
     *
     * @param schema   a unified diff of the two schemas ({@code pg_dump --schema-only}, normalised)
     * @param data     pages that differ per relation, from the pool's block metadata
     * @param database the database whose schema is compared (null: {@code postgres})
     * @param forks    also the free space map, visibility map and init forks (else main forks only)
     */
    public record DiffRequest(String a, String b, boolean schema, boolean data, String database, boolean forks) {
    }

    /**
     * What {@code POST /v1/pg/diff} found.
     *
     * @param snapshotA     the snapshot compared for {@code a} (taken for the diff and destroyed
     *                      afterwards, unless {@code a} was a snapshot)
     * @param schema        the unified diff of the schemas ({@code ""}: equal), or null if not asked
     * @param relations     relation forks with at least one differing page, most pages first (null
     *                      if data was not asked)
     * @param total         the sums over every relation fork compared (also those that are equal)
     * @param blocksRead    blocks whose bytes were read (those whose ids differ on both sides)
     * @param treeNodesRead metadata tree nodes the walk read (what the two snapshots do not share)
     * @param millis        the whole diff, in milliseconds
     * @param steps         where the time went
     */
    public record Diff(String a, String b, String snapshotA, String snapshotB, String schema, List<DiffRelation> relations,
                       DiffTotal total, long blocksRead, long treeNodesRead, long millis, DiffSteps steps) {
    }

    /**
     * Milliseconds of the steps of a {@link Diff}: {@code snapshots} (checkpoints, syncfs, snapshots),
     * {@code servers} (throwaway branches started), {@code catalogs} ({@code pg_class} of each side),
     * {@code files} (listing both data directories), {@code walk} (the two metadata trees),
     * {@code compare} (reading the blocks whose ids differ), {@code schema} ({@code pg_dump} and diff).
     */
    public record DiffSteps(long snapshots, long servers, long catalogs, long files, long walk, long compare, long schema) {
    }

    /**
     * One relation fork (all its 1 GB segments) of a {@link Diff}.
     *
     * @param database    the database's name ({@code ""} for the cluster-wide {@code global/})
     * @param relation    {@code schema.name}, or the file's path when no catalog names it
     * @param kind        {@code table}, {@code index}, {@code toast}, {@code sequence}, {@code matview}, or {@code file}
     * @param fork        {@code main}, {@code fsm}, {@code vm} or {@code init}
     * @param file        its first segment's path in the data directory, e.g. {@code base/5/16397}
     * @param only        {@code a} or {@code b} when the file exists on one side only (e.g. rewritten by
     *                    {@code VACUUM FULL}: the old file in a, the new in b), else null
     * @param pagesDiffer 8 KiB pages that differ (or exist on one side only)
     */
    public record DiffRelation(String database, String relation, String kind, String fork, String file, String only,
                               long pagesDiffer, long pagesA, long pagesB) {
    }

    /** Sums of {@link DiffRelation}s over every relation fork compared. */
    public record DiffTotal(long pagesDiffer, long pagesA, long pagesB) {
    }
}
