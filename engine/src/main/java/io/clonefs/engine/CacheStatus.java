package io.clonefs.engine;

/**
 * The local cache of remote-backed blocks.
 *
 * @param remoteBlocks blocks of imported snapshots whose bytes live in an object store
 * @param cachedBlocks of those, the ones held on local disk now
 * @param cachedBytes  {@code cachedBlocks * blockSize}
 * @param fetches      block fetches from the object store since the pool was opened
 * @param fetchedBytes bytes fetched since the pool was opened
 * @param fetchErrors  failed fetches (the reader got EIO) since the pool was opened
 */
public record CacheStatus(long remoteBlocks, long cachedBlocks, long cachedBytes, long fetches, long fetchedBytes,
                          long fetchErrors) {
}
