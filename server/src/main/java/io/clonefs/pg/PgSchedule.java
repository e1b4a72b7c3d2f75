package io.clonefs.pg;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * Scheduled snapshots of one source volume, as kept in {@code POOL/pg/state.json}.
 *
 * @param source       the volume
 * @param everySeconds interval between snapshots
 * @param keep         how many scheduled snapshots to keep (older ones without clones are destroyed)
 * @param lastAt       ISO-8601 instant of the last scheduled snapshot, or null
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record PgSchedule(String source, long everySeconds, int keep, String lastAt) {
    public PgSchedule withLastAt(String t) {
        return new PgSchedule(source, everySeconds, keep, t);
    }
}
