package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.clonefs.it.api.ApiClient;
import io.clonefs.it.api.OpenApiCheck;
import io.clonefs.it.pg.PgHarness;
import io.clonefs.it.support.Clonefs;
import io.clonefs.it.support.MountedPool;
import io.clonefs.it.support.Proc;
import io.clonefs.it.support.Workspace;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * PostgreSQL branches through the control API of a daemon started with {@code clonefs mount}: the
 * whole {@code /v1/pg} lifecycle with its errors, the event log (created, reset, destroyed,
 * expired), {@code /metrics} scraped while pgbench runs, and the CI recipe
 * ({@code docs/ci/branch-per-pr.sh check|create|test|diff|destroy}) run as a pipeline would run it.
 */
class ApiPgIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    @RegisterExtension
    final MountedPool pools = MountedPool.daemon("apipg").pgPorts(43000, 100).build();

    @Test
    void branchLifecycleEventsMetricsAndTheCiRecipe() throws Exception {
        Workspace ws = pools.ws();
        Path mnt = pools.mnt();
        Clonefs cfs = pools.clonefs();
        ApiClient api = new ApiClient(cfs.pool());
        OpenApiCheck check = new OpenApiCheck(api.raw("GET", "/v1/openapi.json", null, null).body()
                .getBytes(StandardCharsets.UTF_8));
        api.validateWith(check);
        long since = api.expect(200, "GET", "/v1/events", null).get("last").asLong();

        // a source, and pgbench on it while /metrics is scraped
        JsonNode src = api.expect(201, "POST", "/v1/pg/init", "{\"volume\":\"src\"}");
        int sp = src.get("port").asInt();
        assertEquals("running", src.get("state").asText());
        assertEquals(409, api.call("POST", "/v1/pg/init", "{\"volume\":\"src\"}").status());
        PgHarness.tool(sp, Duration.ofMinutes(5), "pgbench", "-i", "-s", "2", "-q", "postgres").check();
        String before = api.metrics();
        Path benchLog = ws.postgresDir("bench").resolve("pgbench.log");
        Process bench = Proc.start(Proc.asPostgres(PgHarness.toolCommand(sp, "pgbench", "-c", "2", "-T", "8", "postgres")),
                benchLog);
        double writes0 = ApiClient.sample(before, "clonefs_fuse_op_seconds_count{op=\"write\"}");
        double commits0 = ApiClient.sample(before, "clonefs_commit_seconds_count");
        double writesDuring = writes0;
        for (int i = 0; i < 20 && writesDuring <= writes0; i++) {
            Proc.sleep(500);
            writesDuring = ApiClient.sample(api.metrics(), "clonefs_fuse_op_seconds_count{op=\"write\"}");
        }
        assertTrue(writesDuring > writes0, "FUSE writes must be counted while pgbench runs: " + writes0 + " -> " + writesDuring);
        assertTrue(bench.waitFor(2, java.util.concurrent.TimeUnit.MINUTES), "pgbench did not end");
        assertEquals(0, bench.exitValue(), Files.readString(benchLog));
        String after = api.metrics();
        assertTrue(ApiClient.sample(after, "clonefs_fuse_op_seconds_count{op=\"write\"}") > writesDuring, after);
        assertTrue(ApiClient.sample(after, "clonefs_commit_seconds_count") > commits0, after);
        // every family a running daemon exports is in the one metrics table, with its type
        String table = Files.readString(Clonefs.launcher().getParent().getParent().resolve("docs/api/README.md"));
        Matcher family = Pattern.compile("(?m)^# TYPE (clonefs_\\w+) (\\w+)$").matcher(after);
        Set<String> families = new TreeSet<>();
        while (family.find()) {
            families.add(family.group(1));
            assertTrue(table.contains("| `" + family.group(1) + "` | " + family.group(2) + " |"),
                    family.group(1) + " (" + family.group(2) + ") is not in docs/api/README.md's metrics table");
        }
        assertTrue(families.size() >= 20 && families.contains("clonefs_pg_servers_running"), families.toString());
        System.out.printf("metrics: fuse writes %.0f -> %.0f, commits %.0f -> %.0f%n", writes0,
                ApiClient.sample(after, "clonefs_fuse_op_seconds_count{op=\"write\"}"), commits0,
                ApiClient.sample(after, "clonefs_commit_seconds_count"));

        // the CI recipe, as the workflow runs it: create, test (migration + tests), create again (reset), destroy
        Path repo = Clonefs.launcher().getParent().getParent();
        Path script = repo.resolve("docs/ci/branch-per-pr.sh");
        Path db = ws.dir("db");
        Files.createDirectories(db.resolve("migrations"));
        Files.createDirectories(db.resolve("tests"));
        Files.writeString(db.resolve("migrations/001_add_column.sql"),
                "alter table pgbench_accounts add column note text;\nupdate pgbench_accounts set note = 'migrated' where aid <= 10;\n");
        Files.writeString(db.resolve("tests/001_check.sql"),
                "do $$ begin assert (select count(*) from pgbench_accounts where note = 'migrated') = 10, 'migration missing'; end $$;\n");
        Map<String, String> env = new HashMap<>(cfs.env());
        env.put("CLONEFS", Clonefs.launcher().toString());
        env.put("SOURCE", "src");
        env.put("MIGRATIONS", db.resolve("migrations").toString());
        env.put("TESTS", db.resolve("tests").toString());
        env.put("BRANCH_TTL", "1h");
        env.put("PSQL", "psql");
        Proc.Result created = Proc.run(List.of(script.toString(), "create", "7"), env, Duration.ofMinutes(3)).check();
        String uri = created.out().strip();
        assertTrue(uri.startsWith("postgresql://"), created.describe());
        JsonNode pr7 = api.expect(200, "GET", "/v1/pg/servers/pr-7", null);
        assertEquals(uri, pr7.get("uri").asText());
        assertEquals("branch", pr7.get("role").asText());
        assertFalse(pr7.get("expiresAt").isNull());
        Proc.run(List.of(script.toString(), "test", "7"), env, Duration.ofMinutes(3)).check();
        assertEquals("10", PgHarness.query(pr7.get("port").asInt(), "select count(*) from pgbench_accounts where note = 'migrated'"));
        assertTrue(PgHarness.query(sp, "select count(*) from information_schema.columns where column_name = 'note'").equals("0"),
                "the source must not see the branch's migration");
        // check: the PR's migrations under check-migration on a branch of its own, a Markdown report; a
        // migration that holds a table's AccessExclusiveLock longer than MAX_LOCK fails it with exit 7
        Path reports = ws.dir("reports");
        env.put("REPORT_DIR", reports.toString());
        Proc.Result checked = Proc.run(List.of(script.toString(), "check", "7"), env, Duration.ofMinutes(3)).check();
        String report = Files.readString(reports.resolve("check-migration.md"));
        assertTrue(report.startsWith("## check-migration pr-7-migrations.sql on a branch of src: PASS"), checked.describe());
        assertTrue(report.contains("| `-- 001_add_column.sql alter table pgbench_accounts add column note text` |"), report); // the file it came from
        Path locking = ws.dir("db-locking");
        Files.writeString(locking.resolve("001_lock.sql"),
                "begin;\nlock table pgbench_accounts in access exclusive mode;\nselect pg_sleep(2.5);\ncommit;\n");
        Map<String, String> strict = new HashMap<>(env);
        strict.put("MIGRATIONS", locking.toString());
        strict.put("MAX_LOCK", "1s");
        Proc.Result dangerous = Proc.run(List.of(script.toString(), "check", "7"), strict, Duration.ofMinutes(3));
        assertEquals(7, dangerous.exit(), dangerous.describe());
        report = Files.readString(reports.resolve("check-migration.md"));
        assertTrue(report.startsWith("## check-migration pr-7-migrations.sql on a branch of src: FAIL"), report);
        assertTrue(report.contains("| public.pgbench_accounts | AccessExclusiveLock |"), report);
        // diff: what pr-7 changed since it was branched, against its snapshot
        Proc.Result diffed = Proc.run(List.of(script.toString(), "diff", "7"), env, Duration.ofMinutes(3)).check();
        String diffReport = Files.readString(reports.resolve("diff.md"));
        assertTrue(diffReport.startsWith("## What pr-7 changed (clonefs pg diff, against " + pr7.get("snapshot").asText() + ")"),
                diffed.describe());
        assertTrue(diffReport.contains("\n+    note text\n"), "the added column in the schema diff: " + diffReport);
        assertTrue(diffReport.matches("(?s).*\npublic\\.pgbench_accounts +table +[1-9].*"), "pages of the updated table: " + diffReport);
        Proc.Result failing = Proc.run(List.of(script.toString(), "test", "7"), env, Duration.ofMinutes(3));
        assertFalse(failing.ok(), "the migration applied twice must fail the pipeline: " + failing.describe());
        Proc.run(List.of(script.toString(), "create", "7"), env, Duration.ofMinutes(3)).check(); // a new push: reset
        Proc.run(List.of(script.toString(), "test", "7"), env, Duration.ofMinutes(3)).check();
        assertEquals(2, Proc.run(List.of(script.toString(), "create", "x7"), env, Duration.ofMinutes(1)).exit());

        // the rest of the lifecycle over HTTP
        JsonNode servers = api.expect(200, "GET", "/v1/pg/servers", null);
        assertEquals(Set.of("src", "pr-7"), names(servers));
        JsonNode cliList = cfs.json("pg", "list");
        assertEquals(names(servers), names(cliList));
        for (JsonNode s : cliList) {
            check.checkSchema("PgServer", s);
        }
        assertTrue(ApiClient.sample(api.metrics(), "clonefs_branches_running") >= 1);
        JsonNode b2 = api.expect(201, "POST", "/v1/pg/branches", "{\"source\":\"src\",\"name\":\"b2\",\"checkpoint\":false}");
        assertEquals("src", b2.get("source").asText());
        assertEquals("already_exists", code(api.call("POST", "/v1/pg/branches", "{\"source\":\"src\",\"name\":\"b2\"}"), 409));
        assertEquals(404, api.call("POST", "/v1/pg/branches", "{\"source\":\"nope\",\"name\":\"b3\"}").status());
        assertEquals(400, api.call("POST", "/v1/pg/branches", "{\"source\":\"src\"}").status());
        assertEquals(400, api.call("POST", "/v1/pg/branches", "{\"source\":\"src\",\"name\":\"b3\",\"ttl\":\"soon\"}").status());
        assertEquals(400, api.call("POST", "/v1/pg/import", "{not json").status());
        assertEquals(404, api.call("GET", "/v1/pg/servers/nope", null).status());
        assertEquals(404, api.call("POST", "/v1/pg/servers/nope/reset", null).status());
        assertEquals(404, api.call("GET", "/v1/pg/progress/src", null).status());
        assertEquals("b2", api.expect(200, "POST", "/v1/pg/servers/b2/reset", null).get("name").asText());
        assertTrue(api.expect(200, "POST", "/v1/pg/servers/b2/protect", null).get("protected").asBoolean());
        assertEquals(409, api.call("DELETE", "/v1/pg/servers/b2", null).status());
        assertFalse(api.expect(200, "POST", "/v1/pg/servers/b2/unprotect", null).get("protected").asBoolean());
        // time to live: set from now (longer or shorter), cleared with none; a bad one is a 400
        JsonNode ttl = api.expect(200, "POST", "/v1/pg/servers/b2/ttl", "{\"ttl\":\"3h\"}");
        long left = java.time.Duration.between(java.time.Instant.now(), java.time.Instant.parse(ttl.get("expiresAt").asText()))
                .toMinutes();
        assertTrue(left >= 178 && left <= 180, ttl.toString());
        assertTrue(api.expect(200, "POST", "/v1/pg/servers/b2/ttl", "{\"ttl\":\"none\"}").get("expiresAt").isNull());
        assertEquals("invalid_argument", code(api.call("POST", "/v1/pg/servers/b2/ttl", "{\"ttl\":\"soon\"}"), 400));
        assertEquals("invalid_argument", code(api.call("POST", "/v1/pg/servers/b2/ttl", "{}"), 400));
        assertEquals(404, api.call("POST", "/v1/pg/servers/nope/ttl", "{\"ttl\":\"1h\"}").status());
        JsonNode limited = api.expect(200, "POST", "/v1/pg/servers/b2/limits",
                "{\"settings\":{\"work_mem\":\"9MB\"},\"unset\":[\"nothing\"]}");
        assertEquals("9MB", limited.get("limits").get("settings").get("work_mem").asText());
        assertEquals("invalid_argument", code(api.call("POST", "/v1/pg/servers/b2/limits", "{\"memory\":\"1MiB\"}"), 400));
        assertEquals("invalid_argument", code(api.call("POST", "/v1/pg/servers/b2/limits", "{\"cpuWeight\":10001}"), 400));
        assertEquals("invalid_argument", code(api.call("POST", "/v1/pg/servers/b2/limits",
                "{\"settings\":{\"port\":\"1\"}}"), 400));
        assertEquals(404, api.call("POST", "/v1/pg/servers/nope/limits", "{}").status());
        assertEquals("stopped", api.expect(200, "POST", "/v1/pg/servers/b2/stop", null).get("state").asText());
        assertEquals("running", api.expect(200, "POST", "/v1/pg/servers/b2/start", null).get("state").asText());
        assertEquals("9MB", PgHarness.query(b2.get("port").asInt(), "SHOW work_mem"), "its setting applies from its start");
        // pg diff over HTTP and from the CLI (both running: nothing is started, no event)
        JsonNode diff = api.expect(200, "POST", "/v1/pg/diff", "{\"a\":\"src\",\"b\":\"b2\",\"schema\":true,\"data\":true}");
        assertEquals("", diff.get("schema").asText(), diff.toString());
        assertTrue(diff.get("total").get("pagesA").asLong() > 1000, diff.toString());
        assertEquals("invalid_argument", code(api.call("POST", "/v1/pg/diff", "{\"a\":\"src\",\"b\":\"b2\"}"), 400));
        assertEquals("not_found", code(api.call("POST", "/v1/pg/diff", "{\"a\":\"src\",\"b\":\"nope\",\"data\":true}"), 404));
        Proc.Result cliDiff = cfs.ok("pg", "diff", "src", "b2", "--data");
        assertTrue(cliDiff.out().contains("\ntotal: "), cliDiff.describe());
        // check-migration over HTTP: a branch made, the migration run and reported, the branch destroyed
        JsonNode rep = api.expect(200, "POST", "/v1/pg/check-migration",
                "{\"source\":\"src\",\"name\":\"chk\",\"migration\":\"ALTER TABLE pgbench_branches ADD COLUMN c int;\","
                        + "\"migrationName\":\"m.sql\"}");
        assertEquals("pass", rep.get("verdict").asText(), rep.toString());
        assertEquals(1, rep.get("statementsRun").asInt());
        assertEquals("invalid_argument", code(api.call("POST", "/v1/pg/check-migration",
                "{\"source\":\"src\",\"migration\":\"select 'open\"}"), 400));
        assertEquals("not_found", code(api.call("POST", "/v1/pg/check-migration",
                "{\"source\":\"nope\",\"migration\":\"select 1\"}"), 404));
        // pg mask over HTTP: a masked copy made, verified and marked; bad input refused; the name taken
        JsonNode mask = api.expect(200, "POST", "/v1/pg/mask", "{\"source\":\"src\",\"into\":\"msk\","
                + "\"rules\":\"pgbench_branches.filler = 'masked'\",\"rulesName\":\"r\"}");
        assertEquals("masked", mask.get("verdict").asText(), mask.toString());
        assertEquals(mask.get("snapshot").asText(),
                api.expect(200, "GET", "/v1/pg/servers/msk", null).get("masked").get("snapshot").asText());
        assertEquals("invalid_argument", code(api.call("POST", "/v1/pg/mask",
                "{\"source\":\"src\",\"into\":\"m2\",\"rules\":\"pgbench_branches.nope = 1\"}"), 400));
        assertEquals("already_exists", code(api.call("POST", "/v1/pg/mask",
                "{\"source\":\"src\",\"into\":\"msk\",\"rules\":\"pgbench_branches.filler = 'x'\"}"), 409));
        assertEquals("msk", api.expect(200, "DELETE", "/v1/pg/servers/msk", null).get("name").asText());
        // history over HTTP: on (archiving from the next start), status, refused for a branch, off
        JsonNode hist = api.expect(200, "POST", "/v1/pg/servers/src/history", "{\"keep\":\"1h\",\"every\":\"10m\"}");
        assertTrue(hist.get("on").asBoolean(), hist.toString());
        assertFalse(hist.get("archiving").asBoolean(), "archive_mode waits for the next start: " + hist);
        assertEquals("1h", api.expect(200, "GET", "/v1/pg/servers/src/history", null).get("keep").asText());
        assertEquals("invalid_argument", code(api.call("POST", "/v1/pg/servers/b2/history", "{\"keep\":\"1h\"}"), 400));
        assertEquals("invalid_argument", code(api.call("POST", "/v1/pg/servers/src/history", "{\"keep\":\"soon\"}"), 400));
        assertFalse(api.expect(200, "DELETE", "/v1/pg/servers/src/history", null).get("on").asBoolean());
        assertEquals("not_found", code(api.call("DELETE", "/v1/pg/servers/src/history", null), 404));
        assertEquals("not_found", code(api.call("GET", "/v1/pg/servers/src/history", null), 404));
        // idle servers sleep: set the idle time, suspend now, wake with a start
        assertEquals("invalid_argument", code(api.call("POST", "/v1/pg/servers/b2/suspend-after", "{\"after\":\"soon\"}"), 400));
        assertEquals("10m", api.expect(200, "POST", "/v1/pg/servers/b2/suspend-after", "{\"after\":\"10m\"}")
                .get("suspendAfter").asText());
        assertEquals("suspended", api.expect(200, "POST", "/v1/pg/servers/b2/suspend", null).get("state").asText());
        assertEquals("running", api.expect(200, "POST", "/v1/pg/servers/b2/start", null).get("state").asText());
        assertEquals("9MB", PgHarness.query(b2.get("port").asInt(), "SHOW work_mem"), "its setting applies after a wake");
        assertEquals(409, api.call("DELETE", "/v1/pg/servers/src", null).status(), "src has branches");
        assertEquals("b2", api.expect(200, "DELETE", "/v1/pg/servers/b2", null).get("name").asText());
        api.expect(201, "POST", "/v1/pg/schedules", "{\"source\":\"src\",\"every\":\"1h\",\"keep\":2}");
        assertEquals(1, api.expect(200, "GET", "/v1/pg/schedules", null).size());
        api.expect(200, "DELETE", "/v1/pg/schedules/src", null);
        Proc.run(List.of(script.toString(), "destroy", "7"), env, Duration.ofMinutes(3)).check();
        Proc.run(List.of(script.toString(), "destroy", "7"), env, Duration.ofMinutes(3)).check(); // already gone: fine
        // a branch that expires on its own
        api.expect(201, "POST", "/v1/pg/branches", "{\"source\":\"src\",\"name\":\"short\",\"ttl\":\"1s\",\"checkpoint\":false}");

        // the event log: what happened, in order, over HTTP, in the file and from the CLI
        List<String> seen = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        JsonNode page = null;
        while (System.nanoTime() < deadline) {
            page = api.expect(200, "GET", "/v1/events?since=" + since, null);
            seen = new ArrayList<>();
            for (JsonNode e : page.get("events")) {
                // the CI recipe's check and diff name their throwaway branches by time and at random
                seen.add(e.get("type").asText() + " " + e.get("name").asText().replaceFirst("^src-check-[0-9]{8}-[0-9]{6}$",
                        "src-check-T").replaceFirst("^pgdiff-[0-9a-f]+$", "pgdiff-X"));
            }
            if (seen.contains("expired short")) {
                break;
            }
            Proc.sleep(500);
        }
        assertEquals(List.of("created pr-7", "created src-check-T", "destroyed src-check-T", "created src-check-T",
                "destroyed src-check-T", "created pgdiff-X", "destroyed pgdiff-X", "reset pr-7",
                "created b2", "reset b2", "limits b2", "created chk", "destroyed chk",
                "created msk", "masked msk", "created m2", "destroyed m2", "destroyed msk", "suspended b2", "woken b2",
                "destroyed b2",
                "destroyed pr-7",
                "created short", "expired short"), seen, "events: " + page);
        JsonNode events = page.get("events");
        for (int i = 1; i < events.size(); i++) {
            assertEquals(events.get(i - 1).get("seq").asLong() + 1, events.get(i).get("seq").asLong());
        }
        assertEquals("src", events.get(0).get("details").get("source").asText());
        List<String> lines = Files.readAllLines(cfs.pool().resolve("events.log"));
        assertEquals(page.get("last").asLong(), JSON.readTree(lines.get(lines.size() - 1)).get("seq").asLong());
        assertEquals(page, cfs.json("events", "--since", Long.toString(since)));
        assertEquals(0, api.expect(200, "GET", "/v1/events?since=" + page.get("last").asLong(), null).get("events").size());

        String m = api.metrics();
        assertTrue(ApiClient.sample(m, "clonefs_api_requests_total{route=\"/v1/pg/branches\",status=\"201\"}") >= 2, m);
        assertTrue(ApiClient.sample(m, "clonefs_api_requests_total{route=\"/v1/pg/servers/{name}\",status=\"404\"}") >= 1, m);
        assertEquals(List.of("src"), JSON.convertValue(api.expect(200, "POST", "/v1/pg/stop-all", null), List.class));

        Set<String> missing = check.operations().stream().filter(o -> o.contains("/v1/pg/"))
                .collect(Collectors.toCollection(TreeSet::new));
        missing.removeAll(check.exercised());
        assertEquals(Set.of(), missing, "documented but not exercised");
    }

    private static String code(ApiClient.Reply r, int status) {
        assertEquals(status, r.status(), r.body());
        return r.code();
    }

    private static Set<String> names(JsonNode array) {
        Set<String> out = new TreeSet<>();
        array.forEach(n -> out.add(n.get("name").asText()));
        return out;
    }
}
