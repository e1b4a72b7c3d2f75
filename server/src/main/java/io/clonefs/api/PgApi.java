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
     */
    public record Server(String name, String role, String uri, String source, String snapshot, int port, String state, long pid,
                         String createdAt, long ageSeconds, String expiresAt, @JsonProperty("protected") boolean protect,
                         boolean standby, String primary, long uniqueBytes, String dataDir, String log,
                         String suspendAfter, ServerLimits limits) {
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
     * {@code at} an ISO-8601 instant (branch from the newest snapshot taken at or before it) or null;
     * {@code suspendAfter} the idle time before a suspend ({@code 10m}, {@code 0} never) or null for
     * the pool's default.
     */
    public record BranchRequest(String source, String name, Integer port, String ttl, Boolean checkpoint,
                                @JsonProperty("protected") boolean protect, String at, String suspendAfter,
                                LimitsRequest limits) {
    }

    /**
     * {@code POST /v1/pg/servers/NAME/suspend-after}: {@code after} like {@code 10m}, {@code 0} for
     * never, or {@code default} for the pool's default.
     */
    public record SuspendAfterRequest(String after) {
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
}
