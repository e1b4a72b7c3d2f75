package io.clonefs.fuse.protocol;

/**
 * Raises the share of the kernel's dirty-page limit that the mount may hold with the writeback
 * cache ({@code /sys/class/bdi/MAJOR:MINOR/max_ratio}, a percentage of the system's dirty
 * threshold). The kernel gives a FUSE mount 1 % ({@code fuse_bdi_init}: about 47 MB on a 24 GiB
 * host) under a strict limit, so a program that dirties a few hundred MB of pages it keeps open,
 * such as PostgreSQL setting hint bits while {@code pg_dump} reads a fresh branch, has them
 * written back to the daemon at once, page by page, while it works; a native file system keeps
 * them cached until the flusher's 30 s or the next {@code fsync}. The strict limit stays, so the
 * mount never holds more than its share and the daemon's own writes to the block files keep the
 * rest of the system's limit. No semantics change: {@code fsync}, {@code close} and
 * {@code syncfs} write everything back as before. Needs root; best effort: a failure is logged
 * and the kernel's share stays.
 */
final class DirtyShare {
    private DirtyShare() {
    }

    /** Sets the FUSE mount at {@code mountpoint} to hold up to {@code percent} % of the dirty limit; returns whether it now does. */
    static boolean raise(String mountpoint, int percent) {
        return ReadAhead.set(mountpoint, "max_ratio", percent, "FUSE share of the dirty limit", "%");
    }
}
