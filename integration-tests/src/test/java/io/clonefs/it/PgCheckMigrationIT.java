package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.clonefs.api.MigrationApi;
import io.clonefs.base.ClonefsException;
import io.clonefs.base.ErrorKind;
import io.clonefs.it.pg.PgHarness;
import io.clonefs.it.support.Clonefs;
import io.clonefs.it.support.Proc;
import io.clonefs.it.support.Workspace;
import io.clonefs.pg.PgManager;
import io.clonefs.pg.check.MigrationCheck;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code pg check-migration} (issue 23 part 1) with real PostgreSQL 15 and pgbench on a real mount:
 * a migration that rewrites a table under a workload reports the lock and the queries it blocked
 * and fails its threshold; the same change done safely passes; a constraint violation reports the
 * statement and the server's error; a malformed migration is refused with one line; the source's
 * files and data checksums are unchanged; the branch is gone afterwards. Then through the CLI and
 * the daemon: exit codes, Markdown, bad input.
 */
class PgCheckMigrationIT {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final String READS = "\\set aid random(1, 500000)\nSELECT abalance FROM pgbench_accounts WHERE aid = :aid;\n";

    private PgHarness h;
    private Workspace ws;

    @AfterEach
    void teardown() {
        if (h != null) {
            h.close();
        }
        if (ws != null) {
            ws.close();
        }
    }

    private static MigrationApi.CheckRequest req(String sql, String name, String workload, String maxLock) {
        return new MigrationApi.CheckRequest("src", sql, name, workload, workload == null ? null : "reads.pgbench", 2,
                "3s", null, null, null, maxLock, null, null);
    }

