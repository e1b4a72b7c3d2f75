package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.clonefs.it.pg.PgHarness;
import io.clonefs.it.support.Clonefs;
import io.clonefs.it.support.KernelMounts;
import io.clonefs.it.support.Proc;
import io.clonefs.it.support.Workspace;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Runs the four walkthroughs of {@code docs/walkthroughs/} as a user would: a daemon started with
 * {@code clonefs mount}, a source made with {@code clonefs pg init prod} and loaded with
 * {@code pgbench -i -s 5}, then each script ({@code CLONEFS_POOL}, {@code SOURCE}, {@code CLONEFS}
 * from the environment), with assertions on its exit code, its output and the databases afterwards.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WalkthroughsIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SOURCE = "prod";

    private Workspace ws;
    private Clonefs cfs;
    private Path mnt;
    private Map<String, String> env;
    private int sourcePort;
    private final Set<Long> postmasters = ConcurrentHashMap.newKeySet();

    @BeforeAll
    void setUp() throws Exception {
        ws = Workspace.create("walk");
        try {
            // whatever happens, no server outlives the test (registered first: runs after the unmount)
            ws.onClose("kill leftover PostgreSQL servers", () -> postmasters.forEach(Proc::kill9));
            Path pool = ws.root().resolve("pool");
            cfs = new Clonefs(ws, pool);
            cfs.init();
            mnt = ws.dir("mnt");
            int first = 43000 + ThreadLocalRandom.current().nextInt(0, 50) * 40;
            env = new HashMap<>();
            env.put("CLONEFS_POOL", pool.toString());
            env.put("CLONEFS_JAR", Clonefs.jar().toString());
            env.put("CLONEFS_RUN_DIR", ws.root().resolve("run").toString());
            env.put("CLONEFS_PG_PORTS", first + "-" + (first + 39));
            env.put("CLONEFS", Clonefs.launcher().toString());
            env.put("SOURCE", SOURCE);
            ws.onClose("unmount " + mnt, () -> cfs.unmount(mnt));
            clonefs("mount", pool.toString(), mnt.toString()).check();
            assertTrue(KernelMounts.isMounted(mnt));
            JsonNode src = json("pg", "init", SOURCE);
            sourcePort = src.get("port").asInt();
            rememberPostmasters();
            PgHarness.tool(sourcePort, Duration.ofMinutes(10), "pgbench", "-i", "-s", "5", "-q", "postgres").check();
            PgHarness.tool(sourcePort, Duration.ofMinutes(5), "pgbench", "-n", "-c", "2", "-j", "1", "-T", "5", "postgres").check();
        } catch (Exception | Error e) {
            ws.close();
            throw e;
        }
    }

    @AfterAll
    void tearDown() {
        if (ws != null) {
            rememberPostmasters();
            ws.close();
        }
    }

    @Test
    @Order(1)
    void migration() throws Exception {
        long accounts = PgHarness.queryLong(sourcePort, "select count(*) from pgbench_accounts");
        Proc.Result r = script("migration.sh", Map.of());
        String out = r.out();
        int before = out.indexOf("== 2."), after = out.indexOf("== 5.");
        assertTrue(out.substring(before, after).contains("Seq Scan on pgbench_accounts"), r.describe());
        assertTrue(out.substring(after).contains("Index Scan Backward using pgbench_accounts_abalance_idx"), r.describe());
        assertTrue(out.contains("abalance_in_range"), r.describe());
        assertTrue(out.contains(" active | " + accounts), "every row got the default: " + r.describe());
        assertTrue(out.contains("a balance of 200000000 is rejected"), r.describe());
        assertTrue(out.contains("a NULL status is rejected"), r.describe());
        assertTrue(out.matches("(?s).*status_columns_on_source\\s*\\n-+\\n\\s*0\\n.*"), r.describe());
        assertTrue(out.contains("destroyed prod-migration"), r.describe());
        // step 6: pg diff of the source and the branch: the new column, constraint and index; the index's file only in B
        String diff = out.substring(out.indexOf("== 6."), out.indexOf("== 7."));
        assertTrue(diff.contains("\n+    status text DEFAULT 'active'::text NOT NULL"), r.describe());
        assertTrue(diff.matches("(?s).*\n\\+[^\n]*CONSTRAINT abalance_in_range CHECK.*"), r.describe());
        assertTrue(diff.contains("\n+CREATE INDEX pgbench_accounts_abalance_idx ON public.pgbench_accounts USING btree (abalance);"),
                r.describe());
        assertTrue(diff.matches("(?s).*\npublic\\.pgbench_accounts_abalance_idx +index \\(only in B, base/5/[0-9]+\\) +[1-9].*"),
                r.describe());
        assertTrue(diff.contains("\ntotal: "), r.describe());
        // step 8: the same migration as a check, with a report and a verdict
        String check = out.substring(out.indexOf("== 8."));
        assertTrue(check.contains("check-migration migration.sql on a branch of prod: "), r.describe());
        assertTrue(check.contains("Locks that block reads or writes of a table"), r.describe());
        assertTrue(check.contains("reads.pgbench, 2 clients"), r.describe());
        assertTrue(check.contains("public.pgbench_accounts_abalance_idx"), "the new index in the changes: " + r.describe());
        assertTrue(check.contains("check-migration: passed") || check.contains("check-migration: failed its thresholds"),
                r.describe());
        // the source never saw it, and nothing is left
        assertEquals("0", PgHarness.query(sourcePort, "select count(*) from information_schema.columns "
                + "where table_name = 'pgbench_accounts' and column_name = 'status'"));
        assertEquals("0", PgHarness.query(sourcePort, "select count(*) from pg_indexes where indexname = 'pgbench_accounts_abalance_idx'"));
        assertOnlySourceLeft();
    }

    @Test
    @Order(2)
    void loadTest() throws Exception {
        long historyBefore = PgHarness.queryLong(sourcePort, "select count(*) from pgbench_history");
        Proc.Result r = script("load-test.sh", Map.of("SECONDS_RUN", "10"));
        double branchTps = number(r, "branch tps: ([0-9.]+)");
        double sourceTps = number(r, "source tps: ([0-9.]+)");
        System.out.printf("load test: branch %.1f tps (read-write), source %.1f tps (select-only)%n", branchTps, sourceTps);
        assertTrue(branchTps > 0 && sourceTps > 0, r.describe());
        long onBranch = (long) number(r, "pgbench_history rows on the branch: ([0-9]+)");
        assertEquals(historyBefore, (long) number(r, "pgbench_history rows on the source: ([0-9]+)"), r.describe());
        assertTrue(onBranch > historyBefore, "the load test wrote on the branch: " + r.describe());
        assertEquals(historyBefore, PgHarness.queryLong(sourcePort, "select count(*) from pgbench_history"));
        assertOnlySourceLeft();
    }

    @Test
    @Order(3)
    void developers() throws Exception {
        Proc.Result r = script("developers.sh", Map.of("KEEP", "1"));
        String out = r.out();
        // all three of one snapshot, each sees only its own writes, the source none
        List<String> snaps = new ArrayList<>();
        for (JsonNode s : json("pg", "list")) {
            if (s.get("role").asText().equals("branch")) {
                snaps.add(s.get("snapshot").asText());
                postmasters.add(s.get("pid").asLong());
            }
        }
        assertEquals(3, snaps.size(), r.describe());
        assertEquals(1, snaps.stream().distinct().count(), "one snapshot for all: " + snaps);
        assertTrue(snaps.get(0).startsWith(SOURCE + "@devs-"), snaps.toString());
        int i = 0;
        for (String d : List.of("alice", "bob", "carol")) {
            i++;
            assertTrue(out.contains(d + " sees tables: notes_" + d + "; bbalance of branch 1: " + i * 1000), r.describe());
            int port = port(d);
            assertEquals("notes_" + d, PgHarness.query(port, "select string_agg(tablename, ',') from pg_tables where tablename like 'notes\\_%'"));
        }
        assertTrue(out.contains("prod sees tables: (none)"), r.describe());
        // step 5: pg diff alice bob --schema; pg diff of the snapshot and alice --data
        String diff = out.substring(out.indexOf("== 5."));
        assertTrue(diff.contains("\n-CREATE TABLE public.notes_alice ("), r.describe());
        assertTrue(diff.contains("\n+CREATE TABLE public.notes_bob ("), r.describe());
        assertTrue(diff.matches("(?s).*\npublic\\.notes_alice +table \\(only in B, base/5/[0-9]+\\) +1 +0 +1\n.*"), r.describe());
        assertTrue(diff.matches("(?s).*\npublic\\.pgbench_branches +table +1 .*"), r.describe());
        assertEquals(null, PgHarness.query(sourcePort, "select string_agg(tablename, ',') from pg_tables where tablename like 'notes\\_%'"));
        for (String d : List.of("alice", "bob", "carol")) {
            clonefs("pg", "destroy", d).check();
        }
        clonefs("destroy", snaps.get(0)).check();
        assertOnlySourceLeft();
    }

    @Test
    @Order(4)
    void masking() throws Exception {
        Proc.Result r = script("masking.sh", Map.of("KEEP", "1"));
        String out = r.out();
        assertTrue(out.contains("customers on the shared branch: 5000, masked emails: 5000, other emails: 0"), r.describe());
        assertTrue(out.contains("found by SQL on the shared branch: 0"), r.describe());
        assertTrue(out.contains("files of the shared branch's data directory holding any: 0"), r.describe());
        assertTrue(out.contains("public.customers: 5000 rows updated (full_name, email, phone, birth_date, iban), rewritten"),
                r.describe());
        assertTrue(out.contains("original values of 4 columns") && out.contains(": none found"), r.describe());
        // the source keeps its originals
        List<String> originals = new ArrayList<>();
        for (int id : new int[] {1, 2, 3, 777, 5000}) {
            originals.add(PgHarness.query(sourcePort, "select email from customers where id = " + id));
        }
        assertTrue(originals.stream().allMatch(e -> e != null && !e.endsWith("@example.invalid")), originals.toString());
        // the shared branch: only masked values, and its origin is the masked snapshot
        JsonNode share = server("prod-share");
        JsonNode masked = server("prod-masked");
        postmasters.add(share.get("pid").asLong());
        assertEquals("prod-masked", share.get("source").asText());
        assertTrue(share.get("snapshot").asText().startsWith("prod-masked@masked-"), share.toString());
        assertEquals("stopped", masked.get("state").asText(), "the masked branch is not served: " + masked);
        assertTrue(masked.get("masked").get("verified").asBoolean(), masked.toString());
        assertEquals(share.get("snapshot").asText(), masked.get("masked").get("snapshot").asText(),
                "shared from the masked snapshot itself");
        assertEquals(share.get("snapshot").asText(), share.get("masked").get("snapshot").asText(), "the mark is inherited");
        String origin = null;
        for (JsonNode v : json("list").get("volumes")) {
            if (v.get("name").asText().equals("prod-share")) {
                origin = v.get("origin").asText();
            }
        }
        assertEquals(share.get("snapshot").asText(), origin, "prod-share is a clone of the masked snapshot");
        int sp = share.get("port").asInt();
        assertEquals("0", PgHarness.query(sp, "select count(*) from customers where email not like 'customer%@example.invalid' "
                + "or full_name not like 'Customer %' or iban not like 'XX00MASK%'"));
        for (String e : originals) {
            assertEquals("0", PgHarness.query(sp, "select count(*) from customers where email = '" + e.replace("'", "''") + "'"));
        }
        assertEquals("0", PgHarness.query(sp, "select count(*) from pg_stats where tablename = 'customers' "
                + "and attname = 'email' and histogram_bounds::text not like '%example.invalid%'"));
        // no file of the shared branch holds an original email
        byte[][] needles = originals.stream().map(s -> s.getBytes(java.nio.charset.StandardCharsets.UTF_8)).toArray(byte[][]::new);
        Path dataDir = Path.of(share.get("dataDir").asText());
        try (var files = Files.walk(dataDir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                byte[] content = Files.readAllBytes(f);
                for (byte[] n : needles) {
                    assertFalse(contains(content, n), f + " holds " + new String(n, java.nio.charset.StandardCharsets.UTF_8));
                }
            }
        }
        clonefs("pg", "destroy", "prod-share").check();
        clonefs("pg", "destroy", "prod-masked").check();
        assertOnlySourceLeft();
    }

    // ---- helpers -------------------------------------------------------------------------------

    private Proc.Result script(String name, Map<String, String> extra) throws IOException {
        Path script = repoRoot().resolve("docs/walkthroughs").resolve(name);
        assertTrue(Files.isExecutable(script), script + " is not executable");
        Map<String, String> e = new HashMap<>(env);
        e.putAll(extra);
        long t0 = System.nanoTime();
        Proc.Result r = Proc.run(List.of("bash", script.toString()), e, Duration.ofMinutes(5));
        System.out.printf("---- %s: exit %d after %d ms%n%s%n", name, r.exit(), (System.nanoTime() - t0) / 1_000_000, r.out());
        rememberPostmasters();
        return r.check();
    }

    private static Path repoRoot() {
        return Clonefs.launcher().getParent().getParent();
    }

    private Proc.Result clonefs(String... args) {
        List<String> cmd = new ArrayList<>(List.of(Clonefs.launcher().toString()));
        cmd.addAll(List.of(args));
        return Proc.run(cmd, env, Duration.ofMinutes(3));
    }

    private JsonNode json(String... args) throws IOException {
        String[] a = java.util.Arrays.copyOf(args, args.length + 1);
        a[args.length] = "--json";
        return JSON.readTree(clonefs(a).check().out());
    }

    private JsonNode server(String name) throws IOException {
        for (JsonNode s : json("pg", "list")) {
            if (s.get("name").asText().equals(name)) {
                return s;
            }
        }
        throw new AssertionError("no server " + name);
    }

    private int port(String name) throws IOException {
        return server(name).get("port").asInt();
    }

    private void rememberPostmasters() {
        try {
            for (JsonNode s : json("pg", "list")) {
                if (s.get("pid").asLong() > 0) {
                    postmasters.add(s.get("pid").asLong());
                }
            }
        } catch (IOException | AssertionError e) {
            System.err.println("cannot list servers: " + e);
        }
    }

    /** After a walkthrough: only the source runs, no other volume, no snapshot. */
    private void assertOnlySourceLeft() throws IOException {
        JsonNode list = json("pg", "list");
        assertEquals(1, list.size(), list.toString());
        assertEquals(SOURCE, list.get(0).get("name").asText());
        assertEquals("running", list.get(0).get("state").asText());
        JsonNode datasets = json("list");
        assertEquals(1, datasets.get("volumes").size(), datasets.toString());
        assertEquals(0, datasets.get("snapshots").size(), datasets.toString());
    }

    private static double number(Proc.Result r, String regex) {
        Matcher m = Pattern.compile(regex).matcher(r.out());
        assertTrue(m.find(), "no '" + regex + "' in " + r.describe());
        return Double.parseDouble(m.group(1));
    }

    private static boolean contains(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
