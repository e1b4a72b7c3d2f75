package io.clonefs.api;

import io.clonefs.base.ErrorKind;

/**
 * A failure of the control channel itself (no daemon, bad token, malformed request or reply,
 * unexpected server error), as opposed to an engine or PostgreSQL error, which travels as its own
 * {@link io.clonefs.base.ClonefsException} subtype. Its {@link #kind()} is one of the
 * {@link ErrorKind.Domain#CONTROL} rows of the error table.
 */
public class ControlException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final ErrorKind kind;
    private final String code;

    public ControlException(ErrorKind kind, String message) {
        this(kind, kind.code(), message, null);
    }

    public ControlException(ErrorKind kind, String message, Throwable cause) {
        this(kind, kind.code(), message, cause);
    }

    private ControlException(ErrorKind kind, String code, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.code = code;
    }

    /**
     * An error reply whose code the table does not know (a newer daemon's, or a reply that is not
     * ours: {@code http_<status>}); it keeps that code and counts as {@link ErrorKind#INTERNAL}.
     */
    public static ControlException unknown(String code, String message) {
        return new ControlException(ErrorKind.INTERNAL, code, message, null);
    }

    public ErrorKind kind() {
        return kind;
    }

    /** The API code: the kind's, or the unknown code a reply carried. */
    public String code() {
        return code;
    }
}