    @Test
    void locksBlockedQueriesRewritesErrorsAndAnUntouchedSource() throws Exception {
        h = PgHarness.start("pgcheck");
        PgManager pg = h.pg();
        int sp = pg.init("src", null).port();
        Proc.Result init = PgHarness.tool(sp, Duration.ofMinutes(5), "pgbench", "-i", "-s", "5", "-q", "postgres");
        assertEquals(0, init.exit(), init.describe());
        PgHarness.execute(sp, "alter system set autovacuum = off");
        PgHarness.execute(sp, "select pg_reload_conf()");
        PgHarness.execute(sp, "checkpoint");
        String sum = PgHarness.query(sp, "select sum(abalance) || ':' || count(*) from pgbench_accounts");
        Path data = Path.of(pg.get("src").dataDir());
        List<String> files = List.of("pgbench_accounts", "pgbench_accounts_pkey", "pgbench_branches", "pgbench_tellers");
        Map<String, String> hashes = hashes(sp, data, files);
        MigrationCheck check = new MigrationCheck(pg);

        // a rewrite in a transaction that then does more work: the table is locked for all of it
        String rewrite = "BEGIN;\nALTER TABLE pgbench_accounts ALTER COLUMN abalance TYPE bigint;\n"
                + "UPDATE pgbench_branches SET bbalance = bbalance;\nSELECT pg_sleep(1.5);\nCOMMIT;\n";
        MigrationApi.Report r = check.run(req(rewrite, "rewrite.sql", READS, "1s"));
        System.out.println(JSON.writeValueAsString(r));
        assertEquals("fail", r.verdict());
        assertEquals(5, r.statementsRun());
        assertNull(r.failed());
        MigrationApi.Lock lock = r.locks().stream().filter(l -> l.relation().equals("public.pgbench_accounts")
                && l.mode().equals("AccessExclusiveLock")).findFirst().orElseThrow(() -> new AssertionError(r.locks()));
        assertTrue(lock.millis() >= 1500, "held through the sleep: " + lock);
        assertEquals("reads and writes", lock.blocks());
        assertEquals(2, lock.statement(), "taken by the ALTER");
        assertTrue(r.violations().stream().anyMatch(v -> v.startsWith("AccessExclusiveLock held on public.pgbench_accounts")),
                r.violations().toString());
        MigrationApi.Workload w = r.workload();
        assertNotNull(w);
        assertTrue(w.queriesBlocked() >= 2, "both clients waited: " + w);
        assertTrue(w.blockedMaxMillis() >= 1000, "for more than a second: " + w);
        assertNotNull(w.latencyBeforeMs());
        assertTrue(r.violations().stream().anyMatch(v -> v.contains("workload queries waited behind the migration")),
                r.violations().toString());
        MigrationApi.Relation accounts = relation(r, "public.pgbench_accounts");
        assertTrue(accounts.rewritten(), accounts.toString());
        assertTrue(relation(r, "public.pgbench_accounts_pkey").rewritten(), "its index was rebuilt");
        assertTrue(r.walBytes() > 10 << 20, "the rewrite wrote WAL: " + r.walBytes());
        assertNoCheckBranch(pg);

        // the same kind of change done safely: no rewrite, no lock held long
        String safe = "CREATE INDEX CONCURRENTLY accounts_abalance ON pgbench_accounts (abalance);\n"
                + "ALTER TABLE pgbench_accounts ADD COLUMN note text;\n";
        MigrationApi.Report r2 = check.run(req(safe, "safe.sql", READS, "1s"));
        System.out.println(JSON.writeValueAsString(r2));
        assertEquals("pass", r2.verdict(), r2.violations().toString());
        assertTrue(r2.locks().stream().allMatch(l -> l.millis() < 1000), r2.locks().toString());
        assertTrue(r2.relations().stream().noneMatch(x -> x.name().equals("public.pgbench_accounts") && x.rewritten()),
                "ADD COLUMN without a default rewrites nothing: " + r2.relations());
        MigrationApi.Relation index = relation(r2, "public.accounts_abalance");
        assertNull(index.bytesBefore(), "a new index");
        assertTrue(index.bytesAfter() > 0);
        assertNoCheckBranch(pg);

        // a statement the data refuses: the statement, the server's error, the log
        String violates = "UPDATE pgbench_accounts SET abalance = -1 WHERE aid = 1;\n"
                + "ALTER TABLE pgbench_accounts ADD CONSTRAINT positive CHECK (abalance >= 0);\n"
                + "CREATE INDEX never_made ON pgbench_accounts (bid);\n";
        MigrationApi.Report r3 = check.run(req(violates, "violates.sql", null, null));
        System.out.println(JSON.writeValueAsString(r3));
        assertEquals("fail", r3.verdict());
        assertEquals(2, r3.statementsRun());
        assertEquals(3, r3.statementsTotal());
        assertEquals(2, r3.failed().index());
        assertEquals(2, r3.failed().line());
        assertEquals("23514", r3.failed().error().sqlState());
        assertTrue(r3.failed().error().message().contains("positive"), r3.failed().error().message());
        assertTrue(r3.violations().get(0).startsWith("statement 2 (line 2) failed:"), r3.violations().toString());
        assertTrue(r3.log().stream().anyMatch(l -> l.contains("ERROR:") && l.contains("positive")), r3.log().toString());
        assertTrue(r3.log().stream().anyMatch(l -> l.contains("STATEMENT:") && l.contains("ADD CONSTRAINT positive")),
                r3.log().toString());
        assertNoCheckBranch(pg);

        // malformed: one line naming the place, nothing left behind
        ClonefsException e = assertThrows(ClonefsException.InvalidArgument.class,
                () -> check.run(req("ALTER TABLE pgbench_accounts ADD COLUMN x int;\nALTR TABLE t;\n", "syntax.sql", null, null)));
        assertTrue(e.getMessage().startsWith("syntax.sql:2: statement 2: ERROR: syntax error at or near \"ALTR\""),
                e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        assertNoCheckBranch(pg);
        e = assertThrows(ClonefsException.InvalidArgument.class,
                () -> check.run(req("select 1;\nselect 'unclosed;\n", "quote.sql", null, null)));
        assertEquals("quote.sql:2: a string (') is not closed", e.getMessage());
        e = assertThrows(ClonefsException.InvalidArgument.class, () -> check.run(req("-- nothing\n", "empty.sql", null, null)));
        assertEquals("empty.sql holds no SQL statement", e.getMessage());
        // a table production lacks is a finding, not bad input: reported
        MigrationApi.Report r4 = check.run(req("ALTER TABLE nope ADD COLUMN x int;\n", "unknown.sql", null, null));
        assertEquals("fail", r4.verdict());
        assertEquals("42P01", r4.failed().error().sqlState());
        e = assertThrows(ClonefsException.InvalidArgument.class,
                () -> check.run(req("select 1;\n", "m.sql", "\\set x random(1,\n", null)));
        assertTrue(e.getMessage().startsWith("reads.pgbench: pgbench stopped:"), e.getMessage());
        assertThrows(ClonefsException.NotFound.class, () -> check.run(new MigrationApi.CheckRequest("nosuch", "select 1",
                "m.sql", null, null, null, null, null, null, null, null, null, null)));
        assertNoCheckBranch(pg);

        // the source: same data, same files, valid page checksums
        assertEquals(sum, PgHarness.query(sp, "select sum(abalance) || ':' || count(*) from pgbench_accounts"));
        PgHarness.execute(sp, "checkpoint");
        assertEquals(hashes, hashes(sp, data, files), "the source's relation files are unchanged");
        pg.stop("src");
        Proc.Result checksums = Proc.runAsPostgres(List.of("/usr/lib/postgresql/15/bin/pg_checksums", "--check", "-D",
                data.toString()), Duration.ofMinutes(2));
        assertEquals(0, checksums.exit(), checksums.describe());
    }

    @Test
    void throughTheCliExitCodesMarkdownAndBadInput() throws Exception {
        ws = Workspace.create("pgcheckcli");
        Clonefs cfs = new Clonefs(ws, ws.root().resolve("pool"));
        cfs.init();
        Path mnt = ws.dir("mnt");
        cfs.mount(mnt);
        try {
            cfs.ok("pg", "init", "src");
            int sp = cfs.json("pg", "list").get(0).get("port").asInt();
            PgHarness.execute(sp, "create table t as select generate_series(1, 1000) as id");
            Path ok = Files.writeString(ws.root().resolve("add-column.sql"), "ALTER TABLE t ADD COLUMN c int;\n");
            Proc.Result pass = cfs.run("pg", "check-migration", "src", "--file", ok.toString(), "--markdown");
            assertEquals(0, pass.exit(), pass.describe());
            assertTrue(pass.out().startsWith("## check-migration add-column.sql on a branch of src: PASS"), pass.out());
            assertTrue(pass.out().contains("| 1 | 1 |"), pass.out());

            Path locks = Files.writeString(ws.root().resolve("locks.sql"),
                    "BEGIN;\nLOCK TABLE t IN ACCESS EXCLUSIVE MODE;\nSELECT pg_sleep(1.3);\nCOMMIT;\n");
            Proc.Result fail = cfs.run("pg", "check-migration", "src", "--file", locks.toString(), "--max-lock", "1s");
            assertEquals(ErrorKind.ExitCode.CHECK_FAILED, fail.exit(), fail.describe());
            assertTrue(fail.out().startsWith("check-migration locks.sql on a branch of src: FAIL"), fail.out());
            assertTrue(fail.out().contains("AccessExclusiveLock held on public.t for"), fail.out());

            Proc.Result json = cfs.run("pg", "check-migration", "src", "--file", locks.toString(), "--json", "--keep",
                    "--name", "kept", "--max-lock", "1s");
            assertEquals(ErrorKind.ExitCode.CHECK_FAILED, json.exit(), json.describe());
            assertTrue(new ObjectMapper().readTree(json.out()).get("kept").asBoolean());
            assertEquals(0, new ObjectMapper().readTree(json.out()).get("log").size(), "nothing in the server's log: " + json.out());
            assertTrue(cfs.run("pg", "list").out().contains("kept"), "--keep keeps the branch");
            cfs.ok("pg", "destroy", "kept");

            Proc.Result missing = cfs.run("pg", "check-migration", "src", "--file", ws.root().resolve("nope.sql").toString());
            assertEquals(ErrorKind.ExitCode.NOT_FOUND, missing.exit(), missing.describe());
            assertEquals("clonefs: no migration file " + ws.root().resolve("nope.sql"), missing.err().strip());
            Path syntax = Files.writeString(ws.root().resolve("syntax.sql"), "ALTR TABLE t;\n");
            Proc.Result bad = cfs.run("pg", "check-migration", "src", "--file", syntax.toString());
            assertEquals(ErrorKind.ExitCode.USAGE, bad.exit(), bad.describe());
            assertTrue(bad.err().strip().startsWith("clonefs: syntax.sql:1: statement 1: ERROR: syntax error"), bad.describe());
            assertFalse(bad.err().strip().contains("\n"), bad.describe());
            Proc.Result badLimit = cfs.run("pg", "check-migration", "src", "--file", ok.toString(), "--max-lock", "soon");
            assertEquals(ErrorKind.ExitCode.USAGE, badLimit.exit(), badLimit.describe());
            assertTrue(badLimit.err().contains("max lock: 'soon' is not a duration"), badLimit.describe());
            assertEquals(1, cfs.json("pg", "list").size(), "no branch left behind: " + cfs.run("pg", "list").out());
        } finally {
            cfs.unmount(mnt);
        }
    }

    private static MigrationApi.Relation relation(MigrationApi.Report r, String name) {
        return r.relations().stream().filter(x -> x.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(name + " not in " + r.relations()));
    }

    private static void assertNoCheckBranch(PgManager pg) {
        assertEquals(List.of("src"), pg.list().stream().map(s -> s.name()).toList(), "only the source is left");
    }

    private static Map<String, String> hashes(int port, Path data, List<String> relations) throws Exception {
        Map<String, String> out = new TreeMap<>();
        for (String rel : relations) {
            String path = PgHarness.query(port, "select pg_relation_filepath('" + rel + "')");
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(Files.readAllBytes(data.resolve(path)));
            out.put(rel, HexFormat.of().formatHex(md.digest()));
        }
        return out;
    }
}
