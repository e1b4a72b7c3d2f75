package io.clonefs.engine;

/**
 * Root of every exception clonefs raises on purpose. Each carries the {@link Errno} a filesystem
 * caller should see and a one-line message a user can act on. Unchecked, like lmdbjava's
 * {@code LmdbException}; subtypes are nested here so that callers can catch the exact case.
 */
public class ClonefsException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final Errno errno;

    public ClonefsException(Errno errno, String message) {
        super(message);
        this.errno = errno;
    }

    public ClonefsException(Errno errno, String message, Throwable cause) {
        super(message, cause);
        this.errno = errno;
    }

    public Errno errno() {
        return errno;
    }

    /** A name (file, volume, snapshot) or path component that does not exist. */
    public static final class NotFound extends ClonefsException {
        private static final long serialVersionUID = 1L;
        public NotFound(String message) { super(Errno.ENOENT, message); }
    }

    /** A name already in use. */
    public static final class AlreadyExists extends ClonefsException {
        private static final long serialVersionUID = 1L;
        public AlreadyExists(String message) { super(Errno.EEXIST, message); }
    }

    /** Bad input: an invalid name, size or argument. Nothing was changed. */
    public static final class InvalidArgument extends ClonefsException {
        private static final long serialVersionUID = 1L;
        public InvalidArgument(String message) { super(Errno.EINVAL, message); }
    }

    /** A file or volume name longer than allowed. */
    public static final class NameTooLong extends ClonefsException {
        private static final long serialVersionUID = 1L;
        public NameTooLong(String message) { super(Errno.ENAMETOOLONG, message); }
    }

    /** A directory was expected. */
    public static final class NotDirectory extends ClonefsException {
        private static final long serialVersionUID = 1L;
        public NotDirectory(String message) { super(Errno.ENOTDIR, message); }
    }

    /** A non-directory was expected. */
    public static final class IsDirectory extends ClonefsException {
        private static final long serialVersionUID = 1L;
        public IsDirectory(String message) { super(Errno.EISDIR, message); }
    }

    /** rmdir or rename onto a directory that still has entries. */
    public static final class NotEmpty extends ClonefsException {
        private static final long serialVersionUID = 1L;
        public NotEmpty(String message) { super(Errno.ENOTEMPTY, message); }
    }

    /** A write to a snapshot (snapshots are read-only). */
    public static final class ReadOnly extends ClonefsException {
        private static final long serialVersionUID = 1L;
        public ReadOnly(String message) { super(Errno.EROFS, message); }
    }

    /** The pool (block files or LMDB) is out of space. Nothing was half-written. */
    public static final class NoSpace extends ClonefsException {
        private static final long serialVersionUID = 1L;
        public NoSpace(String message, Throwable cause) { super(Errno.ENOSPC, message, cause); }
    }

    /** The operation conflicts with the pool's state, e.g. destroying a snapshot that has clones. */
    public static final class Conflict extends ClonefsException {
        private static final long serialVersionUID = 1L;
        public Conflict(String message) { super(Errno.EBUSY, message); }
    }

    /** The pool cannot be opened: missing, wrong format version, or damaged. */
    public static final class PoolFormat extends ClonefsException {
        private static final long serialVersionUID = 1L;
        public PoolFormat(String message) { super(Errno.EINVAL, message); }
    }

    /** An I/O error from the block store or LMDB. */
    public static final class IoFailure extends ClonefsException {
        private static final long serialVersionUID = 1L;
        public IoFailure(String message, Throwable cause) { super(Errno.EIO, message, cause); }
    }
}
