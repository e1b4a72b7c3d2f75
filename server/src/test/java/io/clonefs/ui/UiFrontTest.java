package io.clonefs.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.clonefs.api.Api;
import io.clonefs.daemon.ControlServer;
import io.clonefs.daemon.PoolService;
import java.lang.reflect.Proxy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The console's sign-in, session cookie and CSRF rules over a real control server (a fake pool behind it). */
class UiFrontTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
    private ControlServer server;
    private String base;
    private int syncs;

    @BeforeEach
    void start() throws Exception {
        PoolService fake = (PoolService) Proxy.newProxyInstance(PoolService.class.getClassLoader(), new Class<?>[] {PoolService.class},
                (p, m, a) -> switch (m.getName()) {
                    case "list" -> new Api.Datasets(List.of(), List.of());
                    case "sync" -> {
                        syncs++;
                        yield null;
                    }
                    default -> throw new UnsupportedOperationException(m.getName());
                });
        server = new ControlServer(fake, "tok", 0, () -> null, () -> { });
        new UiPlugin().start(null, null, server);
        server.start();
        base = "http://127.0.0.1:" + server.port();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private HttpResponse<String> send(String method, String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private String signIn() throws Exception {
        HttpResponse<String> r = send("POST", "/ui/login", "{\"token\":\"tok\"}", "Origin", base);
        assertEquals(200, r.statusCode(), r.body());
        String set = r.headers().firstValue("Set-Cookie").orElseThrow();
        assertTrue(set.endsWith("; HttpOnly; SameSite=Strict; Path=/"), set);
        return set.substring(0, set.indexOf(';'));
    }

    @Test
    void signInWithTheTokenAndUseTheApiWithTheCookie() throws Exception {
        HttpResponse<String> page = send("GET", "/ui/", null);
        assertEquals(303, page.statusCode());
        assertEquals("/ui/login", page.headers().firstValue("Location").orElseThrow());
        HttpResponse<String> login = send("GET", "/ui/login", null);
        assertEquals(200, login.statusCode());
        assertTrue(login.headers().firstValue("Content-Security-Policy").orElseThrow().contains("script-src 'self'"));
        HttpResponse<String> wrong = send("POST", "/ui/login", "{\"token\":\"nope\"}");
        assertEquals(401, wrong.statusCode());
        assertTrue(JSON.readTree(wrong.body()).get("message").asText().startsWith("wrong token"), wrong.body());
        assertTrue(wrong.headers().firstValue("Set-Cookie").isEmpty());
        assertEquals(401, send("GET", "/v1/datasets", null).statusCode(), "no cookie, no token");

        String cookie = signIn();
        assertTrue(cookie.startsWith("clonefs-session-" + server.port() + "="), cookie);
        assertEquals(200, send("GET", "/ui/", null, "Cookie", cookie).statusCode());
        assertEquals(200, send("GET", "/v1/datasets", null, "Cookie", cookie).statusCode());
        String csrf = JSON.readTree(send("GET", "/ui/session", null, "Cookie", cookie).body()).get("csrf").asText();
        // state changes: the CSRF header and this console's Origin, else refused
        assertEquals(401, send("POST", "/v1/sync", null, "Cookie", cookie, "Origin", base).statusCode());
        assertEquals(401, send("POST", "/v1/sync", null, "Cookie", cookie, "X-CSRF-Token", "x" + csrf, "Origin", base).statusCode());
        assertEquals(401, send("POST", "/v1/sync", null, "Cookie", cookie, "X-CSRF-Token", csrf).statusCode(), "no Origin");
        HttpResponse<String> foreign = send("POST", "/v1/sync", null, "Cookie", cookie, "X-CSRF-Token", csrf,
                "Origin", "http://127.0.0.1:1");
        assertEquals(401, foreign.statusCode());
        assertTrue(foreign.body().contains("cross-origin"), foreign.body());
        assertEquals(401, send("POST", "/v1/sync", null, "Cookie", cookie, "X-CSRF-Token", csrf, "Origin", base,
                "Sec-Fetch-Site", "same-site").statusCode());
        assertEquals(401, send("GET", "/v1/datasets", null, "Cookie", cookie, "Sec-Fetch-Site", "cross-site").statusCode());
        assertEquals(0, syncs, "no refused request may reach the pool");
        assertEquals(200, send("POST", "/v1/sync", null, "Cookie", cookie, "X-CSRF-Token", csrf, "Origin", base,
                "Sec-Fetch-Site", "same-origin").statusCode());
        assertEquals(1, syncs);
        // the bearer token still works without any of it
        assertEquals(200, send("POST", "/v1/sync", null, "Authorization", "Bearer tok").statusCode());
        // sign out: the cookie is worthless afterwards
        assertEquals(200, send("POST", "/ui/logout", null, "Cookie", cookie, "X-CSRF-Token", csrf, "Origin", base).statusCode());
        assertEquals(401, send("GET", "/v1/datasets", null, "Cookie", cookie).statusCode());
    }

    /** The status code of a raw request (to send a Host header HttpClient would not). */
    private int raw(String request) throws Exception {
        try (java.net.Socket so = new java.net.Socket("127.0.0.1", server.port())) {
            so.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            String reply = new String(so.getInputStream().readNBytes(12), java.nio.charset.StandardCharsets.US_ASCII);
            return Integer.parseInt(reply.substring(9, 12));
        }
    }

    @Test
    void aRebindingHostNameIsRefused() throws Exception {
        String cookie = signIn();
        int p = server.port();
        assertEquals(200, raw("GET /ui/login HTTP/1.1\r\nHost: localhost:" + p + "\r\nConnection: close\r\n\r\n"));
        assertEquals(421, raw("GET /ui/login HTTP/1.1\r\nHost: evil.example:" + p + "\r\nConnection: close\r\n\r\n"));
        assertEquals(200, raw("GET /v1/datasets HTTP/1.1\r\nHost: 127.0.0.1:" + p + "\r\nCookie: " + cookie
                + "\r\nConnection: close\r\n\r\n"));
        assertEquals(401, raw("GET /v1/datasets HTTP/1.1\r\nHost: evil.example:" + p + "\r\nCookie: " + cookie
                + "\r\nConnection: close\r\n\r\n"));
    }

    @Test
    void aLoginFromAnotherOriginIsRefused() throws Exception {
        HttpResponse<String> r = send("POST", "/ui/login", "{\"token\":\"tok\"}", "Origin", "http://evil.example");
        assertEquals(403, r.statusCode());
        assertTrue(r.headers().firstValue("Set-Cookie").isEmpty());
    }

    @Test
    void tooManyWrongTokensRefuseEvenTheRightOneForAWhile() throws Exception {
        for (int i = 0; i < Sessions.MAX_FAILURES; i++) {
            assertEquals(401, send("POST", "/ui/login", "{\"token\":\"guess" + i + "\"}").statusCode());
        }
        HttpResponse<String> r = send("POST", "/ui/login", "{\"token\":\"tok\"}");
        assertEquals(429, r.statusCode(), r.body());
        assertTrue(r.body().contains("too many failed sign-ins"), r.body());
    }

    @Test
    void aOneTimeLinkSignsInOnceAndLeavesTheAddressBar() throws Exception {
        HttpResponse<String> l = send("POST", "/v1/ui/links", null, "Authorization", "Bearer tok");
        assertEquals(201, l.statusCode(), l.body());
        JsonNode link = JSON.readTree(l.body());
        String path = URI.create(link.get("loginUrl").asText()).getRawPath() + "?" + URI.create(link.get("loginUrl").asText()).getRawQuery();
        assertTrue(path.startsWith("/ui/login?code="), path);
        assertEquals(401, send("POST", "/v1/ui/links", null).statusCode(), "only the token (or a session) gets a link");
        HttpResponse<String> first = send("GET", path, null);
        assertEquals(303, first.statusCode());
        assertEquals("/ui/", first.headers().firstValue("Location").orElseThrow());
        String cookie = first.headers().firstValue("Set-Cookie").orElseThrow();
        assertEquals(200, send("GET", "/v1/datasets", null, "Cookie", cookie.substring(0, cookie.indexOf(';'))).statusCode());
        HttpResponse<String> again = send("GET", path, null);
        assertEquals(303, again.statusCode());
        assertEquals("/ui/login?refused=link", again.headers().firstValue("Location").orElseThrow());
        assertTrue(again.headers().firstValue("Set-Cookie").isEmpty());
    }

    @Test
    void assetsComeFromTheJarAndNothingElseUnderUi() throws Exception {
        for (String a : List.of("app.js", "api.js", "login.js", "console.css")) {
            HttpResponse<String> r = send("GET", "/ui/assets/" + a, null);
            assertEquals(200, r.statusCode(), a);
            assertFalse(r.body().isEmpty(), a);
        }
        assertEquals(404, send("GET", "/ui/assets/../index.html", null).statusCode());
        assertEquals(404, send("GET", "/ui/assets/UiFront.class", null).statusCode());
    }

    @Test
    void codesAreSingleUseAndExpireAndSessionsEndWhenIdle() {
        AtomicLong now = new AtomicLong(1_000);
        Sessions s = new Sessions(now::get);
        String c = s.newCode();
        assertTrue(s.useCode(c));
        assertFalse(s.useCode(c), "single use");
        String late = s.newCode();
        now.addAndGet(Sessions.CODE_MS + 1);
        assertFalse(s.useCode(late), "expired");
        Sessions.Session open = s.open();
        assertNotNull(s.find(open.id()));
        now.addAndGet(Sessions.IDLE_MS + 1);
        assertNull(s.find(open.id()), "idle too long");
        assertEquals(0, s.size());
    }
}
