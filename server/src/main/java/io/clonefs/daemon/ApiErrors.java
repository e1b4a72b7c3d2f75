package io.clonefs.daemon;

import io.clonefs.base.ClonefsException;

/**
 * The one mapping between exceptions and the control API's {@code {code, message}} errors, used by
 * the server to answer and by the client to raise the same exception subtype again.
 */
public final class ApiErrors {
    private ApiErrors() {
    }

    /** A mapped error: HTTP status and body. */
    public record Mapped(int status, Api.Error body) {
    }

    public static Mapped map(Throwable e) {
        String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (e instanceof ClonefsException.NotFound) {
            return new Mapped(404, new Api.Error("not_found", msg));
        } else if (e instanceof ClonefsException.AlreadyExists) {
            return new Mapped(409, new Api.Error("already_exists", msg));
        } else if (e instanceof ClonefsException.Conflict) {
            return new Mapped(409, new Api.Error("conflict", msg));
        } else if (e instanceof ClonefsException.ReadOnly) {
            return new Mapped(409, new Api.Error("read_only", msg));
        } else if (e instanceof ClonefsException.InvalidArgument) {
            return new Mapped(400, new Api.Error("invalid_argument", msg));
        } else if (e instanceof ClonefsException.NameTooLong) {
            return new Mapped(400, new Api.Error("name_too_long", msg));
        } else if (e instanceof ClonefsException.NoSpace) {
            return new Mapped(507, new Api.Error("no_space", msg));
        } else if (e instanceof ClonefsException.PoolFormat) {
            return new Mapped(500, new Api.Error("pool_format", msg));
        } else if (e instanceof ClonefsException.IoFailure) {
            return new Mapped(500, new Api.Error("io_failure", msg));
        } else if (e instanceof ClonefsException ce) {
            return new Mapped(500, new Api.Error("errno_" + ce.errno().name().toLowerCase(), msg));
        } else if (e instanceof ControlException ce) {
            int status = switch (ce.code()) {
                case "bad_request" -> 400;
                case "unauthorized" -> 401;
                case "no_such_endpoint" -> 404;
                case "method_not_allowed" -> 405;
                case "shutting_down" -> 503;
                default -> 500;
            };
            return new Mapped(status, new Api.Error(ce.code(), msg));
        }
        return new Mapped(500, new Api.Error("internal", "internal error: " + msg));
    }

    /** The exception a client raises for an error reply. */
    public static RuntimeException toException(int status, Api.Error error) {
        String code = error == null || error.code() == null ? "http_" + status : error.code();
        String msg = error == null || error.message() == null ? "daemon answered HTTP " + status : error.message();
        return switch (code) {
            case "not_found" -> new ClonefsException.NotFound(msg);
            case "already_exists" -> new ClonefsException.AlreadyExists(msg);
            case "conflict" -> new ClonefsException.Conflict(msg);
            case "read_only" -> new ClonefsException.ReadOnly(msg);
            case "invalid_argument" -> new ClonefsException.InvalidArgument(msg);
            case "name_too_long" -> new ClonefsException.NameTooLong(msg);
            case "no_space" -> new ClonefsException.NoSpace(msg, null);
            case "pool_format" -> new ClonefsException.PoolFormat(msg);
            case "io_failure" -> new ClonefsException.IoFailure(msg, null);
            default -> new ControlException(code, msg);
        };
    }
}
