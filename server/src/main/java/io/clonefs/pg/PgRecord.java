package io.clonefs.pg;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.clonefs.pg.limits.Limits;

/**
 * One managed PostgreSQL server as kept in {@code POOL/pg/state.json}. Immutable; changes make a
 * copy with a {@code with...} method.
 *
 * @param name            the server's name, which is also its volume's name
 * @param role            {@link #SOURCE} (initialised, imported or adopted here) or {@link #BRANCH}
 * @param dataDir         the data directory inside the volume: {@code "data"}, or {@code ""} for the
 *                        volume root
 * @param source          the volume a branch was taken from (null for a source)
 * @param snapshot        the snapshot ({@code volume@snap}) a branch was cloned from (null for a source)
 * @param snapshotOwned   the snapshot was taken for this branch, and is destroyed once no clone uses it
 * @param promote         the branch was cloned from a standby: it is started as a standby without a
 *                        primary and promoted (again after every reset)
 * @param port            its TCP port on 127.0.0.1
 * @param createdAt       ISO-8601 instant
 * @param expiresAt       ISO-8601 instant after which the branch is destroyed, or null
 * @param protect         destroy and expiry are refused
 * @param running         it should be running: started by the manager and not stopped by a user;
 *                        {@code restoreAll} starts these after a daemon restart
 * @param standby         a streaming standby that follows {@code primary} (import with follow)
 * @param primary         the conninfo imported from, password removed (null if not imported)
 * @param suspendAfter    seconds without a client after which the server is suspended; 0 never,
 *                        null the pool's default ({@link PgOptions#suspendAfter()}, for branches)
 * @param suspended       stopped for being idle ({@code pg_ctl stop -m fast}); the daemon listens
 *                        on its port and starts it on the next connection ({@link PgSleeps})
 * @param limits          its memory limit, CPU weight and settings of its own ({@link Limits}); null
 *                        (as in the state of older versions) for none
 * @param masked          the masked snapshot ({@code pg mask}) this server's data comes from: the
 *                        one {@code pg mask} took of it, or the one its source came from; null for
 *                        none
 * @param history         its history ({@code pg history}): WAL archived into the pool and
 *                        snapshots on a schedule, so that a branch can start at any moment of the
 *                        window; null when off
 * @param moment          the moment of its source's history a branch was recovered to ({@code pg
 *                        branch --at} on a source with history, {@code pg reset --at}): a reset
 *                        recovers to it again; null for a branch of a snapshot as it is
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record PgRecord(
        String name,
        String role,
        String dataDir,
        String source,
        String snapshot,
        boolean snapshotOwned,
        boolean promote,
        int port,
        String createdAt,
        String expiresAt,
        @JsonProperty("protected") boolean protect,
        boolean running,
        boolean standby,
        String primary,
        Long suspendAfter,
        boolean suspended,
        Limits limits,
        Masked masked,
        History history,
        Moment moment) {

    public static final String SOURCE = "source";
    public static final String BRANCH = "branch";

    public boolean isBranch() {
        return BRANCH.equals(role);
    }

    public PgRecord withRunning(boolean r) {
        return new PgRecord(name, role, dataDir, source, snapshot, snapshotOwned, promote, port, createdAt, expiresAt,
                protect, r, standby, primary, suspendAfter, suspended, limits, masked, history, moment);
    }

    public PgRecord withProtect(boolean p) {
        return new PgRecord(name, role, dataDir, source, snapshot, snapshotOwned, promote, port, createdAt, expiresAt,
                p, running, standby, primary, suspendAfter, suspended, limits, masked, history, moment);
    }

    /** Expiring at {@code expires} (ISO-8601), or never (null). */
    public PgRecord withExpiresAt(String expires) {
        return new PgRecord(name, role, dataDir, source, snapshot, snapshotOwned, promote, port, createdAt, expires,
                protect, running, standby, primary, suspendAfter, suspended, limits, masked, history, moment);
    }

    public PgRecord withSuspendAfter(Long seconds) {
        return new PgRecord(name, role, dataDir, source, snapshot, snapshotOwned, promote, port, createdAt, expiresAt,
                protect, running, standby, primary, seconds, suspended, limits, masked, history, moment);
    }

    public PgRecord withSuspended(boolean s) {
        return new PgRecord(name, role, dataDir, source, snapshot, snapshotOwned, promote, port, createdAt, expiresAt,
                protect, running, standby, primary, suspendAfter, s, limits, masked, history, moment);
    }

    public PgRecord withLimits(Limits l) {
        return new PgRecord(name, role, dataDir, source, snapshot, snapshotOwned, promote, port, createdAt, expiresAt,
                protect, running, standby, primary, suspendAfter, suspended,
                l == null || (l.none() && l.settings().isEmpty()) ? null : l, masked, history, moment);
    }

    /** Marked as holding masked data ({@code pg mask}); its time to live, if any, as given. */
    public PgRecord withMasked(Masked m, String expires) {
        return new PgRecord(name, role, dataDir, source, snapshot, snapshotOwned, promote, port, createdAt, expires,
                protect, running, standby, primary, suspendAfter, suspended, limits, m, history, moment);
    }

    /** With its history on ({@code h}) or off (null). */
    public PgRecord withHistory(History h) {
        return new PgRecord(name, role, dataDir, source, snapshot, snapshotOwned, promote, port, createdAt, expiresAt,
                protect, running, standby, primary, suspendAfter, suspended, limits, masked, h, moment);
    }

    /** Recovered to a moment instead: {@code m}, or null for the snapshot as it is. */
    public PgRecord withSnapshotAt(String snap, boolean owned, Moment m) {
        return new PgRecord(name, role, dataDir, source, snap, owned, promote, port, createdAt, expiresAt,
                protect, running, standby, primary, suspendAfter, suspended, limits, masked, history, m);
    }

    /**
     * A moment of a source's history: a time (ISO-8601, every transaction committed at or before
     * it) or an LSN ({@code 16/B374D848}: every WAL record that starts before it). One is null.
     */
    public record Moment(String time, String lsn) {
        @Override
        public String toString() {
            return time != null ? time : "LSN " + lsn;
        }
    }

    /**
     * A server's history: its WAL archived into the pool and a snapshot every {@code everySeconds},
     * both kept for {@code keepSeconds}.
     *
     * @param since         ISO-8601 instant history was turned on
     * @param everyWalBytes also a snapshot once the source has written this much WAL since the last
     *                      one (0: by time only; null, as in older state files: {@code
     *                      PgHistory.DEFAULT_EVERY_WAL})
     */
    public record History(long keepSeconds, long everySeconds, String since, Long everyWalBytes) {
        public long everyWal() {
            return everyWalBytes == null ? PgHistory.DEFAULT_EVERY_WAL : everyWalBytes;
        }
    }

    /**
     * The mark of masked data.
     *
     * @param snapshot   the snapshot {@code pg mask} took ({@code volume@masked-TIME})
     * @param snapshotId the engine's id of that snapshot (a snapshot destroyed and taken again under
     *                   the same name is not the masked one)
     * @param verified   its files were searched for sampled original values and none was found
     * @param at         ISO-8601 instant of the mask
     */
    public record Masked(String snapshot, long snapshotId, boolean verified, String at) {
    }
}
