package io.clonefs.pg;

import io.clonefs.pg.process.Postgres;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where lifecycle events go: the one {@link PgManager.Listener} (the daemon's event log), told of
 * {@code created} and {@code reset} of a branch, {@code destroyed}, {@code expired} and
 * {@code limits} (its limits changed) of any server, after it happened. A failing listener is logged, never propagated.
 *
 * <p>Thread-safe: the listener is swapped atomically and called on the thread that did the work.
 */
final class PgEvents {
    private static final Logger LOG = LoggerFactory.getLogger(PgEvents.class);
    private static final PgManager.Listener NONE = (type, rec, details) -> { };

    private volatile PgManager.Listener listener = NONE;

    void listener(PgManager.Listener l) {
        this.listener = l == null ? NONE : l;
    }

    void emit(String type, PgRecord rec, Map<String, Object> details) {
        try {
            listener.on(type, rec, details);
        } catch (RuntimeException e) {
            LOG.warn("event listener failed on {} {}: {}", type, rec.name(), e.getMessage());
        }
    }

    /** The details of a {@code created} or {@code reset} branch. */
    static Map<String, Object> branchDetails(PgRecord r, long millis) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("source", r.source());
        d.put("snapshot", r.snapshot());
        d.put("port", r.port());
        d.put("uri", Postgres.uri(r.port()));
        d.put("expiresAt", r.expiresAt());
        d.put("millis", millis);
        return d;
    }
}
