package io.clonefs.webhook;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.clonefs.api.WebhookApi;
import io.clonefs.base.ClonefsException;
import io.clonefs.daemon.EventLog;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The webhook service against real sockets and a real event log in a temporary pool directory. */
class WebhookServiceTest {
    @TempDir
    Path pool;
    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closing) {
            c.close();
        }
    }

    private WebhookService service(int capacity, Duration requestTimeout) {
        WebhookService s = new WebhookService(pool, "test", capacity, requestTimeout);
        closing.add(0, s);
        return s;
    }

    private static WebhookApi.AddWebhook add(String url, Long giveUp, String... events) {
        return new WebhookApi.AddWebhook(url, List.of(events), null, giveUp);
    }

    @Test
    void webhooksAreStoredDurablyPrivatelyAndSurviveARestart() throws IOException {
        WebhookService s = service(10, Duration.ofSeconds(1));
        WebhookApi.Webhook a = s.add(add("http://127.0.0.1:1/a", null, "pg.branch.created"));
        WebhookApi.Webhook b = s.add(new WebhookApi.AddWebhook("https://example.com/b", List.of("*"), "0123456789abcdef", 30L));
        assertTrue(a.id().matches("wh-[0-9a-f]{8}"), a.id());
        assertTrue(a.secret().matches("[0-9a-f]{64}"), a.secret());
        assertEquals(600, a.giveUpSeconds());
        assertEquals("0123456789abcdef", b.secret());
        Path file = pool.resolve("webhooks.json");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals(List.of(a.secret().substring(0, 4) + "…", "0123…"),
                s.list().stream().map(WebhookApi.Webhook::secret).toList());

        // bad input: one line, nothing stored
        byte[] before = Files.readAllBytes(file);
        assertThrows(ClonefsException.class, () -> s.add(add("ftp://x/", null, "created")));
        assertThrows(ClonefsException.class, () -> s.add(add("http://x/", null, "pg.branch.exploded")));
        assertThrows(ClonefsException.class, () -> s.add(add("http://x/", 0L, "created")));
        assertThrows(ClonefsException.class, () -> s.add(add("http://x/", 86_401L, "created")));
        ClonefsException nf = assertThrows(ClonefsException.NotFound.class, () -> s.remove("wh-00000000"));
        assertTrue(nf.getMessage().contains("configured: " + a.id() + ", " + b.id()), nf.getMessage());
        assertThrows(ClonefsException.NotFound.class, () -> s.test("wh-00000000"));
        assertThrows(ClonefsException.NotFound.class, () -> s.deliveries("wh-00000000", 10));
        assertArrayEquals(before, Files.readAllBytes(file));
        assertEquals(2, s.list().size());

        s.remove(a.id());
        WebhookService again = service(10, Duration.ofSeconds(1));
        assertEquals(List.of(b.id()), again.list().stream().map(WebhookApi.Webhook::id).toList());
        assertEquals("0123456789abcdef", again.get(b.id()).secret());
        assertEquals(List.of("*"), again.get(b.id()).events());
        assertEquals(30, again.get(b.id()).giveUpSeconds());
    }

    /** 500, 500, 200: three attempts; a receiver that always fails is given up after the give-up time. */
    @Test
    void retriesOn500AndGivesUpAfterTheBoundedTime() throws Exception {
        AtomicInteger flaky = new AtomicInteger();
        List<String> signatures = new CopyOnWriteArrayList<>();
        HttpServer receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        receiver.createContext("/flaky", ex -> {
            byte[] body = ex.getRequestBody().readAllBytes();
            signatures.add(Signature.verify("0123456789abcdef", body, ex.getRequestHeaders().getFirst(Signature.HEADER))
                    + " " + ex.getRequestHeaders().getFirst("X-Clonefs-Delivery-Attempt"));
            ex.sendResponseHeaders(flaky.incrementAndGet() <= 2 ? 500 : 200, -1);
            ex.close();
        });
        receiver.createContext("/dead", ex -> {
            ex.getRequestBody().readAllBytes();
            ex.sendResponseHeaders(503, -1);
            ex.close();
        });
        receiver.start();
        closing.add(() -> receiver.stop(0));
        String base = "http://127.0.0.1:" + receiver.getAddress().getPort();
        WebhookService s = service(10, Duration.ofSeconds(2));
        EventLog events = EventLog.open(pool);
        s.attach(events);
        WebhookApi.Webhook f = s.add(new WebhookApi.AddWebhook(base + "/flaky", List.of("created"), "0123456789abcdef", 60L));
        WebhookApi.Webhook d = s.add(add(base + "/dead", 2L, "pg.branch.created"));
        events.append("created", "branch", "b1", Map.of("source", "src"));
        events.append("reset", "branch", "b1", Map.of()); // wanted by neither
        List<WebhookApi.Delivery> fl = await(s, f.id(), "delivered", Duration.ofSeconds(20));
        assertEquals(List.of("retry 500 1", "retry 500 2", "delivered 200 3"),
                fl.stream().map(x -> x.result() + " " + x.status() + " " + x.attempt()).toList());
        assertEquals(List.of("true 1", "true 2", "true 3"), signatures);
        assertTrue(fl.stream().allMatch(x -> x.event().equals("pg.branch.created") && x.eventId().equals("1")), fl.toString());
        // give-up time 2 s: attempts at 0 and 1 s, the next would be at 3 s
        List<WebhookApi.Delivery> dl = await(s, d.id(), "gave_up", Duration.ofSeconds(20));
        double gaveUpAfter = java.time.Duration.between(java.time.Instant.parse(dl.get(0).time()),
                java.time.Instant.parse(dl.get(1).time())).toMillis() / 1000.0;
        assertEquals(List.of("retry 503 1", "gave_up 503 2"), dl.stream().map(x -> x.result() + " " + x.status() + " " + x.attempt()).toList());
        assertTrue(dl.get(1).error().startsWith("gave up after 2 attempts in 1."), dl.get(1).error());
        assertTrue(gaveUpAfter > 0.9 && gaveUpAfter < 2.0, "gave up " + gaveUpAfter + " s after the first attempt");
        assertEquals(0, s.deliveries(null, 100).pending());

        // a closed port is retried the same way, with the error in the log
        int closedPort;
        try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = ss.getLocalPort();
        }
        WebhookApi.Webhook c = s.add(add("http://127.0.0.1:" + closedPort + "/", 2L, "*"));
        events.append("destroyed", "branch", "b1", Map.of());
        List<WebhookApi.Delivery> cl = await(s, c.id(), "gave_up", Duration.ofSeconds(20));
        assertEquals("retry", cl.get(0).result());
        assertTrue(cl.get(0).error().contains("ConnectException"), cl.get(0).error());
        assertEquals(null, cl.get(0).status());

        // test: one ping, no retry
        WebhookApi.TestResult ping = s.test(f.id());
        assertTrue(ping.ok() && ping.status() == 200 && ping.eventId().startsWith("ping-"), ping.toString());
        WebhookApi.TestResult deadPing = s.test(d.id());
        assertEquals(503, deadPing.status());
        assertEquals(false, deadPing.ok());
    }

    private static List<WebhookApi.Delivery> await(WebhookService s, String id, String last, Duration timeout)
            throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        List<WebhookApi.Delivery> d;
        do {
            d = s.deliveries(id, 100).deliveries();
            if (!d.isEmpty() && d.get(d.size() - 1).result().equals(last)) {
                return d;
            }
            Thread.sleep(20);
        } while (System.nanoTime() < end);
        throw new AssertionError("no " + last + " delivery to " + id + " within " + timeout + ": " + d);
    }

    /**
     * A receiver that accepts and never answers: appending an event (the emitter's whole cost)
     * stays far below a millisecond, and a full queue drops its oldest deliveries, counted.
     */
    @Test
    void aReceiverThatNeverAnswersNeverBlocksTheEmitter() throws Exception {
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
        });
        acceptor.setDaemon(true);
        acceptor.start();
        closing.add(() -> {
            hang.close();
            for (Socket s : held) {
                s.close();
            }
        });
        WebhookService s = service(5, Duration.ofSeconds(5)); // longer than the loop below
        EventLog events = EventLog.open(pool);
        s.attach(events);
        s.add(add("http://127.0.0.1:" + hang.getLocalPort() + "/", null, "created"));
        EventLog plain = EventLog.open(Files.createDirectories(pool.resolve("plain")));
        int n = 200;
        long[] nanos = new long[n];
        long[] base = new long[n];
        for (int i = 0; i < n; i++) { // alternating, so that both see the same JIT and noise
            long t = System.nanoTime();
            events.append("created", "branch", "b" + i, Map.of());
            nanos[i] = System.nanoTime() - t;
            assertTrue(nanos[i] < 1_000_000_000L, "append " + i + " took " + nanos[i] / 1e6 + " ms");
            t = System.nanoTime();
            plain.append("created", "branch", "b" + i, Map.of());
            base[i] = System.nanoTime() - t;
        }
        Arrays.sort(nanos);
        Arrays.sort(base);
        int p95 = n * 95 / 100;
        System.out.printf("event append with a hanging webhook: median %.3f ms, p95 %.3f ms, max %.3f ms; "
                + "without: median %.3f ms, p95 %.3f ms, max %.3f ms%n", nanos[n / 2] / 1e6, nanos[p95] / 1e6,
                nanos[n - 1] / 1e6, base[n / 2] / 1e6, base[p95] / 1e6, base[n - 1] / 1e6);
        assertTrue(nanos[n / 2] - base[n / 2] < 1_000_000, "median cost of a webhook " + (nanos[n / 2] - base[n / 2]) + " ns");
        // (the tails are the host's noise on both sides: printed, not asserted on a shared machine)
        WebhookApi.Deliveries d = s.deliveries(null, 1000);
        assertEquals(n - 5, d.dropped(), "5 pending (4 in flight, 1 queued), the rest dropped");
        assertEquals(5, d.pending());
        assertEquals(n - 5, d.deliveries().stream().filter(x -> x.result().equals("dropped")).count());
        assertTrue(d.deliveries().get(0).error().startsWith("queue full"), d.deliveries().get(0).toString());
    }
}
