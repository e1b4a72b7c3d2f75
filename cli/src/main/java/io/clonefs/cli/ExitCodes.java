package io.clonefs.cli;

import io.clonefs.api.ControlException;
import io.clonefs.base.ClonefsException;
import io.clonefs.base.ErrorKind;
import io.clonefs.cli.common.CliException;
import io.clonefs.daemon.DaemonLauncher;

/**
 * The stable exit codes of {@code clonefs}: names for {@link ErrorKind.ExitCode} (the one table's
 * column), and the exit code of an exception that reached the command line.
 */
public final class ExitCodes {
    public static final int OK = ErrorKind.ExitCode.OK;
    /** Any other failure (I/O, daemon unreachable, internal error). */
    public static final int GENERAL = ErrorKind.ExitCode.GENERAL;
    /** Bad command line or invalid argument (e.g. a volume name with a '/'). */
    public static final int USAGE = ErrorKind.ExitCode.USAGE;
    /** A pool, volume, snapshot or mount point that does not exist. */
    public static final int NOT_FOUND = ErrorKind.ExitCode.NOT_FOUND;
    /** Already exists, already mounted, in use, or has dependants. */
    public static final int CONFLICT = ErrorKind.ExitCode.CONFLICT;
    /** The pool is out of space. */
    public static final int NO_SPACE = ErrorKind.ExitCode.NO_SPACE;
    /** {@code fsck} found problems. */
    public static final int FSCK_PROBLEMS = ErrorKind.ExitCode.FSCK_PROBLEMS;
    /** A check failed: {@code pg check-migration}, {@code pg mask}, {@code doctor} (a blocker). */
    public static final int CHECK_FAILED = ErrorKind.ExitCode.CHECK_FAILED;

    private ExitCodes() {
    }

    /** The exit code for an exception that reached the command line: its kind's, from the table. */
    public static int of(Throwable e) {
        if (e instanceof ClonefsException c) {
            return c.kind().exitCode();
        } else if (e instanceof ControlException c) {
            return c.kind().exitCode();
        } else if (e instanceof CliException c) {
            return c.exitCode();
        } else if (e instanceof DaemonLauncher.StartFailure f) {
            return f.exitCode(); // the exit status of the daemon that did not start
        }
        return GENERAL;
    }
}
