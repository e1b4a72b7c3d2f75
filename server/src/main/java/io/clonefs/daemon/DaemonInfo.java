package io.clonefs.daemon;

/**
 * What a running daemon publishes in {@code POOL/daemon.json} and in the mount registry.
 *
 * @param pid        the daemon's process id
 * @param port       the control API's port on 127.0.0.1
 * @param pool       absolute pool directory
 * @param mountpoint absolute mount point
 * @param listen     the URL of the other listener ({@code clonefs mount --listen}), e.g.
 *                   {@code https://0.0.0.0:7443}, or null when there is none
 * @param cache      how the kernel caches the mount's writes ({@code Mount.cacheMode()}: "writeback",
 *                   "write-through", or "write-through (why)"); null from a daemon that predates it
 */
public record DaemonInfo(long pid, int port, String pool, String mountpoint, String startedAt, String version, String listen,
                         String cache) {
    /** Without a {@code --listen} listener, the cache not known. */
    public DaemonInfo(long pid, int port, String pool, String mountpoint, String startedAt, String version) {
        this(pid, port, pool, mountpoint, startedAt, version, null, null);
    }
}
