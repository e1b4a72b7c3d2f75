package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.clonefs.it.api.ApiClient;
import io.clonefs.it.api.OpenApiCheck;
import io.clonefs.it.support.Clonefs;
import io.clonefs.it.support.MountedPool;
import io.clonefs.it.support.Proc;
import io.clonefs.it.support.Workspace;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Webhooks through a daemon started with {@code clonefs mount}, fed by real PostgreSQL branches,
 * against receivers on this host: a signature that verifies with the webhook's secret (computed
 * here, not with clonefs code), retries on 500 (500, 500, 200 is three attempts), a dead receiver
 * and a closed port given up after the give-up time, webhooks that survive a daemon restart, bad
 * input refused with one line, and a receiver that accepts and never answers that does not slow
 * {@code pg branch} (with and without it, alternating, medians of 3).
 */
class WebhookIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    @RegisterExtension
    final MountedPool pools = MountedPool.daemon("webhook").pgPorts(45000, 40).build();

    /** A request a receiver got. */
    record Hit(String path, byte[] body, String signature, String event, String eventId, String attempt, String webhook) {
        JsonNode json() throws IOException {
            return JSON.readTree(body);
        }
    }

    @Test
    void signedDeliveriesRetriesGiveUpAndABranchThatNeverWaits() throws Exception {
        Workspace ws = pools.ws();
        Clonefs cfs = pools.clonefs();
        Path mnt = pools.mnt();

        // receivers: /ok answers 200, /flaky 500 twice then 200, /dead always 500
        List<Hit> hits = new CopyOnWriteArrayList<>();
        AtomicInteger flakyCalls = new AtomicInteger();
        HttpServer rx = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        rx.createContext("/", ex -> {
            byte[] body = ex.getRequestBody().readAllBytes();
            String path = ex.getRequestURI().getPath();
            var h = ex.getRequestHeaders();
            hits.add(new Hit(path, body, h.getFirst("X-Clonefs-Signature"), h.getFirst("X-Clonefs-Event"),
                    h.getFirst("X-Clonefs-Event-Id"), h.getFirst("X-Clonefs-Delivery-Attempt"), h.getFirst("X-Clonefs-Webhook-Id")));
            int status = switch (path) {
                case "/flaky" -> flakyCalls.incrementAndGet() <= 2 ? 500 : 200;
                case "/dead" -> 500;
                default -> 200;
            };
            ex.sendResponseHeaders(status, -1);
            ex.close();
        });
        rx.start();
        ws.onClose("stop the receiver", () -> rx.stop(0));
        String base = "http://127.0.0.1:" + rx.getAddress().getPort();
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }

        // bad input: one line, the right exit code, nothing stored
        Path stored = cfs.pool().resolve("webhooks.json");
        assertOneLine(cfs.run("webhook", "add", "ftp://example.com/", "--events", "pg.branch.created"), 2, "bad webhook URL 'ftp://example.com/'");
        assertOneLine(cfs.run("webhook", "add", base + "/ok", "--events", "pg.branch.created,pg.branch.exploded"), 2,
                "unknown event 'pg.branch.exploded': valid are pg.branch.TYPE, pg.source.TYPE");
        assertOneLine(cfs.run("webhook", "add", base + "/ok", "--events", "created", "--give-up-after", "soon"), 2, "--give-up-after");
        for (String sub : new String[] {"remove", "test", "log"}) {
            assertOneLine(cfs.run("webhook", sub, "wh-00000000"), 3, "no webhook 'wh-00000000'");
        }
        assertFalse(Files.exists(stored), "nothing may be stored after bad input");
        assertEquals(0, cfs.json("webhook", "list").size());

        // add: with a secret file, with a generated secret (shown once), over the API, and a closed port
        Path secretFile = ws.root().resolve("hook.key");
        Files.writeString(secretFile, "s3cr3t-of-the-ok-hook\n");
        JsonNode ok = cfs.json("webhook", "add", base + "/ok", "--events", "pg.branch.created,pg.branch.destroyed",
                "--secret-file", secretFile.toString());
        assertEquals("s3cr3t-of-the-ok-hook", ok.get("secret").asText());
        Proc.Result flakyAdd = cfs.ok("webhook", "add", base + "/flaky", "--events", "created", "--give-up-after", "1m");
        String flakySecret = flakyAdd.out().lines().filter(l -> l.startsWith("secret: ")).findFirst()
                .map(l -> l.substring("secret: ".length()).split(" ")[0]).orElseThrow(() -> new AssertionError(flakyAdd.describe()));
        assertTrue(flakySecret.matches("[0-9a-f]{64}"), flakyAdd.describe());
        String flaky = flakyAdd.out().split(" ")[2].replace(":", "");
        Checked api = api(cfs);
        OpenApiCheck check = api.check();
        String dead = api.api().expect(201, "POST", "/v1/webhooks", "{\"url\":\"" + base + "/dead\",\"events\":[\"pg.branch.created\"],"
                + "\"giveUpSeconds\":4}").get("id").asText();
        assertEquals(400, api.api().call("POST", "/v1/webhooks", "{\"url\":\"" + base + "/x\",\"events\":[\"nope\"]}").status());
        String closed = cfs.json("webhook", "add", "http://127.0.0.1:" + closedPort + "/", "--events", "*",
                "--give-up-after", "4s").get("id").asText();
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(stored)));
        String list = cfs.ok("webhook", "list").out();
        assertTrue(list.contains(flaky) && list.contains(flakySecret.substring(0, 4) + "…") && !list.contains(flakySecret), list);
        assertFalse(list.contains("s3cr3t-of-the-ok-hook"), list);
        assertEquals(api.api().expect(200, "GET", "/v1/webhooks", null), cfs.json("webhook", "list"));

        // the webhooks survive a daemon restart (their secrets too: the ping below is signed with them)
        JsonNode before = cfs.json("webhook", "list");
        cfs.unmount(mnt);
        cfs.mount(mnt);
        assertEquals(before, cfs.json("webhook", "list"));
        api = new Checked(new ApiClient(cfs.pool()), check); // a new token; the same tally of routes
        api.api().validateWith(check);

        // test: a signed ping, once
        Proc.Result ping = cfs.ok("webhook", "test", ok.get("id").asText());
        assertTrue(ping.out().contains("HTTP 200"), ping.describe());
        Hit pingHit = await(() -> find(hits, "/ok", "ping"), "the ping");
        assertTrue(verifies("s3cr3t-of-the-ok-hook", pingHit), "the ping's signature must verify");
        assertEquals(ok.get("id").asText(), pingHit.webhook());
        JsonNode deadPing = api.api().expect(200, "POST", "/v1/webhooks/" + dead + "/test", null);
        assertFalse(deadPing.get("ok").asBoolean());
        assertEquals(500, deadPing.get("status").asInt());
        assertOneLine(cfs.run("webhook", "test", dead), 1, "did not take the ping: HTTP 500");

        // a real branch: created, delivered, signed
        api.api().expect(201, "POST", "/v1/pg/init", "{\"volume\":\"src\"}");
        cfs.ok("pg", "branch", "src", "b1");
        JsonNode createdEvent = null;
        for (JsonNode e : cfs.json("events").get("events")) {
            if (e.get("type").asText().equals("created") && e.get("name").asText().equals("b1")) {
                createdEvent = e;
            }
        }
        assertTrue(createdEvent != null, "no created event for b1");
        String seq = createdEvent.get("seq").asText();
        Hit created = await(() -> find(hits, "/ok", "pg.branch.created"), "pg.branch.created at /ok");
        assertTrue(verifies("s3cr3t-of-the-ok-hook", created), "the signature must verify with the webhook's secret");
        assertFalse(verifies("s3cr3t-of-the-ok-hook-not", created), "and not with another");
        assertEquals(seq, created.eventId());
        assertEquals("1", created.attempt());
        JsonNode payload = created.json();
        assertEquals("pg.branch.created", payload.get("event").asText());
        assertEquals(seq, payload.get("id").asText());
        assertEquals("b1", payload.get("name").asText());
        assertEquals("src", payload.get("details").get("source").asText());
        assertEquals(cfs.pool().toString(), payload.get("pool").asText());

        // 500, 500, 200: three attempts, the same signed body each time
        JsonNode flakyLog = awaitLog(cfs, flaky, "delivered");
        assertEquals(List.of("retry 500 1", "retry 500 2", "delivered 200 3"), lines(flakyLog));
        List<Hit> flakyHits = hits.stream().filter(h -> h.path().equals("/flaky")).toList();
        assertEquals(List.of("1", "2", "3"), flakyHits.stream().map(Hit::attempt).toList());
        for (Hit h : flakyHits) {
            assertTrue(verifies(flakySecret, h), "attempt " + h.attempt());
            assertArrayEquals(flakyHits.get(0).body(), h.body());
        }

        // always 500, give-up time 4 s: attempts at 0, 1 and 3 s; the next would start at 7 s
        JsonNode deadLog = awaitLog(cfs, dead, "gave_up");
        List<String> deadLines = lines(deadLog);
        assertEquals(List.of("retry 500 1", "retry 500 2", "gave_up 500 3"), deadLines.subList(deadLines.size() - 3, deadLines.size()));
        JsonNode gaveUp = last(deadLog);
        assertTrue(gaveUp.get("error").asText().startsWith("gave up after 3 attempts in 3."), gaveUp.toString());
        double tookS = Duration.between(Instant.parse(createdEvent.get("time").asText()), Instant.parse(gaveUp.get("time").asText()))
                .toMillis() / 1000.0;
        System.out.printf("dead receiver given up %.2f s after the event (give-up time 4 s)%n", tookS);
        assertTrue(tookS >= 2.9 && tookS <= 4.0 + 1.0, "given up " + tookS + " s after the event");
        // a closed port: the same, with the connection error in the log
        JsonNode closedLog = awaitLog(cfs, closed, "gave_up");
        JsonNode first = closedLog.get("deliveries").get(0);
        assertTrue(first.get("status").isNull() && first.get("error").asText().contains("ConnectException"), first.toString());
        String plainLog = cfs.ok("webhook", "log", closed).out();
        assertTrue(plainLog.contains("gave_up") && plainLog.contains("ConnectException"), plainLog);
        assertEquals(5, api.api().expect(200, "GET", "/v1/webhooks/deliveries?webhook=" + dead + "&limit=5", null)
                .get("deliveries").size());
        assertEquals(400, api.api().call("GET", "/v1/webhooks/deliveries?limit=0", null).status());
        assertEquals(404, api.api().call("GET", "/v1/webhooks/deliveries?webhook=wh-00000000", null).status());

        // destroyed
        cfs.ok("pg", "destroy", "b1");
        Hit destroyed = await(() -> find(hits, "/ok", "pg.branch.destroyed"), "pg.branch.destroyed at /ok");
        assertTrue(verifies("s3cr3t-of-the-ok-hook", destroyed));

        String metrics = api.api().metrics();
        assertTrue(ApiClient.sample(metrics, "clonefs_webhook_deliveries_total{result=\"delivered\"}") >= 3, metrics);
        assertTrue(ApiClient.sample(metrics, "clonefs_webhook_deliveries_total{result=\"retry\"}") >= 6, metrics);
        assertTrue(ApiClient.sample(metrics, "clonefs_webhook_deliveries_total{result=\"gave_up\"}") >= 2, metrics);

        // remove (CLI and API); a second remove is a 404
        api.api().expect(200, "DELETE", "/v1/webhooks/" + dead, null);
        assertEquals(404, api.api().call("DELETE", "/v1/webhooks/" + dead, null).status());
        for (String id : new String[] {ok.get("id").asText(), flaky, closed}) {
            cfs.ok("webhook", "remove", id);
        }
        assertEquals(0, cfs.json("webhook", "list").size());
        Set<String> missing = check.operations().stream().filter(o -> o.contains("/v1/webhooks"))
                .collect(Collectors.toCollection(TreeSet::new));
        missing.removeAll(check.exercised());
        assertEquals(Set.of(), missing, "documented but not exercised");

        // a receiver that accepts the connection and never answers does not slow pg branch:
        // branches with and without such a webhook, alternating, medians of 3
        ServerSocket hang = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        List<Socket> held = new CopyOnWriteArrayList<>();
        Thread acceptor = new Thread(() -> {
            try {
                while (true) {
                    held.add(hang.accept()); // and never a byte back
                }
            } catch (IOException e) {
                // closed
            }
        }, "never-answers");
        acceptor.setDaemon(true);
        acceptor.start();
        ws.onClose("close the receiver that never answers", () -> {
            try {
                hang.close();
                for (Socket s : held) {
                    s.close();
                }
            } catch (IOException e) {
                System.err.println("closing the receiver that never answers: " + e);
            }
        });
        String hangUrl = "http://127.0.0.1:" + hang.getLocalPort() + "/";
        List<Long> with = new ArrayList<>();
        List<Long> without = new ArrayList<>();
        for (int round = 0; round < 6; round++) {
            boolean hooked = round % 2 == 1;
            String hookId = hooked ? cfs.json("webhook", "add", hangUrl, "--events", "pg.branch.created").get("id").asText() : null;
            String name = "t" + round;
            long t0 = System.nanoTime();
            api.api().expect(201, "POST", "/v1/pg/branches", "{\"source\":\"src\",\"name\":\"" + name + "\",\"checkpoint\":false}");
            long ms = (System.nanoTime() - t0) / 1_000_000;
            (hooked ? with : without).add(ms);
            if (hooked) {
                int accepted = held.size();
                await(() -> held.size() > accepted ? held : null, "a connection to the receiver that never answers");
                cfs.ok("webhook", "remove", hookId);
            }
            api.api().expect(200, "DELETE", "/v1/pg/servers/" + name, null);
        }
        long medWith = median(with);
        long medWithout = median(without);
        System.out.printf("pg branch through the API: without a webhook %s ms (median %d), with one that never answers %s ms "
                + "(median %d): difference %d ms%n", without, medWithout, with, medWith, medWith - medWithout);
        // delivery on the branch's thread would wait for the 10 s request timeout
        assertTrue(medWith - medWithout < 1000, "a webhook that never answers slowed pg branch by " + (medWith - medWithout) + " ms");
    }

    /** An API client that checks every reply against the served document. */
    private record Checked(ApiClient api, OpenApiCheck check) {
    }

    private static Checked api(Clonefs cfs) {
        ApiClient api = new ApiClient(cfs.pool());
        OpenApiCheck check = new OpenApiCheck(api.raw("GET", "/v1/openapi.json", null, null).body().getBytes(StandardCharsets.UTF_8));
        api.validateWith(check);
        return new Checked(api, check);
    }

    private static void assertOneLine(Proc.Result r, int exit, String contains) {
        assertEquals(exit, r.exit(), r.describe());
        String err = r.err().strip();
        assertEquals(1, err.lines().count(), "one line: " + r.describe());
        assertTrue(err.contains(contains), r.describe());
    }

    private static boolean verifies(String secret, Hit h) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        return ("sha256=" + HexFormat.of().formatHex(mac.doFinal(h.body()))).equals(h.signature());
    }

    private static Hit find(List<Hit> hits, String path, String event) {
        return hits.stream().filter(h -> h.path().equals(path) && event.equals(h.event())).findFirst().orElse(null);
    }

    private static <T> T await(Supplier<T> probe, String what) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < end) {
            T v = probe.get();
            if (v != null) {
                return v;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no " + what + " within 30 s");
    }

    private static JsonNode awaitLog(Clonefs cfs, String id, String lastResult) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        JsonNode log = null;
        while (System.nanoTime() < end) {
            log = cfs.json("webhook", "log", id);
            JsonNode l = last(log);
            if (l != null && l.get("result").asText().equals(lastResult)) {
                return log;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no " + lastResult + " in the log of " + id + ": " + log);
    }

    private static JsonNode last(JsonNode log) {
        JsonNode d = log.get("deliveries");
        return d.size() == 0 ? null : d.get(d.size() - 1);
    }

    /** "RESULT STATUS ATTEMPT" of each delivery of a log that is not a ping. */
    private static List<String> lines(JsonNode log) {
        List<String> out = new ArrayList<>();
        for (JsonNode d : log.get("deliveries")) {
            if (!d.get("event").asText().equals("ping")) {
                out.add(d.get("result").asText() + " " + d.get("status").asText() + " " + d.get("attempt").asInt());
            }
        }
        return out;
    }

    private static long median(List<Long> v) {
        long[] a = v.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(a);
        return a[a.length / 2];
    }
}
