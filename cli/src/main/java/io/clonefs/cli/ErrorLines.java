package io.clonefs.cli;

import io.clonefs.api.ControlException;
import io.clonefs.base.ClonefsException;
import io.clonefs.cli.common.CliException;
import io.clonefs.daemon.DaemonLauncher;
import java.io.UncheckedIOException;

/**
 * The one line {@code clonefs: ...} says about an exception that reached the command line, for both
 * ways a command runs ({@link Main.Errors} and {@link FastPath}); its exit code is {@link ExitCodes#of}.
 */
final class ErrorLines {
    private ErrorLines() {
    }

    static String message(Throwable ex) {
        if (ex instanceof ClonefsException || ex instanceof CliException
                || ex instanceof ControlException
                || ex instanceof DaemonLauncher.StartFailure) {
            return oneLine(ex.getMessage());
        }
        if (ex instanceof UncheckedIOException u && u.getMessage() != null) {
            return oneLine(u.getMessage());
        }
        Throwable root = ex;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root instanceof ClonefsException) {
            return oneLine(root.getMessage());
        }
        return "internal error: " + oneLine(String.valueOf(ex)) + " (run with -v for details)";
    }

    static String oneLine(String s) {
        if (s == null) {
            return "unknown error";
        }
        String t = s.strip();
        int nl = t.indexOf('\n');
        return nl < 0 ? t : t.substring(0, nl).strip();
    }
}
