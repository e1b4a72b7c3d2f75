package io.clonefs.base;

import java.util.Locale;

/**
 * Root of every exception clonefs raises on purpose. Each carries its {@link ErrorKind} (and so
 * the errno a filesystem caller sees, the API's status and code, the command's exit code) and a
 * one-line message a user can act on. Unchecked, like lmdbjava's {@code LmdbException}; subtypes
 * are nested here so that callers can catch the exact case.
 */
public class ClonefsException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final ErrorKind kind;
    private final Errno errno;

    /** An errno without a kind of its own ({@link ErrorKind#OTHER}). */
    public ClonefsException(Errno errno, String message) {
        this(ErrorKind.OTHER, errno, message, null);
    }

    public ClonefsException(Errno errno, String message, Throwable cause) {
        this(ErrorKind.OTHER, errno, message, cause);
    }

    public ClonefsException(ErrorKind kind, String message) {
        this(kind, kind.errno(), message, null);
    }

    public ClonefsException(ErrorKind kind, String message, Throwable cause) {
        this(kind, kind.errno(), message, cause);
    }

    private ClonefsException(ErrorKind kind, Errno errno, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.errno = errno;
    }

    public ErrorKind kind() {
        return kind;
    }

    public Errno errno() {
        return errno;
    }

    /** The control API's code: the kind's, or {@code errno_<name>} for {@link ErrorKind#OTHER}. */
    public String code() {
        return kind == ErrorKind.OTHER ? "errno_" + errno.name().toLowerCase(Locale.ROOT) : kind.code();
    }

    /**
     * The exception a client raises for an error reply: the nested subtype for the engine's kinds,
     * so that callers can catch the exact case on either side of the API.
     */
    public static ClonefsException of(ErrorKind kind, String code, String message) {
        return switch (kind) {
            case NOT_FOUND -> new NotFound(message);
            case ALREADY_EXISTS -> new AlreadyExists(message);
            case CONFLICT -> new Conflict(message);
            case READ_ONLY -> new ReadOnly(message);
            case INVALID_ARGUMENT -> new InvalidArgument(message);
            case NAME_TOO_LONG -> new NameTooLong(message);
            case NO_SPACE -> new NoSpace(message, null);
            case POOL_FORMAT -> new PoolFormat(message);
            case IO_FAILURE -> new IoFailure(message, null);
            case OTHER -> new ClonefsException(errnoOf(code), message);
            default -> new ClonefsException(kind, message);
        };
    }

    private static Errno errnoOf(String code) {
        try {
            return Errno.valueOf(code.substring("errno_".length()).toUpperCase(Locale.ROOT));
        } catch (RuntimeException e) {
            return Errno.EIO;
        }
    }

    /** A name (file, volume, snapshot) or path component that does not exist. */
    /** An I/O error as {@link NoSpace} when the disk is full, else {@link IoFailure}. */
    public static ClonefsException ioOrNoSpace(String what, java.io.IOException e) {
        String m = String.valueOf(e.getMessage());
        if (m.contains("No space left") || m.contains("Disk quota")) {
            return new NoSpace(what + ": no space left on the pool's disk", e);
        }
        return new IoFailure(what + " failed: " + m, e);
    }

    public static final class NotFound extends ClonefsException {
        private static final long serialVersionUID = 1L;
        public NotFound(String message) { super(ErrorKind.NOT_FOUND, message); }
    }

    /** A name already in use. */
    public static final class AlreadyExists extends ClonefsException {
        private static final long serialVersionUID = 1L;
        public AlreadyExists(String message) { super(ErrorKind.ALREADY_EXISTS, message); }
    }

    /** Bad input: an invalid name, size or argument. Nothing was changed. */
    public static final class InvalidArgument extends ClonefsException {
        private static final long serialVersionUID = 1L;
        public InvalidArgument(String message) { super(ErrorKind.INVALID_ARGUMENT, message); }
    }

    /** A file or volume name longer than allowed. */
    public static final class NameTooLong extends ClonefsException {
        private static final long serialVersionUID = 1L;
        public NameTooLong(String message) { super(ErrorKind.NAME_TOO_LONG, message); }
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
        public ReadOnly(String message) { super(ErrorKind.READ_ONLY, message); }
    }

    /** The pool (block files or LMDB) is out of space. Nothing was half-written. */
    public static final class NoSpace extends ClonefsException {
        private static final long serialVersionUID = 1L;
        public NoSpace(String message, Throwable cause) { super(ErrorKind.NO_SPACE, message, cause); }
    }

    /** The operation conflicts with the pool's state, e.g. destroying a snapshot that has clones. */
    public static final class Conflict extends ClonefsException {
        private static final long serialVersionUID = 1L;
        public Conflict(String message) { super(ErrorKind.CONFLICT, message); }
    }

    /** The pool cannot be opened: missing, wrong format version, or damaged. */
    public static final class PoolFormat extends ClonefsException {
        private static final long serialVersionUID = 1L;
        public PoolFormat(String message) { super(ErrorKind.POOL_FORMAT, message); }
    }

    /** An I/O error from the block store or LMDB. */
    public static final class IoFailure extends ClonefsException {
        private static final long serialVersionUID = 1L;
        public IoFailure(String message, Throwable cause) { super(ErrorKind.IO_FAILURE, message, cause); }
    }
}
