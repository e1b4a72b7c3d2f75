package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.clonefs.it.api.ApiClient;
import io.clonefs.it.api.OpenApiCheck;
import io.clonefs.it.support.Clonefs;
import io.clonefs.it.support.KernelMounts;
import io.clonefs.it.support.MountedPool;
import io.clonefs.it.support.Proc;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The control API over real HTTP against a daemon started with {@code clonefs mount}: every
 * dataset and pool endpoint, every error status (400, 401, 404, 405, 409, 507), replies checked
 * against the OpenAPI document the daemon serves (which must be the one in {@code docs/api}),
 * {@code --json} output against the API, and {@code /metrics}. The pool lives on a small tmpfs so
 * that the pool can be filled up for the 507.
 */
class ApiIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MB = 1024 * 1024;
    @RegisterExtension
    final MountedPool pools = MountedPool.daemon("api").tmpfs("96m").build();

    @Test
    void everyEndpointOverHttpMatchesTheDocument() throws Exception {
        Clonefs cfs = pools.clonefs();
        Path mnt = pools.mnt();
        ApiClient api = new ApiClient(cfs.pool());

        // the document: served without a token, identical to the one in the repository
        ApiClient.Reply doc = api.raw("GET", "/v1/openapi.json", null, null);
        assertEquals(200, doc.status(), doc.body());
        assertTrue(doc.contentType().startsWith("application/json"), doc.contentType());
        Path repoDoc = Clonefs.launcher().getParent().getParent().resolve("docs/api/openapi.json");
        assertArrayEquals(Files.readAllBytes(repoDoc), doc.body().getBytes(StandardCharsets.UTF_8),
                "the daemon must serve docs/api/openapi.json");
        assertEquals(doc.body(), api.raw("GET", "/v1/openapi.yaml", null, null).body());
        OpenApiCheck check = new OpenApiCheck(doc.body().getBytes(StandardCharsets.UTF_8));
        api.validateWith(check);

        // 401: no token, wrong token, wrong scheme, on reads and writes, known and unknown paths
        for (String auth : new String[] {null, "Bearer nope", "Bearer " + api.token() + "x", "Basic " + api.token()}) {
            for (String[] req : new String[][] {{"GET", "/v1/status"}, {"GET", "/v1/datasets"}, {"POST", "/v1/volumes"},
                {"DELETE", "/v1/datasets/x"}, {"GET", "/v1/events"}, {"GET", "/v1/pg/servers"}, {"POST", "/v1/shutdown"}}) {
                ApiClient.Reply r = api.raw(req[0], req[1], "{\"name\":\"sneaky\"}", auth);
                assertEquals(401, r.status(), auth + " " + req[0] + " " + req[1] + ": " + r.body());
                assertEquals("unauthorized", r.code());
                check.check(req[0], req[1], r.status(), r.body());
            }
        }

        JsonNode status = api.expect(200, "GET", "/v1/status", null);
        assertEquals(cfs.pool().toString(), status.get("pool").asText());
        assertEquals(mnt.toString(), status.get("mountpoint").asText());

        // datasets: create, snapshot, clone (of a snapshot, and of a volume), list
        assertEquals("db", api.expect(201, "POST", "/v1/volumes", "{\"name\":\"db\"}").get("name").asText());
        Files.write(mnt.resolve("db/hello"), "hello".getBytes(StandardCharsets.UTF_8));
        assertEquals("db@s1", api.expect(201, "POST", "/v1/snapshots", "{\"volume\":\"db\",\"snapshot\":\"s1\"}")
                .get("name").asText());
        JsonNode c1 = api.expect(201, "POST", "/v1/clones", "{\"source\":\"db@s1\",\"name\":\"c1\"}");
        assertEquals("db@s1", c1.get("origin").asText());
        assertFalse(c1.get("snapshotCreated").asBoolean());
        JsonNode c2 = api.expect(201, "POST", "/v1/clones", "{\"source\":\"db\",\"name\":\"c2\"}");
        assertTrue(c2.get("snapshotCreated").asBoolean());
        assertEquals("hello", Files.readString(mnt.resolve("c1/hello")));
        JsonNode vols = api.expect(200, "GET", "/v1/volumes", null);
        assertEquals(Set.of("db", "c1", "c2"), names(vols));
        JsonNode snaps = api.expect(200, "GET", "/v1/snapshots", null);
        assertTrue(names(snaps).contains("db@s1"), snaps.toString());
        JsonNode datasets = api.expect(200, "GET", "/v1/datasets", null);
        assertEquals(vols, datasets.get("volumes"));

        // --json of the CLI is the API's JSON
        api.expect(200, "POST", "/v1/sync", null);
        assertEquals(api.expect(200, "GET", "/v1/datasets", null), cfs.json("list"));
        assertEquals(api.expect(200, "GET", "/v1/space", null), cfs.json("space"));
        // the space history (the console's pool chart): a sample from the daemon's start and one taken now
        JsonNode history = api.expect(200, "GET", "/v1/space/history", null);
        assertEquals(60, history.get("intervalSeconds").asInt());
        assertEquals(1440, history.get("capacity").asInt());
        JsonNode samples = history.get("samples");
        assertTrue(samples.size() >= 2, history.toString());
        JsonNode latest = samples.get(samples.size() - 1);
        assertTrue(latest.get("usedBytes").asLong() > 0 && latest.get("freeBytes").asLong() > 0, history.toString());
        assertTrue(java.time.Instant.parse(latest.get("time").asText())
                .isAfter(java.time.Instant.parse(samples.get(0).get("time").asText()).minusSeconds(1)), history.toString());
        assertEquals("method_not_allowed", code(api.raw("POST", "/v1/space/history", null, "Bearer " + api.token()), 405));
        JsonNode fsck = api.expect(200, "POST", "/v1/fsck", null);
        assertTrue(fsck.get("clean").asBoolean(), fsck.toString());
        JsonNode cliFsck = cfs.json("fsck");
        assertEquals(fsck.get("clean"), cliFsck.get("clean"));
        check.checkSchema("Fsck", cliFsck);
        check.checkSchema("Created", cfs.json("create", "viacli"));
        check.checkSchema("Created", cfs.json("snapshot", "viacli@s"));
        check.checkSchema("Cloned", cfs.json("clone", "viacli@s", "viacli2"));
        check.checkSchema("Destroyed", cfs.json("destroy", "-r", "viacli@s"));
        check.checkSchema("Destroyed", cfs.json("destroy", "viacli"));
        assertEquals(api.expect(200, "GET", "/v1/events?since=0", null), cfs.json("events"));

        // 400: not JSON, wrong shape, empty, invalid names; bad query values
        for (String[] bad : new String[][] {{"/v1/volumes", "{not json"}, {"/v1/volumes", ""}, {"/v1/volumes", "[1,2]"},
            {"/v1/volumes", "{\"name\":\"a/b\"}"}, {"/v1/volumes", "{\"name\":\"..\"}"}, {"/v1/volumes", "{\"name\":\"" + "x".repeat(300) + "\"}"},
            {"/v1/snapshots", "{\"volume\":\"db\",\"snapshot\":\"a@b\"}"}, {"/v1/clones", "{\"source\":\"\",\"name\":\"z\"}"}}) {
            ApiClient.Reply r = api.call("POST", bad[0], bad[1]);
            assertEquals(400, r.status(), bad[0] + " " + bad[1] + ": " + r.body());
            assertFalse(r.json().get("message").asText().isBlank());
        }
        assertEquals(400, api.call("GET", "/v1/events?since=-1", null).status());
        assertEquals(400, api.call("GET", "/v1/events?since=abc", null).status());
        // 404: unknown volume, snapshot, endpoint
        assertEquals("not_found", code(api.call("POST", "/v1/snapshots", "{\"volume\":\"nope\",\"snapshot\":\"s\"}"), 404));
        assertEquals("not_found", code(api.call("POST", "/v1/clones", "{\"source\":\"db@nope\",\"name\":\"z\"}"), 404));
        assertEquals("not_found", code(api.call("DELETE", "/v1/datasets/nope", null), 404));
        ApiClient.Reply unknown = api.raw("GET", "/v1/nonexistent", null, "Bearer " + api.token());
        assertEquals(404, unknown.status());
        assertEquals("no_such_endpoint", unknown.code());
        // 405: a documented path with the wrong method
        ApiClient.Reply wrongMethod = api.raw("DELETE", "/v1/volumes", null, "Bearer " + api.token());
        assertEquals("method_not_allowed", code(wrongMethod, 405));
        // 409: name in use (volume, snapshot, clone target), dependants
        assertEquals("already_exists", code(api.call("POST", "/v1/volumes", "{\"name\":\"db\"}"), 409));
        assertEquals("already_exists", code(api.call("POST", "/v1/snapshots", "{\"volume\":\"db\",\"snapshot\":\"s1\"}"), 409));
        assertEquals("already_exists", code(api.call("POST", "/v1/clones", "{\"source\":\"db@s1\",\"name\":\"c1\"}"), 409));
        ApiClient.Reply dependants = api.call("DELETE", "/v1/datasets/db@s1", null);
        assertEquals(409, dependants.status(), dependants.body());
        assertEquals(409, api.call("DELETE", "/v1/datasets/db", null).status());
        // destroy: clone, snapshot with its clones (recursive), volume
        assertEquals("c1", api.expect(200, "DELETE", "/v1/datasets/c1", null).get("name").asText());
        assertTrue(api.expect(200, "DELETE", "/v1/datasets/db@s1?recursive=true", null).get("recursive").asBoolean());

        // the events endpoint pages
        JsonNode page = api.expect(200, "GET", "/v1/events?since=0&limit=5", null);
        assertTrue(page.get("events").isArray());
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(cfs.pool().resolve("events.log"))));

        // metrics: token-free, Prometheus text, counting the requests above by route and status
        String metrics = api.metrics();
        assertTrue(ApiClient.sample(metrics, "clonefs_api_requests_total{route=\"/v1/volumes\",status=\"201\"}") >= 1, metrics);
        assertTrue(ApiClient.sample(metrics, "clonefs_api_requests_total{route=\"/v1/status\",status=\"401\"}") >= 4, metrics);
        assertTrue(ApiClient.sample(metrics, "clonefs_api_requests_total{route=\"/v1/volumes\",status=\"409\"}") >= 1, metrics);
        assertTrue(ApiClient.sample(metrics, "clonefs_volumes") >= 1, metrics);
        assertTrue(ApiClient.sample(metrics, "clonefs_fuse_op_seconds_count{op=\"write\"}") >= 1, metrics);
        assertTrue(metrics.contains("# TYPE clonefs_api_requests_total counter"), metrics);

        // scoped tokens (TokenTlsIT covers them in depth): created once with their secret, listed
        // without it, a 403 for what the scope does not cover, revoked (before the pool's disk is
        // full: tokens.json lives there)
        JsonNode tok = api.expect(201, "POST", "/v1/tokens", "{\"scope\":\"read\",\"ttl\":\"1h\",\"name\":\"apiit\"}");
        String secret = tok.get("token").asText();
        assertEquals(64, secret.length());
        JsonNode toks = api.expect(200, "GET", "/v1/tokens", null);
        assertEquals(Set.of("apiit"), names(toks));
        assertFalse(toks.toString().contains(secret));
        assertEquals(200, api.raw("GET", "/v1/datasets", null, "Bearer " + secret).status());
        ApiClient.Reply forbidden = api.raw("POST", "/v1/volumes", "{\"name\":\"ro\"}", "Bearer " + secret);
        assertEquals("forbidden", code(forbidden, 403));
        check.check("POST", "/v1/volumes", 403, forbidden.body());
        assertEquals("forbidden", code(api.raw("GET", "/v1/tokens", null, "Bearer " + secret), 403));
        assertEquals(400, api.call("POST", "/v1/tokens", "{\"scope\":\"root\"}").status());
        assertEquals(409, api.call("POST", "/v1/tokens", "{\"scope\":\"admin\",\"name\":\"apiit\"}").status());
        api.expect(200, "DELETE", "/v1/tokens/" + tok.get("id").asText(), null);
        assertEquals("not_found", code(api.call("DELETE", "/v1/tokens/" + tok.get("id").asText(), null), 404));
        assertEquals("unauthorized", code(api.raw("GET", "/v1/datasets", null, "Bearer " + secret), 401));

        // 507: fill the pool's tmpfs through the mount, then ask for more. The first commit that
        // finds the disk full releases the pool's metadata reserve (so that a destroy could still
        // free space) and succeeds; filling again takes that room too, and then commits get 507.
        api.expect(201, "POST", "/v1/volumes", "{\"name\":\"filler\"}");
        String keptId = api.expect(201, "POST", "/v1/tokens", "{\"scope\":\"read\",\"name\":\"kept\"}").get("id").asText();
        byte[] chunk = new byte[MB];
        new java.util.Random(7).nextBytes(chunk);
        int noSpace = 0;
        for (int round = 0; round < 3 && noSpace == 0; round++) {
            try (var out = Files.newOutputStream(mnt.resolve("filler/big" + round))) {
                for (int i = 0; i < 200; i++) {
                    out.write(chunk);
                }
                out.flush();
            } catch (java.io.IOException expected) {
                System.out.println("filler stopped: " + expected);
            }
            for (String[] req : new String[][] {{"POST", "/v1/sync", null},
                {"POST", "/v1/snapshots", "{\"volume\":\"filler\",\"snapshot\":\"full" + round + "\"}"},
                {"POST", "/v1/volumes", "{\"name\":\"more" + round + "\"}"}}) {
                ApiClient.Reply r = api.call(req[0], req[1], req[2]);
                System.out.println("on a full pool: " + String.join(" ", req[0], req[1]) + " -> " + r.status() + " " + r.body());
                if (r.status() == 507) {
                    assertEquals("no_space", r.code());
                    noSpace++;
                }
            }
        }
        assertTrue(noSpace >= 1, "a full pool must answer 507 no_space");
        // a token written to the full pool's directory: made, or refused as 507, never a 500
        ApiClient.Reply fullTok = api.call("POST", "/v1/tokens", "{\"scope\":\"read\",\"name\":\"onfull\"}");
        System.out.println("on a full pool: POST /v1/tokens -> " + fullTok.status() + " " + fullTok.body());
        assertTrue(fullTok.status() == 201 || fullTok.status() == 507 && "no_space".equals(fullTok.code()),
                "POST /v1/tokens on a full pool: " + fullTok.status() + " " + fullTok.body());
        // a revoke rewrites the same file: done, or refused as 507 with the token still there, never a 500
        ApiClient.Reply revoke = api.call("DELETE", "/v1/tokens/" + keptId, null);
        System.out.println("on a full pool: DELETE /v1/tokens/ID -> " + revoke.status() + " " + revoke.body());
        assertTrue(revoke.status() == 200 || revoke.status() == 507 && "no_space".equals(revoke.code()),
                "DELETE /v1/tokens/ID on a full pool: " + revoke.status() + " " + revoke.body());
        boolean listed = api.expect(200, "GET", "/v1/tokens", null).toString().contains(keptId);
        assertEquals(revoke.status() == 507, listed, "a refused revoke keeps the token, a done one removes it");
        // and it recovers: the daemon still answers and unmounts cleanly in teardown
        api.expect(200, "GET", "/v1/status", null);
        // the console's one-time sign-in link (clonefs ui); ConsoleIT signs in with one
        JsonNode link = api.expect(201, "POST", "/v1/ui/links", null);
        assertTrue(link.get("loginUrl").asText().contains("/ui/login?code="), link.toString());

        // shutdown: accepted, then the daemon unmounts and exits
        long pid = cfs.daemonPid();
        api.expect(202, "POST", "/v1/shutdown", null);
        assertTrue(Proc.waitGone(pid, Duration.ofSeconds(60)), "the daemon did not stop after POST /v1/shutdown");
        assertFalse(KernelMounts.isMounted(mnt));

        Set<String> expected = check.operations().stream().filter(o -> !o.contains("/v1/pg/") && !o.contains("/metrics")
                && !o.contains("/v1/remotes") && !o.contains("/v1/cache") // RemoteIT exercises these
                && !o.contains("/v1/webhooks") // and WebhookIT these
                && !o.contains("openapi")).collect(Collectors.toCollection(TreeSet::new));
        expected.removeAll(check.exercised());
        assertEquals(Set.of(), expected, "documented but not exercised");
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
