package io.clonefs.block;

/**
 * Reads ranges of pack objects from a remote object store (S3). Implemented outside the engine
 * (module {@code cli}, {@code io.clonefs.remote}); the engine checks every block it gets against its
 * SHA-256 and never trusts the bytes otherwise.
 */
@FunctionalInterface
public interface RemoteFetcher {
    /**
     * Returns exactly {@code length} bytes at {@code offset} of object {@code key} of remote
     * {@code remote}. Throws (any RuntimeException) when the store cannot be reached or the object
     * is missing or short: the reader then gets EIO.
     */
    byte[] fetch(String remote, String key, long offset, int length);

    /** A fetcher for pools with no remote configured: every fetch fails. */
    RemoteFetcher NONE = (remote, key, offset, length) -> {
        throw new IllegalStateException("remote " + remote + " is not configured in this pool");
    };
}
