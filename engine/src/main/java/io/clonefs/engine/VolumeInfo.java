package io.clonefs.engine;

import java.time.Instant;

/**
 * A volume as listed.
 *
 * @param origin          the snapshot ({@code volume@snap}) this volume was cloned from, or null
 * @param referencedBytes bytes of data blocks its files reference (shared or not)
 */
public record VolumeInfo(String name, long id, String origin, Instant createdAt, long referencedBytes) {
}
