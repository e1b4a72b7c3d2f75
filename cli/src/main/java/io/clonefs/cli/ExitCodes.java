package io.clonefs.cli;

import io.clonefs.daemon.DaemonLauncher;
import io.clonefs.base.ClonefsException;

/** The stable exit codes of {@code clonefs}. */
public final class ExitCodes {
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

    private ExitCodes() {
    }

    /** The exit code for an exception that reached the command line. */
    public static int of(Throwable e) {
        if (e instanceof CliException c) {
            return c.exitCode();
        } else if (e instanceof DaemonLauncher.StartFailure f) {
            return f.exitCode();
        } else if (e instanceof ClonefsException.NotFound) {
            return NOT_FOUND;
        } else if (e instanceof ClonefsException.AlreadyExists || e instanceof ClonefsException.Conflict
                || e instanceof ClonefsException.ReadOnly) {
            return CONFLICT;
        } else if (e instanceof ClonefsException.InvalidArgument || e instanceof ClonefsException.NameTooLong) {
            return USAGE;
        } else if (e instanceof ClonefsException.NoSpace) {
            return NO_SPACE;
        }
        return GENERAL;
    }
}
