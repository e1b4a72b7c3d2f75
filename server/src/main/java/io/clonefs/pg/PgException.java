package io.clonefs.pg;

import io.clonefs.base.ClonefsException;
import io.clonefs.base.Errno;

/**
 * Failures of the PostgreSQL branch manager that the engine's own subtypes do not describe. Each
 * carries a stable machine-readable {@link #code()} (used by the control API) and a one-line message
 * a user can act on; {@link StartFailed} also carries the tail of the server's log.
 *
 * <p>Unknown names, names in use, refused destroys and bad arguments are raised as the engine's
 * {@link ClonefsException.NotFound}, {@link ClonefsException.AlreadyExists},
 * {@link ClonefsException.Conflict} and {@link ClonefsException.InvalidArgument}, so that every client
 * maps them to the same exit codes as the dataset commands.
 */
public class PgException extends ClonefsException {
    private static final long serialVersionUID = 1L;
    private final String code;

    PgException(Errno errno, String code, String message, Throwable cause) {
        super(errno, message, cause);
        this.code = code;
    }

    /** Stable error code, e.g. {@code pg_port_in_use}. */
    public String code() {
        return code;
    }

    /** HTTP status the control API answers with. */
    public int httpStatus() {
        return switch (errno()) {
            case EBUSY, EEXIST -> 409;
            case EINVAL, ENOENT -> 400;
            default -> 500;
        };
    }

    /**
     * The exception a client raises for an error the control API answered with {@code code}
     * (one of the {@code pg_*} codes), or null for a code that is not one of these.
     */
    public static PgException fromCode(String code, String message) {
        return switch (code) {
            case "pg_port_in_use" -> new PortInUse(message);
            case "pg_no_free_port" -> new NoFreePort(message);
            case "pg_not_postgres" -> new NotPostgres(message);
            case "pg_protected" -> new Protected(message);
            case "pg_start_failed" -> new StartFailed(message, "");
            case "pg_tool_failed" -> new ToolFailed(message);
            case "pg_setup" -> new Setup(message);
            default -> null;
        };
    }

    /** The requested TCP port is taken (by a managed server or by another process). */
    public static final class PortInUse extends PgException {
        private static final long serialVersionUID = 1L;

        public PortInUse(String message) {
            super(Errno.EBUSY, "pg_port_in_use", message, null);
        }
    }

    /** Every port of the configured range is taken. */
    public static final class NoFreePort extends PgException {
        private static final long serialVersionUID = 1L;

        public NoFreePort(String message) {
            super(Errno.EBUSY, "pg_no_free_port", message, null);
        }
    }

    /** A volume that holds no PostgreSQL data directory. */
    public static final class NotPostgres extends PgException {
        private static final long serialVersionUID = 1L;

        public NotPostgres(String message) {
            super(Errno.EINVAL, "pg_not_postgres", message, null);
        }
    }

    /** Destroy or expiry of a protected server. */
    public static final class Protected extends PgException {
        private static final long serialVersionUID = 1L;

        public Protected(String message) {
            super(Errno.EBUSY, "pg_protected", message, null);
        }
    }

    /** A server that did not start or did not answer; the message ends with the tail of its log. */
    public static final class StartFailed extends PgException {
        private static final long serialVersionUID = 1L;
        private final String logTail;

        public StartFailed(String message, String logTail) {
            super(Errno.EIO, "pg_start_failed", message + (logTail.isBlank() ? "" : "; last lines of its log:\n" + logTail), null);
            this.logTail = logTail;
        }

        public String logTail() {
            return logTail;
        }
    }

    /** A PostgreSQL tool ({@code initdb}, {@code pg_basebackup}, {@code pg_ctl}) failed. */
    public static final class ToolFailed extends PgException {
        private static final long serialVersionUID = 1L;

        public ToolFailed(String message) {
            super(Errno.EIO, "pg_tool_failed", message, null);
        }
    }

    /** The host is not set up to run PostgreSQL for clonefs (no postgres user, no binaries, no access). */
    public static final class Setup extends PgException {
        private static final long serialVersionUID = 1L;

        public Setup(String message) {
            super(Errno.EINVAL, "pg_setup", message, null);
        }
    }
}
