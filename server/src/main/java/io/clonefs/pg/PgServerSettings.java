package io.clonefs.pg;

import io.clonefs.pg.limits.Limits;
import io.clonefs.pg.process.Postgres;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The PostgreSQL settings a server gets beyond the manager's own (port, sockets, log, a branch's
 * archive and standby settings): small-branch defaults for a branch, then the server's own
 * settings ({@link Limits#settings()}, from {@code --setting NAME=VALUE}), which override them.
 *
 * <p>A branch is a short-lived copy most of whose time is idle: its defaults are
 * {@code shared_buffers=32MB} (PostgreSQL's default is 128MB, usually raised on a source) and
 * {@code max_connections=50} (default 100), so hundreds of branches fit in a host's memory.
 * A branch cloned from a standby, or recovered to a moment of its source's history, keeps its
 * source's {@code max_connections}: a hot standby refuses to run with fewer connections than its
 * primary had.
 */
final class PgServerSettings {
    /** A branch's {@code shared_buffers} unless it has its own. */
    static final String BRANCH_SHARED_BUFFERS = "32MB";
    /** A branch's {@code max_connections} unless it has its own (or was cloned from a standby). */
    static final String BRANCH_MAX_CONNECTIONS = "50";

    private PgServerSettings() {
    }

    /** The settings {@code rec}'s server gets from here, in the order they are passed. */
    static Map<String, String> of(PgRecord rec) {
        Map<String, String> s = new LinkedHashMap<>();
        if (rec.isBranch()) {
            s.put("shared_buffers", BRANCH_SHARED_BUFFERS);
            if (!rec.promote() && rec.moment() == null) {
                s.put("max_connections", BRANCH_MAX_CONNECTIONS);
            }
        }
        s.putAll(Limits.of(rec.limits()).settings());
        return s;
    }

    /** Adds them to a server being built (after the manager's own, so they come last). */
    static void apply(PgRecord rec, Postgres.Builder b) {
        of(rec).forEach(b::setting);
    }
}
