package io.clonefs.fuse;

/**
 * How a pool is mounted.
 *
 * @param allowOther let users other than the one running the daemon use the mount (FUSE
 *                   {@code allow_other}); needed so that the {@code postgres} user can use a mount
 *                   made by root. Permission checks are always left to the kernel
 *                   ({@code default_permissions}).
 * @param debug      run libfuse in debug mode (prints every request on stderr)
 */
public record MountOptions(boolean allowOther, boolean debug) {
    /** {@code allow_other} on, debug off: what the daemon uses. */
    public static MountOptions defaults() {
        return new MountOptions(true, false);
    }
}
