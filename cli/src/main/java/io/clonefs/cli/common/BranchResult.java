package io.clonefs.cli.common;

import io.clonefs.api.PgApi;
import java.io.PrintWriter;

/**
 * The plain-text result of {@code clonefs pg branch}, shared by its picocli command and the fast
 * path ({@code FastPath}) so that both print the same. Loads neither picocli nor Jackson.
 */
public final class BranchResult {
    private BranchResult() {
    }

    /** The URI on {@code out} (what scripts read), what was made and how long it took on {@code err}. */
    public static void print(PrintWriter out, PrintWriter err, PgApi.Branched b) {
        out.println(b.uri());
        out.flush();
        err.println("branch " + b.name() + " of " + b.source() + " (" + b.snapshot() + ") answers after "
                + b.millis().total() + " ms" + (b.expiresAt() == null ? "" : "; expires " + Times.local(b.expiresAt())));
        err.flush();
    }
}
