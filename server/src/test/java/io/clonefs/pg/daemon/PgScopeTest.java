package io.clonefs.pg.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.clonefs.daemon.Scope;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/** Which /v1/pg state changes a branch-scoped token may make: branches only, never a source. */
class PgScopeTest {
    private final Predicate<String> branches = Set.of("b1", "b 2")::contains;

    private Scope needed(String method, String path) {
        return PgPlugin.scope(branches, method, path);
    }

    @Test
    void branchScopeCreatesResetsAndDestroysBranchesOnly() {
        assertEquals(Scope.BRANCH, needed("POST", "/branches"));
        assertEquals(Scope.BRANCH, needed("POST", "/servers/b1/reset"));
        assertEquals(Scope.BRANCH, needed("DELETE", "/servers/b1"));
        assertEquals(Scope.BRANCH, needed("DELETE", "/servers/b 2"));
        // a source, or a name that is not a branch (yet): admin
        assertEquals(Scope.ADMIN, needed("POST", "/servers/src/reset"));
        assertEquals(Scope.ADMIN, needed("DELETE", "/servers/src"));
        assertEquals(Scope.ADMIN, needed("DELETE", "/servers/nope"));
        // anything else that changes state, on a branch too
        for (String[] r : new String[][] {{"POST", "/init"}, {"POST", "/import"}, {"POST", "/servers/b1/start"},
            {"POST", "/servers/b1/stop"}, {"POST", "/servers/b1/protect"}, {"POST", "/servers/b1/unprotect"},
            {"POST", "/servers/b1/limits"}, {"POST", "/servers/b1/suspend"}, {"POST", "/servers/b1/history"},
            {"DELETE", "/servers/b1/history"}, {"POST", "/stop-all"}, {"POST", "/schedules"}, {"DELETE", "/schedules/src"},
            {"POST", "/diff"}, {"POST", "/check-migration"}, {"POST", "/mask"}, {"PUT", "/branches"},
            {"GET", "/servers/b1/reset"}, {"POST", "/servers/b1/reset/x"}, {"POST", "/servers/b1"}, {"POST", ""}}) {
            assertEquals(Scope.ADMIN, needed(r[0], r[1]), r[0] + " " + r[1]);
        }
    }

    @Test
    void scopesCoverTheOnesBelow() {
        assertEquals(true, Scope.ADMIN.covers(Scope.BRANCH));
        assertEquals(true, Scope.BRANCH.covers(Scope.READ));
        assertEquals(false, Scope.READ.covers(Scope.BRANCH));
        assertEquals(false, Scope.BRANCH.covers(Scope.ADMIN));
        assertEquals(Scope.BRANCH, Scope.parse("Branch"));
    }
}
