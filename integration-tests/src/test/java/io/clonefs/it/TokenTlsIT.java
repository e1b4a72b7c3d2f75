package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.clonefs.api.Tls;
import io.clonefs.it.support.Clonefs;
import io.clonefs.it.support.KernelMounts;
import io.clonefs.it.support.MountedPool;
import io.clonefs.it.support.Proc;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The control API beyond loopback (issue 19, item 5) against a real daemon: {@code clonefs mount
 * --listen --tls-cert --tls-key} with an openssl-made certificate, scoped tokens over HTTPS (a
 * wrong scope is a 403 and a {@code forbidden} event; expired and revoked tokens a 401), plain HTTP
 * against the TLS port failing, a non-loopback {@code --listen} without TLS refused before anything
 * starts, and the CLI on another "host" ({@code CLONEFS_URL}) doing its work with a token of the
 * right scope, PostgreSQL branches included.
 */
class TokenTlsIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    final MountedPool pools = MountedPool.daemon("tls").pgPorts(48000, 40).unmounted().build();

    /** A self-signed EC (P-256) certificate for 127.0.0.1 and localhost, PKCS#8 key: {cert, key}. */
    private Path[] certificate() {
        Path dir = pools.ws().dir("tls");
        Proc.run(List.of("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", dir.resolve("key.pem").toString(), "-out", dir.resolve("cert.pem").toString(), "-days", "2",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"), Map.of(),
                Duration.ofMinutes(1)).check();
        return new Path[] {dir.resolve("cert.pem"), dir.resolve("key.pem")};
    }

    @Test
    void aNonLoopbackListenWithoutTlsIsRefusedAndNothingStarts() throws Exception {
        Clonefs cfs = pools.clonefs();
        for (String addr : new String[] {"0.0.0.0:0", "[::]:0"}) {
            Proc.Result r = cfs.run("mount", cfs.pool().toString(), pools.mnt().toString(), "--listen", addr);
            assertEquals(2, r.exit(), r.describe());
            assertEquals(1, r.err().strip().lines().count(), r.describe());
            assertTrue(r.err().contains("without TLS"), r.describe());
            assertFalse(KernelMounts.isMounted(pools.mnt()));
            assertFalse(Files.exists(cfs.pool().resolve("daemon.json")));
        }
        // a key the JDK cannot read is refused the same way, with the command that converts it
        Path[] ct = certificate();
        Path pkcs1 = pools.ws().dir("tls").resolve("rsa1.pem");
        Proc.run(List.of("openssl", "genrsa", "-traditional", "-out", pkcs1.toString(), "2048"), Map.of(),
                Duration.ofMinutes(1)).check();
        Proc.Result r = cfs.run("mount", cfs.pool().toString(), pools.mnt().toString(), "--listen", "0.0.0.0:0",
                "--tls-cert", ct[0].toString(), "--tls-key", pkcs1.toString());
        assertEquals(2, r.exit(), r.describe());
        assertTrue(r.err().contains("openssl pkcs8 -topk8"), r.describe());
        assertFalse(KernelMounts.isMounted(pools.mnt()));
    }

    @Test
    void scopedTokensOverTls() throws Exception {
        Clonefs cfs = pools.clonefs();
        Path[] ct = certificate();
        cfs.mount(pools.mnt(), "--listen", "127.0.0.1:0", "--tls-cert", ct[0].toString(), "--tls-key", ct[1].toString());
        String url = cfs.daemonInfo().get("listen").asText();
        assertTrue(url.startsWith("https://127.0.0.1:"), url);
        int port = Integer.parseInt(url.substring(url.lastIndexOf(':') + 1));
        String poolToken = Files.readString(cfs.pool().resolve("daemon.token")).strip();
        HttpClient https = HttpClient.newBuilder().sslContext(Tls.client(ct[0])).connectTimeout(Duration.ofSeconds(10)).build();

        // plain HTTP against the TLS port: no answer
        HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        assertThrows(IOException.class, () -> plain.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/status"))
                .header("Authorization", "Bearer " + poolToken).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString()));
        // a client that does not trust the certificate neither
        assertThrows(IOException.class, () -> HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url + "/v1/status"))
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString()));
        // the OpenAPI document is open there too; metrics need a token
        assertEquals(200, send(https, url, "GET", "/v1/openapi.json", null, null).statusCode());
        assertEquals(401, send(https, url, "GET", "/metrics", null, null).statusCode());
        assertEquals(200, send(https, url, "GET", "/metrics", null, poolToken).statusCode());

        // tokens: created by the pool's token (the CLI on the daemon's host), printed once
        JsonNode read = cfs.json("token", "create", "--scope", "read", "--name", "reader");
        JsonNode branch = cfs.json("token", "create", "--scope", "branch", "--ttl", "1d", "--name", "ci");
        JsonNode admin = cfs.json("token", "create", "--scope", "admin", "--name", "ops");
        String stored = Files.readString(cfs.pool().resolve("tokens.json"));
        for (JsonNode t : new JsonNode[] {read, branch, admin}) {
            assertFalse(stored.contains(t.get("token").asText()), "a secret in tokens.json");
        }
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(cfs.pool().resolve("tokens.json"))));
        Proc.Result list = cfs.ok("token", "list");
        assertTrue(list.out().contains("reader") && list.out().contains("branch") && !list.out().contains(read.get("token").asText()),
                list.describe());

        // read: reads, and a 403 with the API's error for anything else, each logged as an event
        String rt = read.get("token").asText();
        assertEquals(200, send(https, url, "GET", "/v1/datasets", null, rt).statusCode());
        HttpResponse<String> refused = send(https, url, "POST", "/v1/volumes", "{\"name\":\"nope\"}", rt);
        assertEquals(403, refused.statusCode(), refused.body());
        assertEquals("forbidden", JSON.readTree(refused.body()).get("code").asText());
        assertEquals(403, send(https, url, "GET", "/v1/tokens", null, rt).statusCode());
        assertEquals(403, send(https, url, "POST", "/v1/shutdown", null, rt).statusCode());
        JsonNode events = cfs.json("events");
        List<JsonNode> forbidden = new ArrayList<>();
        events.get("events").forEach(e -> {
            if (e.get("type").asText().equals("forbidden")) {
                forbidden.add(e);
            }
        });
        assertEquals(3, forbidden.size(), events.toString());
        assertEquals("reader", forbidden.get(0).get("name").asText());
        assertEquals("/v1/volumes", forbidden.get(0).get("details").get("path").asText());
        assertTrue(cfs.daemonPid() > 0, "a refused shutdown did not stop the daemon");

        // the CLI elsewhere: CLONEFS_URL, a token, the certificate to trust; no pool here
        Map<String, String> remote = Map.of("CLONEFS_URL", url, "CLONEFS_CACERT", ct[0].toString(),
                "CLONEFS_POOL", pools.ws().root().resolve("no-pool-here").toString());
        Clonefs asReader = cfs.withEnv(with(remote, "CLONEFS_TOKEN", rt));
        Clonefs asBranch = cfs.withEnv(with(remote, "CLONEFS_TOKEN", branch.get("token").asText()));
        Clonefs asAdmin = cfs.withEnv(with(remote, "CLONEFS_TOKEN", admin.get("token").asText()));
        asAdmin.ok("create", "db");
        asAdmin.ok("snapshot", "db@s1");
        asAdmin.ok("clone", "db@s1", "db2");
        assertTrue(asReader.json("list").get("volumes").toString().contains("db2"));
        Proc.Result no = asReader.run("create", "x");
        assertEquals(1, no.exit(), no.describe());
        assertTrue(no.err().contains("needs admin"), no.describe());
        Proc.Result untrusting = cfs.withEnv(Map.of("CLONEFS_URL", url, "CLONEFS_TOKEN", rt, "CLONEFS_CACERT", "")).run("list");
        assertEquals(1, untrusting.exit(), untrusting.describe());
        assertEquals(3, asAdmin.json("token", "list").size(), "an admin token manages tokens over TLS");

        // branch: PostgreSQL branches, not the source
        cfs.ok("pg", "init", "src");
        asBranch.ok("pg", "branch", "src", "b1");
        asBranch.ok("pg", "reset", "b1");
        for (String[] args : new String[][] {{"pg", "reset", "src"}, {"pg", "destroy", "src"}, {"pg", "stop", "src"},
            {"create", "x"}, {"destroy", "db2"}, {"token", "list"}}) {
            Proc.Result r = asBranch.run(args);
            assertEquals(1, r.exit(), r.describe());
            assertTrue(r.err().contains("forbidden") || r.err().contains("needs admin"), r.describe());
        }
        asBranch.ok("pg", "destroy", "b1");
        assertEquals(1, asReader.run("pg", "branch", "src", "b2").exit());

        // revoked and expired: 401
        cfs.ok("token", "revoke", "reader");
        HttpResponse<String> revoked = send(https, url, "GET", "/v1/datasets", null, rt);
        assertEquals(401, revoked.statusCode(), revoked.body());
        assertEquals("unauthorized", JSON.readTree(revoked.body()).get("code").asText());
        JsonNode brief = cfs.json("token", "create", "--scope", "admin", "--ttl", "2s");
        assertEquals(200, send(https, url, "GET", "/v1/status", null, brief.get("token").asText()).statusCode());
        Proc.sleep(2500);
        HttpResponse<String> expired = send(https, url, "GET", "/v1/status", null, brief.get("token").asText());
        assertEquals(401, expired.statusCode(), expired.body());
        assertTrue(expired.body().contains("expired"), expired.body());
        // the pool's own token is admin, as before
        assertEquals(200, send(https, url, "GET", "/v1/tokens", null, poolToken).statusCode());
    }

    private static Map<String, String> with(Map<String, String> env, String k, String v) {
        Map<String, String> m = new java.util.HashMap<>(env);
        m.put(k, v);
        return m;
    }

    private static HttpResponse<String> send(HttpClient c, String url, String method, String path, String body, String token)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url + path)).timeout(Duration.ofMinutes(2))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        return c.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
