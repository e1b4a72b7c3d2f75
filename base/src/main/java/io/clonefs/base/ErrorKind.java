package io.clonefs.base;

import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The one table of clonefs's errors: for each kind of failure, the errno a filesystem caller sees,
 * the HTTP status and API {@code code} the control API answers with, and the exit code of the
 * {@code clonefs} command. FUSE ({@code FuseCalls}), the HTTP server, the HTTP client (which raises
 * the same kind again from a reply's code) and the command line all read this table and nothing
 * else.
 *
 * <table>
 *   <caption>Columns</caption>
 *   <tr><th>column</th><th>read by</th></tr>
 *   <tr><td>{@link #errno()}</td><td>the FUSE adapter returns {@code -errno}</td></tr>
 *   <tr><td>{@link #httpStatus()}, {@link #code()}</td><td>the control API's error replies
 *       {@code {"code": ..., "message": ...}}</td></tr>
 *   <tr><td>{@link #exitCode()}</td><td>{@code clonefs}: 1 general, 2 usage, 3 not found,
 *       4 conflict, 5 no space, 6 fsck found problems</td></tr>
 *   <tr><td>{@link #domain()}</td><td>the client, to raise a reply as the exception type of
 *       its domain</td></tr>
 * </table>
 *
 * <p>Errnos the engine raises that have no kind of their own ({@code ENOTDIR}, {@code ELOOP}, ...)
 * travel as {@link #OTHER}, whose API code is {@code errno_<name>} (see {@link ClonefsException#code()}).
 */
public enum ErrorKind {
    //                      errno                HTTP  API code                exit                 domain
    NOT_FOUND(              Errno.ENOENT,        404, "not_found",              ExitCode.NOT_FOUND,  Domain.ENGINE),
    ALREADY_EXISTS(         Errno.EEXIST,        409, "already_exists",         ExitCode.CONFLICT,   Domain.ENGINE),
    CONFLICT(               Errno.EBUSY,         409, "conflict",               ExitCode.CONFLICT,   Domain.ENGINE),
    READ_ONLY(              Errno.EROFS,         409, "read_only",              ExitCode.CONFLICT,   Domain.ENGINE),
    INVALID_ARGUMENT(       Errno.EINVAL,        400, "invalid_argument",       ExitCode.USAGE,      Domain.ENGINE),
    NAME_TOO_LONG(          Errno.ENAMETOOLONG,  400, "name_too_long",          ExitCode.USAGE,      Domain.ENGINE),
    NO_SPACE(               Errno.ENOSPC,        507, "no_space",               ExitCode.NO_SPACE,   Domain.ENGINE),
    POOL_FORMAT(            Errno.EINVAL,        500, "pool_format",            ExitCode.GENERAL,    Domain.ENGINE),
    IO_FAILURE(             Errno.EIO,           500, "io_failure",             ExitCode.GENERAL,    Domain.ENGINE),
    /** Any other errno of the engine; its API code is {@code errno_<name>}. */
    OTHER(                  Errno.EIO,           500, "errno",                  ExitCode.GENERAL,    Domain.ENGINE),

    // PostgreSQL branches
    PG_PORT_IN_USE(         Errno.EBUSY,         409, "pg_port_in_use",         ExitCode.CONFLICT,   Domain.POSTGRES),
    PG_NO_FREE_PORT(        Errno.EBUSY,         409, "pg_no_free_port",        ExitCode.CONFLICT,   Domain.POSTGRES),
    PG_PROTECTED(           Errno.EBUSY,         409, "pg_protected",           ExitCode.CONFLICT,   Domain.POSTGRES),
    /** The host's available memory is below the floor kept for it (admission of a starting server). */
    PG_NO_MEMORY(           Errno.EAGAIN,        503, "pg_no_memory",           ExitCode.GENERAL,    Domain.POSTGRES),
    PG_NOT_POSTGRES(        Errno.EINVAL,        400, "pg_not_postgres",        ExitCode.USAGE,      Domain.POSTGRES),
    PG_SETUP(               Errno.EINVAL,        400, "pg_setup",               ExitCode.GENERAL,    Domain.POSTGRES),
    PG_START_FAILED(        Errno.EIO,           500, "pg_start_failed",        ExitCode.GENERAL,    Domain.POSTGRES),
    PG_TOOL_FAILED(         Errno.EIO,           500, "pg_tool_failed",         ExitCode.GENERAL,    Domain.POSTGRES),

    // The control channel itself
    BAD_REQUEST(            Errno.EINVAL,        400, "bad_request",            ExitCode.GENERAL,    Domain.CONTROL),
    UNAUTHORIZED(           Errno.EACCES,        401, "unauthorized",           ExitCode.GENERAL,    Domain.CONTROL),
    /** A valid token whose scope does not cover the request (docs/api/README.md, "Tokens and scopes"). */
    FORBIDDEN(              Errno.EACCES,        403, "forbidden",              ExitCode.GENERAL,    Domain.CONTROL),
    NO_SUCH_ENDPOINT(       Errno.ENOSYS,        404, "no_such_endpoint",       ExitCode.GENERAL,    Domain.CONTROL),
    METHOD_NOT_ALLOWED(     Errno.ENOSYS,        405, "method_not_allowed",     ExitCode.GENERAL,    Domain.CONTROL),
    SHUTTING_DOWN(          Errno.EAGAIN,        503, "shutting_down",          ExitCode.GENERAL,    Domain.CONTROL),
    INTERNAL(               Errno.EIO,           500, "internal",               ExitCode.GENERAL,    Domain.CONTROL),
    // ... raised by the client only, never answered by a server (their status is nominal)
    /** No daemon answers on the published port. */
    UNREACHABLE(            Errno.EIO,           500, "unreachable",            ExitCode.GENERAL,    Domain.CONTROL),
    /** The caller was interrupted while it waited for the daemon. */
    INTERRUPTED(            Errno.EIO,           500, "interrupted",            ExitCode.GENERAL,    Domain.CONTROL),
    /** A 2xx reply that is not the JSON the client expected. */
    BAD_REPLY(              Errno.EIO,           500, "bad_reply",              ExitCode.GENERAL,    Domain.CONTROL),
    /** The daemon's token file is missing or unreadable. */
    NO_TOKEN(               Errno.EACCES,        500, "no_token",               ExitCode.GENERAL,    Domain.CONTROL);

    /**
     * Who raises a kind: the engine ({@code ClonefsException} and its nested subtypes), the
     * PostgreSQL branch manager ({@code PgException}), or the control channel ({@code ControlException}).
     * A client raises a reply's kind again as an exception of the same domain.
     */
    public enum Domain {
        ENGINE, POSTGRES, CONTROL
    }

    /** The stable exit codes of {@code clonefs}. */
    public static final class ExitCode {
        public static final int OK = 0;
        /** Any other failure (I/O, daemon unreachable, internal error). */
        public static final int GENERAL = 1;
        /** Bad command line or invalid argument (e.g. a volume name with a '/'). */
        public static final int USAGE = 2;
        /** A pool, volume, snapshot or mount point that does not exist. */
        public static final int NOT_FOUND = 3;
        /** Already exists, already mounted, in use, or has dependants. */
        public static final int CONFLICT = 4;
        /** The pool is out of space. */
        public static final int NO_SPACE = 5;
        /** {@code fsck} found problems. */
        public static final int FSCK_PROBLEMS = 6;
        /**
         * A check failed: {@code pg check-migration} (a statement failed, or a threshold was exceeded),
         * {@code pg mask} (original values found), {@code doctor} (a blocker).
         */
        public static final int CHECK_FAILED = 7;

        private ExitCode() {
        }
    }

    private static final Map<String, ErrorKind> BY_CODE = Stream.of(values()).filter(k -> k != OTHER)
            .collect(Collectors.toUnmodifiableMap(ErrorKind::code, Function.identity()));

    private final Errno errno;
    private final int httpStatus;
    private final String code;
    private final int exitCode;
    private final Domain domain;

    ErrorKind(Errno errno, int httpStatus, String code, int exitCode, Domain domain) {
        this.errno = errno;
        this.httpStatus = httpStatus;
        this.code = code;
        this.exitCode = exitCode;
        this.domain = domain;
    }

    public Errno errno() {
        return errno;
    }

    public int httpStatus() {
        return httpStatus;
    }

    /** The API code; for {@link #OTHER} only the prefix of {@code errno_<name>}. */
    public String code() {
        return code;
    }

    public int exitCode() {
        return exitCode;
    }

    public Domain domain() {
        return domain;
    }

    /** The kind an API code names ({@code errno_*} codes are {@link #OTHER}), or null for an unknown code. */
    public static ErrorKind ofCode(String code) {
        if (code == null) {
            return null;
        }
        if (code.startsWith("errno_")) {
            return OTHER;
        }
        return BY_CODE.get(code);
    }
}
