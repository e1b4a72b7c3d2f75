package io.clonefs.api;

import io.clonefs.base.ClonefsException;
import io.clonefs.base.ErrorKind;

/**
 * The control API's {@code {code, message}} errors, both ways, read from the one table
 * ({@link ErrorKind}): the server answers an exception with its kind's status and code, and the
 * client raises the same kind again, as an exception of the kind's domain.
 */
public final class ApiErrors {
    private ApiErrors() {
    }

    /** A mapped error: HTTP status and body. */
    public record Mapped(int status, Api.Error body) {
    }

    public static Mapped map(Throwable e) {
        String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (e instanceof ClonefsException ce) {
            return new Mapped(ce.kind().httpStatus(), new Api.Error(ce.code(), msg));
        } else if (e instanceof ControlException ce) {
            return new Mapped(ce.kind().httpStatus(), new Api.Error(ce.code(), msg));
        }
        return new Mapped(ErrorKind.INTERNAL.httpStatus(), new Api.Error(ErrorKind.INTERNAL.code(), "internal error: " + msg));
    }

    /**
     * The exception a client raises for an error reply: a {@link ClonefsException} of the reply's kind
     * (the nested subtype for the engine's kinds), a {@link ControlException} for the channel's own
     * kinds and for codes the table does not know.
     */
    public static RuntimeException toException(int status, Api.Error error) {
        String code = error == null || error.code() == null ? "http_" + status : error.code();
        String msg = error == null || error.message() == null ? "daemon answered HTTP " + status : error.message();
        ErrorKind kind = ErrorKind.ofCode(code);
        if (kind == null) {
            return ControlException.unknown(code, msg);
        }
        return kind.domain() == ErrorKind.Domain.CONTROL ? new ControlException(kind, msg) : ClonefsException.of(kind, code, msg);
    }
}
