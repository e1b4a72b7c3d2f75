package io.clonefs.daemon;

import io.clonefs.base.ClonefsException;
import java.util.Locale;

/**
 * What a token may do on the control API (docs/api/README.md, "Tokens and scopes"): {@link #READ}
 * only reads (GET and HEAD), {@link #BRANCH} also creates, resets and destroys PostgreSQL branches
 * (never a source), {@link #ADMIN} everything. Each scope covers the ones before it.
 */
public enum Scope {
    READ, BRANCH, ADMIN;

    /** True when a token of this scope may make a request that needs {@code needed}. */
    public boolean covers(Scope needed) {
        return compareTo(needed) >= 0;
    }

    /** Its name on the wire and the command line: {@code read}, {@code branch}, {@code admin}. */
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** {@code read}, {@code branch} or {@code admin} (any case); anything else is an invalid argument. */
    public static Scope parse(String s) {
        if (s != null) {
            for (Scope v : values()) {
                if (v.wire().equals(s.trim().toLowerCase(Locale.ROOT))) {
                    return v;
                }
            }
        }
        throw new ClonefsException.InvalidArgument("scope must be read, branch or admin, not '" + s + "'");
    }
}
