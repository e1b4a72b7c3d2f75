package io.clonefs.api;

import java.util.List;

/**
 * The JSON bodies of the control API. Plain values only (times are ISO-8601 strings), so that the
 * wire format does not depend on engine types.
 */
public final class Api {
    private Api() {
    }

    /** A volume as listed; {@code origin} is the snapshot it was cloned from, or null. */
    public record VolumeView(String name, String origin, String createdAt, long referencedBytes, long uniqueBytes) {
    }

    /** A snapshot ({@code volume@snap}) as listed, with the volumes cloned from it. */
    public record SnapshotView(String name, String volume, String createdAt, long referencedBytes, long uniqueBytes,
                               List<String> clones) {
    }

    /** Every volume and snapshot of a pool. */
    public record Datasets(List<VolumeView> volumes, List<SnapshotView> snapshots) {
    }

    /** Space of the whole pool (see {@code io.clonefs.engine.SpaceInfo}). */
    public record Space(int blockSize, long usedBytes, long freeBytes, long blocksInUse, long blocksFree,
                        long metadataBytes, long reclaimBacklog) {
    }

    /** One sample of the pool's space ({@code time} ISO-8601). */
    public record SpaceSample(String time, long usedBytes, long freeBytes, long reclaimBacklog) {
    }

    /** {@code GET /v1/space/history}: samples oldest first, the last one taken at the request. */
    public record SpaceHistory(int intervalSeconds, int capacity, List<SpaceSample> samples) {
    }

    /** Result of a consistency check; {@code problems} is empty when the pool is consistent. */
    public record Fsck(boolean clean, long roots, long nodes, long blocks, List<String> problems) {
    }

    /** A volume or snapshot that was created, and how long the engine took. */
    public record Created(String name, long elapsedMicros) {
    }

    /**
     * A clone that was created.
     *
     * @param origin          the snapshot it was cloned from
     * @param snapshotCreated true when {@code origin} was taken for this clone
     */
    public record Cloned(String name, String origin, boolean snapshotCreated, long elapsedMicros) {
    }

    /** A volume or snapshot that was destroyed. */
    public record Destroyed(String name, boolean recursive, long elapsedMicros) {
    }

    /** {@code GET /v1/status}: who answers. */
    public record Status(String pool, String mountpoint, long pid, String version) {
    }

    /** Any error: a stable machine-readable code and a one-line message. */
    public record Error(String code, String message) {
    }

    /** {@code POST /v1/volumes}. */
    public record CreateVolume(String name) {
    }

    /** {@code POST /v1/snapshots}. */
    public record CreateSnapshot(String volume, String snapshot) {
    }

    /** {@code POST /v1/clones}: {@code source} is {@code volume@snap} or a volume (snapshotted now). */
    public record CreateClone(String source, String name) {
    }

    /** A reply with nothing to say. */
    public record Ok(boolean ok) {
    }

    /** {@code POST /v1/tokens}: a scoped token ({@code read}, {@code branch} or {@code admin}), a lifetime such as {@code 7d} (none: no expiry). */
    public record CreateToken(String scope, String ttl, String name) {
    }

    /** A scoped token as listed: never its secret. Times are ISO-8601; {@code expiresAt} and {@code lastUsedAt} may be null. */
    public record TokenView(String id, String name, String scope, String createdAt, String expiresAt, String lastUsedAt) {
    }

    /** {@code POST /v1/tokens}' answer: the token's secret, shown this once (only its SHA-256 is kept). */
    public record TokenCreated(String id, String name, String scope, String createdAt, String expiresAt, String token) {
    }
}
