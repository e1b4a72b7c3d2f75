package io.clonefs.daemon;

/**
 * A failure of the control channel itself (no daemon, bad token, malformed reply, unexpected
 * server error), as opposed to an engine error, which travels as its own
 * {@link io.clonefs.base.ClonefsException} subtype.
 */
public class ControlException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String code;

    public ControlException(String code, String message) {
        super(message);
        this.code = code;
    }

    public ControlException(String code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public String code() {
        return code;
    }
}
