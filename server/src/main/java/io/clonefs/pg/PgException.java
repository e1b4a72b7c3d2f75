package io.clonefs.pg;

import io.clonefs.base.ClonefsException;
import io.clonefs.base.ErrorKind;

/**
 * Failures of the PostgreSQL branch manager that the engine's own subtypes do not describe. Each
 * carries its {@code PG_*} {@link ErrorKind} (so its errno, API status and code, and exit code come
 * from the one table) and a one-line message a user can act on; {@link StartFailed} also carries
 * the tail of the server's log.
 *
 * <p>Unknown names, names in use, refused destroys and bad arguments are raised as the engine's
 * {@link ClonefsException.NotFound}, {@link ClonefsException.AlreadyExists},
 * {@link ClonefsException.Conflict} and {@link ClonefsException.InvalidArgument}, so that every client
 * maps them to the same exit codes as the dataset commands.
 */
public class PgException extends ClonefsException {
    private static final long serialVersionUID = 1L;

    PgException(ErrorKind kind, String message, Throwable cause) {
        super(kind, message, cause);
    }

    /** HTTP status the control API answers with: the kind's ({@link ErrorKind#httpStatus()}). */
    public int httpStatus() {
        return kind().httpStatus();
    }

    /**
     * The exception of an error the control API answered with {@code code} (one of the
     * {@code pg_*} codes), or null for a code that is not one of these.
     */
    public static PgException fromCode(String code, String message) {
        ErrorKind kind = ErrorKind.ofCode(code);
        if (kind == null) {
            return null;
        }
        return switch (kind) {
            case PG_PORT_IN_USE -> new PortInUse(message);
            case PG_NO_FREE_PORT -> new NoFreePort(message);
            case PG_NOT_POSTGRES -> new NotPostgres(message);
            case PG_PROTECTED -> new Protected(message);
            case PG_NO_MEMORY -> new NoMemory(message);
            case PG_START_FAILED -> new StartFailed(message, "");
            case PG_TOOL_FAILED -> new ToolFailed(message);
            case PG_SETUP -> new Setup(message);
            default -> null;
        };
    }

    /** The requested TCP port is taken (by a managed server or by another process). */
    public static final class PortInUse extends PgException {
        private static final long serialVersionUID = 1L;

        public PortInUse(String message) {
            super(ErrorKind.PG_PORT_IN_USE, message, null);
        }
    }

    /** Every port of the configured range is taken. */
    public static final class NoFreePort extends PgException {
        private static final long serialVersionUID = 1L;

        public NoFreePort(String message) {
            super(ErrorKind.PG_NO_FREE_PORT, message, null);
        }
    }

    /** A volume that holds no PostgreSQL data directory. */
    public static final class NotPostgres extends PgException {
        private static final long serialVersionUID = 1L;

        public NotPostgres(String message) {
            super(ErrorKind.PG_NOT_POSTGRES, message, null);
        }
    }

    /** Destroy or expiry of a protected server. */
    public static final class Protected extends PgException {
        private static final long serialVersionUID = 1L;

        public Protected(String message) {
            super(ErrorKind.PG_PROTECTED, message, null);
        }
    }

    /** The host cannot take another running server: its available memory would fall below the floor. */
    public static final class NoMemory extends PgException {
        private static final long serialVersionUID = 1L;

        public NoMemory(String message) {
            super(ErrorKind.PG_NO_MEMORY, message, null);
        }
    }

    /** A server that did not start or did not answer; the message ends with the tail of its log. */
    public static final class StartFailed extends PgException {
        private static final long serialVersionUID = 1L;
        private final String logTail;

        public StartFailed(String message, String logTail) {
            super(ErrorKind.PG_START_FAILED, message + (logTail.isBlank() ? "" : "; last lines of its log:\n" + logTail), null);
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
            super(ErrorKind.PG_TOOL_FAILED, message, null);
        }
    }

    /** The host is not set up to run PostgreSQL for clonefs (no postgres user, no binaries, no access). */
    public static final class Setup extends PgException {
        private static final long serialVersionUID = 1L;

        public Setup(String message) {
            super(ErrorKind.PG_SETUP, message, null);
        }
    }
}
