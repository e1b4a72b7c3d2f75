package io.clonefs.engine;

import java.time.Instant;
import java.util.List;

/**
 * A snapshot as listed.
 *
 * @param name   {@code volume@snap}
 * @param clones names of volumes cloned from it
 */
public record SnapshotInfo(String name, String volume, String snapshot, long id, Instant createdAt,
                           long referencedBytes, List<String> clones) {
}
