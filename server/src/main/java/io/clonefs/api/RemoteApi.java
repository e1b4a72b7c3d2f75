package io.clonefs.api;

import java.util.List;

/** The JSON bodies of the remote routes ({@code /v1/remotes}, {@code /v1/cache}). */
public final class RemoteApi {
    private RemoteApi() {
    }

    /** {@code POST /v1/remotes}: a new remote with its keys. */
    public record AddRemote(String name, String endpoint, String bucket, String prefix, String region, String accessKey,
                            String secretKey) {
        @Override
        public String toString() {
            return "AddRemote[" + name + ", " + endpoint + ", " + bucket + "]";
        }
    }

    /** {@code POST /v1/remotes/NAME/push}. */
    public record Push(String snapshot) {
    }

    /** {@code POST /v1/remotes/NAME/clone}: {@code source} is VOLUME@SNAP on the remote. */
    public record Clone(String source, String name) {
    }

    /**
     * A clone made from a remote snapshot.
     *
     * @param origin   the local snapshot it was cloned from ({@code REMOTE.VOLUME@SNAP})
     * @param imported true when this call imported that snapshot (false: it was there already)
     */
    public record RemoteCloned(String name, String source, String origin, boolean imported, long items, long blocks,
                               long elapsedMicros) {
    }

    /** {@code POST /v1/remotes/NAME/import}: {@code source} is VOLUME@SNAP on the remote. */
    public record Import(String source) {
    }

    /**
     * A remote snapshot made local (no block fetched).
     *
     * @param volume   the local volume holding it ({@code REMOTE.VOLUME}, or {@code REMOTE.VOLUME.SNAP})
     * @param origin   the local snapshot
     * @param imported true when this call imported it (false: it was there already)
     */
    public record RemoteImported(String source, String volume, String origin, boolean imported, long items, long blocks,
                                 long elapsedMicros) {
    }

    /** {@code GET /v1/cache}: see {@code io.clonefs.engine.CacheStatus}. */
    public record Cache(long remoteBlocks, long cachedBlocks, long cachedBytes, long fetches, long fetchedBytes,
                        long fetchErrors) {
    }

    /** {@code POST /v1/cache/evict}. */
    public record Evict(long keepBytes) {
    }

    /** {@code POST /v1/cache/evict}: what was freed, and the cache after. */
    public record Evicted(long freedBytes, Cache cache) {
    }

    /** A push in progress as served ({@code GET /v1/remotes/NAME/push}); {@code line} is its one-line summary. */
    public record PushView(String remote, String snapshot, String phase, long blocksScanned, long expectedBlocks,
                           long blocksRead, long blocksUploaded, long bytesUploaded, long packsUploaded, double seconds,
                           double megabytesPerSecond, String line) {
    }

    /** {@code GET /v1/remotes/NAME/push}: the pushes running now. */
    public record Pushes(List<PushView> pushes) {
    }
}
