package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.clonefs.api.MaskApi;
import io.clonefs.api.PgApi;
import io.clonefs.base.ClonefsException;
import io.clonefs.base.ErrorKind;
import io.clonefs.it.pg.PgHarness;
import io.clonefs.it.support.Clonefs;
import io.clonefs.it.support.Proc;
import io.clonefs.it.support.Workspace;
import io.clonefs.pg.PgManager;
import io.clonefs.pg.mask.Masking;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code pg mask} (issue 23 part 3) with real PostgreSQL 15 on a real mount. A source holds
 * personal data in a table with an index and statistics, old row versions, and a copy of the
 * emails in a second table. A correct mask passes, and an independent search ({@code grep -F} of
 * every original value over the masked snapshot's files) finds none of them; branches of the masked
 * server carry the mark. {@code --verify} fails, and nothing is kept, for a mask that only updates
 * (no rewrite), for one that misses the copy in the second table, and when the WAL is left. Bad
 * input: one line each, nothing left behind. Then through the CLI and the daemon.
 */
class PgMaskIT {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final String RULES = """
            # personal data of customers
            customers.full_name = 'Customer ' || id
            customers.email     = 'customer' || id || '@example.invalid'
            public.customers.phone = NULL
            customers.birth_date = make_date(extract(year FROM birth_date)::int, 1, 1)
            customers.iban      = CASE WHEN iban IS NULL THEN NULL
                                       ELSE 'XX00MASK' || lpad(id::text, 14, '0') END
            [sql]
            -- the newsletter keeps a copy of the emails
            UPDATE newsletter SET email = 'subscriber' || customer_id || '@example.invalid';
            """;
    /** The same without the newsletter: its copy of the emails stays. */
    private static final String MISSES_A_COPY = RULES.substring(0, RULES.indexOf("[sql]"));

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

    /** Personal data on the source: 3000 customers, a changed email each (old row versions), statistics, a copy. */
    private static void personalData(int port) throws Exception {
        PgHarness.execute(port, """
                CREATE TABLE customers (id bigint PRIMARY KEY, full_name text NOT NULL, email text NOT NULL UNIQUE,
                    phone text, birth_date date, iban text);
                INSERT INTO customers
                SELECT g, (ARRAY['Annabel','Lukas','Mia','Elias','Emma','Noah','Sofia','Leonhard'])[1 + g % 8] || ' '
                          || (ARRAY['Schmidt','Mueller','Schneider','Fischer','Weber','Meyer','Wagner'])[1 + g % 7] || g,
                       'person' || g || '.' || md5(g::text) || '@mail.example.com',
                       '+49 151 ' || lpad((g * 7919 % 10000000)::text, 7, '0'),
                       date '1950-01-01' + (g * 37 % 18000)::int,
                       'DE' || lpad((g * 104729 % 100)::text, 2, '0') || lpad((g * 15485863 % 1000000000)::text, 18, '0')
                FROM generate_series(1::bigint, 3000) g;
                UPDATE customers SET email = replace(email, '@mail.', '@post.') WHERE id % 3 = 0;
                ANALYZE customers;
                CREATE TABLE newsletter (customer_id bigint, email text);
                INSERT INTO newsletter SELECT id, email FROM customers WHERE id % 2 = 0;
                CHECKPOINT;
                """);
    }

    /** Every original value of the text columns, as on the source. */
    private static List<String> originals(int port) throws Exception {
        List<String> out = new ArrayList<>();
        try (var c = PgHarness.connect(port); var st = c.createStatement();
             var rs = st.executeQuery("select full_name, email, phone, iban from customers")) {
            while (rs.next()) {
                for (int i = 1; i <= 4; i++) {
                    out.add(rs.getString(i));
                }
            }
        }
        try (var c = PgHarness.connect(port); var st = c.createStatement();
             var rs = st.executeQuery("select email from newsletter")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    private static MaskApi.MaskRequest req(String rules, String into, Boolean rewrite, Boolean keepWal) {
        return new MaskApi.MaskRequest("src", rules, "masking.rules", into, null, null, null, rewrite, keepWal);
    }

    @Test
    void aCorrectMaskPassesAndVerifyCatchesAnUpdateOnlyAMissedCopyAndWalLeft() throws Exception {
        h = PgHarness.start("pgmask");
        PgManager pg = h.pg();
        int sp = pg.init("src", null).port();
        personalData(sp);
        String sourceSum = PgHarness.query(sp, "select md5(string_agg(email || full_name, ',' order by id)) from customers");
        Masking masking = new Masking(pg);
        int snapshots = h.engine().snapshots().size();

        // a correct mask: passes, and no original value is anywhere in the snapshot's files
        MaskApi.Report ok = masking.run(req(RULES, "masked", null, null));
        System.out.println(JSON.writeValueAsString(ok));
        assertEquals("masked", ok.verdict());
        assertTrue(ok.snapshot().startsWith("masked@masked-"), ok.snapshot());
        MaskApi.Verify v = ok.verify();
        assertEquals(0, v.hitCount());
        assertEquals(List.of("public.customers.full_name", "public.customers.email", "public.customers.phone",
                "public.customers.iban"), v.columns());
        assertEquals(4 * 1000, v.values(), "1000 values of each column sampled, 3000 rows");
        assertTrue(v.unsearched().stream().anyMatch(u -> u.column().equals("public.customers.birth_date")),
                v.unsearched().toString());
        assertTrue(v.bytes() > 10 << 20, "every file of the data directory read: " + v.bytes());
        assertEquals(3000, ok.tables().get(0).rowsUpdated());
        assertTrue(ok.rewritten().containsAll(List.of("public.customers", "public.newsletter", "pg_catalog.pg_statistic")),
                "the table the free SQL changed is rewritten too: " + ok.rewritten());
        assertTrue(ok.walRemoved() >= 16 << 20, "WAL removed: " + ok.walRemoved());
        Path snapRoot = pg.snapshotFiles(ok.snapshot());
        List<String> originals = originals(sp);
        assertEquals(0, grepCount(snapRoot, originals, h.ws().root()), "no original value in any file of " + snapRoot);
        assertTrue(grepCount(snapRoot, List.of("customer17@example.invalid"), h.ws().root()) > 0,
                "the search does find what is there");
        Path walDir = snapRoot.resolve("data").resolve("pg_wal");
        try (var s = Files.list(walDir)) {
            assertEquals(1, s.filter(f -> f.getFileName().toString().matches("[0-9A-F]{24}")).count(),
                    "only the segment pg_resetwal wrote");
        }

        // marked; stopped; no time to live; its branches inherit the mark and hold masked data
        PgApi.Server masked = pg.get("masked");
        assertNotNull(masked.masked());
        assertEquals(ok.snapshot(), masked.masked().snapshot());
        assertTrue(masked.masked().verified());
        assertEquals("stopped", masked.state());
        assertNull(masked.expiresAt());
        PgApi.Branched share = pg.branch(PgManager.BranchSpec.of("masked", "share"));
        assertEquals(ok.snapshot(), pg.get("share").masked().snapshot());
        assertEquals("3000:3000:0", PgHarness.query(share.port(), "select count(*) || ':' || count(*) filter (where email "
                + "like 'customer%@example.invalid') || ':' || count(*) filter (where phone is not null) from customers"));
        assertEquals("0", PgHarness.query(share.port(), "select count(*) from newsletter where email not like 'subscriber%'"));
        assertNull(pg.get("src").masked(), "the source is not masked");
        assertEquals(sourceSum, PgHarness.query(sp,
                "select md5(string_agg(email || full_name, ',' order by id)) from customers"), "the source is untouched");
        pg.destroy("share");
        pg.destroy("masked");

        // an update without the rewrite: the old row versions are still in the table's pages
        MaskApi.Report noRewrite = masking.run(req(RULES, "m2", false, null));
        System.out.println(JSON.writeValueAsString(noRewrite.verify()));
        assertFailed(pg, noRewrite, snapshots);
        String customersFile = "data/" + PgHarness.query(sp, "select pg_relation_filepath('customers')");
        assertTrue(noRewrite.verify().hits().stream().anyMatch(x -> x.file().equals(customersFile)),
                "found in the customers table's own file " + customersFile + ": " + noRewrite.verify().hits());

        // rules that miss the newsletter's copy of the emails
        MaskApi.Report missed = masking.run(req(MISSES_A_COPY, "m3", null, null));
        System.out.println(JSON.writeValueAsString(missed.verify()));
        assertFailed(pg, missed, snapshots);
        String newsletterFile = "data/" + PgHarness.query(sp, "select pg_relation_filepath('newsletter')");
        assertTrue(missed.verify().hits().stream().anyMatch(x -> x.file().equals(newsletterFile)
                        && x.column().equals("public.customers.email")),
                "an email found in the newsletter's file " + newsletterFile + ": " + missed.verify().hits());

        // the WAL written before the mask left in place
        MaskApi.Report wal = masking.run(req(RULES, "m4", null, true));
        System.out.println(JSON.writeValueAsString(wal.verify()));
        assertFailed(pg, wal, snapshots);
        assertTrue(wal.verify().hits().stream().allMatch(x -> x.file().startsWith("data/pg_wal/")),
                "found only in the WAL: " + wal.verify().hits());
        assertEquals(0, wal.walRemoved());
        assertEquals(sourceSum, PgHarness.query(sp,
                "select md5(string_agg(email || full_name, ',' order by id)) from customers"), "the source is untouched");
    }

    private static void assertFailed(PgManager pg, MaskApi.Report r, int snapshots) {
        assertEquals("failed", r.verdict());
        assertNull(r.snapshot());
        assertTrue(r.verify().hitCount() > 0);
        assertFalse(r.verify().hits().isEmpty());
        assertEquals(List.of("src"), pg.list().stream().map(PgApi.Server::name).toList(), "nothing kept");
    }

    @Test
    void badInputIsOneLineAndLeavesNothing() throws Exception {
        h = PgHarness.start("pgmaskbad");
        PgManager pg = h.pg();
        int sp = pg.init("src", null).port();
        PgHarness.execute(sp, "create table customers (id int primary key, email text unique); "
                + "insert into customers select g, 'someone' || g || '@mail.example.com' from generate_series(1, 100) g; "
                + "create view v as select * from customers");
        Masking masking = new Masking(pg);
        int snapshots = h.engine().snapshots().size();
        record Case(String rules, String into, Class<? extends ClonefsException> kind, String message) {
        }
        List<Case> cases = List.of(
                new Case("customers.emial = 'x'\n", "m", ClonefsException.InvalidArgument.class,
                        "masking.rules:1: table public.customers has no column emial"),
                new Case("# c\ncustomer.email = 'x'\n", "m", ClonefsException.InvalidArgument.class,
                        "masking.rules:2: no table customer in database postgres"),
                new Case("customers.email = 'x' || id id2\n", "m", ClonefsException.InvalidArgument.class,
                        "masking.rules:1: public.customers.email: ERROR: syntax error at or near \"id2\""),
                new Case("customers.email 'x'\n", "m", ClonefsException.InvalidArgument.class,
                        "masking.rules:1: expected 'table.column = expression' or '[sql]'"),
                new Case("customers.email = 'x' || id\ncustomers.email = NULL\n", "m", ClonefsException.InvalidArgument.class,
                        "masking.rules:2: column customers.email already has a rule (line 1)"),
                new Case("customers.email = 'x'\n", "m", ClonefsException.InvalidArgument.class,
                        "masking.rules:1 (public.customers): ERROR: duplicate key value violates unique constraint"),
                new Case("v.email = 'x' || id\n", "m", ClonefsException.InvalidArgument.class,
                        "masking.rules:1: public.v is not a table (a view); mask the table it shows"),
                new Case("customers.email = 'y' || id\n[sql]\nselect 1;\nselect nope from customers;\n", "m",
                        ClonefsException.InvalidArgument.class, "masking.rules:4: ERROR: column \"nope\" does not exist"),
                new Case("customers.email = 'y' || id; drop table customers\n", "m", ClonefsException.InvalidArgument.class,
                        "masking.rules:1: an expression is one SQL expression, without ';'"),
                new Case("# nothing\n", "m", ClonefsException.InvalidArgument.class, "masking.rules holds no rule and no SQL"),
                new Case("customers.email = 'y' || id\n", "src", ClonefsException.AlreadyExists.class,
                        "a PostgreSQL server named 'src' exists; mask into a new name"));
        for (Case c : cases) {
            ClonefsException e = assertThrows(c.kind(), () -> masking.run(req(c.rules(), c.into(), null, null)), c.rules());
            assertTrue(e.getMessage().startsWith(c.message()), "'" + e.getMessage() + "' for " + c.rules());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            assertEquals(List.of("src"), pg.list().stream().map(PgApi.Server::name).toList(), "nothing left: " + c.rules());
            assertEquals(snapshots, h.engine().snapshots().size(), "no snapshot left: " + c.rules());
        }
        assertThrows(ClonefsException.NotFound.class, () -> masking.run(new MaskApi.MaskRequest("nosuch", "t.c = 1",
                "r", "m", null, null, null, null, null)));
        assertEquals("100", PgHarness.query(sp, "select count(*) from customers where email like 'someone%'"),
                "the source is untouched");
    }

    @Test
    void throughTheCliAndTheDaemon() throws Exception {
        ws = Workspace.create("pgmaskcli");
        Clonefs cfs = new Clonefs(ws, ws.root().resolve("pool"));
        cfs.init();
        Path mnt = ws.dir("mnt");
        cfs.mount(mnt);
        try {
            cfs.ok("pg", "init", "src");
            int sp = cfs.json("pg", "list").get(0).get("port").asInt();
            personalData(sp);
            // a rules file larger than 64 KiB (the daemon's old cap on a request body) travels whole
            Path rules = Files.writeString(ws.root().resolve("masking.rules"), "# " + "x".repeat(100_000) + "\n" + RULES);
            Proc.Result ok = cfs.run("pg", "mask", "src", "--rules", rules.toString(), "--into", "masked");
            assertEquals(0, ok.exit(), ok.describe());
            assertTrue(ok.out().startsWith("masked a copy of src into masked: snapshot masked@masked-"), ok.out());
            assertTrue(ok.out().contains("(verified)"), ok.out());
            assertTrue(ok.out().contains("public.customers: 3000 rows updated (full_name, email, phone, birth_date, iban), "
                    + "rewritten"), ok.out());
            assertTrue(ok.out().contains(": none found"), ok.out());
            assertTrue(ok.out().contains("not searched: public.customers.birth_date (date: stored in binary form"), ok.out());
            cfs.ok("pg", "branch", "masked", "alice");
            String list = cfs.run("pg", "list").out();
            assertTrue(list.lines().anyMatch(l -> l.startsWith("masked ") && l.contains("branch (masked)")), list);
            assertTrue(list.lines().anyMatch(l -> l.startsWith("alice ") && l.contains("branch (masked)")), list);
            assertTrue(list.lines().anyMatch(l -> l.startsWith("src ") && !l.contains("masked")), list);
            JsonNode alice = null;
            for (JsonNode s : cfs.json("pg", "list")) {
                if (s.get("name").asText().equals("alice")) {
                    alice = s;
                }
            }
            assertNotNull(alice);
            assertTrue(alice.get("masked").get("snapshot").asText().startsWith("masked@masked-"), alice.toString());

            Proc.Result fail = cfs.run("pg", "mask", "src", "--rules", rules.toString(), "--into", "m2", "--keep-wal",
                    "--json");
            assertEquals(ErrorKind.ExitCode.CHECK_FAILED, fail.exit(), fail.describe());
            JsonNode report = new ObjectMapper().readTree(fail.out());
            assertEquals("failed", report.get("verdict").asText());
            assertTrue(report.get("verify").get("hits").get(0).get("file").asText().startsWith("data/pg_wal/"), fail.out());

            Proc.Result missing = cfs.run("pg", "mask", "src", "--rules", ws.root().resolve("nope.rules").toString(),
                    "--into", "m3");
            assertEquals(ErrorKind.ExitCode.NOT_FOUND, missing.exit(), missing.describe());
            assertEquals("clonefs: no rules file " + ws.root().resolve("nope.rules"), missing.err().strip());
            Proc.Result exists = cfs.run("pg", "mask", "src", "--rules", rules.toString(), "--into", "alice");
            assertEquals(ErrorKind.ExitCode.CONFLICT, exists.exit(), exists.describe());
            assertEquals("clonefs: a PostgreSQL server named 'alice' exists; mask into a new name", exists.err().strip());
            Path bad = Files.writeString(ws.root().resolve("bad.rules"), "customers.nope = 1\n");
            Proc.Result badCol = cfs.run("pg", "mask", "src", "--rules", bad.toString(), "--into", "m3");
            assertEquals(ErrorKind.ExitCode.USAGE, badCol.exit(), badCol.describe());
            assertEquals("clonefs: bad.rules:1: table public.customers has no column nope", badCol.err().strip());
            assertEquals(3, cfs.json("pg", "list").size(), "src, masked, alice: " + cfs.run("pg", "list").out());
            cfs.ok("pg", "destroy", "alice");
            cfs.ok("pg", "destroy", "masked");
        } finally {
            cfs.unmount(mnt);
        }
    }

    /** Files under {@code root} holding any of {@code values}, by GNU grep (independent of the search under test). */
    private static int grepCount(Path root, List<String> values, Path scratch) throws Exception {
        Path patterns = Files.createTempFile(scratch, "originals", ".txt");
        Files.write(patterns, values);
        Proc.Result r = Proc.run(List.of("grep", "-rlaF", "-f", patterns.toString(), root.toString()));
        assertTrue(r.exit() == 0 || r.exit() == 1, r.describe());
        return (int) r.out().lines().filter(l -> !l.isBlank()).count();
    }
}
