package io.clonefs.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

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
     */
    public record Server(String name, String role, String uri, String source, String snapshot, int port, String state, long pid,
                         String createdAt, long ageSeconds, String expiresAt, @JsonProperty("protected") boolean protect,
                         boolean standby, String primary, long uniqueBytes, String dataDir, String log,
                         String suspendAfter) {
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
                                @JsonProperty("protected") boolean protect, String at, String suspendAfter) {
    }

    /**
     * {@code POST /v1/pg/servers/NAME/suspend-after}: {@code after} like {@code 10m}, {@code 0} for
     * never, or {@code default} for the pool's default.
     */
    public record SuspendAfterRequest(String after) {
    }

    /** {@code POST /v1/pg/schedules}: {@code every} like {@code 15m}. */
    public record ScheduleRequest(String source, String every, int keep) {
    }
}
