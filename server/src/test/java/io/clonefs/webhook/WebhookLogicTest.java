package io.clonefs.webhook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.base.ClonefsException;
import io.clonefs.daemon.EventLog;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The pure parts of webhooks: signing, the retry schedule, event names, URL checks. */
class WebhookLogicTest {
    @Test
    void signatureIsHmacSha256OfTheBodyInHex() {
        // RFC 4231-style known answer (the Wikipedia HMAC example)
        byte[] body = "The quick brown fox jumps over the lazy dog".getBytes(StandardCharsets.UTF_8);
        assertEquals("sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8", Signature.sign("key", body));
        assertTrue(Signature.verify("key", body, "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"));
        assertFalse(Signature.verify("key2", body, Signature.sign("key", body)));
        byte[] tampered = body.clone();
        tampered[0] ^= 1;
        assertFalse(Signature.verify("key", tampered, Signature.sign("key", body)));
        assertFalse(Signature.verify("key", body, null));
        String s = Signature.newSecret();
        assertTrue(s.matches("[0-9a-f]{64}"), s);
        assertEquals(s.substring(0, 4) + "…", Signature.mask(s));
    }

    @Test
    void retriesDoubleFromOneSecondUpToAMinuteWithinTheGiveUpTime() {
        assertEquals(List.of(1000L, 2000L, 4000L, 8000L, 16000L, 32000L, 60000L, 60000L),
                Stream.of(1, 2, 3, 4, 5, 6, 7, 50).map(Backoff::delayMillis).toList());
        // give-up time 4 s: attempts at 0, 1, 3 s; the next would start at 7 s
        assertEquals(1000, Backoff.next(1, 0, 4000, 0));
        assertEquals(2000, Backoff.next(2, 1000, 4000, 0));
        assertEquals(-1, Backoff.next(3, 3000, 4000, 0));
        assertEquals(2000, Backoff.next(2, 2000, 4000, 0)); // exactly at the limit: still tried
        assertEquals(5000, Backoff.next(1, 0, 600_000, 5000)); // Retry-After is honoured...
        assertEquals(60_000, Backoff.next(1, 0, 600_000, 3_600_000)); // ...up to the longest wait
        for (Integer retried : new Integer[] {null, 500, 502, 503, 504, 429}) {
            assertTrue(Backoff.retryable(retried), "" + retried);
        }
        for (int final_ : new int[] {200, 204, 301, 400, 401, 404, 410}) {
            assertFalse(Backoff.retryable(final_), "" + final_);
        }
        assertTrue(Backoff.delivered(200) && Backoff.delivered(204) && !Backoff.delivered(301) && !Backoff.delivered(null));
    }

    @Test
    void eventNamesDottedBareOrAllAndUnknownOnesAreRefusedWithTheValidOnes() {
        assertEquals(List.of("pg.branch.created", "pg.branch.destroyed"),
                WebhookEvents.check(List.of("pg.branch.created", " PG.branch.destroyed ", "pg.branch.created")));
        assertEquals(List.of("created", "*"), WebhookEvents.check(List.of("created", "*")));
        ClonefsException e = assertThrows(ClonefsException.class, () -> WebhookEvents.check(List.of("pg.branch.exploded")));
        assertTrue(e.getMessage().startsWith("unknown event 'pg.branch.exploded': valid are pg.branch.TYPE, pg.source.TYPE"),
                e.getMessage());
        assertTrue(e.getMessage().contains("wake-failed") && !e.getMessage().contains("\n"), e.getMessage());
        assertThrows(ClonefsException.class, () -> WebhookEvents.check(List.of("ping")));
        assertThrows(ClonefsException.class, () -> WebhookEvents.check(List.of("pg.volume.created")));
        assertThrows(ClonefsException.class, () -> WebhookEvents.check(List.of()));
        assertThrows(ClonefsException.class, () -> WebhookEvents.check(List.of(" ", "")));

        EventLog.Event created = new EventLog.Event(7, "t", "created", "branch", "b1", Map.of());
        assertEquals("pg.branch.created", WebhookEvents.name(created));
        assertTrue(WebhookEvents.wants(List.of("pg.branch.created"), created));
        assertTrue(WebhookEvents.wants(List.of("created"), created));
        assertTrue(WebhookEvents.wants(List.of("*"), created));
        assertFalse(WebhookEvents.wants(List.of("pg.source.created", "pg.branch.destroyed", "reset"), created));
    }

    /** Every type the PostgreSQL manager emits can be subscribed to. */
    @Test
    void theEventTypesAreTheOnesThePgManagerEmits() throws IOException {
        Set<String> emitted = new TreeSet<>();
        Pattern call = Pattern.compile("events\\.emit\\(([^,]*),");
        Pattern literal = Pattern.compile("\"([a-z-]+)\"");
        try (Stream<Path> files = Files.walk(Path.of("src/main/java/io/clonefs/pg"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                Matcher m = call.matcher(Files.readString(f));
                while (m.find()) {
                    Matcher l = literal.matcher(m.group(1));
                    while (l.find()) {
                        emitted.add(l.group(1));
                    }
                }
            }
        }
        assertTrue(emitted.size() >= 8, "emitted: " + emitted);
        assertEquals(new TreeSet<>(WebhookEvents.TYPES), emitted);
    }

    @Test
    void urlsMustBeHttpWithAHost() {
        assertEquals("https://ci.example.com/hook?x=1", WebhookService.checkUrl(" https://ci.example.com/hook?x=1 "));
        assertEquals("http://127.0.0.1:9000/", WebhookService.checkUrl("http://127.0.0.1:9000/"));
        for (String bad : new String[] {"ftp://x/", "ci.example.com/hook", "http:///nohost", "http://a b/", "", "https://h/#f",
            "file:///etc/passwd"}) {
            ClonefsException e = assertThrows(ClonefsException.class, () -> WebhookService.checkUrl(bad), bad);
            assertTrue(e.getMessage().startsWith("bad webhook URL '"), e.getMessage());
        }
        assertThrows(ClonefsException.class, () -> WebhookService.checkSecret("short"));
        assertThrows(ClonefsException.class, () -> WebhookService.checkSecret("has a space in it, sixteen+"));
        assertEquals("0123456789abcdef", WebhookService.checkSecret("0123456789abcdef"));
    }
}
