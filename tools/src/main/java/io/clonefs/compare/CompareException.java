package io.clonefs.compare;

/** A step of the comparison failed (a command, a server, the filesystem). */
public final class CompareException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CompareException(String message) {
        super(message);
    }

    public CompareException(String message, Throwable cause) {
        super(message, cause);
    }
}
