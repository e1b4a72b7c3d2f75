package io.clonefs.base;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Walks the one error table: every edge (FUSE, HTTP, client, exit code) reads it, so it must be consistent. */
class ErrorKindTest {
    @Test
    void everyCodeIsUniqueAndNamesItsKindAgain() {
        Set<String> codes = new HashSet<>();
        for (ErrorKind k : ErrorKind.values()) {
            assertTrue(codes.add(k.code()), "code used twice: " + k.code());
            assertTrue(k.code().matches("[a-z][a-z_]*"), k + ": " + k.code());
            // OTHER's code is the prefix of errno_<name>
            assertSame(k, ErrorKind.ofCode(k == ErrorKind.OTHER ? "errno_eio" : k.code()), k.toString());
        }
        assertSame(ErrorKind.OTHER, ErrorKind.ofCode("errno_enotdir"));
        assertNull(ErrorKind.ofCode("http_502"));
        assertNull(ErrorKind.ofCode(null));
    }

    @Test
    void statusesAndExitCodesAreInTheirRanges() {
        Set<Integer> exits = Set.of(ErrorKind.ExitCode.GENERAL, ErrorKind.ExitCode.USAGE, ErrorKind.ExitCode.NOT_FOUND,
                ErrorKind.ExitCode.CONFLICT, ErrorKind.ExitCode.NO_SPACE);
        for (ErrorKind k : ErrorKind.values()) {
            assertTrue(k.httpStatus() >= 400 && k.httpStatus() <= 599, k + ": " + k.httpStatus());
            assertTrue(exits.contains(k.exitCode()), k + ": " + k.exitCode());
            assertTrue(k.errno().value() > 0, k.toString());
            // the PostgreSQL kinds are named for their domain, and only they are
            assertEquals(k.domain() == ErrorKind.Domain.POSTGRES, k.code().startsWith("pg_"), k.toString());
            // the status and the exit code tell the same story: missing, conflicting, or a failure
            if (k.httpStatus() == 404 && k.domain() != ErrorKind.Domain.CONTROL) {
                assertEquals(ErrorKind.ExitCode.NOT_FOUND, k.exitCode(), k.toString());
            }
            if (k.httpStatus() == 409) {
                assertEquals(ErrorKind.ExitCode.CONFLICT, k.exitCode(), k.toString());
            }
            if (k.httpStatus() >= 500 && k != ErrorKind.NO_SPACE) {
                assertTrue(k.exitCode() == ErrorKind.ExitCode.GENERAL, k.toString());
            }
        }
        assertEquals(ErrorKind.ExitCode.NO_SPACE, ErrorKind.NO_SPACE.exitCode());
        assertEquals(507, ErrorKind.NO_SPACE.httpStatus());
    }

    @Test
    void everyEngineSubtypeHasTheKindItNames() {
        record Case(ClonefsException e, ErrorKind kind, Errno errno, String code, int exit) {
        }
        List<Case> cases = List.of(
                new Case(new ClonefsException.NotFound("m"), ErrorKind.NOT_FOUND, Errno.ENOENT, "not_found", 3),
                new Case(new ClonefsException.AlreadyExists("m"), ErrorKind.ALREADY_EXISTS, Errno.EEXIST, "already_exists", 4),
                new Case(new ClonefsException.Conflict("m"), ErrorKind.CONFLICT, Errno.EBUSY, "conflict", 4),
                new Case(new ClonefsException.ReadOnly("m"), ErrorKind.READ_ONLY, Errno.EROFS, "read_only", 4),
                new Case(new ClonefsException.InvalidArgument("m"), ErrorKind.INVALID_ARGUMENT, Errno.EINVAL, "invalid_argument", 2),
                new Case(new ClonefsException.NameTooLong("m"), ErrorKind.NAME_TOO_LONG, Errno.ENAMETOOLONG, "name_too_long", 2),
                new Case(new ClonefsException.NoSpace("m", null), ErrorKind.NO_SPACE, Errno.ENOSPC, "no_space", 5),
                new Case(new ClonefsException.PoolFormat("m"), ErrorKind.POOL_FORMAT, Errno.EINVAL, "pool_format", 1),
                new Case(new ClonefsException.IoFailure("m", null), ErrorKind.IO_FAILURE, Errno.EIO, "io_failure", 1),
                new Case(new ClonefsException.NotDirectory("m"), ErrorKind.OTHER, Errno.ENOTDIR, "errno_enotdir", 1),
                new Case(new ClonefsException.IsDirectory("m"), ErrorKind.OTHER, Errno.EISDIR, "errno_eisdir", 1),
                new Case(new ClonefsException.NotEmpty("m"), ErrorKind.OTHER, Errno.ENOTEMPTY, "errno_enotempty", 1));
        for (Case c : cases) {
            String what = c.e().getClass().getSimpleName();
            assertSame(c.kind(), c.e().kind(), what);
            assertSame(c.errno(), c.e().errno(), what);
            assertEquals(c.code(), c.e().code(), what);
            assertEquals(c.exit(), c.e().kind().exitCode(), what);
            assertSame(ErrorKind.Domain.ENGINE, c.e().kind().domain(), what);
            // a client raises the same kind, code and errno again from the reply
            ClonefsException again = ClonefsException.of(ErrorKind.ofCode(c.e().code()), c.e().code(), "m");
            assertSame(c.kind(), again.kind(), what);
            assertSame(c.errno(), again.errno(), what);
            assertEquals(c.code(), again.code(), what);
            if (c.kind() != ErrorKind.OTHER) {
                assertSame(c.e().getClass(), again.getClass(), what);
            }
        }
    }
}
