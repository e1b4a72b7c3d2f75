package io.clonefs.fuse;

import io.clonefs.fuse.protocol.FuseLoop;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a pool is mounted.
 *
 * @param allowOther     let users other than the one running the daemon use the mount (FUSE
 *                       {@code allow_other}); needed so that the {@code postgres} user can use a
 *                       mount made by root. Permission checks are always left to the kernel
 *                       ({@code default_permissions}).
 * @param debug          run libfuse in debug mode (prints every request on stderr)
 * @param writebackCache let the kernel cache writes and send them back in requests of up to
 *                       {@link #MAX_WRITE} bytes ({@link FuseLoop}); off: every write(2) is a
 *                       request of at most 128 KiB that reaches the engine before it returns
 */
public record MountOptions(boolean allowOther, boolean debug, boolean writebackCache) {
    private static final Logger LOG = LoggerFactory.getLogger(MountOptions.class);
    /** Largest write request with the writeback cache (the kernel's max_pages limit is 256). */
    public static final int MAX_WRITE = 1 << 20;
    /** The kernel's read-ahead of the mount (its default for FUSE is 128 KiB). */
    public static final int READ_AHEAD = 1 << 20;
    /**
     * With the writeback cache, the percentage of the kernel's dirty limit the mount may hold
     * (the kernel's default for FUSE is 1 %); {@code -Dclonefs.fuse.dirtyShare=N} sets it, 0
     * keeps the kernel's.
     */
    public static final String DIRTY_SHARE_PROPERTY = "clonefs.fuse.dirtyShare";
    public static final int DIRTY_SHARE = 20;
    /** The system property that turns the writeback cache off for a whole JVM ("false"). */
    public static final String WRITEBACK_PROPERTY = "clonefs.fuse.writebackCache";

    /** With the JVM's default for the writeback cache ({@link #writebackDefault}). */
    public MountOptions(boolean allowOther, boolean debug) {
        this(allowOther, debug, writebackDefault());
    }

    /** {@code allow_other} on, debug off, writeback cache per {@link #writebackDefault}: what the daemon uses. */
    public static MountOptions defaults() {
        return new MountOptions(true, false);
    }

    /**
     * On unless {@code -Dclonefs.fuse.writebackCache=false} (docs/design.md, "The mount"). On a
     * full pool the kernel's write-back of cached data cannot take the room metadata needs for a
     * destroy: new data blocks leave the disk's last bytes alone (the block store's free-space floor).
     */
    public static boolean writebackDefault() {
        return !"false".equalsIgnoreCase(System.getProperty(WRITEBACK_PROPERTY, "true").strip());
    }

    /**
     * What the request loop makes of these options. The kernel's read-ahead is raised to
     * {@link #READ_AHEAD} either way: it changes no semantics, only how large (with the writeback
     * cache up to {@link #MAX_WRITE}) and how many read requests a sequential read sends. With
     * the writeback cache the mount's share of dirty pages is raised too ({@link #dirtyShare}).
     */
    FuseLoop.Tuning tuning() {
        return writebackCache ? new FuseLoop.Tuning(true, MAX_WRITE, READ_AHEAD, dirtyShare())
                : new FuseLoop.Tuning(false, 0, READ_AHEAD, 0);
    }

    /**
     * {@link #DIRTY_SHARE} unless {@code -Dclonefs.fuse.dirtyShare} says otherwise (0 to 100); any
     * other value is ignored with a warning in the log.
     */
    static int dirtyShare() {
        String v = System.getProperty(DIRTY_SHARE_PROPERTY);
        if (v == null) {
            return DIRTY_SHARE;
        }
        try {
            int n = Integer.parseInt(v.strip());
            if (n >= 0 && n <= 100) {
                return n;
            }
        } catch (NumberFormatException e) {
            // warned below
        }
        LOG.warn("ignoring -D{}={}: not a percentage from 0 to 100; the mount may hold {} % of the kernel's"
                + " dirty limit", DIRTY_SHARE_PROPERTY, v, DIRTY_SHARE);
        return DIRTY_SHARE;
    }
}
